"""Lesson 3 demos: stochastic gradient descent, one example per update.

Pure functions (no drawing, testable headless):

- ``sgd_linear_regression(X, y, lr, epochs, ...)``  -> ``SGDRun``: MSE after every update
- ``full_batch_gd(X, y, lr, steps)``                -> ``SGDRun``: the same model, one update per epoch
- ``times_seen(n, replacement, seed)``              -> how often each example is drawn in one epoch
- ``hinge_sgd(X, y, lr, epochs, ...)``              -> ``HingeRun``: a linear classifier trained by SGD
- ``step_size(lr, t, schedule)``                    -> lr (constant) or lr / √t (decaying), t counted from 1

Widgets (thin: they call the functions above and draw):

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
from course_lib.demos.gradient_descent import BLOW_UP, mse_loss, readable, show, wrapped

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


def sgd_linear_regression(X, y, lr, epochs, replacement=False, schedule="constant", seed=0, start=None):
    """SGD on the MSE of y ≈ X @ w + b, one example per update, ``epochs`` × N updates.

    Each epoch visits the examples in the order ``epoch_order`` gives (a
    permutation, or N draws with replacement); the step size of update t is
    ``step_size(lr, t, schedule)``. After every update the loss is measured
    on the whole data set (only to draw the curve: SGD itself never looks at it).
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    n, d = X.shape
    rng = np.random.default_rng(seed)
    theta = np.zeros(d + 1) if start is None else np.array(start, dtype=float)
    rows = [theta.copy()]
    losses = [mse_loss(X, y, theta[:-1], theta[-1])]
    t = 0
    diverged_at = None
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(epochs)):
            for i in epoch_order(n, replacement, rng):
                t += 1
                residual = X[i] @ theta[:-1] + theta[-1] - y[i]
                grad = 2 * residual * np.append(X[i], 1.0)
                theta = theta - step_size(lr, t, schedule) * grad
                loss = mse_loss(X, y, theta[:-1], theta[-1])
                if _diverged(theta, loss):
                    diverged_at = t
                    break
                rows.append(theta.copy())
                losses.append(loss)
            if diverged_at is not None:
                break
    return _finish(rows, losses, n, diverged_at, "SGD")


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
    w, b = np.zeros(d), 0.0
    params = [np.append(w, b)]
    losses = [hinge_objective(X, y, w, b, lam)]
    accuracies = [float(np.mean(np.where(X @ w + b >= 0, 1, -1) == y))]
    t = 0
    for _ in range(int(epochs)):
        for i in rng.permutation(n):
            t += 1
            eta = step_size(lr, t, schedule)
            if y[i] * (X[i] @ w + b) < 1:
                w = w - eta * (lam * w - y[i] * X[i])
                b = b + eta * y[i]
            else:
                w = w - eta * lam * w
        params.append(np.append(w, b))
        losses.append(hinge_objective(X, y, w, b, lam))
        accuracies.append(float(np.mean(np.where(X @ w + b >= 0, 1, -1) == y)))
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
    """Widget: learning rate, sampling scheme, schedule, epochs and seed for SGD vs full-batch GD."""

    def update(lr, sampling, schedule, epochs, seed):
        sgd_run, gd_run = sgd_vs_gd(X, y, lr=lr, epochs=epochs, replacement=(sampling == "with replacement"),
                                    schedule=schedule, seed=seed)
        fig, ax = plt.subplots(figsize=(8, 4))
        plot_sgd_vs_gd(sgd_run, gd_run, ax=ax)
        if sgd_run.status == "diverged":
            ax.text(0.5, 0.5, wrapped(sgd_run.message, 60), transform=ax.transAxes, ha="center", color="C0")
        ax.set_title(wrapped(sgd_run.message), fontsize=9)
        show(fig)
        return sgd_run

    return readable(widgets.interactive(
        update,
        lr=_lr_slider(0.05),
        sampling=widgets.Dropdown(options=["without replacement", "with replacement"], description="sampling"),
        schedule=widgets.ToggleButtons(options=list(SCHEDULES), description="step size"),
        epochs=widgets.IntSlider(value=2, min=1, max=5, description="epochs"),
        seed=widgets.IntSlider(value=0, min=0, max=20, description="seed"),
    ))


def replacement_explorer():
    """Widget: number of examples, sampling scheme and seed; how many examples one epoch misses."""

    def update(n, sampling, seed):
        coverage = times_seen(n, sampling == "with replacement", seed)
        fig, ax = plt.subplots(figsize=(7, 3.5))
        top = max(coverage.counts.max(), 4)
        k = np.arange(top + 1)
        share = np.bincount(coverage.counts, minlength=top + 1) / n
        ax.bar(k, share, color="C0", label="measured")
        poisson = np.exp(-1.0) / np.array([float(np.prod(np.arange(1, j + 1))) for j in k])
        ax.plot(k, poisson, "ko--", ms=4, label="with replacement, large n: e⁻¹ / k!")
        ax.set_xlabel("times an example was drawn in one epoch")
        ax.set_ylabel("share of the examples")
        ax.set_ylim(0, 1.05)
        ax.set_xticks(k)
        ax.legend(fontsize=8)
        ax.set_title(wrapped(coverage.message), fontsize=9)
        show(fig)
        return coverage

    return readable(widgets.interactive(
        update,
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


def hinge_explorer(X, y, feature_names=("x1", "x2")):
    """Widget: learning rate, epochs and regularisation λ of the hinge-loss classifier."""

    def update(lr, epochs, lam):
        run = hinge_sgd(X, y, lr, epochs, lam=lam)
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
        plot_hinge(X, y, run, feature_names, ax=ax1)
        ax1.set_title("decision boundary (solid) and margins (dotted)", fontsize=9)
        ax2.plot(run.losses, "o-", label="hinge loss + λ/2‖w‖²")
        ax2.plot(run.accuracies, "s-", label="accuracy")
        ax2.set_xlabel("epoch")
        ax2.set_ylim(0, max(1.05, float(np.max(run.losses)) * 1.05))
        ax2.legend(fontsize=8)
        ax2.grid(alpha=0.3)
        fig.suptitle(wrapped(run.message, 120), fontsize=9)
        fig.tight_layout()
        show(fig)
        return run

    return readable(widgets.interactive(
        update,
        lr=_lr_slider(0.5, low=-3, high=1),
        epochs=widgets.IntSlider(value=5, min=1, max=20, description="epochs"),
        lam=widgets.FloatLogSlider(value=1e-3, base=10, min=-5, max=0, step=0.25,
                                   description="λ (regularisation)", readout_format=".0e"),
    ))
