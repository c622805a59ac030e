"""Lesson 7 demos: looking at Fashion-MNIST and at what a classifier gets wrong.

Pure functions (``confusion_matrix``, ``normalize_confusion``,
``most_confident_mistakes``, ``select_images``) and the plots and widgets
built on them. Images are the uint8 ``(n, 28, 28)`` arrays of
``course_lib.data.load_fashion_mnist``; predictions are class probabilities
of shape ``(n, 10)``. The widgets (``image_browser``, ``confusion_explorer``)
draw into a ``LivePlot`` (``course_lib.demos.live_plot``), made once and updated
in place.

Training helpers: ``Rescale`` (the model's first layer turns uint8 pixels into
float32 in [0, 1], one batch at a time, so the images stay uint8 in memory),
``with_warmup`` (a linear learning-rate warm-up in front of any schedule of
``course_lib.schedules``), ``train_per_step_schedule`` (a run whose learning
rate changes after every update) and ``lr_sweep`` (a small search of η on the
validation set).
"""

import math
from dataclasses import dataclass

import numpy as np

from course_lib import nn, optim, schedules, training
from course_lib.data import FASHION_MNIST_CLASSES, DataLoader

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
            ax.plot(epochs, h["val_" + key], "s--", color=f"C{i}", label=f"{label}: validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel(key)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


# ---------------------------------------------------------------------------
# Training helpers
# ---------------------------------------------------------------------------

class Rescale(nn.Module):
    """Multiply the input by ``scale`` and return float32: ``Rescale(1 / 255)`` maps uint8 pixels to [0, 1].

    As the first layer of a model it lets the images stay uint8 (1 byte per
    pixel) in memory: only the batch being processed is converted. 50,000
    images take 39 MB as uint8, 157 MB as float32 and 314 MB as float64.
    (Keras's ``layers.Rescaling(1 / 255)`` does the same.) No parameters;
    backward multiplies the gradient by ``scale``.
    """

    def __init__(self, scale):
        self.scale = float(scale)

    def forward(self, x):
        return np.multiply(x, np.float32(self.scale), dtype=np.float32)

    def backward(self, grad_output):
        return np.asarray(grad_output) * np.float32(self.scale)

    def __repr__(self):
        inverse = 1 / self.scale
        return f"Rescale(1/{inverse:g})" if float(inverse).is_integer() else f"Rescale({self.scale:g})"


def with_warmup(schedule, warmup_steps, lr):
    """A learning-rate schedule ``t -> lr`` with a linear warm-up in front of ``schedule``.

    Steps ``t = 1 .. warmup_steps`` use ``lr · t / warmup_steps`` (rising to
    ``lr``); step ``warmup_steps + u`` then uses ``schedule(u)``. ``course_lib.schedules``
    has no warm-up of its own, so this wrapper lives here. Accepts scalar t only.
    """
    if warmup_steps < 1:
        return schedule

    def warmed_up(t):
        if t <= warmup_steps:
            return lr * t / warmup_steps
        return float(schedule(t - warmup_steps))
    warmed_up.__name__ = f"warmup({warmup_steps}) + {getattr(schedule, '__name__', 'schedule')}"
    return warmed_up


def train_per_step_schedule(make_model, X, y, validation_data, lr_of_step, epochs, batch_size=128,
                            momentum=0.9, seed=0):
    """Train ``make_model()`` with SGD + momentum, setting η = ``lr_of_step(t)`` before every update t.

    Returns ``{"lr": [η of each step], "loss": [...], "val_loss": [...], "val_accuracy": [...]}``
    (the last three once per epoch). Same seed, same initial weights and batches for every schedule.
    """
    model = make_model()
    optimizer = optim.SGD(model, lr=float(lr_of_step(1)), momentum=momentum)
    loader = DataLoader(X, y, batch_size=batch_size, seed=seed)
    record = {"lr": [], "loss": [], "val_loss": [], "val_accuracy": []}
    step = [1]

    def next_rate(batch_step, mean_loss):            # after update t: set η for update t + 1
        record["lr"].append(optimizer.lr)
        step[0] += 1
        optimizer.lr = float(lr_of_step(step[0]))

    for _ in range(epochs):
        logs = training.train_epoch(model, loader, "cross_entropy", optimizer, on_batch=next_rate)
        val = training.evaluate(model, validation_data, "cross_entropy", metrics=["accuracy"], batch_size=1000)
        record["loss"].append(logs["loss"])
        record["val_loss"].append(val["loss"])
        record["val_accuracy"].append(val["accuracy"])
    return record


def lr_sweep(make_model, optimizer_name, lrs, X, y, validation_data, epochs=2, batch_size=128, seed=0,
             **options):
    """Validation accuracy after ``epochs`` epochs for each learning rate: ``{lr: accuracy}``.

    ``optimizer_name`` and ``options`` go to ``optim.get`` (e.g. ``"sgd", momentum=0.9``).
    The same initial weights and batches for every η: only the learning rate differs.
    """
    result = {}
    for lr in lrs:
        model = make_model()
        model.compile(optimizer=optim.get(optimizer_name, model, lr=lr, **options), loss="cross_entropy",
                      metrics=["accuracy"])
        model.fit(X, y, batch_size=batch_size, epochs=epochs, seed=seed, verbose=0)
        result[lr] = training.evaluate(model, validation_data, "cross_entropy", metrics=["accuracy"],
                                       batch_size=1000)["accuracy"]
    return result


def steps_per_epoch(n_examples, batch_size):
    """What a Keras-style progress bar counts to: ⌈n_examples / batch_size⌉ batches."""
    return math.ceil(n_examples / batch_size)


# ---------------------------------------------------------------------------
# Widgets
# ---------------------------------------------------------------------------

def image_browser(images, labels, probs):
    """Browse test images: a class filter, a "misclassified only" switch and a position slider.

    Shows the image and the model's probabilities for it, in a ``LivePlot``:
    the axes and class names are drawn once; the slider changes the picture
    (``set_data``), the bars and the titles (the class filter and the switch
    also change the line that describes the selection, in the background).
    ``.result`` is a dict
    ``{"selection": Selection, "index": int or None, "predicted": int or None}``.
    """
    import ipywidgets as widgets

    from course_lib.demos.live_plot import LivePlot, explorer

    preds = np.asarray(probs).argmax(axis=1)
    controls = dict(
        true_class=widgets.Dropdown(options=["all"] + CLASSES, value="all", description="class"),
        only_mistakes=widgets.Checkbox(value=False, description="misclassified only"),
        position=widgets.IntSlider(value=0, min=0, max=max(len(labels) - 1, 0), description="position"),
    )

    def fit_slider_to_selection(change=None):
        # registered before the explorer's own observers, so the slider's range is right first
        count = len(select_images(labels, preds, controls["true_class"].value,
                                  controls["only_mistakes"].value).indices)
        controls["position"].max = max(count - 1, 0)

    controls["true_class"].observe(fit_slider_to_selection, names="value")
    controls["only_mistakes"].observe(fit_slider_to_selection, names="value")

    plot = LivePlot(figsize=(9, 3.3))
    ax_img, ax_p = plot.figure.subplots(1, 2, width_ratios=[1, 2])
    picture = plot.moving(ax_img.imshow(np.zeros((28, 28)), cmap="gray_r", vmin=0, vmax=255))
    ax_img.axis("off")
    image_title = plot.moving(ax_img.set_title("\n", fontsize=10))            # two lines of room
    bars = plot.moving(list(ax_p.barh(CLASSES, np.zeros(len(CLASSES)), color="0.7")))
    ax_p.invert_yaxis()
    ax_p.set_xlim(0, 1)
    ax_p.set_xlabel("predicted probability")
    bars_title = plot.moving(ax_p.set_title(" ", fontsize=9))
    # which images the slider runs through: changed by the class and "misclassified only"
    # controls only, so it is part of the background, redrawn when it changes
    selection_title = plot.figure.suptitle(" ", fontsize=9)

    def update(true_class, only_mistakes, position):
        sel = select_images(labels, preds, true_class, only_mistakes)
        new_selection = selection_title.get_text() != f"browsing {sel.description}"
        selection_title.set_text(f"browsing {sel.description}")
        if len(sel.indices) == 0:
            picture.set_visible(False)
            for bar in bars:
                bar.set_visible(False)
            image_title.set_text("\n")
            bars_title.set_text(f"no images: {sel.description}")
            bars_title.set_color("k")
            plot.redraw(everything=new_selection)
            return {"selection": sel, "index": None, "predicted": None}
        i = int(sel.indices[min(position, len(sel.indices) - 1)])
        ok = preds[i] == labels[i]
        picture.set_visible(True)
        picture.set_data(images[i])
        image_title.set_text(f"test image #{i}\ntrue: {CLASSES[labels[i]]}")
        for k, bar in enumerate(bars):
            bar.set_visible(True)
            bar.set_width(probs[i][k])
            bar.set_color("C2" if k == labels[i] else "C3" if k == preds[i] else "0.7")
        bars_title.set_text(("correct" if ok else "wrong") + f": predicted {CLASSES[preds[i]]}")
        bars_title.set_color("k" if ok else "red")
        plot.redraw(everything=new_selection)
        return {"selection": sel, "index": i, "predicted": int(preds[i])}

    return explorer(update, plot, **controls)


CONFUSION_TITLES = {"counts": "confusion matrix (counts)",
                    "true": "normalised by true class (diagonal = recall)",
                    "pred": "normalised by predicted class (diagonal = precision)"}


def confusion_explorer(y_true, y_pred):
    """The confusion matrix with a normalisation toggle; ``.result`` is the matrix shown.

    A ``LivePlot`` whose heat map, numbers, colour bar and title all change
    with the toggle, so each choice redraws the whole picture (once: the three
    pictures are kept, and choosing one again shows it at once).
    """
    import ipywidgets as widgets

    from course_lib.demos.live_plot import LivePlot, explorer

    cm = confusion_matrix(y_true, y_pred, len(CLASSES))
    mode = widgets.ToggleButtons(options=[("counts", "counts"), ("by true class", "true"),
                                          ("by predicted class", "pred")],
                                 value="counts", description="normalise")
    plot = LivePlot(figsize=(7.5, 6.5), layout="tight")      # "constrained" clips the labels of this one
    ax = plot.figure.add_subplot()
    heat_map = ax.imshow(np.zeros_like(cm, dtype=float), cmap="Blues")
    n = len(CLASSES)
    ax.set_xticks(range(n), CLASSES, rotation=45, ha="right")
    ax.set_yticks(range(n), CLASSES)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    numbers = [[ax.text(j, i, "", ha="center", va="center", fontsize=7) for j in range(n)] for i in range(n)]
    plot.figure.colorbar(heat_map, ax=ax, fraction=0.046)
    ax.set_title(max(CONFUSION_TITLES.values(), key=len))     # the layout makes room for the longest title
    pictures = {}               # mode: the PNG already drawn for it

    def update(mode):
        shown = normalize_confusion(cm, mode)
        if mode not in pictures:
            heat_map.set_data(shown)
            heat_map.set_clim(shown.min(), shown.max())
            fmt = (lambda v: f"{int(v)}") if mode == "counts" else (lambda v: f"{v:.2f}")
            top = shown.max() if shown.size else 1
            for i in range(n):
                for j in range(n):
                    numbers[i][j].set_text(fmt(shown[i, j]))
                    numbers[i][j].set_color("white" if shown[i, j] > 0.6 * top else "black")
            ax.set_title(CONFUSION_TITLES[mode])
            plot.redraw(everything=True)
            pictures[mode] = plot.image.value
        plot.image.value = pictures[mode]
        return shown

    return explorer(update, plot, mode=mode)
