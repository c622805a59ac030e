"""Lesson 4 demos: mini-batch gradient descent on a one-feature linear fit.

The model is a line, ``y_hat = w * x + b``, and the loss on a batch B of
examples is the mean squared error

    L_B(w, b) = (1 / |B|) * sum_{i in B} (w * x_i + b - y_i) ** 2

whose gradient is

    dL_B/dw = (2 / |B|) * sum_{i in B} (w * x_i + b - y_i) * x_i
    dL_B/db = (2 / |B|) * sum_{i in B} (w * x_i + b - y_i)

Everything above the drawing section is a pure function of its arguments
(randomness only through ``seed``). The widgets (``fit_player``,
``minibatch_explorer``, ``noise_explorer``) wire ipywidgets controls to them
like ``ipywidgets.interactive`` does, so ``widget.result`` holds the last
result; each draws into one ``LivePlot`` (``course_lib.demos.live_plot``)
made once, and a control only moves the artists that change.
"""

from dataclasses import dataclass, field

import ipywidgets as widgets
import numpy as np
from matplotlib.lines import Line2D

from course_lib.data import DataLoader
from course_lib.demos.gradient_descent import wrapped
from course_lib.demos.live_plot import LivePlot, explorer

# A loss above this (or NaN / inf) stops the run, to keep the numbers finite. A run is *diverging*
# as soon as its loss ends above where it started (``MinibatchRun.diverged``), however few updates it made.
DIVERGED_LOSS = 1e6


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def make_line_data(n=256, w_true=2.0, b_true=-1.0, noise=0.5, seed=0):
    """A synthetic one-feature regression set: ``y = w_true * x + b_true + noise``.

    Returns ``(x, y)``, two float64 arrays of shape ``(n,)``, x uniform in [-1, 1].
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=n)
    y = w_true * x + b_true + noise * rng.normal(size=n)
    return x, y


def line_mse(x, y, w, b):
    """The mean squared error of the line ``w * x + b`` on ``(x, y)``."""
    return float(np.mean((w * x + b - y) ** 2))


def line_mse_gradient(x, y, w, b):
    """``(dL/dw, dL/db)`` of the mean squared error on ``(x, y)`` (see the module docstring)."""
    residual = w * x + b - y
    return 2.0 * float(np.mean(residual * x)), 2.0 * float(np.mean(residual))


def least_squares_line(x, y):
    """The exact minimiser ``(w*, b*)`` of the MSE, from the normal equations."""
    A = np.stack([x, np.ones_like(x)], axis=1)
    (w, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    return float(w), float(b)


# ---------------------------------------------------------------------------
# How the batches are drawn
# ---------------------------------------------------------------------------

def iterations_per_epoch(n_examples, batch_size, drop_last=False):
    """Updates in one pass over ``n_examples`` with batches of ``batch_size``.

    The last batch is smaller when ``batch_size`` does not divide ``n_examples``;
    ``drop_last=True`` skips it.
    """
    if drop_last:
        return n_examples // batch_size
    return -(-n_examples // batch_size)  # ceil without floats


def make_batches(n_examples, batch_size, epochs, scheme="shuffle", seed=0):
    """The index arrays of ``epochs`` epochs of batches, as ``course_lib.data.DataLoader`` draws them.

    ``scheme`` is ``"shuffle"`` (each epoch a fresh permutation cut into
    consecutive batches: every example used exactly once per epoch) or
    ``"random"`` (every batch drawn independently *with replacement*: some
    examples turn up twice, others not at all; after as many draws as there
    are examples, a fraction (1 - 1/n)^n ≈ 1/e ≈ 37 % has never been seen).
    Either way an epoch is ``iterations_per_epoch(n_examples, batch_size)``
    batches. We hand the loader the indices ``0 .. n-1`` as its "X", so each
    batch it yields *is* the array of indices of that batch.
    """
    if scheme not in ("shuffle", "random"):
        raise ValueError(f"scheme must be 'shuffle' or 'random', got {scheme!r}")
    loader = DataLoader(np.arange(n_examples), None, batch_size=batch_size, shuffle=True,
                        replacement=(scheme == "random"), seed=seed)
    return [indices for _ in range(epochs) for indices, _ in loader]


def usage_counts(n_examples, batches):
    """How many times each example appears in ``batches`` (an int array of shape (n_examples,))."""
    counts = np.zeros(n_examples, dtype=int)
    for idx in batches:
        np.add.at(counts, idx, 1)
    return counts


# ---------------------------------------------------------------------------
# Mini-batch gradient descent on the line
# ---------------------------------------------------------------------------

@dataclass
class MinibatchRun:
    """The record of one mini-batch gradient-descent run on the line.

    ``w[k], b[k]`` are the parameters after ``k`` updates (``k = 0`` is the
    start), ``loss[k]`` the full-data MSE there and ``examples_seen[k]`` the
    number of example-gradients computed so far. ``batches[k]`` is the batch
    used by update ``k + 1``. ``diverged_at`` is the update after which the
    loss passed ``DIVERGED_LOSS`` (the run stopped there), or None.
    ``diverged`` is judged by the loss, not by the number of updates: True
    when the run stopped there, or when its last loss is above its first
    (four updates of batch 256 at η = 1.5 take the loss from 13 to about
    1,860: diverging, even though it never reached ``DIVERGED_LOSS``).
    """

    batch_size: int
    lr: float
    scheme: str
    w: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    examples_seen: np.ndarray
    batches: list = field(repr=False)
    n_examples: int = 0
    diverged_at: int | None = None

    @property
    def updates(self):
        """Number of updates actually made."""
        return len(self.loss) - 1

    @property
    def epoch(self):
        """``epoch[k]``: the (fractional) number of passes over the data after ``k`` updates."""
        return self.examples_seen / self.n_examples

    @property
    def diverged(self):
        """True when the loss blew up, or ended above where it started."""
        last = self.loss[-1]
        return self.diverged_at is not None or not np.isfinite(last) or last > self.loss[0]

    def summary(self):
        if self.diverged_at is not None:
            state = f"diverged after {self.diverged_at} updates"
        elif self.diverged:
            state = (f"diverging: the loss rose from {self.loss[0]:,.4g} to {self.loss[-1]:,.4g} "
                     f"in {self.updates} updates")
        else:
            state = f"final loss {self.loss[-1]:.4f}"
        return (f"batch size {self.batch_size}, lr {self.lr:g}, {self.scheme}: "
                f"{self.updates} updates, {int(self.examples_seen[-1])} examples seen, {state}")


def minibatch_gd(x, y, batch_size=8, lr=0.1, epochs=2, scheme="shuffle", w0=-2.0, b0=2.0, seed=0):
    """Fit ``y ≈ w x + b`` by mini-batch gradient descent; returns a ``MinibatchRun``.

    Each update takes one batch B and moves ``(w, b) <- (w, b) - lr * grad L_B``.
    A batch size of ``len(x)`` with ``scheme="shuffle"`` is full-batch gradient
    descent; a batch size of 1 is lesson 3's stochastic gradient descent.
    The run stops early (``diverged_at``) if the loss exceeds ``DIVERGED_LOSS``
    or stops being finite.
    """
    n = len(x)
    batch_size = int(min(max(1, batch_size), n))
    batches = make_batches(n, batch_size, epochs, scheme, seed)
    w, b = float(w0), float(b0)
    ws, bs, losses, seen = [w], [b], [line_mse(x, y, w, b)], [0]
    diverged_at = None
    with np.errstate(over="ignore", invalid="ignore"):
        for k, idx in enumerate(batches, start=1):
            dw, db = line_mse_gradient(x[idx], y[idx], w, b)
            w, b = w - lr * dw, b - lr * db
            loss = line_mse(x, y, w, b)
            ws.append(w)
            bs.append(b)
            losses.append(loss)
            seen.append(seen[-1] + len(idx))
            if not np.isfinite(loss) or loss > DIVERGED_LOSS:
                diverged_at = k
                break
    return MinibatchRun(batch_size=batch_size, lr=float(lr), scheme=scheme,
                        w=np.array(ws), b=np.array(bs), loss=np.array(losses),
                        examples_seen=np.array(seen, dtype=float),
                        batches=batches[:len(losses) - 1], n_examples=n,
                        diverged_at=diverged_at)


def batch_size_sweep(x, y, batch_sizes=(1, 8, 64, 256), lr=0.1, epochs=4, seed=0):
    """One ``minibatch_gd`` run per batch size, same lr, epochs and seed: ``{batch_size: run}``."""
    return {int(bs): minibatch_gd(x, y, batch_size=bs, lr=lr, epochs=epochs, seed=seed)
            for bs in batch_sizes}


def full_batch_lr_limit(x):
    """The largest stable learning rate of full-batch gradient descent on the line's MSE: 2 / λmax.

    The MSE is a quadratic in (w, b) with the constant Hessian
    ``H = 2 [[mean(x²), mean(x)], [mean(x), 1]]``; gradient descent converges
    exactly when η < 2 / λmax(H). For lesson 4's data that is about 0.99.
    """
    x = np.asarray(x, dtype=float)
    hessian = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    return float(2 / np.linalg.eigvalsh(hessian).max())


@dataclass
class StabilitySweep:
    """Final losses of mini-batch GD over a grid of learning rates, one row per batch size.

    ``final_loss[B][i]`` is the full-data loss after ``epochs`` epochs with
    batch size B and learning rate ``lrs[i]`` (inf if the run blew up);
    ``diverged[B][i]`` says whether that run diverged (``MinibatchRun.diverged``);
    ``start_loss`` is the loss at the common starting point.
    """

    lrs: np.ndarray
    epochs: int
    start_loss: float
    final_loss: dict
    diverged: dict

    def smallest_diverging_lr(self, batch_size):
        """The smallest learning rate of the grid at which batch size ``batch_size`` diverged (None if none)."""
        hits = np.flatnonzero(self.diverged[batch_size])
        return float(self.lrs[hits[0]]) if hits.size else None


def stability_sweep(x, y, batch_sizes=(1, 8, 64, 256), lrs=None, epochs=4, seed=0):
    """Run ``minibatch_gd`` for every batch size and learning rate; returns a ``StabilitySweep``."""
    lrs = np.round(np.arange(0.5, 1.61, 0.05), 2) if lrs is None else np.asarray(lrs, dtype=float)
    final, diverged, start = {}, {}, None
    for bs in batch_sizes:
        runs = [minibatch_gd(x, y, batch_size=bs, lr=lr, epochs=epochs, seed=seed) for lr in lrs]
        start = runs[0].loss[0]
        final[int(bs)] = np.array([r.loss[-1] if r.diverged_at is None else np.inf for r in runs])
        diverged[int(bs)] = np.array([r.diverged for r in runs])
    return StabilitySweep(lrs=lrs, epochs=int(epochs), start_loss=float(start), final_loss=final,
                          diverged=diverged)


def plot_stability(sweep, limit, ax=None):
    """Final loss against η for each batch size (log scale), with the full-batch limit 2/λmax."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5))
    ceiling = DIVERGED_LOSS * 3
    for i, (bs, final) in enumerate(sorted(sweep.final_loss.items())):
        shown = np.where(np.isfinite(final), final, ceiling)
        ax.plot(sweep.lrs, shown, "o-", color=f"C{i}", ms=4, label=f"batch size {bs}")
    ax.axhline(sweep.start_loss, color="0.4", ls="--", lw=1)
    ax.text(sweep.lrs[0], sweep.start_loss * 1.6, f"starting loss {sweep.start_loss:.3g}: above it, diverging",
            color="0.3", fontsize=9)
    ax.axvline(limit, color="red", ls=":", lw=1.5)
    ax.text(limit, 0.13, f"  full-batch limit 2/λmax = {limit:.2f}", color="red", fontsize=9, va="bottom")
    ax.set_yscale("log")
    ax.set_ylim(0.1, ceiling * 3)
    ax.set_xlabel("learning rate η")
    ax.set_ylabel(f"full-data loss after {sweep.epochs} epochs")
    ax.set_title("which learning rates diverge? (top row: the run blew up)")
    ax.legend(loc="upper left", fontsize=9)
    ax.grid(alpha=0.3)
    return ax


# ---------------------------------------------------------------------------
# Noise versus cost
# ---------------------------------------------------------------------------

@dataclass
class GradientNoise:
    """Mini-batch gradients at one point ``(w, b)`` for several batch sizes.

    ``samples[B]`` holds ``(n_samples, 2)`` gradients ``(dL/dw, dL/db)`` from
    random batches of size B; ``noise[B]`` is their root-mean-square distance
    from the full gradient ``full``; ``cost[B] = B`` example-gradients per step.
    """

    w: float
    b: float
    full: np.ndarray
    batch_sizes: list
    samples: dict = field(repr=False)
    noise: dict = field(default_factory=dict)
    cost: dict = field(default_factory=dict)


def noise_batches(n_examples, batch_sizes, n_samples=300, seed=0):
    """The random batches that ``gradient_noise`` draws: ``{B: (n_samples, B) array of indices}``.

    Each batch is drawn as in a shuffled pass (without replacement inside a
    batch), ``n_samples`` per batch size, in the order of ``batch_sizes``.
    They depend on the batch sizes and the seed only, not on the point
    ``(w, b)``: a widget that moves the point can draw them once.
    """
    rng = np.random.default_rng(seed)
    return {B: np.array([rng.choice(n_examples, size=B, replace=False) for _ in range(n_samples)])
            for B in batch_sizes}


def gradient_cloud(x, y, w, b, batches):
    """The mini-batch gradients at ``(w, b)`` of ``batches`` (from ``noise_batches``); a ``GradientNoise``."""
    full = np.array(line_mse_gradient(x, y, w, b))
    result = GradientNoise(w=float(w), b=float(b), full=full, batch_sizes=list(batches), samples={})
    for B, indices in batches.items():
        xb, yb = x[indices], y[indices]              # one batch per row: shape (n_samples, B)
        residual = w * xb + b - yb
        grads = np.column_stack([2.0 * np.mean(residual * xb, axis=1),    # dL/dw of each batch
                                 2.0 * np.mean(residual, axis=1)])        # dL/db of each batch
        result.samples[B] = grads
        result.noise[B] = float(np.sqrt(np.mean(np.sum((grads - full) ** 2, axis=1))))
        result.cost[B] = B
    return result


def gradient_noise(x, y, w=0.0, b=0.0, batch_sizes=(1, 4, 16, 64, 256), n_samples=300, seed=0):
    """Sample ``n_samples`` mini-batch gradients per batch size at ``(w, b)``.

    Batches are drawn as in a shuffled pass (without replacement inside a
    batch). The noise shrinks like ``1/sqrt(B)`` (exactly so with replacement;
    a little faster without, reaching 0 at ``B = len(x)``), while the cost of
    a step grows like ``B``.
    """
    n = len(x)
    batches = noise_batches(n, [int(min(B, n)) for B in batch_sizes], n_samples, seed)
    return gradient_cloud(x, y, w, b, batches)


# ---------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------

def _finite_limits(values, pad=0.05, floor=None):
    """(low, high) from the finite entries of ``values``, padded; used to keep axes sane."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if floor is not None:
        values = values[values > floor]
    if values.size == 0:
        return (0.0, 1.0)
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    return lo - pad * span, hi + pad * span


class FitFrame:
    """The two panels of one frame of a run, made once; ``show(run, k)`` moves them to frame ``k``.

    Left, all the data pale, the batch that update ``k`` used solid, the line
    before that update dashed and after it solid; right, the full-data loss
    against epochs: the whole run pale, up to update ``k`` in colour. Frame 0
    is the start (no batch yet). Made on a ``LivePlot`` (``plot``), the
    artists that change are marked as moving, so a new frame redraws only them.
    """

    def __init__(self, axes, x, y, plot=None):
        ax_fit, ax_loss = axes
        moving = plot.moving if plot is not None else (lambda artists: artists)
        self.x, self.y, self.ax_loss = x, y, ax_loss
        self.grid = np.array([-1.1, 1.1])
        ax_fit.scatter(x, y, s=12, color="0.8", label="all the data")
        self.batch = moving(ax_fit.scatter([], [], s=40, color="C0", edgecolor="k", zorder=3,
                                           label="the batch this update used"))
        self.before, = moving(ax_fit.plot([], [], "--", color="C1", alpha=0.6, label="the line before the update"))
        self.after, = moving(ax_fit.plot([], [], color="C1", lw=2.5, label="the line after the update"))
        self.warning = moving(ax_fit.text(0.98, 0.04, "diverging: the loss ended above where it started",
                                          color="red", transform=ax_fit.transAxes, ha="right",
                                          bbox=dict(facecolor="white", edgecolor="none", alpha=0.85)))
        ax_fit.set_xlim(*self.grid)
        ax_fit.set_ylim(*_finite_limits(y, pad=0.15))
        ax_fit.set_xlabel("x")
        ax_fit.set_ylabel("y")
        # above the panel, where the moving lines never pass over it
        ax_fit.legend(loc="lower left", bbox_to_anchor=(0, 1), ncol=2, fontsize=8, frameon=False, borderaxespad=0.2)

        self.whole, = moving(ax_loss.plot([], [], color="0.8"))
        self.so_far, = moving(ax_loss.plot([], [], color="C0"))
        self.now, = moving(ax_loss.plot([], [], "o", color="C0"))
        self.cross, = moving(ax_loss.plot([], [], "x", color="red", ms=12, mew=3, clip_on=False))
        self.cross.set_in_layout(False)              # on the panel's top edge at most: needs no room
        self.note = moving(ax_loss.text(0.45, 0.93, "", color="red", transform=ax_loss.transAxes,
                                        ha="center", va="top", fontsize=9))
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("epochs (passes over the data)")
        ax_loss.set_ylabel("full-data loss L (MSE)")
        self.title = moving(ax_loss.set_title(" ", fontsize=10))

    def show(self, run, k):
        """Move the artists to frame ``k`` of ``run`` (clipped to 0 .. run.updates)."""
        k = int(min(max(k, 0), run.updates))
        x, y, grid = self.x, self.y, self.grid
        with np.errstate(over="ignore", invalid="ignore"):
            if k >= 1:
                idx = run.batches[k - 1]
                self.batch.set_offsets(np.column_stack([x[idx], y[idx]]))
                self.before.set_data(grid, run.w[k - 1] * grid + run.b[k - 1])
            else:
                self.batch.set_offsets(np.empty((0, 2)))
            self.before.set_visible(k >= 1)
            self.after.set_data(grid, run.w[k] * grid + run.b[k])
        self.warning.set_visible(run.diverged and k == run.updates)

        epochs = run.epoch
        self.whole.set_data(epochs, run.loss)
        self.so_far.set_data(epochs[:k + 1], run.loss[:k + 1])
        self.now.set_data([epochs[k]], [run.loss[k]])
        self.title.set_text(f"update {k} of {run.updates}  ·  epoch {run.epoch[k]:.2f}  ·  loss {run.loss[k]:.4g}")
        self._mark_divergence(run)

    def _mark_divergence(self, run):
        """A red cross where a diverging run ended (on the top edge if that is higher) and a note."""
        self.cross.set_visible(run.diverged)
        self.note.set_visible(run.diverged)
        if not run.diverged:
            return
        finite = np.isfinite(run.loss) & (run.loss > 0)
        highest = float(run.loss[finite].max()) if finite.any() else 1.0
        low, high = self.ax_loss.get_ylim()
        last = run.epoch[np.flatnonzero(finite)[-1]] if finite.any() else 0.0
        self.cross.set_data([last], [min(highest, high)])
        self.note.set_text(f"diverged after {run.diverged_at} updates" if run.diverged_at is not None
                           else f"diverging: loss {run.loss[0]:,.3g} → {run.loss[-1]:,.3g}")


def loss_limits(run):
    """``(low, high)`` for a log-scale loss axis showing every finite loss of ``run``."""
    positive = run.loss[np.isfinite(run.loss) & (run.loss > 0)]
    low = float(positive.min()) if positive.size else 1e-3
    high = min(float(positive.max()) if positive.size else 1.0, DIVERGED_LOSS * 10)
    return (low * 0.5, high * 3) if run.diverged else (low * 0.8, high * 1.5)


def draw_fit_frame(run, x, y, k, axes):
    """Draw frame ``k`` of ``run`` on a pair of axes (see ``FitFrame``): the batch of update k and its line."""
    frame = FitFrame(axes, x, y)
    end = run.epoch[-1] or 1.0                   # a run of 0 updates still gets an x range
    axes[1].set_xlim(-0.02 * end, 1.02 * end)
    axes[1].set_ylim(*loss_limits(run))
    frame.show(run, k)
    return frame


def plot_run(run, x, y, axes=None):
    """Final fit and loss curve of one run (the last frame of ``draw_fit_frame``)."""
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    draw_fit_frame(run, x, y, run.updates, axes)
    return axes


def plot_sweep(runs, axes=None):
    """Loss against updates (left) and against examples seen (right), one curve per batch size."""
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    ax_u, ax_e = axes
    for i, (bs, run) in enumerate(sorted(runs.items())):
        label = f"batch size {bs}" + (" (diverged)" if run.diverged else "")
        updates = np.arange(run.updates + 1)
        ax_u.plot(updates + 1, run.loss, color=f"C{i}", label=label)
        ax_e.plot(run.examples_seen + 1, run.loss, color=f"C{i}", label=label)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylabel("full-data loss L (MSE)")
        ax.grid(alpha=0.3)
    ax_u.set_xlabel("updates + 1 (log scale)")
    ax_u.set_title("per update, big batches win")
    ax_e.set_xlabel("examples seen + 1 (log scale)")
    ax_e.set_title("per example seen, small batches win")
    ax_e.legend(fontsize=9)
    return axes


def plot_usage(n_examples, batch_size, epochs=1, seed=0, axes=None):
    """Histograms of how often each example is used: shuffled passes vs random batches."""
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.5), sharey=True)
    out = {scheme: usage_counts(n_examples, make_batches(n_examples, batch_size, epochs, scheme, seed))
           for scheme in ("shuffle", "random")}
    top = max(int(c.max()) for c in out.values())
    bins = np.arange(top + 2) - 0.5                       # one bar per count 0, 1, 2, ...
    for ax, scheme, title in zip(axes, ["shuffle", "random"],
                                 ["shuffled pass over all the data", "random batches, with replacement"]):
        counts = out[scheme]
        ax.hist(counts, bins=bins, color="C0" if scheme == "shuffle" else "C1", rwidth=0.85)
        never = np.mean(counts == 0)
        ax.set_title(f"{title}\n{never:.0%} of the examples never used")
        ax.set_xticks(range(top + 1))
        ax.set_xlabel(f"times an example is used in {epochs} epoch" + ("s" if epochs != 1 else ""))
    axes[0].set_ylabel("number of examples")
    return out


def plot_noise(result, axes=None):
    """Left: the cloud of mini-batch gradients per batch size; right: noise and cost against B."""
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    ax_c, ax_n = axes
    for i, B in enumerate(result.batch_sizes):
        g = result.samples[B]
        ax_c.scatter(g[:, 0], g[:, 1], s=6, alpha=0.4, color=f"C{i}", label=f"B = {B}")
    ax_c.plot(*result.full, "k*", ms=14, label="full gradient")
    ax_c.set_xlabel("dL/dw")
    ax_c.set_ylabel("dL/db")
    ax_c.set_title(f"mini-batch gradients at w={result.w:g}, b={result.b:g}")
    ax_c.legend(fontsize=8)

    Bs = np.array(result.batch_sizes, dtype=float)
    noise = np.array([result.noise[B] for B in result.batch_sizes])
    ax_n.loglog(Bs, noise, "o-", color="C0", label="gradient noise (RMS distance from full gradient)")
    ax_n.loglog(Bs, noise[0] * np.sqrt(Bs[0] / Bs), ":", color="C0", label="∝ 1/√B")
    ax_n.set_xlabel("batch size B")
    ax_n.set_ylabel("gradient noise", color="C0")
    ax_cost = ax_n.twinx()
    ax_cost.loglog(Bs, Bs, "s--", color="C3", label="cost per step (example-gradients)")
    ax_cost.set_ylabel("cost per step = B", color="C3")
    ax_n.set_title("noise falls like 1/√B, cost grows like B")
    lines = ax_n.get_lines() + ax_cost.get_lines()
    ax_n.legend(lines, [ln.get_label() for ln in lines], fontsize=8, loc="center left")
    return axes


# ---------------------------------------------------------------------------
# Widgets (thin: controls -> pure function -> plot)
# ---------------------------------------------------------------------------

def fit_player(run, x, y, interval_ms=400):
    """A Play button and a slider that step through ``run`` one update at a time.

    No ffmpeg needed: the two panels of ``FitFrame`` are drawn once in a
    ``LivePlot``, and each frame only moves the batch, the lines, the loss
    marker and the title. The returned widget's ``.result`` is the frame
    number drawn last.
    """
    slider = widgets.IntSlider(value=0, min=0, max=run.updates, description="update",
                               continuous_update=True, layout=widgets.Layout(width="60%"))
    play = widgets.Play(value=0, min=0, max=run.updates, interval=interval_ms, description="play")
    widgets.jslink((play, "value"), (slider, "value"))

    plot = LivePlot(figsize=(11, 3.8))
    axes = plot.figure.subplots(1, 2)
    frame = FitFrame(axes, x, y, plot)
    end = run.epoch[-1] or 1.0                   # a run of 0 updates still gets an x range
    axes[1].set_xlim(-0.02 * end, 1.02 * end)
    axes[1].set_ylim(*loss_limits(run))

    def show_frame(k):
        frame.show(run, k)
        plot.redraw()
        return k

    w = explorer(show_frame, plot, k=slider)
    w.children = (widgets.HBox([play, slider]), plot.image, w.out)
    w.play = play
    return w


def minibatch_explorer(x, y, seed=0):
    """Controls for batch size, learning rate, batch scheme and epochs; ``.result`` is the run.

    The picture is the last frame of ``FitFrame`` with fixed axes: the loss
    panel spans the chosen number of epochs (redrawn only when that changes)
    and a fixed loss range, from just under the best possible loss to well
    above the starting loss; a run that blows up leaves through the top,
    where its red cross stays.
    """
    n = len(x)
    sizes = [s for s in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024) if s < n] + [n]
    controls = dict(
        batch_size=widgets.SelectionSlider(options=sizes, value=min(8, n), description="batch size"),
        lr=widgets.FloatLogSlider(value=0.1, base=10, min=-3, max=0.5, step=0.05,
                                  description="lr η", readout_format=".3g"),
        scheme=widgets.ToggleButtons(options=[("shuffled passes", "shuffle"),
                                              ("random, with replacement", "random")],
                                     value="shuffle", description="batches",
                                     style={"button_width": "190px"}),
        epochs=widgets.IntSlider(value=2, min=1, max=10, description="epochs"),
    )
    w_best, b_best = least_squares_line(x, y)
    best = line_mse(x, y, w_best, b_best)
    start = minibatch_gd(x, y, epochs=0).loss[0]

    plot = LivePlot(figsize=(11, 3.9))
    axes = plot.figure.subplots(1, 2)
    frame = FitFrame(axes, x, y, plot)
    frame.title.set_visible(False)              # the summary above the panels says it all
    ax_loss = axes[1]
    ax_loss.axhline(best, color="k", ls="--", lw=1, label=f"best possible loss {best:.3f}")
    ax_loss.set_ylim(best * 0.6, start * 20)
    plot.rarely_moving(ax_loss.xaxis)   # drawn again only when "epochs" changes the x range
    ax_loss.legend(loc="lower right", bbox_to_anchor=(1, 1), fontsize=8, frameon=False, borderaxespad=0.2)
    summary = plot.moving(plot.figure.suptitle(" ", fontsize=10))      # one line: the summary fits
    runs = {}                   # every run made so far, by its settings: moving back is instant
    shown_epochs = None         # the loss panel's x axis is redrawn only when "epochs" changes

    def update(batch_size, lr, scheme, epochs):
        nonlocal shown_epochs
        settings = (batch_size, lr, scheme, epochs)
        if settings not in runs:
            runs[settings] = minibatch_gd(x, y, batch_size=batch_size, lr=lr, epochs=epochs,
                                          scheme=scheme, seed=seed)
        run = runs[settings]
        new_range = epochs != shown_epochs
        if new_range:
            ax_loss.set_xlim(-0.02 * epochs, 1.04 * epochs)
            shown_epochs = epochs
        frame.show(run, run.updates)
        summary.set_text(wrapped(run.summary(), 150))
        plot.redraw(rare_change=new_range)
        return run

    return explorer(update, plot, **controls)


# The window of the gradient cloud: it holds the single-example gradients near the
# default point and the full gradient everywhere on the sliders; the far corners
# push some single-example gradients off the plot (the picture says how many).
NOISE_WINDOW = (-15.0, 12.0, -13.0, 17.0)


def noise_explorer(x, y, seed=0):
    """Pick a point (w, b) and a batch size; see the cloud of mini-batch gradients there.

    ``.result`` is the ``GradientNoise`` for batch sizes 1 and the chosen one.
    The batches are drawn once per batch size (they do not depend on the
    point), so moving (w, b) only recomputes 600 gradients and moves the
    clouds in a ``LivePlot`` with fixed axes.
    """
    n = len(x)
    sizes = [s for s in (1, 2, 4, 8, 16, 32, 64, 128) if s < n] + [n]
    controls = dict(
        batch_size=widgets.SelectionSlider(options=sizes, value=16, description="batch size"),
        w=widgets.FloatSlider(value=0.0, min=-3, max=5, step=0.25, description="w"),
        b=widgets.FloatSlider(value=0.0, min=-4, max=3, step=0.25, description="b"),
    )
    n_samples = 300
    drawn = {}                  # batch size -> the batches of noise_batches, drawn once

    plot = LivePlot(figsize=(6.5, 5.2))
    ax = plot.figure.add_subplot()
    ax.axhline(0, color="0.85", lw=1, zorder=0)
    ax.axvline(0, color="0.85", lw=1, zorder=0)
    single = plot.moving(ax.scatter([], [], s=6, alpha=0.35, color="C0"))
    chosen = plot.moving(ax.scatter([], [], s=6, alpha=0.35, color="C1"))
    full, = plot.moving(ax.plot([], [], "k*", ms=14))
    ax.legend([Line2D([], [], ls="", marker="o", ms=4, color="C0"), Line2D([], [], ls="", marker="o", ms=4, color="C1"),
               Line2D([], [], ls="", marker="*", ms=10, color="k")],
              ["B = 1 (one example)", "B = the chosen batch size", "full gradient"],
              loc="lower center", bbox_to_anchor=(0.5, 1), ncol=3, fontsize=8, frameon=False, borderaxespad=0.2)
    off_plot = plot.moving(ax.text(0.98, 0.02, "", transform=ax.transAxes, ha="right", fontsize=8,
                                   color="0.3", bbox=dict(facecolor="white", edgecolor="none", alpha=0.85)))
    ax.set_xlim(NOISE_WINDOW[0], NOISE_WINDOW[1])
    ax.set_ylim(NOISE_WINDOW[2], NOISE_WINDOW[3])
    ax.set_xlabel("dL/dw")
    ax.set_ylabel("dL/db")
    plot.figure.suptitle(f"{n_samples} mini-batch gradients per batch size at the point (w, b)", fontsize=10)
    title = plot.moving(ax.set_title(" ", fontsize=9, pad=22))         # above the legend

    def update(batch_size, w, b):
        batch_size = int(batch_size)
        if batch_size not in drawn:
            drawn[batch_size] = noise_batches(n, sorted({1, batch_size}), n_samples, seed)
        result = gradient_cloud(x, y, w, b, drawn[batch_size])
        single.set_offsets(result.samples[1])
        chosen.set_offsets(result.samples[batch_size] if batch_size != 1 else np.empty((0, 2)))
        full.set_data([result.full[0]], [result.full[1]])
        clouds = np.vstack([result.samples[B] for B in result.batch_sizes])
        outside = int(np.sum((clouds[:, 0] < NOISE_WINDOW[0]) | (clouds[:, 0] > NOISE_WINDOW[1])
                             | (clouds[:, 1] < NOISE_WINDOW[2]) | (clouds[:, 1] > NOISE_WINDOW[3])))
        off_plot.set_text(f"{outside} gradients fall outside the plot")
        off_plot.set_visible(outside > 0)
        noise = f"w = {w:g}, b = {b:g}: noise {result.noise[1]:.2f} for B = 1"
        if batch_size != 1:
            noise += f", {result.noise[batch_size]:.2f} for B = {batch_size}"
        title.set_text(noise)
        plot.redraw()
        return result

    return explorer(update, plot, **controls)
