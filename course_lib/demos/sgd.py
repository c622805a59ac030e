"""Lesson 3 demos: stochastic gradient descent, one example per update.

Pure functions (no drawing, testable headless):

- ``sgd_linear_regression(X, y, lr, epochs, ...)``  -> ``SGDRun``: MSE after every update
- ``full_batch_gd(X, y, lr, steps)``                -> ``SGDRun``: the same model, one update per epoch
- ``mse_of_each_row(X, y, params)``                 -> the whole-data MSE of many (w, b) rows at once
- ``times_seen(n, replacement, seed)``              -> how often each example is drawn in one epoch
- ``hinge_sgd(X, y, lr, epochs, ...)``              -> ``HingeRun``: a linear classifier trained by SGD
- ``step_size(lr, t, schedule)``                    -> lr (constant) or lr / √t (decaying), t counted from 1

Widgets (thin: they call the functions above and draw into a ``LivePlot``,
made once; a control only moves the lines, bars and texts that change):

- ``sgd_explorer(X, y)``      learning rate, sampling scheme, schedule, epochs, seed
- ``replacement_explorer()``  number of examples, sampling scheme, seed
- ``hinge_explorer(X, y)``    learning rate, epochs, regularisation

One SGD update on example i, for the model ŷ = x·w + b and the squared error:

    r = x_i·w + b − y_i,      w <- w − lr_t · 2 r x_i,      b <- b − lr_t · 2 r.

Step t counts updates from 1 (the first update uses lr / √1 = lr).
"""

from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from course_lib import data, schedules
from course_lib.demos.gradient_descent import (BLOW_UP, closed_form_linear_regression, mse_loss, readable,
                                               wrapped)
from course_lib.demos.live_plot import LivePlot, explorer

SCHEDULES = ("constant", "1/sqrt(t)")


def step_size(lr, t, schedule="constant"):
    """The learning rate of update t (t = 1, 2, ...): ``lr`` or ``lr / sqrt(t)`` (``course_lib.schedules``)."""
    if schedule == "constant":
        return schedules.constant(t, lr)
    if schedule == "1/sqrt(t)":
        return schedules.inverse_sqrt(t, lr)
    raise ValueError(f"schedule must be one of {SCHEDULES}; got {schedule!r}")


def epoch_order(n, replacement, rng):
    """The example indices of one epoch (n draws): a permutation, or n independent draws with replacement."""
    if replacement:
        return rng.integers(0, n, size=n)
    return rng.permutation(n)


@dataclass
class SGDRun:
    """A training run of a linear regression.

    params : (T + 1, d + 1) the rows (w_1, ..., w_d, b) before the first update and after each one
    losses : (T + 1,) the MSE on the *whole* data set at each row
    epochs_axis : (T + 1,) the position of each row in epochs (update t -> t / updates per epoch)
    status : "finished" or "diverged"
    rises  : the fraction of updates after which the whole-data loss went *up*
    """

    params: np.ndarray
    losses: np.ndarray
    epochs_axis: np.ndarray
    status: str
    message: str
    rises: float

    @property
    def final_loss(self):
        return float(self.losses[-1])


def _finish(rows, losses, per_epoch, diverged_at, label):
    losses = np.array(losses)
    steps = len(losses) - 1
    rises = float(np.mean(np.diff(losses) > 0)) if steps else 0.0
    if diverged_at is not None:
        status = "diverged"
        message = (f"{label} diverged after {diverged_at} updates (the weights ran off towards "
                   "infinity): try a smaller learning rate")
    else:
        status = "finished"
        message = (f"{label}: {steps} updates, final loss {losses[-1]:.4f}; "
                   f"the loss rose after {100 * rises:.0f}% of the updates")
    return SGDRun(params=np.array(rows), losses=losses,
                  epochs_axis=np.arange(len(losses)) / per_epoch,
                  status=status, message=message, rises=rises)


def _diverged(theta, loss):
    return not np.all(np.isfinite(theta)) or not np.isfinite(loss) or np.abs(theta).max() > BLOW_UP


def mse_of_each_row(X, y, params):
    """The MSE on all of (X, y) of every row (w_1, ..., w_d, b) of ``params``, at once.

    With Z = X plus a column of ones, expanding the square gives
    mean((Z θ − y)²) = θᵀ G θ − 2 θᵀ c + mean(y²),  G = ZᵀZ / N,  c = Zᵀy / N,
    so each row costs a few multiplications instead of a pass over all N
    examples (the same numbers as ``mse_loss``, up to rounding in the last digits).
    """
    Z = np.column_stack([np.asarray(X, float), np.ones(len(X))])
    y = np.asarray(y, float)
    n = len(y)
    G, c, mean_y2 = Z.T @ Z / n, Z.T @ y / n, y @ y / n
    P = np.asarray(params, float)
    return np.sum((P @ G) * P, axis=1) - 2 * (P @ c) + mean_y2


def sgd_linear_regression(X, y, lr, epochs, replacement=False, schedule="constant", seed=0, start=None):
    """SGD on the MSE of y ≈ X @ w + b, one example per update, ``epochs`` × N updates.

    Each epoch visits the examples in the order ``epoch_order`` gives (a
    permutation, or N draws with replacement); the step size of update t is
    ``step_size(lr, t, schedule)``. After every update the loss is measured
    on the whole data set (only to draw the curve: SGD itself never looks at it;
    ``mse_of_each_row`` computes all of them at the end, quickly).
    The run stops when the weights pass ``BLOW_UP`` or stop being finite.
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    n, d = X.shape
    Z = np.column_stack([X, np.ones(n)])       # row i is (x_i, 1): the gradient of ŷ_i with respect to (w, b)
    rng = np.random.default_rng(seed)
    etas = step_size(lr, np.arange(1, int(epochs) * n + 1), schedule)     # etas[t - 1] is used by update t
    theta = np.zeros(d + 1) if start is None else np.array(start, dtype=float)
    rows = [theta]
    t = 0
    diverged_at = None
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(epochs)):
            for i in epoch_order(n, replacement, rng):
                residual = X[i] @ theta[:-1] + theta[-1] - y[i]
                theta = theta - etas[t] * (2 * residual * Z[i])
                rows.append(theta)
                t += 1
            # the first update of this epoch after which a weight ran off (or became NaN), if any:
            # the run stops there
            blown = ~np.all(np.abs(np.array(rows[-n:])) <= BLOW_UP, axis=1)
            if blown.any():
                diverged_at = len(rows) - n + int(np.argmax(blown))
                del rows[diverged_at:]
                break
    return _finish(rows, mse_of_each_row(X, y, rows), n, diverged_at, "SGD")


def full_batch_gd(X, y, lr, steps, start=None):
    """Full-batch gradient descent on the same MSE: one update per epoch (per pass over all N examples)."""
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    n, d = X.shape
    theta = np.zeros(d + 1) if start is None else np.array(start, dtype=float)
    rows = [theta.copy()]
    losses = [mse_loss(X, y, theta[:-1], theta[-1])]
    diverged_at = None
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, int(steps) + 1):
            residual = X @ theta[:-1] + theta[-1] - y
            grad = 2 / n * np.append(X.T @ residual, residual.sum())
            theta = theta - lr * grad
            loss = mse_loss(X, y, theta[:-1], theta[-1])
            if _diverged(theta, loss):
                diverged_at = t
                break
            rows.append(theta.copy())
            losses.append(loss)
    return _finish(rows, losses, 1, diverged_at, "full-batch GD")


def sgd_vs_gd(X, y, lr=0.05, epochs=2, replacement=False, schedule="constant", seed=0, gd_lr=0.5):
    """Run SGD and full-batch GD for the same number of epochs; returns ``(sgd_run, gd_run)``."""
    sgd_run = sgd_linear_regression(X, y, lr, epochs, replacement=replacement, schedule=schedule, seed=seed)
    gd_run = full_batch_gd(X, y, gd_lr, epochs)
    return sgd_run, gd_run


# ---------------------------------------------------------------------------
# Sampling with and without replacement
# ---------------------------------------------------------------------------

@dataclass
class Coverage:
    """How often each of n examples was drawn in one epoch of n draws (batch size 1)."""

    counts: np.ndarray      # (n,) times each example was drawn
    replacement: bool

    @property
    def n(self):
        return len(self.counts)

    @property
    def unseen_fraction(self):
        return float(np.mean(self.counts == 0))

    @property
    def message(self):
        scheme = "with" if self.replacement else "without"
        return (f"{self.n} draws {scheme} replacement: {100 * self.unseen_fraction:.1f}% of the "
                f"examples never drawn, the busiest drawn {self.counts.max()} times")


def times_seen(n, replacement, seed=0):
    """One epoch of a ``DataLoader`` (batch size 1) over n examples: how often each was drawn."""
    loader = data.DataLoader(np.arange(n), None, batch_size=1, shuffle=True,
                             replacement=replacement, seed=seed)
    drawn = np.concatenate([batch for batch, _ in loader])
    return Coverage(counts=np.bincount(drawn, minlength=n), replacement=bool(replacement))


# ---------------------------------------------------------------------------
# A linear classifier trained with the hinge loss
# ---------------------------------------------------------------------------

@dataclass
class HingeRun:
    """SGD on the regularised hinge loss  mean(max(0, 1 − y (x·w + b))) + λ/2 ‖w‖², y in {−1, +1}.

    params     : (E + 1, d + 1) (w, b) at the start and after each epoch
    losses     : (E + 1,) the regularised hinge loss on the whole data set at the same moments
    accuracies : (E + 1,) the fraction of examples with sign(x·w + b) == y
    """

    params: np.ndarray
    losses: np.ndarray
    accuracies: np.ndarray
    status: str
    message: str

    @property
    def w(self):
        return self.params[-1, :-1]

    @property
    def b(self):
        return float(self.params[-1, -1])


def hinge_objective(X, y, w, b, lam):
    """mean(max(0, 1 − y (Xw + b))) + λ/2 ‖w‖²  (labels y in {−1, +1})."""
    margins = y * (X @ w + b)
    return float(np.mean(np.maximum(0.0, 1.0 - margins)) + lam / 2 * np.dot(w, w))


def hinge_sgd(X, y, lr, epochs, lam=1e-3, schedule="1/sqrt(t)", seed=0):
    """Train a linear classifier by SGD on the hinge loss, one example per update.

    For example i with margin m = y_i (x_i·w + b), a subgradient is
    −y_i x_i (and −y_i for b) when m < 1, and 0 when m >= 1; the
    regulariser adds λw. Labels must be −1 and +1.
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError("hinge_sgd needs labels in {-1, +1}; map 0/1 labels with 2*y - 1")
    n, d = X.shape
    rng = np.random.default_rng(seed)
    # One example per update, in plain Python numbers: with a handful of weights that is several
    # times faster than NumPy, whose every operation has a fixed cost of about a microsecond.
    etas = step_size(lr, np.arange(1, int(epochs) * n + 1), schedule).tolist()   # etas[t - 1]: update t
    examples, labels = X.tolist(), y.tolist()
    w, b = [0.0] * d, 0.0
    params = [w + [b]]
    losses = [hinge_objective(X, y, np.array(w), b, lam)]
    accuracies = [float(np.mean(np.where(X @ np.array(w) + b >= 0, 1, -1) == y))]
    t = 0
    for _ in range(int(epochs)):
        for i in rng.permutation(n).tolist():
            eta = etas[t]
            t += 1
            x_i, y_i = examples[i], labels[i]
            if y_i * (sum(x * w_j for x, w_j in zip(x_i, w)) + b) < 1:      # margin below 1
                w = [w_j - eta * (lam * w_j - y_i * x) for w_j, x in zip(w, x_i)]
                b = b + eta * y_i
            else:
                w = [w_j - eta * lam * w_j for w_j in w]
        params.append(w + [b])
        losses.append(hinge_objective(X, y, np.array(w), b, lam))
        accuracies.append(float(np.mean(np.where(X @ np.array(w) + b >= 0, 1, -1) == y)))
    message = (f"after {int(epochs)} epochs ({t} updates): hinge loss {losses[-1]:.3f}, "
               f"accuracy {100 * accuracies[-1]:.1f}%")
    return HingeRun(params=np.array(params), losses=np.array(losses),
                    accuracies=np.array(accuracies), status="finished", message=message)


# ---------------------------------------------------------------------------
# Widgets
# ---------------------------------------------------------------------------

def _lr_slider(value, low=-3, high=0):
    return widgets.FloatLogSlider(value=value, base=10, min=low, max=high, step=0.05,
                                  description="learning rate", readout_format=".3g")


def plot_sgd_vs_gd(sgd_run, gd_run, ax=None):
    """The whole-data loss of SGD (every update) and full-batch GD (every epoch), against epochs."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4))
    else:
        fig = ax.figure
    ax.plot(sgd_run.epochs_axis, sgd_run.losses, color="C0", lw=0.8, label="SGD (one example per update)")
    ax.plot(gd_run.epochs_axis, gd_run.losses, "o-", color="C3", label="full-batch GD (one update per epoch)")
    finite = np.concatenate([sgd_run.losses, gd_run.losses])   # every stored loss is finite
    ax.set_yscale("log")
    ax.set_ylim(finite.min() * 0.9, finite.max() * 1.5)
    ax.set_xlabel("epochs (passes over the data)")
    ax.set_ylabel("MSE on all examples (log scale)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def plot_constant_vs_decaying(constant, decaying, best_loss, ax=None):
    """Two SGD runs near the minimum: a constant step and a decaying one, with the minimum dashed."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4))
    else:
        fig = ax.figure
    ax.plot(constant.epochs_axis, constant.losses, lw=0.7, label="constant step size")
    ax.plot(decaying.epochs_axis, decaying.losses, lw=0.7, label="step size η / √t")
    ax.axhline(best_loss, color="k", ls="--", lw=1, label=f"minimum {best_loss:.4f}")
    ax.set_ylim(best_loss * 0.98, best_loss * 1.4)
    ax.set_xlabel("epochs")
    ax.set_ylabel("MSE on all examples")
    ax.set_title("near the minimum: the decaying step size calms SGD down")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def sgd_explorer(X, y):
    """Widget: learning rate, sampling scheme, schedule, epochs and seed for SGD vs full-batch GD.

    Drawn in a ``LivePlot`` with fixed axes: the loss range runs from just
    under the minimum to above the starting loss (a diverging run leaves
    through the top, and the plot says so), and the epoch range is redrawn
    only when "epochs" changes (the x axis alone). Runs are kept, so coming back to a
    setting is instant.
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    w_best, b_best = closed_form_linear_regression(X, y)
    best = mse_loss(X, y, w_best, b_best)
    start = mse_loss(X, y, np.zeros(X.shape[1]), 0.0)

    plot = LivePlot(figsize=(8, 4))
    ax = plot.figure.add_subplot()
    ax.axhline(best, color="k", ls="--", lw=1, label=f"minimum {best:.4f}")
    sgd_line, = plot.moving(ax.plot([], [], color="C0", lw=0.8, label="SGD (one example per update)"))
    gd_line, = plot.moving(ax.plot([], [], "o-", color="C3", label="full-batch GD (one update per epoch)"))
    diverged = plot.moving(ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center", color="C0"))
    ax.set_yscale("log")
    ax.set_ylim(best * 0.8, start * 3)
    plot.rarely_moving(ax.xaxis)        # drawn again only when "epochs" changes the x range
    ax.set_xlabel("epochs (passes over the data)")
    ax.set_ylabel("MSE on all examples (log scale)")
    plot.figure.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)   # off the curves
    ax.grid(alpha=0.3)
    title = plot.moving(ax.set_title("\n", fontsize=9))      # two lines of room for the message
    runs = {}                   # (lr, sampling, schedule, epochs, seed) -> (sgd_run, gd_run)
    shown_epochs = None         # the x axis is redrawn only when "epochs" changes

    def update(lr, sampling, schedule, epochs, seed):
        nonlocal shown_epochs
        settings = (lr, sampling, schedule, epochs, seed)
        if settings not in runs:
            runs[settings] = sgd_vs_gd(X, y, lr=lr, epochs=epochs, replacement=(sampling == "with replacement"),
                                       schedule=schedule, seed=seed)
        sgd_run, gd_run = runs[settings]
        sgd_line.set_data(sgd_run.epochs_axis, sgd_run.losses)
        gd_line.set_data(gd_run.epochs_axis, gd_run.losses)
        diverged.set_visible(sgd_run.status == "diverged")
        diverged.set_text(wrapped(sgd_run.message, 60))
        title.set_text(wrapped(sgd_run.message))
        new_range = epochs != shown_epochs
        if new_range:
            ax.set_xlim(-0.02 * epochs, 1.02 * epochs)
            shown_epochs = epochs
        plot.redraw(rare_change=new_range)
        return sgd_run

    return readable(explorer(
        update, plot,
        lr=_lr_slider(0.05),
        sampling=widgets.Dropdown(options=["without replacement", "with replacement"], description="sampling"),
        schedule=widgets.ToggleButtons(options=list(SCHEDULES), description="step size"),
        epochs=widgets.IntSlider(value=2, min=1, max=5, description="epochs"),
        seed=widgets.IntSlider(value=0, min=0, max=20, description="seed"),
    ))


#: The draw counts the replacement explorer shows: 0, 1, ..., 8 times in one epoch (more is rarer than 1 in 10⁵).
DRAW_COUNTS = np.arange(9)


def replacement_explorer():
    """Widget: number of examples, sampling scheme and seed; how many examples one epoch misses.

    A ``LivePlot``: the bars (one per draw count 0 ... 8) and the title move;
    the Poisson reference and the axes are drawn once.
    """
    plot = LivePlot(figsize=(7, 3.5))
    ax = plot.figure.add_subplot()
    k = DRAW_COUNTS
    bars = plot.moving(list(ax.bar(k, np.zeros(len(k)), color="C0", label="measured")))
    poisson = np.exp(-1.0) / np.array([float(np.prod(np.arange(1, j + 1))) for j in k])
    ax.plot(k, poisson, "ko--", ms=4, label="with replacement, large n: e⁻¹ / k!")
    ax.set_xlabel("times an example was drawn in one epoch")
    ax.set_ylabel("share of the examples")
    ax.set_ylim(0, 1.05)
    ax.set_xticks(k)
    ax.legend(fontsize=8)
    title = plot.moving(ax.set_title(" ", fontsize=10))

    def update(n, sampling, seed):
        coverage = times_seen(n, sampling == "with replacement", seed)
        share = np.bincount(coverage.counts, minlength=len(k))[:len(k)] / n
        for bar, height in zip(bars, share):
            bar.set_height(height)
        # short: every letter drawn costs time, and the controls already say n and the scheme
        title.set_text(f"{coverage.unseen_fraction:.1%} never drawn, the busiest drawn {coverage.counts.max()} times")
        plot.redraw()
        return coverage

    return readable(explorer(
        update, plot,
        n=widgets.Dropdown(options=[10, 100, 1000, 10000, 100000], value=1000, description="examples n"),
        sampling=widgets.ToggleButtons(options=["with replacement", "without replacement"], description="sampling"),
        seed=widgets.IntSlider(value=0, min=0, max=20, description="seed"),
    ))


def plot_hinge(X, y, run, feature_names=("x1", "x2"), ax=None):
    """The examples (two features) coloured by label, with the boundary x·w + b = 0 and the margins ±1."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 4.5))
    else:
        fig = ax.figure
    for label, color, marker in [(-1, "C3", "x"), (1, "C2", "o")]:
        rows = y == label
        ax.scatter(X[rows, 0], X[rows, 1], s=10, c=color, marker=marker, alpha=0.5,
                   label=f"y = {label:+d}")
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.05 * (hi - lo)
    x1 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], 50)
    w, b = run.w, run.b
    if abs(w[1]) > 1e-12:
        for level, style in [(0, "-"), (1, ":"), (-1, ":")]:
            ax.plot(x1, (level - b - w[0] * x1) / w[1], "k" + style, lw=1.5 if level == 0 else 1)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.legend(fontsize=8, loc="upper right")
    return fig


#: The hinge explorer's loss axis: the loss starts at 1 (w = 0, b = 0); higher values leave the plot, and it says so.
HINGE_LOSS_TOP = 1.25


def hinge_explorer(X, y, feature_names=("x1", "x2")):
    """Widget: learning rate, epochs and regularisation λ of the hinge-loss classifier.

    A ``LivePlot``: the examples and the axes are drawn once; the boundary,
    the margins, the two curves and the message move. The epoch axis is
    redrawn only when "epochs" changes. Runs are kept, so coming back to a
    setting is instant.
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    plot = LivePlot(figsize=(10, 4))
    ax1, ax2 = plot.figure.subplots(1, 2)
    for label, color, marker in [(-1, "C3", "x"), (1, "C2", "o")]:
        rows = y == label
        ax1.scatter(X[rows, 0], X[rows, 1], s=10, c=color, marker=marker, alpha=0.5, label=f"y = {label:+d}")
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.05 * (hi - lo)
    x1 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], 50)
    boundary, = plot.moving(ax1.plot([], [], "k-", lw=1.5))
    margins = [plot.moving(ax1.plot([], [], "k:", lw=1))[0] for _ in (1, -1)]
    ax1.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax1.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax1.set_xlabel(feature_names[0])
    ax1.set_ylabel(feature_names[1])
    # above the panel, where the moving lines never pass over it
    ax1.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1), ncol=2, frameon=False, borderaxespad=0.2)
    ax1.set_title("boundary (solid), margins (dotted)", fontsize=9, loc="right")

    loss_line, = plot.moving(ax2.plot([], [], "o-", label="hinge loss + λ/2‖w‖²"))
    accuracy_line, = plot.moving(ax2.plot([], [], "s-", label="accuracy"))
    off_plot = plot.moving(ax2.text(0.98, 0.97, "", transform=ax2.transAxes, ha="right", va="top",
                                    fontsize=8, color="C0"))
    ax2.set_ylim(0, HINGE_LOSS_TOP)
    plot.rarely_moving(ax2.xaxis)       # drawn again only when "epochs" changes the x range
    ax2.set_xlabel("epoch")
    ax2.legend(fontsize=8, loc="lower left")
    ax2.grid(alpha=0.3)
    message = plot.moving(plot.figure.suptitle(" ", fontsize=9))
    runs = {}                   # (lr, epochs, lam) -> run: coming back to a setting is instant
    shown_epochs = None         # the x axis is redrawn only when "epochs" changes

    def update(lr, epochs, lam):
        nonlocal shown_epochs
        if (lr, epochs, lam) not in runs:
            runs[lr, epochs, lam] = hinge_sgd(X, y, lr, epochs, lam=lam)
        run = runs[lr, epochs, lam]
        w, b = run.w, run.b
        drawable = abs(w[1]) > 1e-12            # False for a vertical boundary, or NaN weights
        for line, level in [(boundary, 0), (margins[0], 1), (margins[1], -1)]:
            line.set_visible(drawable)
            if drawable:
                line.set_data(x1, (level - b - w[0] * x1) / w[1])
        epochs_axis = np.arange(len(run.losses))
        loss_line.set_data(epochs_axis, run.losses)
        accuracy_line.set_data(epochs_axis, run.accuracies)
        highest = float(np.max(run.losses))
        off_plot.set_visible(not highest <= HINGE_LOSS_TOP)
        off_plot.set_text(f"the loss leaves the plot (up to {highest:.3g})")
        message.set_text(wrapped(run.message, 120))
        new_range = epochs != shown_epochs
        if new_range:
            ax2.set_xlim(-0.02 * epochs - 0.1, 1.02 * epochs + 0.1)
            shown_epochs = epochs
        plot.redraw(rare_change=new_range)
        return run

    return readable(explorer(
        update, plot,
        lr=_lr_slider(0.5, low=-3, high=1),
        epochs=widgets.IntSlider(value=5, min=1, max=20, description="epochs"),
        lam=widgets.FloatLogSlider(value=1e-3, base=10, min=-5, max=0, step=0.25,
                                   description="λ (regularisation)", readout_format=".0e"),
    ))
