"""Lesson 0 demos: a first feel for a loss and a learning rate.

Pure functions (no drawing, testable headless):

- ``valley_path(lr, steps, start=-2.0)`` -> ``Path1D``: gradient descent on the valley f(x) = (x − 3)²
- ``line_fit(w, b)``                     -> ``LineFit``: the MSE of the line rating ≈ w · sugars + b
                                            on the breakfast-cereal data, next to the best possible line

Widgets (thin: they call the functions above and draw):

- ``lr_teaser()``    learning rate (log scale), number of steps
- ``fit_by_hand()``  slope w, intercept b
"""

from dataclasses import dataclass
from functools import lru_cache

import ipywidgets as widgets
import numpy as np

from course_lib import data
from course_lib.demos.gradient_descent import LivePath1D, Path1D, gradient_descent_1d, readable, wrapped
from course_lib.demos.live_plot import LivePlot, explorer

VALLEY_MINIMUM = 3.0


def valley(x):
    """f(x) = (x − 3)²: one valley, lowest point at x = 3."""
    return (np.asarray(x, dtype=float) - VALLEY_MINIMUM) ** 2


def valley_gradient(x):
    """f'(x) = 2 (x − 3)."""
    return 2 * (np.asarray(x, dtype=float) - VALLEY_MINIMUM)


def valley_path(lr, steps, start=-2.0) -> Path1D:
    """Gradient descent x <- x − lr · f'(x) on the valley, from ``start``.

    Every step multiplies the distance to the bottom by (1 − 2 lr): it shrinks
    for 0 < lr < 1, flips side when lr > 0.5, and grows when lr > 1.
    """
    return gradient_descent_1d(valley, valley_gradient, start, lr, steps)


def lr_teaser():
    """Widget: drag the learning rate and the number of steps; watch gradient descent walk into the valley."""
    plot = LivePlot(figsize=(7, 3.6))
    ax = plot.figure.add_subplot()
    live_path = LivePath1D(plot, ax, valley, xlim=(-3.0, 9.0), ylim=(-2.0, 40.0), color="C1")
    ax.plot([VALLEY_MINIMUM], [0], "k*", ms=12)
    ax.set_xlabel("x (the parameter)")
    ax.set_ylabel("f(x) = (x − 3)²  (the loss)")
    ax.grid(alpha=0.3)
    title = plot.moving(ax.set_title("\n", fontsize=9))      # two lines of room for the message

    def update(lr, steps):
        path = valley_path(lr, steps)
        live_path.show(path)
        title.set_text(wrapped(f"learning rate {lr:.3g}: {path.message}"))
        plot.redraw()
        return path

    return readable(explorer(
        update, plot,
        lr=widgets.FloatLogSlider(value=0.1, base=10, min=-2, max=0.2, step=0.05,
                                  description="learning rate", readout_format=".3g"),
        steps=widgets.IntSlider(value=10, min=1, max=60, description="steps"),
    ))


# ---------------------------------------------------------------------------
# Fit a line by hand
# ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def cereal_sugar_rating():
    """(sugars in grams per serving, consumer rating) of the 74 complete cereals, as two float arrays."""
    X, y, names = data.load_cereals()
    return X[:, names.index("sugars")].copy(), y.copy()


@dataclass
class LineFit:
    """A line rating ≈ w · sugars + b and how far it is from the data."""

    w: float
    b: float
    mse: float
    best_w: float
    best_b: float
    best_mse: float

    @property
    def message(self):
        return (f"your line: MSE {self.mse:.1f}   |   the best line (w = {self.best_w:.2f}, "
                f"b = {self.best_b:.1f}): MSE {self.best_mse:.1f}")


def line_fit(w, b):
    """The mean squared error of the line rating ≈ w · sugars + b, and of the best line."""
    sugars, rating = cereal_sugar_rating()
    mse = float(np.mean((w * sugars + b - rating) ** 2))
    A = np.column_stack([sugars, np.ones_like(sugars)])
    (best_w, best_b), *_ = np.linalg.lstsq(A, rating, rcond=None)
    best_mse = float(np.mean((best_w * sugars + best_b - rating) ** 2))
    return LineFit(float(w), float(b), mse, float(best_w), float(best_b), best_mse)


def fit_by_hand():
    """Widget: be the optimizer -- move the slope and intercept to make the MSE small."""
    sugars, rating = cereal_sugar_rating()
    plot = LivePlot(figsize=(9, 3.8))
    ax = plot.figure.add_subplot()
    errors = plot.moving(ax.vlines(sugars, rating, rating, color="C3", lw=0.8, alpha=0.6, label="errors ŷ − y"))
    ax.plot(sugars, rating, "o", color="C0", ms=4, label="cereals")
    grid = np.array([-1.0, 16.0])
    line, = plot.moving(ax.plot(grid, grid, color="C1", lw=2, label="your line ŷ = w · sugars + b"))
    ax.set_xlim(-1, 16)
    ax.set_ylim(0, 110)
    ax.set_xlabel("sugars (g per serving)")
    ax.set_ylabel("rating")
    # the legend sits beside the plot, so it never covers the line (whatever w and b are)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    title = plot.moving(ax.set_title("\n", fontsize=9))

    def update(w, b):
        fit = line_fit(w, b)
        predicted = w * sugars + b
        errors.set_segments([[(x, y), (x, p)] for x, y, p in zip(sugars, rating, predicted)])
        line.set_ydata(w * grid + b)
        title.set_text(wrapped(f"ŷ = {w:.2f} · sugars + {b:.1f}.  " + fit.message))
        plot.redraw()
        return fit

    return readable(explorer(
        update, plot,
        w=widgets.FloatSlider(value=0.0, min=-6.0, max=3.0, step=0.05, description="slope w"),
        b=widgets.FloatSlider(value=40.0, min=0.0, max=100.0, step=0.5, description="intercept b"),
    ))
