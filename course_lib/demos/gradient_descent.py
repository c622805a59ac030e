"""Lesson 2 demos: gradient descent on the cubic f(x) = x³ − 2x² + 2 and on a linear regression.

Pure functions (no drawing, testable headless):

- ``gradient_descent_1d(f, grad, start, lr, steps)`` -> ``Path1D``
- ``cubic_path(start, lr, steps)``                    -> ``Path1D`` on the cubic
- ``closed_form_linear_regression(X, y)``             -> (w, b) from ``np.linalg.lstsq``
- ``linear_regression_gd(X, y, lr, steps)``           -> ``RegressionPath``
- ``profile_loss_grid(X, y, w1, w2)``                 -> the loss surface for a contour plot

Widgets (thin: they call the functions above and draw):

- ``cubic_explorer()``                 start, learning rate, number of steps
- ``regression_explorer(X, y, names)`` learning rate, number of steps

The gradient descent update, for every function here, is

    x_{t+1} = x_t − lr · f'(x_t),        t = 0, 1, ..., steps − 1.
"""

import textwrap
from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from course_lib import functions
from course_lib.demos.live_plot import LivePlot, explorer

#: A position whose size passes this is treated as "gone to infinity".
BLOW_UP = 1e6


# ---------------------------------------------------------------------------
# The cubic f(x) = x³ − 2x² + 2
# ---------------------------------------------------------------------------

_CUBIC = functions.cubic()


def cubic(x):
    """f(x) = x³ − 2x² + 2 (``course_lib.functions.cubic``): local maximum at x = 0, local minimum at x = 4/3."""
    return _CUBIC.value(x)


def cubic_gradient(x):
    """f'(x) = 3x² − 4x."""
    return _CUBIC.gradient(x)


@dataclass
class Path1D:
    """Where gradient descent went on a 1-D function.

    xs      : (k + 1,) positions x_0 ... x_k, all finite (k = steps_taken)
    values  : (k + 1,) f(x_0) ... f(x_k)
    status  : "converged" (the gradient vanished), "moving" (ran out of steps),
              "diverging" (f grew at each of the last steps), "bouncing" (a 2-cycle)
              or "diverged" (|x| passed ``BLOW_UP`` or became NaN / inf)
    message : one sentence saying what happened, for a title or a print
    """

    xs: np.ndarray
    values: np.ndarray
    status: str
    message: str
    steps_taken: int
    lr: float
    escaped_to: int = 0   # −1 or +1 when the path ran off to −∞ / +∞, else 0

    @property
    def final(self):
        return float(self.xs[-1])

    @property
    def diverged(self):
        return self.status == "diverged"


def gradient_descent_1d(f, grad, start, lr, steps, tol=1e-6):
    """Run ``steps`` updates x <- x − lr · grad(x) from ``start`` and report what happened.

    Stops early when x leaves [−BLOW_UP, BLOW_UP] or stops being finite
    (status "diverged"; the runaway value is not stored, so every stored
    number can be plotted). Status "converged" means |grad(x)| < ``tol`` at
    the end -- a point where the slope vanishes, which may be a minimum *or*
    a maximum.
    """
    lr, steps = float(lr), int(steps)
    if steps < 0:
        raise ValueError(f"steps must be 0 or more, got {steps}")
    x = float(start)
    xs = [x]
    status = None
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            x = float(x - lr * grad(x))
            if not np.isfinite(x) or abs(x) > BLOW_UP:
                status = "diverged"
                break
            xs.append(x)
    xs = np.array(xs)
    values = np.array([float(f(v)) for v in xs])
    steps_taken = len(xs) - 1

    if status == "diverged":
        falling = np.all(np.diff(values) < 0)
        where = "−∞" if x < 0 else "+∞"
        why = ("f(x) kept falling: this function has no lowest point that way"
               if falling else "each step overshot further than the last: the learning rate is too large")
        message = f"diverged after {t} steps (x ran off to {where}): {why}"
    else:
        slope = float(grad(xs[-1]))
        if abs(slope) < tol:
            status = "converged"
            message = f"converged to x = {xs[-1]:.4f} in {steps_taken} steps (slope {slope:.1e})"
            h = 1e-3
            if f(xs[-1] + h) < f(xs[-1]) and f(xs[-1] - h) < f(xs[-1]):
                message += ": a MAXIMUM -- the slope is zero there too, so GD never moves"
        elif steps_taken >= 3 and np.all(np.diff(values[-4:]) > 0):
            status = "diverging"
            message = (f"diverging: f(x) grew at each of the last steps, now x = {xs[-1]:.4g} "
                       f"after {steps_taken} steps -- the learning rate is too large")
        elif steps_taken >= 2 and abs(values[-1] - values[-3]) <= 1e-12 * (1 + abs(values[-1])) \
                and abs(xs[-1] - xs[-2]) > 1e-6 * (1 + abs(xs[-1])):
            status = "bouncing"
            message = (f"bouncing between x = {xs[-2]:.4g} and x = {xs[-1]:.4g} forever: "
                       f"each step jumps exactly across the valley")
        else:
            status = "moving"
            message = (f"after {steps_taken} steps x = {xs[-1]:.4f}, still moving "
                       f"(slope {slope:.2g})")
    escaped_to = (-1 if x < 0 else 1) if status == "diverged" else 0
    return Path1D(xs=xs, values=values, status=status, message=message,
                  steps_taken=steps_taken, lr=lr, escaped_to=escaped_to)


def cubic_path(start, lr, steps):
    """Gradient descent on f(x) = x³ − 2x² + 2 (see ``gradient_descent_1d``)."""
    return gradient_descent_1d(cubic, cubic_gradient, start, lr, steps)


# ---------------------------------------------------------------------------
# Drawing a 1-D path (shared with the lesson 0 teaser)
# ---------------------------------------------------------------------------

def escape_arrow(path, inside, xlim, ylim):
    """Where to draw the "left the plot" arrow for a path that left the window: ``(tip, tail)``.

    The tip sits on the left or right edge the path went out by, the tail a
    fifth of the window inside. Returns None when the whole path is inside.
    """
    if not (path.diverged or not inside.all()):
        return None
    xs = path.xs
    last = xs[~inside][-1] if not inside.all() else xs[-1]
    go_left = path.escaped_to < 0 or (path.escaped_to == 0 and last < xlim[0])
    width, height = xlim[1] - xlim[0], ylim[1] - ylim[0]
    tip = (xlim[0] if go_left else xlim[1], ylim[0] + 0.12 * height)
    tail = (tip[0] + (0.22 if go_left else -0.22) * width, tip[1])
    return tip, tail


def inside_window(path, xlim, ylim):
    """(k + 1,) bool: which points (x, f(x)) of a ``Path1D`` lie inside the plot window."""
    return points_inside(np.column_stack([path.xs, path.values]), (*xlim, *ylim))


def draw_path_1d(ax, f, path, xlim, ylim, label=None, color="C1", show_curve=True):
    """Draw f on ``xlim`` and the path on top, clipped to the window.

    Points outside the window are not drawn; if the path left the window, an
    arrow at the edge says which way it went.
    """
    if show_curve:
        grid = np.linspace(*xlim, 400)
        ax.plot(grid, f(grid), color="0.3", lw=1.5, zorder=1)
    inside = inside_window(path, xlim, ylim)
    ax.plot(path.xs[inside], path.values[inside], "o-", color=color, ms=4, lw=1, alpha=0.8,
            label=label, zorder=2)
    ax.plot(path.xs[0], np.clip(path.values[0], *ylim), "s", color=color, ms=8, zorder=3)
    arrow = escape_arrow(path, inside, xlim, ylim)
    if arrow is not None:
        ax.annotate("left the plot", xy=arrow[0], xytext=arrow[1], color=color, ha="center",
                    va="center", arrowprops=dict(arrowstyle="->", color=color))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)


class LivePath1D:
    """The moving parts of ``draw_path_1d`` in a ``LivePlot``: made once, then ``show(path)`` per event.

    The curve f is drawn once in the background; the path, its start square
    and the "left the plot" arrow are the moving artists.
    """

    def __init__(self, plot, ax, f, xlim, ylim, color="C1"):
        grid = np.linspace(*xlim, 400)
        ax.plot(grid, f(grid), color="0.3", lw=1.5, zorder=1)
        self.line, = plot.moving(ax.plot([], [], "o-", color=color, ms=4, lw=1, alpha=0.8, zorder=2))
        self.start, = plot.moving(ax.plot([], [], "s", color=color, ms=8, zorder=3))
        self.arrow = plot.moving(ax.annotate("left the plot", xy=(0, 0), xytext=(0, 0), color=color,
                                             ha="center", va="center",
                                             arrowprops=dict(arrowstyle="->", color=color)))
        self.xlim, self.ylim = xlim, ylim
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)

    def show(self, path):
        """Move the artists to ``path`` (a ``Path1D``); the caller then calls ``plot.redraw()``."""
        inside = inside_window(path, self.xlim, self.ylim)
        self.line.set_data(path.xs[inside], path.values[inside])
        self.start.set_data([path.xs[0]], [np.clip(path.values[0], *self.ylim)])
        arrow = escape_arrow(path, inside, self.xlim, self.ylim)
        self.arrow.set_visible(arrow is not None)
        if arrow is not None:
            self.arrow.xy, self.arrow.xyann = arrow


def wrapped(text, width=85):
    """``text`` broken into lines of at most ``width`` characters, for a plot title."""
    return textwrap.fill(text, width)


def readable(widget, slider_width="460px"):
    """Give every control of an explorer widget room for its full description, and each slider
    ``slider_width``; return the widget."""
    for child in widget.children:
        if hasattr(child, "style") and hasattr(child.style, "description_width"):
            child.style.description_width = "initial"
        if isinstance(child, (widgets.FloatSlider, widgets.FloatLogSlider, widgets.IntSlider)):
            child.layout.width = slider_width
    return widget


CUBIC_XLIM = (-1.5, 3.5)
CUBIC_YLIM = (-6.0, 14.0)


def plot_cubic_paths(paths, labels, title="Gradient descent on f(x) = x³ − 2x² + 2"):
    """Draw several paths on the cubic, one colour each, with the minimum and maximum marked."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (path, label) in enumerate(zip(paths, labels)):
        draw_path_1d(ax, cubic, path, CUBIC_XLIM, CUBIC_YLIM, label=label,
                     color=f"C{i + 1}", show_curve=(i == 0))
    ax.plot([4 / 3], [cubic(4 / 3)], "k*", ms=12, zorder=4)
    ax.annotate("local min x = 4/3", (4 / 3, cubic(4 / 3)), xytext=(1.5, -3.5))
    ax.annotate("local max x = 0", (0, 2), xytext=(-1.2, 6), arrowprops=dict(arrowstyle="->"))
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def plot_learning_rates(start, rates, steps):
    """Top row: paths on the cubic for each learning rate; bottom row: x_t against the step t.

    ``rates`` maps a label ("too small", ...) to a learning rate. Returns ``(fig, paths)``.
    """
    fig, axes = plt.subplots(2, len(rates), figsize=(4.6 * len(rates), 7), sharey="row")
    paths = {}
    for column, (label, lr) in enumerate(rates.items()):
        path = cubic_path(start, lr, steps)
        paths[label] = path
        top, bottom = axes[0, column], axes[1, column]
        draw_path_1d(top, cubic, path, xlim=(-1.0, 2.5), ylim=(-2.0, 4.0))
        top.set_title(f"{label}: η = {lr}", fontsize=13)
        top.set_xlabel("x")
        top.xaxis.set_major_locator(plt.MaxNLocator(5))   # few ticks: neighbouring labels never collide
        t = np.arange(len(path.xs))
        bottom.axhline(4 / 3, color="k", ls="--", lw=1, label="minimum x = 4/3")
        bottom.plot(t, np.clip(path.xs, -1.5, 2.5), "o-", color="C1", ms=3, lw=1)
        if path.diverged:
            bottom.text(0.5, 0.1, f"diverged after {path.steps_taken + 1} steps",
                        transform=bottom.transAxes, ha="center", color="C3")
        bottom.set_xlim(-0.5, steps + 0.5)
        bottom.set_ylim(-1.5, 2.5)
        bottom.set_xlabel("step t")
        bottom.xaxis.set_major_locator(plt.MaxNLocator(5, integer=True))
        bottom.grid(alpha=0.3)
    axes[0, 0].set_ylabel("f(x)")
    axes[1, 0].set_ylabel("x_t")
    axes[1, 0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig, paths


def cubic_explorer():
    """Widget: start, learning rate (log scale) and number of steps for GD on the cubic."""
    plot = LivePlot(figsize=(7, 4))
    ax = plot.figure.add_subplot()
    live_path = LivePath1D(plot, ax, cubic, CUBIC_XLIM, CUBIC_YLIM, color="C1")
    ax.plot([4 / 3], [cubic(4 / 3)], "k*", ms=12, zorder=4)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x) = x³ − 2x² + 2")
    ax.grid(alpha=0.3)
    title = plot.moving(ax.set_title("\n", fontsize=9))      # two lines of room for the message

    def update(start, lr, steps):
        path = cubic_path(start, lr, steps)
        live_path.show(path)
        title.set_text(wrapped(f"lr = {lr:.3g}: {path.message}"))
        plot.redraw()
        return path

    return readable(explorer(
        update, plot,
        start=widgets.FloatSlider(value=2.0, min=-1.0, max=3.0, step=0.05, description="start x₀"),
        lr=widgets.FloatLogSlider(value=0.1, base=10, min=-3, max=0, step=0.05,
                                  description="learning rate", readout_format=".3g"),
        steps=widgets.IntSlider(value=20, min=1, max=200, description="steps"),
    ))


# ---------------------------------------------------------------------------
# Linear regression with two features: y ≈ w1·x1 + w2·x2 + b, loss = MSE
# ---------------------------------------------------------------------------

def _with_ones(X):
    X = np.asarray(X, dtype=float)
    return np.column_stack([X, np.ones(len(X))])


def mse_loss(X, y, w, b):
    """L(w, b) = mean((X @ w + b − y)²)."""
    residual = np.asarray(X, float) @ np.asarray(w, float) + b - np.asarray(y, float)
    return float(np.mean(residual**2))


def mse_gradient(X, y, w, b):
    """Gradient of L(w, b) = mean((X @ w + b − y)²):  dL/dw = 2/N · Xᵀr,  dL/db = 2/N · Σ r,  r = Xw + b − y."""
    X = np.asarray(X, float)
    residual = X @ np.asarray(w, float) + b - np.asarray(y, float)
    n = len(X)
    return 2.0 / n * (X.T @ residual), 2.0 / n * float(np.sum(residual))


def closed_form_linear_regression(X, y):
    """The exact least-squares solution (w, b) from ``np.linalg.lstsq``."""
    theta, *_ = np.linalg.lstsq(_with_ones(X), np.asarray(y, float), rcond=None)
    return theta[:-1], float(theta[-1])


@dataclass
class RegressionPath:
    """Gradient descent on a linear regression.

    params  : (k + 1, d + 1) the rows (w_1, ..., w_d, b) after 0 ... k steps, all finite
    losses  : (k + 1,) the MSE at each row
    status  : "converged" (within 1e-4 of the closed form), "moving" or "diverged"
    closed_form : (d + 1,) the ``np.linalg.lstsq`` solution (w_1, ..., w_d, b)
    relative_error : ‖θ_final − θ*‖ / ‖θ*‖ (NaN when diverged)
    """

    params: np.ndarray
    losses: np.ndarray
    status: str
    message: str
    closed_form: np.ndarray
    relative_error: float
    lr: float

    @property
    def final(self):
        return self.params[-1]


def linear_regression_gd(X, y, lr, steps, start=None, tol=1e-4):
    """Full-batch gradient descent on the MSE of y ≈ X @ w + b, starting from ``start`` (default zeros)."""
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    d = X.shape[1]
    theta = np.zeros(d + 1) if start is None else np.array(start, dtype=float)
    w_star, b_star = closed_form_linear_regression(X, y)
    theta_star = np.append(w_star, b_star)
    rows = [theta.copy()]
    losses_ = [mse_loss(X, y, theta[:-1], theta[-1])]
    status = None
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, int(steps) + 1):
            dw, db = mse_gradient(X, y, theta[:-1], theta[-1])
            theta = theta - lr * np.append(dw, db)
            loss = mse_loss(X, y, theta[:-1], theta[-1])
            if not np.all(np.isfinite(theta)) or not np.isfinite(loss) or np.abs(theta).max() > BLOW_UP:
                status = "diverged"
                break
            rows.append(theta.copy())
            losses_.append(loss)
    params = np.array(rows)
    if status == "diverged":
        rel = float("nan")
        message = (f"diverged after {t} steps: the loss grew from {losses_[0]:.3g} to "
                   f"{losses_[-1]:.3g} and the weights ran off towards infinity -- "
                   f"try a smaller learning rate")
    else:
        rel = float(np.linalg.norm(params[-1] - theta_star) / np.linalg.norm(theta_star))
        status = "converged" if rel < tol else "moving"
        message = (f"after {len(params) - 1} steps: loss {losses_[-1]:.5f}, "
                   f"relative distance to the closed form {rel:.1e}")
    return RegressionPath(params=params, losses=np.array(losses_), status=status,
                          message=message, closed_form=theta_star, relative_error=rel,
                          lr=float(lr))


def profile_loss_grid(X, y, w1, w2):
    """The MSE over a grid of (w1, w2), each point with its *best* intercept b.

    For fixed w the best intercept is b = mean(y − X @ w), so the surface shows
    how good each pair of weights can be; its lowest point is the closed-form
    solution. Returns an array of shape (len(w2), len(w1)) for ``contour``.
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    Xc = X - X.mean(axis=0)                             # centring removes the intercept
    yc = y - y.mean()
    # mean((Xc w − yc)²) = wᵀ C w − 2 wᵀ c + v, so the whole grid costs a few array operations
    C = Xc.T @ Xc / len(X)
    c = Xc.T @ yc / len(X)
    v = yc @ yc / len(X)
    W1, W2 = np.meshgrid(w1, w2)
    return (C[0, 0] * W1**2 + 2 * C[0, 1] * W1 * W2 + C[1, 1] * W2**2
            - 2 * (c[0] * W1 + c[1] * W2) + v)


def _window(points, star):
    """A plot window around the path and the solution, ignoring points that ran far away."""
    sane = np.abs(points - star).max(axis=1) <= 3 * (np.abs(star).max() + 1)
    pts = np.vstack([points[sane], star[None, :]])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.15 * np.maximum(hi - lo, 0.5)
    return (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])


def regression_contours(ax, X, y, window, resolution=120):
    """Contours of the MSE over (w1, w2) in ``window`` = (w1 from, w1 to, w2 from, w2 to); returns the contour set."""
    w1 = np.linspace(window[0], window[1], resolution)
    w2 = np.linspace(window[2], window[3], resolution)
    Z = profile_loss_grid(X, y, w1, w2)
    levels = np.quantile(Z, np.linspace(0, 1, 25) ** 2)
    return ax.contour(w1, w2, Z, levels=np.unique(levels), cmap="viridis", linewidths=0.8)


def points_inside(points, window):
    """(k,) bool: which rows (x, y) of ``points`` (k, 2) lie inside ``window`` = (x from, x to, y from, y to)."""
    return ((points[:, 0] >= window[0]) & (points[:, 0] <= window[1])
            & (points[:, 1] >= window[2]) & (points[:, 1] <= window[3]))


def plot_regression_path(X, y, path, feature_names=("x1", "x2"), ax=None, window=None):
    """Contours of the loss surface over (w1, w2) with the GD path on it, clipped to the window."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4.5))
    else:
        fig = ax.figure
    star = path.closed_form
    if window is None:
        window = _window(path.params[:, :2], star[:2])
    cs = regression_contours(ax, X, y, window)
    fig.colorbar(cs, ax=ax, label="MSE (best intercept for each w)", format="%.3f")
    P = path.params[:, :2]
    inside = points_inside(P, window)
    ax.plot(P[inside, 0], P[inside, 1], ".-", color="C3", ms=3, lw=1, label="gradient descent")
    ax.plot(P[0, 0], P[0, 1], "s", color="C3", ms=7, label="start")
    ax.plot(star[0], star[1], "k*", ms=13, label="closed form (lstsq)")
    if not inside.all():
        # below the axes (under the x label), not on the contours
        ax.annotate("part of the path ran far off the plot", xy=(0.0, 0.0), xycoords="axes fraction",
                    xytext=(0, -34), textcoords="offset points", va="top", color="C3", fontsize=9)
    ax.set_xlim(window[0], window[1])
    ax.set_ylim(window[2], window[3])
    ax.set_xlabel(f"w1 ({feature_names[0]})")
    ax.set_ylabel(f"w2 ({feature_names[1]})")
    ax.legend(loc="best", fontsize=8)
    return fig


def regression_explorer(X, y, feature_names=("x1", "x2")):
    """Widget: learning rate (log scale) and number of steps for GD on a two-feature regression.

    The contour window and the loss panel's axes are fixed (steps on a log
    scale up to the slider's end), so moving a slider redraws only the path,
    the loss curve and the message; a path that leaves the window is clipped
    and says so.
    """
    lr_slider = widgets.FloatLogSlider(value=0.3, base=10, min=-3, max=0.5, step=0.05,
                                       description="learning rate", readout_format=".3g")
    steps_slider = widgets.IntSlider(value=300, min=1, max=3000, step=1, description="steps")
    default = linear_regression_gd(X, y, lr_slider.value, steps_slider.value)
    star = default.closed_form
    window = _window(default.params[:, :2], star[:2])
    best = mse_loss(X, y, star[:-1], star[-1])

    plot = LivePlot(figsize=(11, 4.4))
    ax1, ax2 = plot.figure.subplots(1, 2, width_ratios=[1.3, 1])
    contours = regression_contours(ax1, X, y, window)
    plot.figure.colorbar(contours, ax=ax1, label="MSE (best intercept for each w)", format="%.3f")
    ax1.plot(star[0], star[1], "k*", ms=13, label="closed form (lstsq)", zorder=4)
    path_line, = plot.moving(ax1.plot([], [], ".-", color="C3", ms=3, lw=1, label="gradient descent"))
    start_mark, = plot.moving(ax1.plot([], [], "s", color="C3", ms=7, label="start"))
    off_plot = plot.moving(ax1.text(0.02, 0.02, "part of the path ran far off the plot", color="C3",
                                    fontsize=9, transform=ax1.transAxes))
    ax1.set_xlim(window[0], window[1])
    ax1.set_ylim(window[2], window[3])
    ax1.set_xlabel(f"w1 ({feature_names[0]})")
    ax1.set_ylabel(f"w2 ({feature_names[1]})")
    ax1.set_title("loss surface and path", fontsize=10)
    ax1.legend(loc="upper right", fontsize=8)

    ax2.axhline(best, color="k", ls="--", lw=1, label=f"closed-form loss {best:.4f}")
    loss_line, = plot.moving(ax2.semilogy([], [], color="C3"))
    ax2.set_ylim(best / 1.5, default.losses[0] * 30)       # diverging losses run off the top
    # steps on a log scale (linear between 0 and 1): every run fits, from 1 step to the slider's end,
    # so the axes never change and a slider move redraws only the curves
    ax2.set_xscale("symlog", linthresh=1)
    ax2.set_xlim(0, steps_slider.max)
    ax2.set_xlabel("step (log scale)")
    ax2.set_ylabel("MSE (log scale)")
    ax2.set_title("loss per step", fontsize=10)
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    message = plot.moving(plot.figure.suptitle("\n", fontsize=9))

    def update(lr, steps):
        path = linear_regression_gd(X, y, lr, steps)
        P = path.params[:, :2]
        inside = points_inside(P, window)
        path_line.set_data(P[inside, 0], P[inside, 1])
        start_mark.set_data([P[0, 0]], [P[0, 1]])
        off_plot.set_visible(not inside.all())
        loss_line.set_data(np.arange(len(path.losses)), path.losses)
        message.set_text(wrapped(f"lr = {lr:.3g}: {path.message}", 130))
        plot.redraw()
        return path

    return readable(explorer(update, plot, lr=lr_slider, steps=steps_slider))
