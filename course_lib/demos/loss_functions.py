"""Lesson 1 demos: what each loss looks like, and how an outlier pulls on it.

Pure functions (no drawing, testable headless):

- ``loss_curve(name, delta=1.0)``         -> ``LossCurve``: value and gradient of one example's
                                             loss against its error / predicted probability / score
- ``outlier_effect(outlier, delta=5.0)``  -> ``OutlierEffect``: MSE, MAE and Huber of a small data set
                                             with one outlier, and the best constant prediction under each
- ``best_constant(y, name, delta=1.0)``   -> the constant c that minimises the mean loss of (y, c)
- ``naive_log_softmax(z)``                -> log-softmax *without* subtracting the max (it overflows)

Widgets (thin: they call the functions above and draw into a ``LivePlot``, a figure
made once whose moving parts are updated in place, so a slider answers at once):

- ``loss_explorer()``     which loss, Huber's delta
- ``outlier_explorer()``  size of the outlier, Huber's delta

All values and gradients come from ``course_lib.losses``; the curves are of
*one* example (a batch of size 1), so the 1/n of the mean is 1.
"""

from dataclasses import dataclass
from functools import lru_cache

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from course_lib import losses
from course_lib.demos.gradient_descent import readable
from course_lib.demos.live_plot import LivePlot, explorer

REGRESSION = ("mae", "mse", "huber")
PROBABILITY = ("binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy", "nll")
SCORE = ("cross_entropy", "hinge")
ALL_LOSSES = REGRESSION + PROBABILITY + SCORE
N_CLASSES = 3  # the categorical examples have three classes; the true one is class 0


@dataclass
class LossCurve:
    """One example's loss and its gradient along a line of predictions.

    x         : (G,) the error ŷ − y, the predicted probability of the true class,
                or the score / logit of the true class (see ``x_label``)
    values    : (G,) the loss of that one example
    gradients : (G,) d loss / d (the quantity on the x-axis)
    """

    name: str
    x: np.ndarray
    values: np.ndarray
    gradients: np.ndarray
    x_label: str
    gradient_label: str
    family: str


def _probabilities(p):
    """Three-class probabilities with p on the true class 0 and the rest shared evenly."""
    return np.array([[p, (1 - p) / 2, (1 - p) / 2]])


def loss_curve(name, delta=1.0, points=401, error_range=4.0):
    """Value and gradient of loss ``name`` for one example, along the natural x-axis of that loss.

    - regression losses (mae, mse, huber): y_true = 0, y_pred = e for e in
      [−error_range, error_range]; x is the error e = ŷ − y.
    - binary cross-entropy: y_true = 1, y_pred = p; categorical / sparse
      categorical cross-entropy: 3 classes, the true class gets p and the two
      others (1 − p)/2 each; nll: the log of those probabilities. x is p.
    - cross_entropy: logits (z, 0, 0) with true class 0; x is z.
    - hinge: y_true = +1, score s; x is s.
    """
    if name not in ALL_LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(ALL_LOSSES)}")
    loss = losses.get(name, delta=delta) if name == "huber" else losses.get(name)
    values, grads = [], []
    if name in REGRESSION:
        x = np.linspace(-error_range, error_range, points)
        for e in x:
            value, grad = loss.value_and_gradient(np.zeros(1), np.array([e]))
            values.append(value)
            grads.append(grad[0])
        return LossCurve(name, x, np.array(values), np.array(grads), "error  ŷ − y",
                         "d loss / d ŷ", "regression")
    if name in PROBABILITY:
        x = np.linspace(0.002, 0.998, points)
        for p in x:
            if name == "binary_crossentropy":
                value, grad = loss.value_and_gradient(np.ones(1), np.array([p]))
                g = grad[0]
            elif name == "categorical_crossentropy":
                value, grad = loss.value_and_gradient(np.array([[1.0, 0.0, 0.0]]), _probabilities(p))
                g = grad[0, 0]
            elif name == "sparse_categorical_crossentropy":
                value, grad = loss.value_and_gradient(np.array([0]), _probabilities(p))
                g = grad[0, 0]
            else:  # nll takes log-probabilities; its gradient is with respect to log p
                value, grad = loss.value_and_gradient(np.array([0]), np.log(_probabilities(p)))
                g = grad[0, 0]
            values.append(value)
            grads.append(g)
        gradient_label = ("d loss / d log p  (always −1)" if name == "nll"
                          else "d loss / d p (true class)")
        return LossCurve(name, x, np.array(values), np.array(grads),
                         "predicted probability p of the true class", gradient_label, "probability")
    x = np.linspace(-4, 4, points)
    for s in x:
        if name == "cross_entropy":
            value, grad = loss.value_and_gradient(np.array([0]), np.array([[s, 0.0, 0.0]]))
            g = grad[0, 0]
        else:
            value, grad = loss.value_and_gradient(np.ones(1), np.array([s]))
            g = grad[0]
        values.append(value)
        grads.append(g)
    x_label = ("logit z of the true class (the others 0)" if name == "cross_entropy"
               else "score s = x·w + b of a positive example (y = +1)")
    return LossCurve(name, x, np.array(values), np.array(grads), x_label, "d loss / d " +
                     ("z" if name == "cross_entropy" else "s"), "score")


def curve_limits(curve):
    """The y-ranges that show ``curve`` well: ``(value_ylim, gradient_ylim, note)``.

    ``note`` is None, or a sentence saying that the gradient axis is clipped
    (cross-entropy's −1/p goes to −∞ as p -> 0).
    """
    top = float(np.max(curve.values))
    value_ylim = (-0.05 * top - 0.05, top * 1.05 + 0.05)
    g = curve.gradients
    span = max(float(np.max(np.abs(g))), 1e-3)
    if curve.family == "probability" and span > 12:
        return value_ylim, (-12, 1), f"clipped: reaches {g.min():.0f} at p = {curve.x[0]:.3f}, → −∞ as p → 0"
    return value_ylim, (-1.1 * span, 1.1 * span), None


def plot_loss_curve(curve, others=(), axes=None):
    """Value (left) and gradient (right) of ``curve``; ``others`` drawn faintly for comparison."""
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    else:
        fig = axes[0].figure
    ax_value, ax_grad = axes
    for other in others:
        ax_value.plot(other.x, other.values, lw=1, alpha=0.35, label=other.name)
        ax_grad.plot(other.x, other.gradients, lw=1, alpha=0.35, label=other.name)
    ax_value.plot(curve.x, curve.values, color="k", lw=2.2, label=curve.name)
    ax_grad.plot(curve.x, curve.gradients, color="k", lw=2.2, label=curve.name)
    value_ylim, grad_ylim, note = curve_limits(curve)
    ax_value.set_ylim(*value_ylim)
    ax_grad.set_ylim(*grad_ylim)
    if note:
        ax_grad.text(0.3, 0.3, note, transform=ax_grad.transAxes, fontsize=8)
    ax_value.set_xlabel(curve.x_label)
    ax_value.set_ylabel("loss of one example")
    ax_grad.set_xlabel(curve.x_label)
    ax_grad.set_ylabel(curve.gradient_label)
    ax_value.set_title(f"{curve.name}: value", fontsize=10)
    ax_grad.set_title(f"{curve.name}: gradient", fontsize=10)
    for ax in axes:
        ax.axhline(0, color="0.6", lw=0.8)
        ax.grid(alpha=0.3)
    ax_value.legend(fontsize=8)
    return fig


@lru_cache(maxsize=None)
def _remembered_curve(name, delta):
    """``loss_curve(name, delta=delta)``, computed once per (name, delta)."""
    return loss_curve(name, delta=delta)


def family_curves(name, delta):
    """``(curve, others)``: ``loss_curve(name, delta)`` and the curves of the other losses of its family.

    The curves are remembered, so moving a slider back and forth recomputes
    nothing; only Huber's curve depends on ``delta``.
    """
    def curve(loss):
        return _remembered_curve(loss, float(delta) if loss == "huber" else 1.0)

    family = REGRESSION if name in REGRESSION else PROBABILITY if name in PROBABILITY else ()
    return curve(name), [curve(other) for other in family if other != name]


def loss_explorer():
    """Widget: pick a loss (and Huber's delta); see its value and gradient for one example.

    Choosing a loss redraws the whole picture (axes, limits, legend); moving
    delta only moves the curves. The axes of Huber are scaled for the largest
    delta, so they stay put while delta moves.
    """
    name_menu = widgets.Dropdown(options=list(ALL_LOSSES), value="huber", description="loss")
    delta_slider = widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=0.6, step=0.05,
                                          description="Huber δ", readout_format=".2f")
    largest_delta = delta_slider.base ** delta_slider.max

    plot = LivePlot(figsize=(10, 3.6))
    axes = plot.figure.subplots(1, 2)
    ax_value, ax_grad = axes
    # up to three other losses of the same family, drawn faintly, then the chosen one in black
    faint = [(plot.moving(ax_value.plot([], [], lw=1, alpha=0.35, color=f"C{i}"))[0],
              plot.moving(ax_grad.plot([], [], lw=1, alpha=0.35, color=f"C{i}"))[0]) for i in range(3)]
    chosen = (plot.moving(ax_value.plot([], [], color="k", lw=2.2))[0],
              plot.moving(ax_grad.plot([], [], color="k", lw=2.2))[0])
    value_title = plot.moving(ax_value.set_title(" ", fontsize=10))
    grad_title = ax_grad.set_title(" ", fontsize=10)
    note = ax_grad.text(0.3, 0.3, "", transform=ax_grad.transAxes, fontsize=8)
    ax_value.set_ylabel("loss of one example")
    for ax in axes:
        ax.axhline(0, color="0.6", lw=0.8)
        ax.grid(alpha=0.3)
    shown_name = None            # the picture is redrawn in full only when the loss changes

    def show_curve(lines, curve):
        for line, ys in zip(lines, (curve.values, curve.gradients)):
            line.set_data(curve.x, ys)
            line.set_label(curve.name)
            line.set_visible(True)

    def update(name, delta):
        nonlocal shown_name
        curve, others = family_curves(name, delta)
        show_curve(chosen, curve)
        for lines, other in zip(faint, others):
            show_curve(lines, other)
        for lines in faint[len(others):]:
            for line in lines:
                line.set_visible(False)
        value_title.set_text(f"{name} (δ = {delta:.2f}): value" if name == "huber" else f"{name}: value")
        if name != shown_name:
            value_ylim, grad_ylim, clipped = curve_limits(
                family_curves("huber", largest_delta)[0] if name == "huber" else curve)
            ax_value.set_ylim(*value_ylim)
            ax_grad.set_ylim(*grad_ylim)
            note.set_text(clipped or "")
            grad_title.set_text(f"{name}: gradient")
            ax_value.set_xlim(curve.x[0], curve.x[-1])
            ax_grad.set_xlim(curve.x[0], curve.x[-1])
            ax_value.set_xlabel(curve.x_label)
            ax_grad.set_xlabel(curve.x_label)
            ax_grad.set_ylabel(curve.gradient_label)
            ax_value.legend(handles=[lines[0] for lines in faint[:len(others)]] + [chosen[0]], fontsize=8)
            shown_name = name
            plot.fix_layout()                 # new labels and ticks: lay the figure out again
            plot.redraw(everything=True)
        else:
            plot.redraw()
        return curve

    return readable(explorer(update, plot, name=name_menu, delta=delta_slider))


# ---------------------------------------------------------------------------
# One outlier: MSE against MAE (and Huber in between)
# ---------------------------------------------------------------------------

#: Delivery times in minutes; the last one is the outlier the widget moves.
DELIVERY_MINUTES = np.array([22.0, 25.0, 19.0, 24.0, 21.0, 23.0, 26.0, 20.0, 24.0])


def best_constant(y, name, delta=1.0):
    """The constant prediction c minimising mean loss(y, c) for "mse", "mae" or "huber".

    MSE gives the mean and MAE the median (any point between the two middle
    values when n is even; we take their average). For Huber the gradient of
    the loss is increasing in c, so bisection finds where it crosses zero.
    """
    y = np.asarray(y, dtype=float)
    if name == "mse":
        return float(np.mean(y))
    if name == "mae":
        return float(np.median(y))
    if name != "huber":
        raise ValueError(f"best_constant knows mse, mae and huber, not {name!r}")
    loss = losses.get("huber", delta=delta)
    low, high = float(y.min()), float(y.max())
    for _ in range(100):
        middle = (low + high) / 2
        slope = float(np.sum(loss.gradient(y, np.full_like(y, middle))))
        if slope > 0:
            high = middle
        else:
            low = middle
    return (low + high) / 2


@dataclass
class OutlierEffect:
    """The three losses of predicting ``reference_prediction`` for every example, with and without the outlier.

    y                 : the targets; the last one is the outlier
    losses_clean      : {"mse": ..., "mae": ..., "huber": ...} without the outlier
    losses_with       : the same with it
    best              : {"mse": mean, "mae": median, "huber": ...} the best constant prediction
                        for the data *with* the outlier
    """

    y: np.ndarray
    reference_prediction: float
    losses_clean: dict
    losses_with: dict
    best: dict
    delta: float

    def growth(self, name):
        """How many times larger the loss is with the outlier than without."""
        return self.losses_with[name] / self.losses_clean[name]


def outlier_effect(outlier, delta=5.0):
    """Delivery times with one of them replaced by ``outlier``: how each loss and its best constant react.

    The fixed prediction is the median of the clean data (a sensible guess);
    the best constants are computed for the data *with* the outlier.
    """
    y = DELIVERY_MINUTES.copy()
    y[-1] = float(outlier)
    guess = float(np.median(DELIVERY_MINUTES))
    loss_objects = {"mse": losses.mse, "mae": losses.mae, "huber": losses.get("huber", delta=delta)}
    clean = {k: loss(DELIVERY_MINUTES, np.full(len(y), guess)) for k, loss in loss_objects.items()}
    with_outlier = {k: loss(y, np.full(len(y), guess)) for k, loss in loss_objects.items()}
    best = {k: best_constant(y, k, delta) for k in loss_objects}
    return OutlierEffect(y=y, reference_prediction=guess, losses_clean=clean, losses_with=with_outlier,
                         best=best, delta=float(delta))


OUTLIER_STYLES = {"mse": ("C0", "-"), "mae": ("C1", "--"), "huber": ("C2", ":")}


def outlier_explorer():
    """Widget: move one delivery time far away; see the best constant under MSE, MAE and Huber.

    Both panels have fixed axes, wide enough for every setting of the sliders,
    so a move redraws only the outlier, the three best constants and the bars.
    """
    outlier_slider = widgets.FloatSlider(value=180.0, min=10.0, max=300.0, step=1.0, description="outlier (min)")
    delta_slider = widgets.FloatLogSlider(value=5.0, base=10, min=-0.5, max=2, step=0.05,
                                          description="Huber δ", readout_format=".2f")
    names = list(OUTLIER_STYLES)
    # the largest inflation of a loss over the sliders' range: the far outlier with the largest delta
    largest = outlier_effect(outlier_slider.max, delta_slider.base ** delta_slider.max)
    top = max(largest.growth(name) for name in names)

    plot = LivePlot(figsize=(11, 3.4))
    ax1, ax2 = plot.figure.subplots(1, 2, width_ratios=[1.6, 1])
    ax1.plot(DELIVERY_MINUTES[:-1], np.zeros(len(DELIVERY_MINUTES) - 1), "o", color="0.3", label="delivery times")
    outlier_mark, = plot.moving(ax1.plot([], [], "o", color="C3", ms=9, label="the outlier"))
    best_lines = {name: plot.moving(ax1.axvline(0, color=color, ls=style, lw=2,
                                                label=f"best constant under {name}"))
                  for name, (color, style) in OUTLIER_STYLES.items()}
    ax1.set_yticks([])
    ax1.set_xscale("log")                   # the nine times keep apart when the outlier is far
    ax1.set_xlim(outlier_slider.min * 0.85, outlier_slider.max * 1.15)
    ax1.set_xticks([10, 20, 30, 50, 100, 200, 300], ["10", "20", "30", "50", "100", "200", "300"])
    ax1.set_xticks([], minor=True)
    ax1.set_ylim(-1, 1.6)                   # the points sit below the legend
    ax1.set_xlabel("minutes (log scale)")
    ax1.legend(fontsize=8, loc="upper right")
    ax1.set_title("one number to predict every delivery", fontsize=10, loc="left")
    best_title = plot.moving(ax1.set_title(" ", fontsize=9, loc="right"))

    bars = plot.moving(ax2.bar(names, np.ones(len(names)), color=[OUTLIER_STYLES[n][0] for n in names]))
    bar_labels = [plot.moving(ax2.text(i, 1, "", ha="center", va="bottom", fontsize=8)) for i in range(len(names))]
    ax2.set_yscale("log")
    ax2.set_ylim(0.5, top * 8)              # room above the tallest bar for its label
    ax2.set_ylabel("loss with outlier / without")
    ax2.set_title(f"how much the outlier inflates the loss (guess {largest.reference_prediction:g} min)",
                  fontsize=9)

    def update(outlier, delta):
        effect = outlier_effect(outlier, delta)
        outlier_mark.set_data(effect.y[-1:], [0])
        for name, line in best_lines.items():
            line.set_xdata([effect.best[name]] * 2)
        best_title.set_text("best constant:  " + ",  ".join(f"{name} {effect.best[name]:.1f}" for name in names))
        for bar, label, name in zip(bars, bar_labels, names):
            bar.set_height(effect.growth(name))
            label.set_position((label.get_position()[0], effect.growth(name)))
            label.set_text(f"×{effect.growth(name):.3g}")
        plot.redraw()
        return effect

    return readable(explorer(update, plot, outlier=outlier_slider, delta=delta_slider))


# ---------------------------------------------------------------------------
# Why log-softmax subtracts the maximum
# ---------------------------------------------------------------------------

def naive_log_softmax(z):
    """log(exp(z) / sum(exp(z))) taken literally, without subtracting the max: overflows for large z.

    For comparison only; ``course_lib.losses.log_softmax`` is the stable version.
    """
    z = np.asarray(z, dtype=float)
    exp = np.exp(z)
    return np.log(exp / exp.sum(axis=-1, keepdims=True))
