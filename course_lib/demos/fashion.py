"""Lesson 7 demos: looking at Fashion-MNIST and at what a classifier gets wrong.

Pure functions (``confusion_matrix``, ``normalize_confusion``,
``most_confident_mistakes``, ``select_images``) and the plots and widgets
built on them. Images are the uint8 ``(n, 28, 28)`` arrays of
``course_lib.data.load_fashion_mnist``; predictions are class probabilities
of shape ``(n, 10)``.
"""

from dataclasses import dataclass

import numpy as np

from course_lib.data import FASHION_MNIST_CLASSES

CLASSES = list(FASHION_MNIST_CLASSES)


# ---------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------

def confusion_matrix(y_true, y_pred, n_classes=10):
    """``cm[i, j]`` = number of examples of true class i predicted as class j (an int array)."""
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    cm = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def normalize_confusion(cm, mode="counts"):
    """``"counts"`` as is; ``"true"``: each row divided by its sum (recall per class on the
    diagonal); ``"pred"``: each column by its sum (precision per class on the diagonal).
    Empty rows / columns give zeros, not NaN."""
    cm = np.asarray(cm, dtype=float)
    if mode == "counts":
        return cm
    axis = {"true": 1, "pred": 0}[mode]
    totals = cm.sum(axis=axis, keepdims=True)
    return np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)


def most_confident_mistakes(probs, y_true, k=9):
    """Indices of the ``k`` misclassified examples whose wrong prediction had the highest
    probability, most confident first."""
    probs = np.asarray(probs)
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != np.asarray(y_true))
    confidence = probs[wrong, pred[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")[:k]]


@dataclass
class Selection:
    """Which test images a browser shows: their indices and a description."""

    indices: np.ndarray
    description: str


def select_images(y_true, y_pred=None, true_class="all", only_mistakes=False):
    """Indices of the images of ``true_class`` (a class name or "all"), optionally only the
    misclassified ones (needs ``y_pred``)."""
    y_true = np.asarray(y_true)
    keep = np.ones(len(y_true), dtype=bool)
    what = "all classes" if true_class == "all" else f"true class {true_class!r}"
    if true_class != "all":
        keep &= y_true == CLASSES.index(true_class)
    if only_mistakes:
        if y_pred is None:
            raise ValueError("only_mistakes=True needs y_pred")
        keep &= np.asarray(y_pred) != y_true
        what += ", misclassified only"
    idx = np.flatnonzero(keep)
    return Selection(indices=idx, description=f"{len(idx)} images ({what})")


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------

def show_grid(images, labels, indices, probs=None, ncols=3, axes=None):
    """A grid of images titled with their class (and, given ``probs``, the prediction)."""
    import matplotlib.pyplot as plt

    indices = list(indices)
    nrows = max(1, int(np.ceil(len(indices) / ncols)))
    if axes is None:
        fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.8 * nrows))
    axes = np.atleast_1d(axes).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, indices):
        ax.imshow(images[i], cmap="gray_r")
        title = f"#{i}: {CLASSES[labels[i]]}"
        color = "k"
        if probs is not None:
            p = int(np.argmax(probs[i]))
            title += f"\npredicted {CLASSES[p]} ({probs[i][p]:.0%})"
            color = "k" if p == labels[i] else "red"
        ax.set_title(title, fontsize=9, color=color)
    return axes


def plot_confusion(cm, mode="counts", ax=None):
    """The confusion matrix as a heat map with its numbers, rows = true class, columns = predicted."""
    import matplotlib.pyplot as plt

    shown = normalize_confusion(cm, mode)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 6.5))
    im = ax.imshow(shown, cmap="Blues")
    n = len(CLASSES)
    ax.set_xticks(range(n), CLASSES, rotation=45, ha="right")
    ax.set_yticks(range(n), CLASSES)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fmt = (lambda v: f"{int(v)}") if mode == "counts" else (lambda v: f"{v:.2f}")
    top = shown.max() if shown.size else 1
    for i in range(n):
        for j in range(n):
            ax.text(j, i, fmt(shown[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if shown[i, j] > 0.6 * top else "black")
    title = {"counts": "confusion matrix (counts)",
             "true": "normalised by true class (diagonal = recall)",
             "pred": "normalised by predicted class (diagonal = precision)"}[mode]
    ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, fraction=0.046)
    return ax


def plot_history(histories, key="accuracy", ax=None):
    """Curves of ``history[key]`` and ``history['val_' + key]`` for several runs ``{label: history}``."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4))
    for i, (label, h) in enumerate(histories.items()):
        h = getattr(h, "history", h)
        epochs = np.arange(1, len(h[key]) + 1)
        ax.plot(epochs, h[key], "o-", color=f"C{i}", label=f"{label}: training")
        if "val_" + key in h:
            ax.plot(epochs, h["val_" + key], "s--", color=f"C{i}", label=f"{label}: test")
    ax.set_xlabel("epoch")
    ax.set_ylabel(key)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


# ---------------------------------------------------------------------------
# Widgets
# ---------------------------------------------------------------------------

def image_browser(images, labels, probs):
    """Browse test images: a class filter, a "misclassified only" switch and a position slider.

    Shows the image and the model's probabilities for it. ``.result`` is a dict
    ``{"selection": Selection, "index": int or None, "predicted": int or None}``.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    preds = np.asarray(probs).argmax(axis=1)
    controls = dict(
        true_class=widgets.Dropdown(options=["all"] + CLASSES, value="all", description="class"),
        only_mistakes=widgets.Checkbox(value=False, description="misclassified only"),
        position=widgets.IntSlider(value=0, min=0, max=max(len(labels) - 1, 0), description="position"),
    )

    def fit_slider_to_selection(change=None):
        # registered before interactive's own observers, so the slider's range is right first
        count = len(select_images(labels, preds, controls["true_class"].value,
                                  controls["only_mistakes"].value).indices)
        controls["position"].max = max(count - 1, 0)

    controls["true_class"].observe(fit_slider_to_selection, names="value")
    controls["only_mistakes"].observe(fit_slider_to_selection, names="value")

    def show(true_class, only_mistakes, position):
        sel = select_images(labels, preds, true_class, only_mistakes)
        if len(sel.indices) == 0:
            print(f"No images: {sel.description}.")
            return {"selection": sel, "index": None, "predicted": None}
        i = int(sel.indices[min(position, len(sel.indices) - 1)])
        fig, (ax_img, ax_p) = plt.subplots(1, 2, figsize=(9, 3.3), gridspec_kw={"width_ratios": [1, 2]})
        ax_img.imshow(images[i], cmap="gray_r")
        ax_img.axis("off")
        ok = preds[i] == labels[i]
        ax_img.set_title(f"test image #{i}\ntrue: {CLASSES[labels[i]]}", fontsize=10)
        colors = ["0.7"] * len(CLASSES)
        colors[labels[i]] = "C2"
        if not ok:
            colors[preds[i]] = "C3"
        ax_p.barh(CLASSES, probs[i], color=colors)
        ax_p.invert_yaxis()
        ax_p.set_xlim(0, 1)
        ax_p.set_xlabel("predicted probability")
        ax_p.set_title(("correct" if ok else "wrong") + f": predicted {CLASSES[preds[i]]}"
                       f" · {sel.description}, showing #{min(position, len(sel.indices) - 1)}",
                       fontsize=9, color="k" if ok else "red")
        fig.tight_layout()
        plt.show()
        plt.close(fig)
        return {"selection": sel, "index": i, "predicted": int(preds[i])}

    return widgets.interactive(show, **controls)


def confusion_explorer(y_true, y_pred):
    """The confusion matrix with a normalisation toggle; ``.result`` is the matrix shown."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    cm = confusion_matrix(y_true, y_pred, len(CLASSES))
    mode = widgets.ToggleButtons(options=[("counts", "counts"), ("by true class", "true"),
                                          ("by predicted class", "pred")],
                                 value="counts", description="normalise")

    def show(mode):
        fig, ax = plt.subplots(figsize=(7.5, 6.5))
        plot_confusion(cm, mode, ax)
        fig.tight_layout()
        plt.show()
        plt.close(fig)
        return normalize_confusion(cm, mode)

    return widgets.interactive(show, mode=mode)
