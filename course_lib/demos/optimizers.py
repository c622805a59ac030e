"""Lesson 6 demos: SGD, momentum, RMSProp and Adam on two-dimensional surfaces.

A path is computed by the real optimizers of ``course_lib.optim`` acting on an
``nn.Parameter`` that holds the 2-D point ``θ = (θ1, θ2)``: at each step we put
the surface's gradient ∇f(θ) into ``param.grad`` and call ``optimizer.step()``
— exactly what happens inside a network, with a surface whose picture we can
draw.

``adam_first_steps`` writes Adam's update out by hand, with or without bias
correction, so the lesson can print the numbers (a test checks the corrected
version against ``course_lib.optim.Adam``).

The widgets (``optimizer_race``, ``bias_correction_explorer``) only wire
controls to these pure functions; ``widget.result`` is the last computation.
They draw into ``LivePlot`` figures (``course_lib.demos.live_plot``) made once
and updated in place, so a slider answers at once: the race keeps one small
figure per panel and redraws only the panels whose optimizer changed.
"""

import math
import textwrap
from dataclasses import dataclass

import numpy as np

from course_lib import functions, nn, optim
from course_lib.demos.gradient_descent import points_inside

# A point farther than this from the origin (or a NaN) counts as diverged.
ESCAPE_RADIUS = 1e3

# The four optimizers of the lesson: label -> (name in optim.get, colour).
OPTIMIZERS = {
    "SGD": ("sgd", "C0"),
    "momentum": ("sgd", "C1"),
    "RMSProp": ("rmsprop", "C2"),
    "Adam": ("adam", "C3"),
}


# ---------------------------------------------------------------------------
# The surfaces
# ---------------------------------------------------------------------------

@dataclass
class Surface:
    """A 2-D test function with what the plots need: value, gradient, minimum, view box."""

    name: str
    value: object           # f(theta) for theta of shape (2,) -> float; also (2, ...) grids
    gradient: object        # ∇f(theta) -> array of shape (2,)
    minimum: np.ndarray
    start: np.ndarray
    xlim: tuple
    ylim: tuple
    log_levels: bool = False


def ill_conditioned_bowl(condition_number=25.0):
    """The quadratic bowl f(θ) = ½ (θ1² + κ θ2²) (from ``course_lib.functions``): κ = condition number."""
    bowl = functions.QuadraticBowl(condition_number=condition_number)
    return Surface(name=f"quadratic bowl, condition number {condition_number:g}",
                   value=bowl.value, gradient=bowl.gradient, minimum=np.asarray(bowl.global_minimum, float),
                   start=np.array([-4.0, 1.5]), xlim=(-5.0, 5.0), ylim=(-2.5, 2.5))


def rosenbrock():
    """Rosenbrock's banana f(θ) = (1 − θ1)² + 100 (θ2 − θ1²)², minimum at (1, 1)."""
    fn = functions.Rosenbrock()
    return Surface(name="Rosenbrock", value=fn.value, gradient=fn.gradient,
                   minimum=np.asarray(fn.global_minimum, float), start=np.array([-1.5, 2.0]),
                   xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), log_levels=True)


SURFACES = {"bowl": ill_conditioned_bowl, "rosenbrock": rosenbrock}

# Settings that show each optimizer's character on each surface (lesson 6 uses them).
DEFAULTS = {
    "bowl": dict(steps=60, sgd_lr=0.07, momentum_lr=0.02, momentum=0.8,
                 rmsprop_lr=0.1, alpha=0.99, adam_lr=0.2, beta1=0.9, beta2=0.999),
    "rosenbrock": dict(steps=500, sgd_lr=1e-3, momentum_lr=4e-4, momentum=0.9,
                       rmsprop_lr=0.01, alpha=0.99, adam_lr=0.1, beta1=0.9, beta2=0.999),
}


# ---------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------

@dataclass
class Path:
    """The points an optimizer visited: ``points[k]`` is θ after k steps (k = 0 is the start).

    ``values[k] = f(points[k])``. ``diverged_at`` is the step after which the
    point left the picture for good (|θ| > ESCAPE_RADIUS or not finite); the
    path stops there.
    """

    label: str
    options: dict
    points: np.ndarray
    values: np.ndarray
    diverged_at: int | None = None

    @property
    def steps(self):
        return len(self.points) - 1

    def summary(self):
        opts = ", ".join(f"{k}={_fmt(v)}" for k, v in self.options.items())
        end = (f"diverged after {self.diverged_at} steps" if self.diverged_at is not None
               else f"f = {self.values[-1]:.3g} after {self.steps} steps")
        return f"{self.label} ({opts}): {end}"


def _fmt(value):
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return f"{value:g}"


def optimizer_path(surface, name, start=None, steps=100, label=None, **options):
    """Run ``optim.get(name, [θ], **options)`` for ``steps`` steps on ``surface``.

    θ is an ``nn.Parameter`` holding the float64 point; each step sets
    ``θ.grad = ∇f(θ)`` and calls ``step()``. Returns a ``Path``.
    """
    start = surface.start if start is None else np.asarray(start, dtype=float)
    theta = nn.Parameter(np.array(start, dtype=np.float64))
    optimizer = optim.get(name, [theta], **options)
    points = [theta.data.copy()]
    diverged_at = None
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            optimizer.zero_grad()
            theta.grad[...] = surface.gradient(theta.data)
            optimizer.step()
            points.append(theta.data.copy())
            distance = math.hypot(*theta.data)          # inf or NaN once the point has blown up
            if not distance <= ESCAPE_RADIUS:
                diverged_at = k
                break
        points = np.array(points)
        values = np.array([surface.value(p) for p in points], dtype=float)
    return Path(label=label or name, options=options, points=points, values=values,
                diverged_at=diverged_at)


def compare_optimizers(surface_name="bowl", steps=None, sgd_lr=None, momentum_lr=None, momentum=None,
                       rmsprop_lr=None, alpha=None, adam_lr=None, beta1=None, beta2=None, cache=None):
    """Paths of SGD, momentum, RMSProp and Adam from the same start: ``{label: Path}``.

    Any setting left as None takes its value from ``DEFAULTS[surface_name]``.
    The surface itself is returned under the key ``"surface"``.

    ``cache`` (a dict kept between calls, as the race widget does) saves work
    when only some settings change: an optimizer runs again only when its own
    settings change or it is asked for more steps than it has run; fewer steps
    are the first part of a longer run. The paths are the same either way.
    """
    given = dict(steps=steps, sgd_lr=sgd_lr, momentum_lr=momentum_lr, momentum=momentum,
                 rmsprop_lr=rmsprop_lr, alpha=alpha, adam_lr=adam_lr, beta1=beta1, beta2=beta2)
    s = {k: (DEFAULTS[surface_name][k] if v is None else v) for k, v in given.items()}
    surface = SURFACES[surface_name]()
    steps = int(s["steps"])
    runs = {                                            # label: (name in optim.get, its options)
        "SGD": ("sgd", dict(lr=s["sgd_lr"])),
        "momentum": ("sgd", dict(lr=s["momentum_lr"], momentum=s["momentum"])),
        "RMSProp": ("rmsprop", dict(lr=s["rmsprop_lr"], alpha=s["alpha"])),
        "Adam": ("adam", dict(lr=s["adam_lr"], betas=(s["beta1"], s["beta2"]))),
    }
    paths = {"surface": surface}
    for label, (name, options) in runs.items():
        if cache is None:
            paths[label] = optimizer_path(surface, name, steps=steps, label=label, **options)
            continue
        key = (surface_name, label, tuple(options.items()))
        path = cache.get(key)
        if path is None or (path.diverged_at is None and path.steps < steps):
            path = optimizer_path(surface, name, steps=steps, label=label, **options)
            cache[key] = path
            if len(cache) > 100:                        # forget the oldest run
                del cache[next(iter(cache))]
        paths[label] = first_steps(path, steps)
    return paths


def first_steps(path, steps):
    """The first ``steps`` steps of ``path``: what a run of ``steps`` steps would have given."""
    if path.steps <= steps:                             # no longer, or it stopped (diverged) before
        return path
    return Path(label=path.label, options=path.options, points=path.points[:steps + 1],
                values=path.values[:steps + 1], diverged_at=None)


# ---------------------------------------------------------------------------
# Adam's first steps, by hand
# ---------------------------------------------------------------------------

@dataclass
class AdamSteps:
    """Adam's state over its first steps for a given gradient sequence.

    Arrays indexed by step t = 1..T (element ``t - 1``): the moments ``m``,
    ``v``, the bias-corrected ``m_hat``, ``v_hat`` (equal to m, v when
    ``bias_correction`` is False) and the ``step`` taken, i.e. the change in θ.
    """

    grads: np.ndarray
    m: np.ndarray
    v: np.ndarray
    m_hat: np.ndarray
    v_hat: np.ndarray
    step: np.ndarray
    bias_correction: bool = True
    lr: float = 1e-3
    betas: tuple = (0.9, 0.999)


def adam_first_steps(grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, bias_correction=True):
    """Apply Adam's update to a scalar θ for the gradient sequence ``grads`` (t counted from 1).

        m_t = β1 m_{t-1} + (1 − β1) g_t          v_t = β2 v_{t-1} + (1 − β2) g_t²
        m̂_t = m_t / (1 − β1^t)                   v̂_t = v_t / (1 − β2^t)
        θ_t = θ_{t-1} − η m̂_t / (√v̂_t + ε)

    With ``bias_correction=False`` the hats are dropped (m̂ = m, v̂ = v).
    """
    beta1, beta2 = betas
    grads = np.asarray(grads, dtype=float)
    m = v = 0.0
    out = {k: [] for k in ("m", "v", "m_hat", "v_hat", "step")}
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t) if bias_correction else m
        v_hat = v / (1 - beta2 ** t) if bias_correction else v
        step = -lr * m_hat / (np.sqrt(v_hat) + eps)
        for key, value in zip(out, (m, v, m_hat, v_hat, step)):
            out[key].append(value)
    return AdamSteps(grads=grads, bias_correction=bias_correction, lr=lr, betas=tuple(betas),
                     **{k: np.array(v) for k, v in out.items()})


def adam_steps_table(grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    """A printable table of the first steps with and without bias correction."""
    with_bc = adam_first_steps(grads, lr, betas, eps, True)
    without = adam_first_steps(grads, lr, betas, eps, False)
    lines = [f"{'t':>3} {'g_t':>7} {'m_t':>9} {'v_t':>10} {'m̂_t':>9} {'v̂_t':>9} "
             f"{'step (corrected)':>17} {'step (uncorrected)':>19}"]
    for t in range(len(with_bc.grads)):
        lines.append(f"{t + 1:>3} {with_bc.grads[t]:>7.3f} {with_bc.m[t]:>9.5f} {with_bc.v[t]:>10.6f} "
                     f"{with_bc.m_hat[t]:>9.5f} {with_bc.v_hat[t]:>9.5f} "
                     f"{with_bc.step[t]:>17.6f} {without.step[t]:>19.6f}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------

def draw_contours(ax, surface, resolution=200):
    """Contour lines of ``surface`` over its view box (log-spaced levels for Rosenbrock), and its minimum."""
    xs = np.linspace(*surface.xlim, resolution)
    ys = np.linspace(*surface.ylim, resolution)
    X, Y = np.meshgrid(xs, ys)
    Z = surface.value((X, Y))
    if surface.log_levels:
        levels = np.logspace(-1, np.log10(Z.max()), 20)
        ax.contour(X, Y, Z, levels=levels, cmap="Greys", linewidths=0.7, norm="log")
    else:
        ax.contour(X, Y, Z, levels=20, cmap="Greys", linewidths=0.7)
    ax.plot(*surface.minimum, "k*", ms=12)
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_xlabel("θ1")
    ax.set_ylabel("θ2")


def panel_title(path):
    """A path's panel title: the optimizer, then where it ended ("f = … after … steps" or "diverged after …")."""
    return f"{path.label}\n{path.summary().split(': ', 1)[1]}"


def exit_point(path, xlim, ylim):
    """Where a diverged path left the view box: its last point inside (the start if none is)."""
    pts = path.points
    inside = points_inside(pts, (*xlim, *ylim))
    return pts[np.flatnonzero(inside)[-1]] if inside.any() else pts[0]


def plottable_values(path):
    """f along the path for a log-scale plot: non-finite values left out (NaN), the rest at least 1e-12."""
    values = np.where(np.isfinite(path.values), path.values, np.nan)
    return np.maximum(values, 1e-12)


def draw_path(ax, path, color):
    """The path as a line with dots, clipped to the view; a red cross where it diverged."""
    pts = path.points
    ax.plot(pts[:, 0], pts[:, 1], "-o", color=color, ms=2.5, lw=1.2)
    ax.plot(*pts[0], "o", color="k", ms=6)
    if path.diverged_at is not None:
        # the last point inside the view box: the path left the picture after it
        ax.plot(*exit_point(path, ax.get_xlim(), ax.get_ylim()), "x", color="red", ms=14, mew=3)
    ax.set_title(panel_title(path), fontsize=10, color="red" if path.diverged_at else "k")


class LivePath2D:
    """The moving parts of ``draw_path`` in a ``LivePlot``: made once, then ``show(path)`` per event.

    The contours (``draw_contours``) are the background; the path, its start
    (drawn on top of it), the red cross and the title are the moving artists.
    The title is ``panel_title`` without "after … steps" (the steps slider says it).
    """

    def __init__(self, plot, ax, color, start):
        self.line, = plot.moving(ax.plot([], [], "-o", color=color, ms=2.5, lw=1.2))
        plot.moving(ax.plot(*start, "o", color="k", ms=6))
        self.cross, = plot.moving(ax.plot([], [], "x", color="red", ms=14, mew=3))
        self.title = plot.moving(ax.set_title("\n", fontsize=10))      # two lines of room
        self.xlim, self.ylim = ax.get_xlim(), ax.get_ylim()

    def show(self, path):
        """Move the artists to ``path`` (a ``Path``); the caller then calls ``plot.redraw()``."""
        self.line.set_data(path.points[:, 0], path.points[:, 1])
        diverged = path.diverged_at is not None
        self.cross.set_visible(diverged)
        if diverged:
            x, y = exit_point(path, self.xlim, self.ylim)
            self.cross.set_data([x], [y])
            self.title.set_text(f"{path.label}\ndiverged after {path.diverged_at} steps")
        else:       # short (text is slow to draw): the number of steps is on the slider
            self.title.set_text(f"{path.label}\nf = {path.values[-1]:.3g}")
        self.title.set_color("red" if diverged else "k")


def plot_comparison(paths, axes=None, with_values=True):
    """Four contour panels side by side (SGD, momentum, RMSProp, Adam), plus f against steps."""
    import matplotlib.pyplot as plt

    surface = paths["surface"]
    labels = list(OPTIMIZERS)
    if axes is None:
        ncols = 5 if with_values else 4
        fig, axes = plt.subplots(1, ncols, figsize=(4 * ncols, 3.8))
    for ax, label in zip(axes, labels):
        draw_contours(ax, surface)
        draw_path(ax, paths[label], OPTIMIZERS[label][1])
    if with_values and len(axes) > 4:
        ax = axes[4]
        for label in labels:
            values = plottable_values(paths[label])
            ax.plot(np.arange(len(values)), values, color=OPTIMIZERS[label][1], label=label)
        ax.set_yscale("log")
        ax.set_ylim(1e-8, None)
        ax.set_xlabel("step")
        ax.set_ylabel("f(θ)")
        ax.set_title(surface.name, fontsize=10)
        ax.legend(fontsize=8)
    return axes


# ---------------------------------------------------------------------------
# Step sizes: Adagrad, RMSProp, Adam without correction, Adam on noisy gradients
# ---------------------------------------------------------------------------

def step_sizes(name, grads, **options):
    """|step| of ``optim.get(name)`` on one coordinate fed the gradients ``grads`` (1-D), step by step.

    Runs the real optimizer on a one-element ``nn.Parameter``; ``options`` go to
    the optimizer (``lr=...``, ``alpha=...``). Returns an array of ``len(grads)`` step lengths.
    """
    theta = nn.Parameter(np.zeros(1))
    optimizer = optim.get(name, [theta], **options)
    sizes = []
    for g in np.asarray(grads, dtype=float):
        optimizer.zero_grad()
        theta.grad[...] = g
        before = theta.data.copy()
        optimizer.step()
        sizes.append(abs(float(theta.data[0] - before[0])))
    return np.array(sizes)


def uncorrected_adam_ratio(t, betas=(0.9, 0.999)):
    """How many times larger Adam's step is *without* bias correction, for a constant gradient.

    Without correction the step is η m_t / √v_t with m_t = (1 − β1^t) g and
    v_t = (1 − β2^t) g²; with it, exactly η. The ratio is
    (1 − β1^t) / √(1 − β2^t): 3.16 at t = 1, largest (6.57) at t = 12, 1.26 at t = 1000
    for the default betas. ``t`` counts from 1 and may be an array.
    """
    beta1, beta2 = betas
    t = np.asarray(t, dtype=float)
    return (1 - beta1 ** t) / np.sqrt(1 - beta2 ** t)


def adam_mean_step(mean, noise, steps=2000, lr=1.0, seed=0):
    """Adam's average |step| / η on one coordinate with gradients ``mean + noise · N(0, 1)``.

    Shows that η is an upper bound on Adam's typical step rather than its length:
    with a steady gradient (noise 0) the steps are η; the noisier the gradient,
    the smaller they are, because m̂ averages the noise away and √v̂ does not.
    """
    rng = np.random.default_rng(seed)
    grads = mean + noise * rng.normal(size=steps)
    return float(np.mean(step_sizes("adam", grads, lr=lr)) / lr)


# ---------------------------------------------------------------------------
# The tilted bowl: which optimizers care about the coordinate axes?
# ---------------------------------------------------------------------------

# Settings for the five optimizers on the bowl (aligned or tilted), as in the race.
ROTATION_OPTIMIZERS = {
    "GD": ("sgd", dict(lr=0.07), "C0"),
    "momentum": ("sgd", dict(lr=0.02, momentum=0.8), "C1"),
    "Adagrad": ("adagrad", dict(lr=1.0), "C4"),
    "RMSProp": ("rmsprop", dict(lr=0.1, alpha=0.99), "C2"),
    "Adam": ("adam", dict(lr=0.2), "C3"),
}


def tilted_bowl(condition_number=25.0, angle_degrees=45.0):
    """The bowl of ``ill_conditioned_bowl``, turned by ``angle_degrees``, with its start turned too.

    Turning the whole problem changes nothing but the coordinate axes: an
    optimizer that does not care about the axes follows the turned path.
    """
    angle = np.radians(angle_degrees)
    bowl = functions.QuadraticBowl(condition_number=condition_number, angle=angle)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return Surface(name=f"bowl tilted by {angle_degrees:g}°", value=bowl.value, gradient=bowl.gradient,
                   minimum=np.zeros(2), start=rotation @ ill_conditioned_bowl(condition_number).start,
                   xlim=(-5.0, 5.0), ylim=(-4.0, 4.0))


def rotation_comparison(angle_degrees=45.0, steps=60, condition_number=25.0):
    """``{label: (aligned Path, tilted Path)}`` for the optimizers of ``ROTATION_OPTIMIZERS``.

    The key ``"surfaces"`` holds the two surfaces. For GD and momentum the
    tilted path is the aligned one turned (same f at every step); for the
    per-coordinate methods it is not.
    """
    aligned = ill_conditioned_bowl(condition_number)
    # log-spaced contour levels: the valley's floor stays visible when the bowl is turned
    aligned = Surface(**{**aligned.__dict__, "ylim": (-4.0, 4.0), "log_levels": True})
    tilted = tilted_bowl(condition_number, angle_degrees)
    tilted.log_levels = True
    result = {"surfaces": (aligned, tilted)}
    for label, (name, options, _) in ROTATION_OPTIMIZERS.items():
        result[label] = tuple(optimizer_path(surface, name, steps=steps, label=label, **options)
                              for surface in (aligned, tilted))
    return result


def plot_rotation_comparison(result, axes=None):
    """Two rows of contour panels (aligned bowl, tilted bowl), one column per optimizer."""
    import matplotlib.pyplot as plt

    labels = list(ROTATION_OPTIMIZERS)
    if axes is None:
        _, axes = plt.subplots(2, len(labels), figsize=(4 * len(labels), 7.4))
    for row, surface in enumerate(result["surfaces"]):
        for column, label in enumerate(labels):
            ax = axes[row][column]
            draw_contours(ax, surface)
            path = result[label][row]
            draw_path(ax, path, ROTATION_OPTIMIZERS[label][2])
            ax.set_title(f"{label}, {'aligned' if row == 0 else 'tilted 45°'}\n"
                         f"f = {path.values[-1]:.2g} after {path.steps} steps", fontsize=10)
    return axes


# ---------------------------------------------------------------------------
# Widgets
# ---------------------------------------------------------------------------

def optimizer_race(surface_name="bowl"):
    """Sliders for each optimizer's hyperparameters on one surface; ``.result`` is the paths dict.

    Each panel is its own ``LivePlot`` (``widget.plots``: one per optimizer,
    and ``"f"``), shown side by side as one picture (a ``PlotRow``,
    ``widget.plot``): the contours are drawn once; a slider reruns only the
    optimizers whose settings it changed (``compare_optimizers`` with a cache)
    and renders only their panels and the f panel, then sends the row once.
    The f panel's axes are fixed: the step axis spans the "steps" slider's
    whole range, and a diverging curve runs off the top.
    """
    import ipywidgets as widgets

    from course_lib.demos.live_plot import LivePlot, PlotRow, explorer

    d = DEFAULTS[surface_name]
    style = {"description_width": "110px"}

    def lr_slider(value, label):
        return widgets.FloatLogSlider(value=value, base=10, min=-5, max=0.5, step=0.05,
                                      description=label, readout_format=".2g", style=style)

    controls = dict(
        steps=widgets.IntSlider(value=d["steps"], min=10, max=2 * d["steps"], step=10,
                                description="steps", style=style),
        sgd_lr=lr_slider(d["sgd_lr"], "SGD lr η"),
        momentum_lr=lr_slider(d["momentum_lr"], "momentum lr η"),
        momentum=widgets.FloatSlider(value=d["momentum"], min=0.0, max=0.99, step=0.01,
                                     description="momentum β", style=style),
        rmsprop_lr=lr_slider(d["rmsprop_lr"], "RMSProp lr η"),
        alpha=widgets.FloatSlider(value=d["alpha"], min=0.0, max=0.999, step=0.001,
                                  description="RMSProp α", readout_format=".3f", style=style),
        adam_lr=lr_slider(d["adam_lr"], "Adam lr η"),
        beta1=widgets.FloatSlider(value=d["beta1"], min=0.0, max=0.99, step=0.01,
                                  description="Adam β1", style=style),
        beta2=widgets.FloatSlider(value=d["beta2"], min=0.5, max=0.9999, step=0.0001,
                                  description="Adam β2", readout_format=".4f", style=style),
    )

    surface = SURFACES[surface_name]()
    # one small figure per panel: a slider of one optimizer redraws only its panel and the f panel
    panels = {}
    for label, (_, color) in OPTIMIZERS.items():
        plot = LivePlot(figsize=(3.0, 3.4), dpi=70)
        ax = plot.figure.add_subplot()
        draw_contours(ax, surface)
        panels[label] = (plot, LivePath2D(plot, ax, color, surface.start))
    values_plot = LivePlot(figsize=(3.0, 3.4), dpi=70)
    values_ax = values_plot.figure.add_subplot()
    value_lines = {label: values_plot.moving(values_ax.plot([], [], color=color, label=label))[0]
                   for label, (_, color) in OPTIMIZERS.items()}
    values_ax.set_yscale("log")
    values_ax.set_ylim(1e-8, 100 * surface.value(surface.start))      # a diverging curve runs off the top
    values_ax.set_xlabel("step")
    values_ax.set_ylabel("f(θ)")
    values_ax.set_title(textwrap.fill(surface.name, 24), fontsize=10)
    # under the axes, where no curve runs through it
    values_plot.figure.legend(fontsize=8, loc="outside lower center", ncols=2, handlelength=1.2,
                              columnspacing=1.0)
    values_ax.grid(alpha=0.3, axis="y")
    # the step axis spans the "steps" slider's whole range, so it never changes: fewer steps end
    # the curves earlier, and a slider move redraws only the curves
    values_ax.set_xlim(0, 1.02 * controls["steps"].max)
    cache = {}
    # run the default settings for the most steps now: moving "steps" alone then reruns nothing
    compare_optimizers(surface_name, steps=controls["steps"].max, cache=cache)
    shown = {}                  # label: (options, steps) of the path its panel shows

    plots = {**{label: plot for label, (plot, _) in panels.items()}, "f": values_plot}
    row = PlotRow(plots.values())

    def update(**settings):
        paths = compare_optimizers(surface_name, cache=cache, **settings)
        changed = [values_plot]
        for label, (plot, live_path) in panels.items():
            path = paths[label]
            values = plottable_values(path)
            value_lines[label].set_data(np.arange(len(values)), values)
            if shown.get(label) != (path.options, path.steps):
                shown[label] = (path.options, path.steps)
                live_path.show(path)
                changed.append(plot)
        row.redraw(changed)
        return paths

    w = explorer(update, row, **controls)
    w.plots = plots
    # the sliders in four columns: shared + SGD / momentum / RMSProp / Adam; the panels under them
    c = w.kwargs_widgets
    grid = widgets.HBox([widgets.VBox([c[0], c[1]]), widgets.VBox([c[2], c[3]]),
                         widgets.VBox([c[4], c[5]]), widgets.VBox([c[6], c[7], c[8]])])
    w.children = (grid, row.image, w.out)
    return w


def bias_correction_explorer():
    """β1, β2 and a gradient pattern: Adam's step sizes with and without bias correction.

    ``.result`` is the pair ``(with_correction, without_correction)`` of ``AdamSteps``.
    A ``LivePlot`` with fixed log-scale axes: the controls move the two curves and the title.
    """
    import ipywidgets as widgets

    from course_lib.demos.live_plot import LivePlot, explorer

    lr = 1e-3
    t = np.arange(1, 201)
    steady = np.ones(len(t))
    noisy = 1.0 + np.random.default_rng(0).normal(size=len(t))

    plot = LivePlot(figsize=(8, 4))
    ax = plot.figure.add_subplot()
    corrected_line, = plot.moving(ax.plot([], [], "o-", ms=4, label="with bias correction"))
    uncorrected_line, = plot.moving(ax.plot([], [], "s--", ms=4, label="without bias correction"))
    ax.axhline(1.0, color="0.6", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")                 # from 100 times too large to 100 times too small
    ax.set_xlim(0.8, 250)
    ax.set_ylim(1e-2, 2e2)
    ax.set_xlabel("step t")
    ax.set_ylabel("|step| / η (log scale)")
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3)
    title = plot.moving(ax.set_title("Adam's step sizes", fontsize=11))

    def update(beta1, beta2, gradient):
        grads = steady if gradient == "constant" else noisy
        with_bc = adam_first_steps(grads, lr, (beta1, beta2), bias_correction=True)
        without = adam_first_steps(grads, lr, (beta1, beta2), bias_correction=False)
        corrected_line.set_data(t, np.abs(with_bc.step) / lr)
        uncorrected_line.set_data(t, np.abs(without.step) / lr)
        title.set_text(f"Adam's step sizes, {gradient} gradients, β1={beta1:g}, β2={beta2:g}")
        plot.redraw()
        return with_bc, without

    return explorer(
        update, plot,
        beta1=widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="β1"),
        beta2=widgets.FloatSlider(value=0.999, min=0.5, max=0.9999, step=0.0001,
                                  description="β2", readout_format=".4f"),
        gradient=widgets.ToggleButtons(options=["constant", "noisy"], value="constant",
                                       description="gradients"),
    )
