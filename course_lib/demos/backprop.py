"""Lesson 5 demos: backpropagation on a computational graph, gradient checks, vanishing gradients.

Pure functions (no drawing, testable headless):

- ``tiny_pass(params, x, y)``           -> ``TinyPass``: every forward value and gradient of the
                                           2-3-1 ReLU network with the squared error
- ``graph_nodes(tiny)``, ``graph_steps(tiny)``, ``graph_state(tiny, k)``
                                        -> the graph's nodes, the forward-then-backward order in
                                           which they are computed, what is known after step k
- ``gradient_table(tiny, params_known)`` -> the parameters' gradients known so far, as text
- ``weight_sweep(name, delta)``         -> ``Sweep``: change one weight, recompute everything
- ``accumulation_numbers()``            -> a value used twice; a second backward without zero_grad
- ``central_difference(f, x, eps)``     -> a finite difference in x's own dtype (float32 too)
- ``gradient_check_examples()``         -> relative errors: right, float32, a missing transpose, a kink
- ``check_against_finite_differences``  -> a learner's backward function vs finite differences
- ``initial_loss(X, y)``, ``overfit_tiny_subset(X, y)``  -> the two sanity checks before training
- ``train_by_hand(...)``, ``train_with_engine(...)``      -> the same SGD run, by hand and with
                                                             course_lib's layers
- ``gradient_norms_by_layer(activation, depth, ...)``     -> vanishing gradients, layer by layer

Widgets (thin: controls -> the functions above -> a ``LivePlot``, a figure made once whose
moving parts are updated in place, so a control answers at once):

- ``graph_explorer()``      step through the forward pass and then the backward pass, node by node
- ``weight_explorer()``     change one weight; see the loss and every gradient change
- ``vanishing_explorer()``  gradient size per layer in a deep stack, sigmoid against ReLU

The tiny network (all numbers float64; one example x of 2 features, one target y)::

    z  = x W1 + b1        W1 (2, 3), b1 (3,)       three hidden pre-activations
    h  = ReLU(z)                                   three hidden units
    ŷ  = h W2 + b2        W2 (3, 1), b2 (1,)       the prediction
    L  = (ŷ − y)²                                  the squared error (the MSE of one example)

Backward, each line one use of the chain rule (a product of local derivatives)::

    ∂L/∂ŷ = 2 (ŷ − y)
    ∂L/∂W2 = hᵀ ∂L/∂ŷ,   ∂L/∂b2 = ∂L/∂ŷ,   ∂L/∂h = ∂L/∂ŷ W2ᵀ
    ∂L/∂z = ∂L/∂h · 1[z > 0]       (1[z > 0]: 1 where z > 0, else 0)
    ∂L/∂W1 = xᵀ ∂L/∂z,   ∂L/∂b1 = ∂L/∂z
"""

import math
from dataclasses import dataclass, field
from functools import lru_cache

import ipywidgets as widgets
import numpy as np
from matplotlib.patches import FancyArrowPatch

from course_lib import gradcheck, losses, nn, optim
from course_lib.demos.gradient_descent import readable
from course_lib.demos.live_plot import LivePlot, explorer

# ---------------------------------------------------------------------------
# The tiny network: 2 inputs, 3 hidden ReLU units, 1 output, squared error
# ---------------------------------------------------------------------------

#: The lesson's weights, chosen so that one hidden unit (the third) is switched off by its ReLU.
TINY_PARAMS = {
    "W1": np.array([[0.5, -0.4, 0.3],
                    [0.2, 0.6, -0.8]]),
    "b1": np.array([0.1, -0.2, 0.05]),
    "W2": np.array([[0.7], [-0.5], [0.9]]),
    "b2": np.array([0.2]),
}
TINY_X = np.array([[1.0, 2.0]])   # one example, shape (1, 2)
TINY_Y = np.array([[1.5]])        # its target, shape (1, 1)
PARAMETER_NAMES = ("W1", "b1", "W2", "b2")


def tiny_params():
    """A fresh copy of the lesson's weights (a dict name -> float64 array)."""
    return {name: value.copy() for name, value in TINY_PARAMS.items()}


@dataclass
class TinyPass:
    """Every number of one forward and backward pass through the tiny network.

    Forward: x (1, 2), z (1, 3), h (1, 3), y_hat (1, 1), y (1, 1), loss (float).
    Backward: ``grad`` maps "y_hat", "h", "z", "x" to ∂L/∂(that node), same shapes;
    ``param_grad`` maps "W1", "b1", "W2", "b2" to ∂L/∂(parameter), the parameter's shape.
    """

    params: dict
    x: np.ndarray
    z: np.ndarray
    h: np.ndarray
    y_hat: np.ndarray
    y: np.ndarray
    loss: float
    grad: dict
    param_grad: dict

    def parameter_items(self):
        """``[(label, value, gradient), ...]`` for the 13 scalar parameters, e.g. ``("W1[0,2]", 0.3, 0.0)``."""
        items = []
        for name in PARAMETER_NAMES:
            for index in np.ndindex(self.params[name].shape):
                label = f"{name}[{','.join(map(str, index))}]"
                items.append((label, float(self.params[name][index]), float(self.param_grad[name][index])))
        return items


def tiny_pass(params=None, x=None, y=None):
    """Forward and backward through the tiny network, written out line by line (see the module doc)."""
    params = tiny_params() if params is None else {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    x = TINY_X if x is None else np.asarray(x, dtype=np.float64).reshape(1, 2)
    y = TINY_Y if y is None else np.asarray(y, dtype=np.float64).reshape(1, 1)
    W1, b1, W2, b2 = (params[name] for name in PARAMETER_NAMES)
    # forward
    z = x @ W1 + b1
    h = np.maximum(z, 0)
    y_hat = h @ W2 + b2
    loss = float(np.sum((y_hat - y) ** 2))
    # backward: one chain-rule product per line
    d_y_hat = 2 * (y_hat - y)
    d_W2 = h.T @ d_y_hat
    d_b2 = d_y_hat.sum(axis=0)
    d_h = d_y_hat @ W2.T
    d_z = np.where(z > 0, d_h, 0.0)     # the gradient passes where the unit is on, else 0
    d_W1 = x.T @ d_z
    d_b1 = d_z.sum(axis=0)
    d_x = d_z @ W1.T
    return TinyPass(params, x, z, h, y_hat, y, loss,
                    grad={"y_hat": d_y_hat, "h": d_h, "z": d_z, "x": d_x},
                    param_grad={"W1": d_W1, "b1": d_b1, "W2": d_W2, "b2": d_b2})


# ---------------------------------------------------------------------------
# The graph: nodes, and the order in which their values and gradients are computed
# ---------------------------------------------------------------------------

@dataclass
class Node:
    """One node of the drawn graph: its ``key`` ("z2"), where it sits, its value and ∂L/∂(it)."""

    key: str
    label: str
    column: int
    row: float
    value: float
    grad: float


@dataclass
class Step:
    """One step of the walk through the graph.

    phase: "forward" or "backward"; ``keys``: the nodes (or parameter groups "W2, b2", "W1, b1")
    computed at this step; ``text``: the formula with its numbers.
    """

    phase: str
    keys: tuple
    text: str


def graph_nodes(tiny):
    """The 10 nodes of the drawn graph: x1, x2 | z1..z3 | h1..h3 | ŷ | L, with value and gradient."""
    nodes = [Node(f"x{i + 1}", "input", 0, 0.5 + i, tiny.x[0, i], tiny.grad["x"][0, i]) for i in range(2)]
    nodes += [Node(f"z{j + 1}", "x W1 + b1", 1, j, tiny.z[0, j], tiny.grad["z"][0, j]) for j in range(3)]
    nodes += [Node(f"h{j + 1}", "ReLU", 2, j, tiny.h[0, j], tiny.grad["h"][0, j]) for j in range(3)]
    nodes.append(Node("y_hat", "h W2 + b2", 3, 1, tiny.y_hat[0, 0], tiny.grad["y_hat"][0, 0]))
    nodes.append(Node("L", "(ŷ − y)²", 4, 1, tiny.loss, 1.0))
    return nodes


def graph_steps(tiny):
    """The walk: the forward pass node by node (inputs to loss), then the backward pass (loss to W1).

    Returns a list of ``Step``; each text shows the local rule with the numbers of ``tiny``.
    """
    x, z, h, W1, b1, W2, b2 = tiny.x[0], tiny.z[0], tiny.h[0], *(tiny.params[n] for n in PARAMETER_NAMES)
    y_hat, y = tiny.y_hat[0, 0], tiny.y[0, 0]
    g = {key: value.ravel() for key, value in tiny.grad.items()}
    steps = [Step("forward", ("x1", "x2"), f"inputs: x1 = {x[0]:g}, x2 = {x[1]:g}   (target y = {y:g})")]
    for j in range(3):
        steps.append(Step("forward", (f"z{j + 1}",),
                          f"z{j + 1} = x1·W1[0,{j}] + x2·W1[1,{j}] + b1[{j}] = {x[0]:g}·{W1[0, j]:g} + "
                          f"{x[1]:g}·{W1[1, j]:g} + {b1[j]:g} = {z[j]:.4g}"))
    for j in range(3):
        steps.append(Step("forward", (f"h{j + 1}",),
                          f"h{j + 1} = max(z{j + 1}, 0) = max({z[j]:.4g}, 0) = {h[j]:.4g}"
                          + ("   (this unit is off)" if z[j] <= 0 else "")))
    steps.append(Step("forward", ("y_hat",),
                      "ŷ = " + " + ".join(f"h{j + 1}·W2[{j}]" for j in range(3)) + " + b2 = "
                      + " + ".join(f"{h[j]:.4g}·{W2[j, 0]:g}" for j in range(3)) + f" + {b2[0]:g} = {y_hat:.4g}"))
    steps.append(Step("forward", ("L",), f"L = (ŷ − y)² = ({y_hat:.4g} − {y:g})² = {tiny.loss:.4g}"))
    steps.append(Step("backward", ("L",), "∂L/∂L = 1: the backward pass starts at the loss with gradient 1"))
    steps.append(Step("backward", ("y_hat",),
                      f"∂L/∂ŷ = 2(ŷ − y) = 2·({y_hat:.4g} − {y:g}) = {g['y_hat'][0]:.4g}"))
    steps.append(Step("backward", ("W2, b2",),
                      f"∂L/∂W2[j] = h_j · ∂L/∂ŷ = [{', '.join(f'{v:.4g}' for v in tiny.param_grad['W2'][:, 0])}];"
                      f"  ∂L/∂b2 = ∂L/∂ŷ · 1 = {tiny.param_grad['b2'][0]:.4g}"))
    for j in range(3):
        steps.append(Step("backward", (f"h{j + 1}",),
                          f"∂L/∂h{j + 1} = ∂L/∂ŷ · ∂ŷ/∂h{j + 1} = {g['y_hat'][0]:.4g} · W2[{j}] = "
                          f"{g['y_hat'][0]:.4g} · {W2[j, 0]:g} = {g['h'][j]:.4g}"))
    for j in range(3):
        steps.append(Step("backward", (f"z{j + 1}",),
                          f"∂L/∂z{j + 1} = ∂L/∂h{j + 1} · 1[z{j + 1} > 0] = {g['h'][j]:.4g} · "
                          f"{int(z[j] > 0)} = {g['z'][j]:.4g}"
                          + ("   (the ReLU is off: no gradient flows back)" if z[j] <= 0 else "")))
    steps.append(Step("backward", ("W1, b1",),
                      "∂L/∂W1[i,j] = x_i · ∂L/∂z_j,  ∂L/∂b1[j] = ∂L/∂z_j:  ∂L/∂b1 = ["
                      + ", ".join(f"{v:.4g}" for v in tiny.param_grad["b1"]) + "]"))
    return steps


@dataclass
class GraphState:
    """What is known after step ``k``: the nodes whose value / gradient has been computed."""

    step: Step
    number: int
    total: int
    values_known: set
    grads_known: set
    params_known: set = field(default_factory=set)


def graph_state(tiny, k):
    """The state of the walk after step ``k`` (0-based, clipped to the last step)."""
    steps = graph_steps(tiny)
    k = int(min(max(k, 0), len(steps) - 1))
    values, grads, params = set(), set(), set()
    for step in steps[:k + 1]:
        if step.phase == "forward":
            values.update(step.keys)
        elif step.keys[0] in ("W2, b2", "W1, b1"):
            params.update(step.keys)
        else:
            grads.update(step.keys)
    return GraphState(steps[k], k, len(steps), values, grads, params)


def _vector(values):
    """``[-1.26, 0.9, 0]``: numbers to 4 significant digits (and no "-0")."""
    return "[" + ", ".join(f"{value + 0:.4g}" for value in values) + "]"


def gradient_table(tiny, params_known):
    """The parameters' gradients known so far (``params_known`` holds "W2, b2" and / or "W1, b1"), as text.

    Each gradient has the shape of its parameter: W2 is a column (3, 1), W1 two rows of three.
    """
    grads = tiny.param_grad
    lines = []
    if "W2, b2" in params_known:
        lines += [f"∂L/∂W2 = {_vector(grads['W2'][:, 0])}ᵀ", f"∂L/∂b2 = {_vector(grads['b2'])}"]
    if "W1, b1" in params_known:
        lines += [f"∂L/∂W1 = [{_vector(grads['W1'][0])},", f"          {_vector(grads['W1'][1])}]",
                  f"∂L/∂b1 = {_vector(grads['b1'])}"]
    return "parameter gradients:\n" + "\n".join(lines) if lines else ""


class GraphDrawing:
    """The graph of the tiny network drawn once on ``ax``; ``show(state)`` restyles it for a step.

    The column headings ("z = x W1 + b1", ...) never change; every node box,
    edge arrow and the table of parameter gradients is made once, and a step
    only changes their texts, colours and line widths (and turns the active
    arrows around in the backward pass). ``artists`` lists everything that
    changes, for ``LivePlot.moving``.
    """

    COLUMN_X = {0: 0.0, 1: 1.6, 2: 3.2, 3: 4.8, 4: 6.3}
    HEADINGS = {0: "input x", 1: "z = x W1 + b1", 2: "h = ReLU(z)", 3: "ŷ = h W2 + b2", 4: "L = (ŷ − y)²"}
    HALF_SIZE = {"x": (0.32, 0.2), "z": (0.5, 0.22), "h": (0.55, 0.22), "y": (0.5, 0.22), "L": (0.4, 0.22)}

    def __init__(self, ax, tiny):
        self.tiny = tiny
        self.nodes = {node.key: node for node in graph_nodes(tiny)}
        self.pos = {key: (self.COLUMN_X[node.column], 2.0 - node.row) for key, node in self.nodes.items()}
        for column, heading in self.HEADINGS.items():
            ax.text(self.COLUMN_X[column], 2.5, heading, ha="center", va="center", fontsize=9, color="0.25")
        self.edges = [(f"x{i + 1}", f"z{j + 1}") for i in range(2) for j in range(3)]
        self.edges += [(f"z{j + 1}", f"h{j + 1}") for j in range(3)]
        self.edges += [(f"h{j + 1}", "y_hat") for j in range(3)]
        self.edges.append(("y_hat", "L"))
        self.arrows = {}
        for a, b in self.edges:
            arrow = FancyArrowPatch(self._border(a, self.pos[b]), self._border(b, self.pos[a]),
                                    arrowstyle="-|>", shrinkA=0, shrinkB=0)
            self.arrows[a, b] = ax.add_patch(arrow)
        self.boxes = {key: ax.text(*self.pos[key], "", ha="center", va="center", fontsize=8.5, zorder=3,
                                   bbox=dict(boxstyle="round,pad=0.35"))
                      for key in self.nodes}
        self.table = ax.text(6.9, 2.6, "", ha="left", va="top", fontsize=8.5, family="monospace")
        self.artists = [*self.arrows.values(), *self.boxes.values(), self.table]
        ax.set_xlim(-0.7, 9.6)
        ax.set_ylim(-0.35, 2.7)
        ax.axis("off")

    def _border(self, key, towards):
        """The point where the line from node ``key`` to ``towards`` leaves the node's box."""
        (x0, y0), (x1, y1) = self.pos[key], towards
        width, height = self.HALF_SIZE[key[0]]
        t = min(width / max(abs(x1 - x0), 1e-9), height / max(abs(y1 - y0), 1e-9))
        return x0 + t * (x1 - x0), y0 + t * (y1 - y0)

    def show(self, state):
        """Values (black) and gradients known at ``state``; the current step's nodes in yellow."""
        tiny = self.tiny
        current = set(state.step.keys)
        if "W2, b2" in current:
            current = {"h1", "h2", "h3", "y_hat"}
        if "W1, b1" in current:
            current = {"x1", "x2", "z1", "z2", "z3"}
        backward = state.step.phase == "backward"
        for (a, b), arrow in self.arrows.items():
            active = a in current and b in current or (b in current and not backward and a in state.values_known) \
                or (a in current and backward and b in state.grads_known)
            start, end = self._border(a, self.pos[b]), self._border(b, self.pos[a])
            if backward and active:      # the gradient travels against the direction of computation
                start, end = end, start
            arrow.set_positions(start, end)
            arrow.set_linewidth(2.2 if active else 0.8)
            arrow.set_mutation_scale(16 if active else 9)
            arrow.set_color(("C3" if backward else "C0") if active else "0.6")
        for key, node in self.nodes.items():
            off = key.startswith(("z", "h")) and key in state.values_known and tiny.z[0, int(key[1]) - 1] <= 0
            short = "ŷ" if key == "y_hat" else key
            lines = [f"{short} = {node.value:.4g}" if key in state.values_known else f"{short} = ?"]
            if not key.startswith("x"):   # dL/dx is not needed: nothing before the inputs learns
                gradient = f"{node.grad:.4g}" if key in state.grads_known else "?"
                lines.append(f"∂L/∂{short} = {gradient}")
            box = self.boxes[key]
            box.set_text("\n".join(lines))
            frame = box.get_bbox_patch()
            frame.set_facecolor("#fff3cd" if key in current else ("#eeeeee" if off else "white"))
            frame.set_edgecolor("C3" if key in current else "0.4")
            frame.set_linewidth(2 if key in current else 1)
        self.table.set_text(gradient_table(tiny, state.params_known))


def draw_graph(ax, tiny, state):
    """Draw the graph with the values (black) and gradients (red) known at ``state``."""
    GraphDrawing(ax, tiny).show(state)


def graph_explorer(interval_ms=900):
    """Widget: a step slider (with Play) walking the forward pass, then the backward pass.

    The graph is drawn once; each step restyles its boxes and arrows in place.
    The 19 pictures never change, so each is drawn once, when the widget is
    built, and kept: a step of the slider or of Play then only shows it.
    """
    tiny = tiny_pass()
    total = len(graph_steps(tiny))
    states = [graph_state(tiny, k) for k in range(total)]
    slider = widgets.IntSlider(value=0, min=0, max=total - 1, description="step",
                               layout=widgets.Layout(width="420px"))
    play = widgets.Play(value=0, min=0, max=total - 1, interval=interval_ms, description="play")
    widgets.jslink((play, "value"), (slider, "value"))

    plot = LivePlot(figsize=(12, 4.0))
    ax = plot.figure.add_subplot()
    drawing = GraphDrawing(ax, tiny)
    plot.moving(drawing.artists)
    title = plot.moving(ax.set_title(" ", fontsize=9, loc="left"))
    pictures = {}                # step -> PNG: the walk's pictures never change, so each is drawn once

    def update(step):
        state = states[step]
        if step in pictures:
            plot.image.value = pictures[step]
            return state
        drawing.show(state)
        title.set_text(f"{state.step.phase} pass, step {state.number + 1} of {state.total}:  {state.step.text}")
        title.set_color("C3" if state.step.phase == "backward" else "C0")
        plot.redraw()
        pictures[step] = plot.image.value
        return state

    w = explorer(update, plot, step=slider)
    for step in [*range(1, total), 0]:     # draw every step now: the slider and Play then answer at once
        update(step)
    w.children = (widgets.HBox([play, slider]),) + tuple(c for c in w.children if c is not slider)
    w.play = play
    return w


# ---------------------------------------------------------------------------
# One weight changed: the loss and every gradient
# ---------------------------------------------------------------------------

def parameter_labels():
    """The 13 scalar parameters of the tiny network: "W1[0,0]", ..., "b2[0]"."""
    return [label for label, _, _ in tiny_pass().parameter_items()]


def _set(params, label, value):
    name, index = label.split("[")
    index = tuple(int(i) for i in index.rstrip("]").split(","))
    params[name][index] = value


def _lesson_value(label):
    """The lesson's value of parameter ``label`` ("W1[0,2]" -> 0.3)."""
    return dict((lab, value) for lab, value, _ in tiny_pass().parameter_items())[label]


@dataclass
class Sweep:
    """One weight moved by ``delta`` from the lesson's value.

    tiny: the ``TinyPass`` at the new setting; grid, losses: the loss along the weight's axis
    (everything else fixed); slope: ∂L/∂(the weight) at the new setting.
    """

    label: str
    value: float
    tiny: TinyPass
    grid: np.ndarray
    losses: np.ndarray
    slope: float


@lru_cache(maxsize=None)
def _loss_along(label, half_width, points):
    """``(grid, losses)``: the loss as parameter ``label`` alone runs over its lesson's value ± ``half_width``.

    Remembered: the curve does not depend on how far the weight has been moved.
    """
    base = _lesson_value(label)
    grid = np.linspace(base - half_width, base + half_width, points)
    params = tiny_params()
    curve = []
    for w in grid:
        _set(params, label, w)
        curve.append(tiny_pass(params).loss)
    return grid, np.array(curve)


def weight_sweep(label, delta, half_width=2.0, points=201):
    """Move parameter ``label`` by ``delta``; recompute the pass and the loss along that weight."""
    params = tiny_params()
    value = _lesson_value(label) + float(delta)
    _set(params, label, value)
    tiny = tiny_pass(params)
    grid, curve = _loss_along(label, half_width, points)
    slope = dict((lab, g) for lab, _, g in tiny.parameter_items())[label]
    return Sweep(label, value, tiny, grid.copy(), curve.copy(), slope)


def _largest_gradient(label, deltas):
    """The largest |∂L/∂parameter| of the 13 parameters while ``label`` moves by each of ``deltas``."""
    largest = 0.0
    for delta in deltas:
        params = tiny_params()
        _set(params, label, _lesson_value(label) + float(delta))
        largest = max(largest, *(abs(g) for _, _, g in tiny_pass(params).parameter_items()))
    return largest


def weight_explorer():
    """Widget: choose a weight and move it; the loss curve with its tangent, and all 13 gradients.

    Choosing a weight redraws the whole picture (its loss curve and the axes'
    ranges, wide enough for every change); moving it redraws the point, the
    tangent, the bars and the titles.
    """
    labels = parameter_labels()
    reference = tiny_pass()
    controls = dict(
        label=widgets.Dropdown(options=labels, value="W1[0,0]", description="weight"),
        delta=widgets.FloatSlider(value=0.0, min=-2.0, max=2.0, step=0.05, description="change by"),
    )
    slider = controls["delta"]
    deltas = np.linspace(slider.min, slider.max, round((slider.max - slider.min) / slider.step) + 1)

    plot = LivePlot(figsize=(12, 4.2))
    ax1, ax2 = plot.figure.subplots(1, 2, width_ratios=[1, 1.2])
    curve_line, = ax1.plot([], [], color="C0", label="L as this weight varies")    # changes with the weight only
    point, = plot.moving(ax1.plot([], [], "o", color="C3"))
    tangent, = plot.moving(ax1.plot([], [], color="C3", lw=2, label="tangent: its slope is ∂L/∂(the weight)"))
    ax1.set_ylabel("loss L")
    ax1.legend(fontsize=8, loc="best")
    ax1.grid(alpha=0.3)
    loss_title = plot.moving(ax1.set_title(" ", fontsize=10))
    y = np.arange(len(labels))
    bars = plot.moving(ax2.barh(y, np.zeros(len(labels)), color="C0"))
    plot.moving(ax2.scatter([g for _, _, g in reference.parameter_items()], y, marker="|", s=200, color="k",
                            label="at the lesson's weights"))        # moving, so it is drawn over the bars
    ax2.set_yticks(y, labels, fontsize=8)
    ax2.invert_yaxis()
    ax2.axvline(0, color="0.5", lw=0.8)
    ax2.set_xlabel("∂L/∂parameter")
    ax2.legend(fontsize=8, loc="lower right")
    gradient_title = plot.moving(ax2.set_title(" ", fontsize=10))
    shown_label = None               # the picture is redrawn in full only when the weight changes

    def update(label, delta):
        nonlocal shown_label
        sweep = weight_sweep(label, delta)
        point.set_data([sweep.value], [sweep.tiny.loss])
        t = np.array([-0.4, 0.4])
        tangent.set_data(sweep.value + t, sweep.tiny.loss + sweep.slope * t)
        loss_title.set_text(f"{label} = {sweep.value:.3g}:  L = {sweep.tiny.loss:.4g},  "
                            f"∂L/∂{label} = {sweep.slope:.4g}")
        items = sweep.tiny.parameter_items()
        for bar, (_, _, gradient) in zip(bars, items):
            bar.set_width(gradient)
        off = [f"h{j + 1}" for j in range(3) if sweep.tiny.z[0, j] <= 0]
        gradient_title.set_text("every gradient; off units: " + (", ".join(off) if off else "none"))
        if label != shown_label:
            curve_line.set_data(sweep.grid, sweep.losses)
            margin = 0.05 * (sweep.grid[-1] - sweep.grid[0])
            ax1.set_xlim(sweep.grid[0] - margin, sweep.grid[-1] + margin)
            ax1.set_ylim(min(-0.05, sweep.losses.min() - 0.1), min(sweep.losses.max(), 10) + 0.2)
            ax1.set_xlabel(label)
            reach = 1.1 * max(_largest_gradient(label, deltas), 1e-3)
            ax2.set_xlim(-reach, reach)
            for bar, name in zip(bars, labels):
                bar.set_color("C3" if name == label else "C0")
            shown_label = label
            plot.fix_layout()                 # new ranges and labels: lay the figure out again
            plot.redraw(everything=True)
        else:
            plot.redraw()
        return sweep

    return readable(explorer(update, plot, **controls), slider_width="420px")


# ---------------------------------------------------------------------------
# Why gradients add, and why zero_grad
# ---------------------------------------------------------------------------

def accumulation_numbers(seed=0):
    """The numbers of the section "why gradients add", with course_lib's layers (float64).

    Returns a dict:

    - ``a_used_twice``: for a = 3, L = (2a)(a + 1): ∂L/∂a by the two paths (2(a + 1) and 2a),
      their sum, and a finite difference of L;
    - ``shared``: one ``nn.Linear`` applied to two batches (a weight used twice):
      its ``weight.grad`` after one backward of the summed loss, and the sum of the two
      gradients computed separately;
    - ``twice``: ``weight.grad`` after one backward, after a second backward *without*
      ``zero_grad`` (twice as large), and after ``zero_grad`` and a backward (back to once).
    """
    a = 3.0
    path_b, path_c = 2 * (a + 1), 2 * a   # L = b c with b = 2a, c = a + 1
    numeric = gradcheck.numerical_gradient(lambda v: (2 * v) * (v + 1), a)
    rng = np.random.default_rng(seed)
    layer = nn.Linear(3, 2, seed=seed, dtype=np.float64)
    X1, X2 = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    y1, y2 = rng.normal(size=(4, 2)), rng.normal(size=(5, 2))

    def backward_of(X, y):
        layer.backward(losses.mse.gradient(y, layer.forward(X)))

    layer.zero_grad()
    backward_of(X1, y1)
    g1 = layer.weight.grad.copy()
    layer.zero_grad()
    backward_of(X2, y2)
    g2 = layer.weight.grad.copy()
    layer.zero_grad()                      # both uses, one after the other, into the same .grad
    backward_of(X1, y1)
    backward_of(X2, y2)
    shared = layer.weight.grad.copy()

    layer.zero_grad()
    backward_of(X1, y1)
    once = layer.weight.grad.copy()
    backward_of(X1, y1)                    # the same batch again, no zero_grad in between
    twice = layer.weight.grad.copy()
    layer.zero_grad()
    backward_of(X1, y1)
    again = layer.weight.grad.copy()
    return {
        "a_used_twice": {"a": a, "path through b": path_b, "path through c": path_c,
                         "sum": path_b + path_c, "finite difference": numeric},
        "shared": {"batch 1": g1, "batch 2": g2, "sum": g1 + g2, "accumulated": shared},
        "twice": {"one backward": once, "second backward, no zero_grad": twice,
                  "after zero_grad": again},
    }


# ---------------------------------------------------------------------------
# Gradient checking
# ---------------------------------------------------------------------------

def central_difference(f, x, eps=1e-6):
    """Central differences (f(x + eps e_i) − f(x − eps e_i)) / (2 eps), computed in ``x``'s dtype.

    Unlike ``gradcheck.numerical_gradient`` (float64 only) this also runs in float32, to show
    why one should not: ``x`` is perturbed in place and restored.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    step = x.dtype.type(eps)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + step
        plus = float(f())
        x[index] = original - step
        minus = float(f())
        x[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def _linear_weight_check(dtype, eps, seed=0, wrong_transpose=False):
    rng = np.random.default_rng(seed)
    layer = nn.Linear(4, 4, seed=seed, dtype=dtype)   # square: a transposed dW has the right shape
    X = rng.normal(size=(5, 4)).astype(dtype)
    G = rng.normal(size=(5, 4)).astype(dtype)
    layer.zero_grad()
    layer.forward(X)
    layer.backward(G)
    analytic = layer.weight.grad.astype(np.float64)
    if wrong_transpose:  # dW = Gᵀ X instead of Xᵀ G: the right shape (square W), the wrong numbers
        analytic = (G.T @ X).astype(np.float64)

    def loss():
        return np.sum(layer.forward(X) * G, dtype=np.float64)

    numeric = central_difference(loss, layer.weight.data, eps)
    return gradcheck.relative_error(analytic, numeric)


def _relu_kink_check(offset=1e-7, eps=1e-6):
    """ReLU at an input ``offset`` from its kink, with a step ``eps`` that straddles it."""
    x = np.array([-0.8, offset, 0.5, 1.2])
    analytic = (x > 0).astype(np.float64)               # d/dx sum(relu(x)) = 1[x > 0]
    numeric = gradcheck.numerical_gradient(lambda v: np.sum(np.maximum(v, 0)), x.copy(), eps)
    return gradcheck.relative_error(analytic, numeric)


def gradient_check_examples(seed=0):
    """Relative errors of four gradient checks of ``nn.Linear``'s weight gradient / of ReLU.

    Returns a dict label -> relative error:

    - "right backward, float64, eps 1e-6": about 1e-10, the rounding of float64;
    - "right backward, float32, eps 1e-3": about 1e-4 or worse, float32 cannot do better;
    - "right backward, float32, eps 1e-6": far worse: eps is below float32's resolution;
    - "missing transpose, float64": about 1, a real bug;
    - "ReLU 1e-7 from its kink, eps 1e-6": large although the backward is right.
    """
    return {
        "right backward, float64, eps 1e-6": _linear_weight_check(np.float64, 1e-6, seed),
        "right backward, float32, eps 1e-3": _linear_weight_check(np.float32, 1e-3, seed),
        "right backward, float32, eps 1e-6": _linear_weight_check(np.float32, 1e-6, seed),
        "missing transpose, float64": _linear_weight_check(np.float64, 1e-6, seed, wrong_transpose=True),
        "ReLU 1e-7 from its kink, eps 1e-6": _relu_kink_check(),
    }


def verdict(error):
    """Read a relative error the way practitioners do (thresholds as in cs231n's notes)."""
    if error < 1e-7:
        return "fine"
    if error < 1e-4:
        return "suspicious (fine for kinks or float32)"
    if error < 1e-2:
        return "probably wrong"
    return "wrong"


def check_against_finite_differences(backward, kind, seed=0):
    """Compare a learner's backward function with finite differences (float64).

    ``kind`` is "linear" (``backward(x, W, grad_output) -> (grad_x, grad_W, grad_b)``),
    "relu" (``backward(grad_output, z) -> grad_z``) or "softmax_ce"
    (``backward(logits, y) -> (loss, grad_logits)``). The scalar checked is
    sum(G * output) for a fixed random G (whose gradient with respect to the output is G),
    or the loss itself for "softmax_ce".

    Returns a dict name -> relative error, or a string saying why nothing was checked
    (the function is still a stub, or it raised).
    """
    rng = np.random.default_rng(seed)
    try:
        if kind == "linear":
            x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
            G = rng.normal(size=(4, 2))
            grad_x, grad_W, grad_b = backward(x.copy(), W.copy(), G.copy())

            def f(_):
                return np.sum((x @ W + b) * G)

            return {"grad_x": gradcheck.relative_error(grad_x, gradcheck.numerical_gradient(f, x)),
                    "grad_W": gradcheck.relative_error(grad_W, gradcheck.numerical_gradient(f, W)),
                    "grad_b": gradcheck.relative_error(grad_b, gradcheck.numerical_gradient(f, b))}
        if kind == "relu":
            z = rng.normal(size=(4, 3))           # no entry near the kink (|z| > 1e-3 here)
            G = rng.normal(size=(4, 3))
            grad_z = backward(G.copy(), z.copy())
            return {"grad_z": gradcheck.relative_error(
                grad_z, gradcheck.numerical_gradient(lambda _: np.sum(np.maximum(z, 0) * G), z))}
        if kind == "softmax_ce":
            logits, y = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
            _, grad = backward(logits.copy(), y.copy())
            numeric = gradcheck.numerical_gradient(lambda _: losses.cross_entropy(y, logits), logits)
            return {"grad_logits": gradcheck.relative_error(grad, numeric)}
        raise ValueError(f"kind must be 'linear', 'relu' or 'softmax_ce', not {kind!r}")
    except NotImplementedError:
        return "not attempted yet: write the function above first"
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001 - the learner's code: report, don't crash the lesson
        return f"your function raised {type(error).__name__}: {error}"


def finite_difference_report(backward, kind, seed=0):
    """``check_against_finite_differences`` as lines of text, each error with its verdict."""
    result = check_against_finite_differences(backward, kind, seed)
    if isinstance(result, str):
        return result
    return "\n".join(f"{name:12s} relative error {error:.1e}: {verdict(error)}" for name, error in result.items())


# ---------------------------------------------------------------------------
# Sanity checks before training
# ---------------------------------------------------------------------------

def fashion_subset(X_images, y_labels, n, seed=0):
    """``n`` random images as float64 rows in [0, 1] (n, 784) and their int labels (n,)."""
    rows = np.random.default_rng(seed).choice(len(X_images), size=n, replace=False)
    return X_images[rows].reshape(n, -1).astype(np.float64) / 255.0, y_labels[rows].astype(np.int64)


def classifier(hidden=64, seed=0):
    """The 784-hidden-10 ReLU classifier of the sanity checks (float64, course_lib's layers)."""
    return nn.Sequential(nn.Linear(784, hidden, seed=seed, dtype=np.float64), nn.ReLU(),
                         nn.Linear(hidden, 10, seed=seed + 1, dtype=np.float64))


def initial_loss(X, y, seed=0):
    """The cross-entropy of an untrained 10-class classifier on (X, y), and ln 10 to compare."""
    return float(losses.cross_entropy(y, classifier(seed=seed).forward(X))), math.log(10)


def overfit_tiny_subset(X, y, steps=150, lr=0.01, seed=0):
    """Train the classifier on the few examples (X, y) alone (full batch, Adam); the loss per step.

    A network that cannot drive the loss on 20 examples close to 0 has a bug.
    """
    model = classifier(seed=seed)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss, grad = losses.cross_entropy.value_and_gradient(y, model.forward(X))
        model.backward(grad)
        optimizer.step()
        history.append(float(loss))
    return np.array(history)


# ---------------------------------------------------------------------------
# The same training run, by hand and with course_lib's layers
# ---------------------------------------------------------------------------

def initial_two_layer_params(n_features, hidden, seed=0):
    """W1 (n_features, hidden), b1, W2 (hidden, 1), b2: exactly the initial values of
    ``nn.Linear(n_features, hidden, seed=seed)`` and ``nn.Linear(hidden, 1, seed=seed + 1)`` (float64)."""
    first = nn.Linear(n_features, hidden, seed=seed, dtype=np.float64)
    second = nn.Linear(hidden, 1, seed=seed + 1, dtype=np.float64)
    return {"W1": first.weight.data.copy(), "b1": first.bias.data.copy(),
            "W2": second.weight.data.copy(), "b2": second.bias.data.copy()}


def batches(n_examples, batch_size, epochs, seed=0):
    """The row indices of every mini-batch: a fresh permutation per epoch (list of arrays)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(epochs):
        order = rng.permutation(n_examples)
        out += [order[i:i + batch_size] for i in range(0, n_examples, batch_size)]
    return out


def train_by_hand(X, y, params, gradients, batch_list, lr):
    """Plain SGD with a hand-written backward: ``gradients(X, y, W1, b1, W2, b2) -> (loss, grads)``.

    ``params`` is not changed; returns ``(losses, final_params)`` with the loss of each batch
    (computed before that batch's step).
    """
    params = {name: value.copy() for name, value in params.items()}
    history = []
    for rows in batch_list:
        loss, grads = gradients(X[rows], y[rows], params["W1"], params["b1"], params["W2"], params["b2"])
        for name in PARAMETER_NAMES:
            params[name] -= lr * grads[name]
        history.append(float(loss))
    return np.array(history), params


def train_with_engine(X, y, params, batch_list, lr, zero_grad=True):
    """The same run with ``nn.Sequential(Linear, ReLU, Linear)``, ``losses.mse`` and ``optim.SGD``.

    ``zero_grad=False`` leaves out ``optimizer.zero_grad()``, the classic slip: each step then
    uses the sum of every gradient so far. Non-finite losses are kept as they come (inf / NaN).
    """
    model = nn.Sequential(nn.Linear(X.shape[1], params["W1"].shape[1], dtype=np.float64), nn.ReLU(),
                          nn.Linear(params["W2"].shape[0], 1, dtype=np.float64))
    model.load_state_dict({"0.weight": params["W1"], "0.bias": params["b1"],
                           "2.weight": params["W2"], "2.bias": params["b2"]})
    optimizer = optim.SGD(model.parameters(), lr=lr)
    history = []
    for rows in batch_list:
        if zero_grad:
            optimizer.zero_grad()
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grad = losses.mse.value_and_gradient(y[rows], model.forward(X[rows]))
            model.backward(grad)
            optimizer.step()
        history.append(float(loss))
    state = model.state_dict()
    return np.array(history), {"W1": state["0.weight"], "b1": state["0.bias"],
                               "W2": state["2.weight"], "b2": state["2.bias"]}


# ---------------------------------------------------------------------------
# Vanishing gradients
# ---------------------------------------------------------------------------

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}
INITS = ("he", "course_lib default")


def deep_stack(activation, depth, width=64, init="he", seed=0):
    """``depth`` blocks Linear(width, width) + activation, then Linear(width, 10), in float64.

    init "he": weights N(0, 2 / width), biases 0 (He et al. 2015, made for ReLU);
    "course_lib default": ``nn.Linear``'s own U(±1/√width) weights and biases.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    rng = np.random.default_rng(seed)
    layers = []
    for index in range(depth + 1):
        out = 10 if index == depth else width
        linear = nn.Linear(width, out, seed=seed + index, dtype=np.float64)
        if init == "he":
            linear.weight.data[...] = rng.normal(0, math.sqrt(2 / width), size=linear.weight.shape)
            linear.bias.data[...] = 0
        layers.append(linear)
        if index < depth:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def gradient_norms_by_layer(activation, depth, width=64, init="he", n_examples=128, seed=0):
    """‖∂L/∂W‖ (Frobenius norm) of each hidden Linear layer, from the input side (layer 1) on.

    One backward pass of the cross-entropy on random inputs N(0, 1) and random labels of 10
    classes. Returns a float array of shape (depth,).
    """
    rng = np.random.default_rng(seed + 1000)
    X = rng.normal(size=(n_examples, width))
    y = rng.integers(0, 10, size=n_examples)
    model = deep_stack(activation, depth, width, init, seed)
    model.zero_grad()
    model.backward(losses.cross_entropy.gradient(y, model.forward(X)))
    linears = [layer for layer in model if isinstance(layer, nn.Linear)][:depth]
    return np.array([np.linalg.norm(layer.weight.grad) for layer in linears])


def vanishing_explorer():
    """Widget: depth and initialisation; gradient size per layer for sigmoid, tanh and ReLU.

    Each (depth, initialisation) is computed the first time it is shown (three
    deep stacks and a backward pass each, 6–90 ms) and kept, since the numbers
    never change. The y axis is fixed per initialisation, from the shallowest
    and the deepest stack of the slider, so a depth change redraws only the lines.
    """
    controls = dict(
        depth=widgets.IntSlider(value=15, min=2, max=40, description="hidden layers"),
        init=widgets.Dropdown(options=[("He: N(0, 2/width)", "he"),
                                       ("course_lib default: U(±1/√width)", "course_lib default")],
                              value="he", description="initialisation"),
    )
    depths = range(controls["depth"].min, controls["depth"].max + 1)
    activations = {"sigmoid": "C3", "tanh": "C2", "relu": "C0"}
    computed = {}             # (depth, init) -> {activation: norms}, filled as the learner explores

    plot = LivePlot(figsize=(9, 4.2))
    ax = plot.figure.add_subplot()
    lines = {name: plot.moving(ax.semilogy([], [], "o-", ms=3, color=color, label=name))[0]
             for name, color in activations.items()}
    ax.set_xlim(0, depths[-1] + 1)
    ax.set_xlabel("layer (1 = next to the input; the loss is after the last)")
    ax.set_ylabel("‖∂L/∂W‖ of the layer (log scale)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, which="both")
    setting_title = ax.set_title(" ", fontsize=10, loc="left")
    ratio_title = plot.moving(ax.set_title(" ", fontsize=9, loc="right"))
    shown_init = None

    def norms_of(depth, init):
        if (depth, init) not in computed:
            computed[depth, init] = {name: gradient_norms_by_layer(name, depth, init=init) for name in activations}
        return computed[depth, init]

    def update(depth, init):
        nonlocal shown_init
        norms = norms_of(depth, init)
        layers = np.arange(1, depth + 1)
        for name, values in norms.items():
            lines[name].set_data(layers, np.maximum(values, 1e-300))
        ratio_title.set_text(f"layer 1 / layer {depth}:  "
                             + ",  ".join(f"{name} {values[0] / values[-1]:.2g}" for name, values in norms.items()))
        if init != shown_init:
            extremes = [norms_of(depths[0], init), norms_of(depths[-1], init)]
            every = np.concatenate([values for by_name in extremes for values in by_name.values()])
            ax.set_ylim(np.maximum(every, 1e-300).min() / 5, every.max() * 5)
            setting_title.set_text(f"64 units per layer, {init} initialisation")
            shown_init = init
            plot.fix_layout()                 # new ticks and title: lay the figure out again
            plot.redraw(everything=True)
        else:
            plot.redraw()
        return norms

    return readable(explorer(update, plot, **controls), slider_width="420px")
