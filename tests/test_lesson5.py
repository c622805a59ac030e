"""Lesson 5 (backpropagation): its exercises, the numbers behind its claims, and its widgets, headless."""

import json
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from exercise_helpers import assert_question_behaves, assert_status
from lesson_helpers import LESSONS, assert_source_notebook_structure

from course_lib import data, gradcheck, losses, nn
from course_lib.demos import backprop as demo
from course_lib.exercises import lesson5 as ex

NOTEBOOK = "05_backpropagation.ipynb"


# ---------------------------------------------------------------------------
# The notebook
# ---------------------------------------------------------------------------

def test_source_notebook_structure():
    sources = assert_source_notebook_structure(NOTEBOOK, min_exercises=6, min_widgets=3)
    for key in ex.questions.keys():
        assert any(f"ex.{key}.check(" in source for source in sources), key


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_student_version_has_stubs_and_ends_with_the_next_lesson():
    student = LESSONS.parent.parent / "notebooks" / NOTEBOOK
    cells = _cells(student)
    text = "\n".join("".join(cell["source"]) for cell in cells)
    assert "### BEGIN SOLUTION" not in text and "raise NotImplementedError()" in text
    assert "log_p = z - np.log" not in text            # no solution leaks into the student version
    last = "".join(cells[-1]["source"])
    assert "Next:" in last and "Lesson 6 · Momentum, RMSProp and Adam" in last


def test_glossary_terms_are_in_the_lesson():
    text = "\n".join("".join(cell["source"]) for cell in _cells(LESSONS / NOTEBOOK))
    for term in ("연쇄 법칙", "편미분", "계산 그래프", "기울기 소실", "chain rule", "partial derivative",
                 "computational graph", "vanishing gradient"):
        assert term in text, term


# ---------------------------------------------------------------------------
# Exercises: the right answer, and realistic wrong ones with their diagnosis
# ---------------------------------------------------------------------------

def test_q1_dL_dz():
    results = assert_question_behaves(ex.q1, wrong_answers={
        "that is ∂L/∂h": np.array([-1.26, 0.9, -1.62]),                 # forgot the ReLU
        "factor 2 of the square": np.array([-0.63, 0.45, 0.0]),
        "that is ∂L/∂W2": np.array([-1.8, -1.08, 0.0]),                 # multiplied by h
    })
    assert "third unit is off" in results["that is ∂L/∂h"].diagnosis
    assert ex.q1.evaluate([-1.26, 0.9, 0.0]).correct                    # a list is fine too


def test_q2_linear_backward():
    assert_question_behaves(ex.q2, wrong_answers={
        "transpose is on the wrong factor": lambda x, W, g: (g @ W.T, g.T @ x, g.sum(axis=0)),
        "not summed over the batch": lambda x, W, g: (g @ W.T, x.T @ g, g),
        "averaged over the batch": lambda x, W, g: (g @ W.T, x.T @ g, np.mean(g, axis=0)),
        "grad_w is divided by n": lambda x, W, g: (g @ W.T, (x.T @ g) / x.shape[0], g.sum(axis=0)),
    })


def test_q2_missing_transpose_in_grad_x_is_diagnosed_although_numpy_raises():
    result = assert_status(ex.q2, lambda x, W, g: (g @ W, x.T @ g, g.sum(axis=0)), "incorrect",
                           reason="raised", contains="transpose is probably missing")
    assert "grad_x = G @ W.T" in result.diagnosis
    assert "In your code, line" in result.message          # the learner's own line is shown too


def test_q3_relu_backward():
    assert_question_behaves(ex.q3, wrong_answers={
        "gradient passed everywhere": lambda g, z: g,
        "at z = 0 exactly": lambda g, z: np.where(z >= 0, g, 0.0),
        "you multiplied by relu(z)": lambda g, z: g * np.maximum(z, 0),
    })


def _ce(logits, y, shift=True, divide=True, onehot=True, log_of_p=False):
    z = logits - logits.max(axis=1, keepdims=True) if shift else logits
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    if log_of_p:
        loss = np.mean(-np.log(p[rows, y]))
    else:
        loss = np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, y])
    grad = p - (np.eye(logits.shape[1])[y] if onehot else 0)
    return loss, grad / len(y) if divide else grad


def test_q4_softmax_cross_entropy():
    assert_question_behaves(ex.q4, wrong_answers={
        "missing the 1/n": lambda logits, y: _ce(logits, y, divide=False),
        "subtract 1 at each example's true class": lambda logits, y: _ce(logits, y, onehot=False),
        "exp overflows": lambda logits, y: _ce(logits, y, shift=False),
        "underflows to 0": lambda logits, y: _ce(logits, y, log_of_p=True),
    })


class _Good:
    """A correct MyLinear, written independently of the module's reference."""

    def __init__(self, W, b):
        self.W, self.b = W, b
        self.grad_W = np.zeros(W.shape)
        self.grad_b = np.zeros(b.shape)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.grad_W = self.grad_W + self.x.T @ g
        self.grad_b = self.grad_b + g.sum(axis=0)
        return g @ self.W.T

    def zero_grad(self):
        self.grad_W = np.zeros(self.W.shape)
        self.grad_b = np.zeros(self.b.shape)


class _Overwrites(_Good):
    def backward(self, g):
        self.grad_W = self.x.T @ g
        self.grad_b = g.sum(axis=0)
        return g @ self.W.T


class _BiasNotSummed(_Good):
    def backward(self, g):
        self.grad_W = self.grad_W + self.x.T @ g
        self.grad_b = self.grad_b + g
        return g @ self.W.T


class _TransposedGradW(_Good):
    def backward(self, g):
        self.grad_W = self.grad_W + g.T @ self.x
        self.grad_b = self.grad_b + g.sum(axis=0)
        return g @ self.W.T


class _ZeroGradForgets(_Good):
    def zero_grad(self):
        pass


class _NoReturn(_Good):
    def backward(self, g):
        super().backward(g)


def test_q5_my_linear_class():
    results = assert_question_behaves(ex.q5, reference=ex.MyLinearReference, wrong_answers={
        "backward overwrote it": _Overwrites,
        "shape (n, out)": _BiasNotSummed,
        "grad_w = x.t @ g is (in, out)": _TransposedGradW,           # raises: shapes (3, 2) + (2, 3)
        "zero_grad() must fill": _ZeroGradForgets,
        "returned none": _NoReturn,
    })
    assert results["backward overwrote it"].reason == "mistake"

    class TransposedFresh(_Good):   # writes a new (out, in) array: no error, the wrong shape
        def backward(self, g):
            self.grad_W = g.T @ self.x
            self.grad_b = self.grad_b + g.sum(axis=0)
            return g @ self.W.T

    assert_status(ex.q5, TransposedFresh, "incorrect", contains="grad_W is Gᵀ x")
    assert ex.q5.evaluate(_Good).correct


def test_q5_stub_class_is_not_attempted_and_a_raising_class_is_reported():
    class Stub:
        def __init__(self, W, b):
            # YOUR CODE HERE
            raise NotImplementedError()

    assert_status(ex.q5, Stub, "not attempted")

    class Broken(_Good):
        def forward(self, x):
            raise ValueError("forward is broken")

    assert_status(ex.q5, Broken, "incorrect", reason="raised", contains="forward is broken")
    assert_status(ex.q5, _Good(np.zeros((3, 2)), np.zeros(2)), "incorrect", contains="class")


def _net(X, y, W1, b1, W2, b2, mask_from="z", divide=True):
    z = X @ W1 + b1
    h = np.maximum(z, 0)
    out = h @ W2 + b2
    d_out = 2 * (out - y) / (len(X) if divide else 1)
    d_h = d_out @ W2.T
    mask = {"z": z > 0, "out": out > 0, "none": True}[mask_from]
    d_z = d_h * mask
    grads = {"W1": X.T @ d_z, "b1": d_z.sum(axis=0), "W2": h.T @ d_out, "b2": d_out.sum(axis=0)}
    return np.mean((out - y) ** 2), grads


def test_q6_two_layer_backward():
    results = assert_question_behaves(ex.q6, wrong_answers={
        "taken from the wrong layer": lambda *args: _net(*args, mask_from="out"),
        "n times too large": lambda *args: _net(*args, divide=False),
        "relu is missing": lambda *args: _net(*args, mask_from="none"),
    })
    assert "broadcast" in results["taken from the wrong layer"].diagnosis
    assert ex.q6.evaluate(lambda *args: _net(*args)).correct


def test_q6_mask_from_the_input_raises_and_gets_a_clean_message():
    def mask_from_input(X, y, W1, b1, W2, b2):
        loss, grads = _net(X, y, W1, b1, W2, b2)
        grads["b1"] = grads["b1"] * (X > 0).any(axis=1)        # (N, D) vs (H,): cannot broadcast
        return loss, grads

    assert_status(ex.q6, mask_from_input, "incorrect", reason="raised", contains="shapes do not fit")


def test_solution_texts_are_correct():
    namespace = {"np": np}
    exec(ex.q1.solution_code, namespace)
    assert ex.q1.evaluate(namespace["dL_dz"]).correct
    for question, name in [(ex.q2, "linear_backward"), (ex.q3, "relu_backward"),
                           (ex.q4, "softmax_cross_entropy"), (ex.q5, "MyLinear"),
                           (ex.q6, "two_layer_backward")]:
        exec(question.solution_code, namespace)    # q6's solution uses q2's and q3's functions
        assert question.evaluate(namespace[name]).correct, name


# ---------------------------------------------------------------------------
# The references are right by finite differences (not only by course_lib)
# ---------------------------------------------------------------------------

def test_references_agree_with_finite_differences():
    for kind, function in [("linear", ex.linear_backward_reference), ("relu", ex.relu_backward_reference),
                           ("softmax_ce", ex.softmax_cross_entropy_reference)]:
        errors = demo.check_against_finite_differences(function, kind)
        assert max(errors.values()) < 1e-7, (kind, errors)

    X, y, W1, b1, W2, b2 = ex._q6_cases()[0]
    _, grads = ex.two_layer_backward_reference(X, y, W1, b1, W2, b2)
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}

    def loss(_):
        z = X @ params["W1"] + params["b1"]
        return np.mean((np.maximum(z, 0) @ params["W2"] + params["b2"] - y) ** 2)

    for name, value in params.items():
        assert gradcheck.relative_error(grads[name], gradcheck.numerical_gradient(loss, value)) < 1e-7, name


def test_finite_difference_report_catches_wrong_and_unfinished_functions():
    wrong = demo.check_against_finite_differences(lambda x, W, g: (g @ W.T, x.T @ g, g.mean(axis=0)), "linear")
    assert wrong["grad_W"] < 1e-7 and wrong["grad_b"] > 1e-2

    def stub(*args):
        raise NotImplementedError()

    assert "not attempted" in demo.finite_difference_report(stub, "relu")
    assert "raised ZeroDivisionError" in demo.finite_difference_report(lambda g, z: 1 / 0, "relu")
    assert "wrong" in demo.finite_difference_report(lambda g, z: g, "relu")
    with pytest.raises(ValueError):
        demo.check_against_finite_differences(stub, "conv")


# ---------------------------------------------------------------------------
# The tiny network and its graph
# ---------------------------------------------------------------------------

def _engine_tiny():
    params = demo.tiny_params()
    model = nn.Sequential(nn.Linear(2, 3, dtype=np.float64), nn.ReLU(), nn.Linear(3, 1, dtype=np.float64))
    model.load_state_dict({"0.weight": params["W1"], "0.bias": params["b1"],
                           "2.weight": params["W2"], "2.bias": params["b2"]})
    model.zero_grad()
    grad_x = model.backward(losses.mse.gradient(demo.TINY_Y, model.forward(demo.TINY_X)))
    return model, grad_x


def test_tiny_pass_numbers_of_the_lesson():
    tiny = demo.tiny_pass()
    assert np.allclose(tiny.z, [[1.0, 0.6, -1.25]]) and np.allclose(tiny.h, [[1.0, 0.6, 0.0]])
    assert np.isclose(tiny.y_hat[0, 0], 0.6) and np.isclose(tiny.loss, 0.81)
    assert np.allclose(tiny.grad["y_hat"], -1.8)
    assert np.allclose(tiny.grad["h"], [[-1.26, 0.9, -1.62]])
    assert np.allclose(tiny.grad["z"], [[-1.26, 0.9, 0.0]])
    # the unit that is off gets no gradient at all: its incoming weights, its bias, its outgoing weight
    assert np.all(tiny.param_grad["W1"][:, 2] == 0) and tiny.param_grad["b1"][2] == 0
    assert tiny.param_grad["W2"][2, 0] == 0
    assert np.isclose(tiny.param_grad["W1"][0, 0], -1.26)


def test_tiny_pass_equals_course_lib_and_finite_differences():
    tiny = demo.tiny_pass()
    model, grad_x = _engine_tiny()
    engine = {"W1": model[0].weight.grad, "b1": model[0].bias.grad,
              "W2": model[2].weight.grad, "b2": model[2].bias.grad}
    for name in demo.PARAMETER_NAMES:
        assert np.allclose(engine[name], tiny.param_grad[name], rtol=0, atol=1e-14)
    assert np.allclose(grad_x, tiny.grad["x"], rtol=0, atol=1e-14)
    params = demo.tiny_params()
    for name, value in params.items():
        numeric = gradcheck.numerical_gradient(lambda _: demo.tiny_pass(params).loss, value)
        assert gradcheck.relative_error(tiny.param_grad[name], numeric) < 1e-8, name


def test_graph_walk_forward_then_backward():
    tiny = demo.tiny_pass()
    steps = demo.graph_steps(tiny)
    phases = [step.phase for step in steps]
    assert phases == ["forward"] * 9 + ["backward"] * 10
    assert steps[8].keys == ("L",) and "0.81" in steps[8].text
    assert steps[9].keys == ("L",) and "1" in steps[9].text            # backward starts with ∂L/∂L = 1
    assert "= 0" in steps[17].text and "off" in steps[17].text           # z3: no gradient flows back
    assert "-0" not in steps[17].text
    nodes = {node.key for node in demo.graph_nodes(tiny)}
    previous = demo.graph_state(tiny, 0)
    for k in range(1, len(steps)):
        state = demo.graph_state(tiny, k)
        assert previous.values_known <= state.values_known and previous.grads_known <= state.grads_known
        previous = state
    last = demo.graph_state(tiny, 99)                                    # clipped to the last step
    assert last.number == len(steps) - 1
    assert last.values_known == nodes
    assert last.grads_known == nodes - {"x1", "x2"} and last.params_known == {"W2, b2", "W1, b1"}
    assert demo.graph_state(tiny, 8).grads_known == set()               # after the forward pass only
    fig, ax = plt.subplots()
    demo.draw_graph(ax, tiny, last)
    plt.close(fig)


# ---------------------------------------------------------------------------
# One weight moved
# ---------------------------------------------------------------------------

def test_weight_sweep_gradient_is_the_slope_of_the_loss_curve():
    for label in ("W1[0,0]", "W2[1,0]", "b1[2]", "b2[0]"):
        for delta in (-0.7, 0.0, 0.9):
            sweep = demo.weight_sweep(label, delta)
            params = demo.tiny_params()
            demo._set(params, label, sweep.value + 1e-6)
            up = demo.tiny_pass(params).loss
            demo._set(params, label, sweep.value - 1e-6)
            down = demo.tiny_pass(params).loss
            assert np.isclose(sweep.slope, (up - down) / 2e-6, atol=1e-6), (label, delta)
    assert len(demo.parameter_labels()) == 13


def test_switched_off_unit_wakes_up_past_its_kink():
    off = demo.weight_sweep("W1[0,2]", 1.0)
    on = demo.weight_sweep("W1[0,2]", 1.5)
    assert np.isclose(off.tiny.z[0, 2], -0.25) and off.slope == 0 and np.isclose(off.tiny.loss, 0.81)
    assert np.isclose(on.tiny.z[0, 2], 0.25) and on.slope < -1 and on.tiny.loss < 0.81


def test_moving_an_output_weight_changes_the_live_first_layer_gradients():
    before = demo.tiny_pass()
    after = demo.weight_sweep("W2[0,0]", 0.5).tiny
    live = [0, 1]
    assert np.all(after.param_grad["W1"][:, live] != before.param_grad["W1"][:, live])
    assert np.all(after.param_grad["b1"][live] != before.param_grad["b1"][live])
    assert np.all(after.param_grad["W1"][:, 2] == 0) and after.param_grad["b1"][2] == 0


def test_a_tiny_probability_underflows_to_zero_in_float64():
    assert np.exp(-799.0) == 0.0 and np.isfinite(-799.0 - np.log(np.exp(0.0)))


def test_loss_is_a_parabola_in_the_output_bias():
    sweep = demo.weight_sweep("b2[0]", 0.0)
    second = np.diff(sweep.losses, 2) / (sweep.grid[1] - sweep.grid[0]) ** 2
    assert np.allclose(second, 2.0, atol=1e-6)


# ---------------------------------------------------------------------------
# Gradients add; zero_grad
# ---------------------------------------------------------------------------

def test_accumulation_numbers():
    numbers = demo.accumulation_numbers()
    a = numbers["a_used_twice"]
    assert a["sum"] == 14 and abs(a["finite difference"] - 14) < 1e-6
    shared = numbers["shared"]
    assert np.allclose(shared["accumulated"], shared["sum"], atol=1e-14)
    assert not np.allclose(shared["batch 1"], shared["batch 2"])
    twice = numbers["twice"]
    assert np.allclose(twice["second backward, no zero_grad"], 2 * twice["one backward"], atol=1e-14)
    assert np.allclose(twice["after zero_grad"], twice["one backward"], atol=1e-14)


# ---------------------------------------------------------------------------
# Gradient checking and the sanity checks
# ---------------------------------------------------------------------------

def test_gradient_check_examples_and_thresholds():
    errors = demo.gradient_check_examples()
    assert errors["right backward, float64, eps 1e-6"] < 1e-8
    assert 1e-7 < errors["right backward, float32, eps 1e-3"] < 1e-3
    assert errors["right backward, float32, eps 1e-6"] > 1e-3
    assert errors["missing transpose, float64"] > 0.5
    assert errors["ReLU 1e-7 from its kink, eps 1e-6"] > 1e-2
    assert demo.verdict(1e-10) == "fine" and demo.verdict(1.0) == "wrong"
    assert demo.verdict(1e-5).startswith("suspicious") and demo.verdict(1e-3) == "probably wrong"


@pytest.fixture(scope="module")
def fashion():
    (X_images, y_labels), _ = data.load_fashion_mnist()
    return X_images, y_labels


def test_initial_loss_is_about_ln_10(fashion):
    X, y = demo.fashion_subset(*fashion, n=1000, seed=0)
    assert X.shape == (1000, 784) and X.max() <= 1.0
    start, ln10 = demo.initial_loss(X, y)
    assert ln10 == pytest.approx(math.log(10))
    assert abs(start - ln10) < 0.1


def test_a_small_network_overfits_20_examples(fashion):
    X, y = demo.fashion_subset(*fashion, n=20, seed=1)
    history = demo.overfit_tiny_subset(X, y, steps=150, lr=0.01)
    assert history[0] > 2.0 and history[49] < 0.01 and history[-1] < 1e-3


# ---------------------------------------------------------------------------
# Then it learns: the learner's network equals course_lib's, step for step, on the red wines
# ---------------------------------------------------------------------------

def _learner_functions():
    """The lesson's solutions (pure NumPy, as a learner writes them), not course_lib."""
    namespace = {"np": np}
    for question in (ex.q2, ex.q3, ex.q6):
        exec(question.solution_code, namespace)
    return namespace["two_layer_backward"]


@pytest.fixture(scope="module")
def wine():
    X, y, _ = data.load_red_wine()
    X_train, X_val, y_train, y_val = data.train_val_split(X, y, val_fraction=0.2, seed=0)
    X_train, scaler = data.standardize(X_train)
    return X_train, y_train.reshape(-1, 1), scaler.transform(X_val), y_val.reshape(-1, 1)


def test_initial_params_are_those_of_nn_linear():
    params = demo.initial_two_layer_params(11, 32, seed=0)
    assert np.array_equal(params["W1"], nn.Linear(11, 32, seed=0, dtype=np.float64).weight.data)
    assert np.array_equal(params["b2"], nn.Linear(32, 1, seed=1, dtype=np.float64).bias.data)


def test_learner_network_equals_course_lib_step_for_step(wine):
    X_train, y_train, X_val, y_val = wine
    params = demo.initial_two_layer_params(11, 32, seed=0)
    batch_list = demo.batches(len(X_train), 64, epochs=20, seed=0)
    assert len(batch_list) == 400 and sorted(np.concatenate(batch_list[:20])) == list(range(len(X_train)))
    mine, mine_final = demo.train_by_hand(X_train, y_train, params, _learner_functions(), batch_list, lr=0.05)
    engine, engine_final = demo.train_with_engine(X_train, y_train, params, batch_list, lr=0.05)
    assert np.max(np.abs(mine - engine)) < 1e-13          # the lesson: "around 1e-15", asserted < 1e-10
    for name in demo.PARAMETER_NAMES:
        assert np.max(np.abs(mine_final[name] - engine_final[name])) < 1e-13, name
    # ... and it learns: from about 30 to well below always predicting the mean
    assert mine[0] > 20 and mine[-20:].mean() < 0.6
    val = np.mean((np.maximum(X_val @ mine_final["W1"] + mine_final["b1"], 0) @ mine_final["W2"]
                   + mine_final["b2"] - y_val) ** 2)
    assert val < 0.8 * np.mean((y_train.mean() - y_val) ** 2)


def test_the_equality_check_catches_a_wrong_backward(wine):
    X_train, y_train, _, _ = wine
    params = demo.initial_two_layer_params(11, 32, seed=0)
    batch_list = demo.batches(len(X_train), 64, epochs=2, seed=0)

    def without_the_two(X, y, W1, b1, W2, b2):     # the missing-2 slip: half of every gradient
        loss, grads = _net(X, y, W1, b1, W2, b2)
        return loss, {name: g / 2 for name, g in grads.items()}

    mine, _ = demo.train_by_hand(X_train, y_train, params, without_the_two, batch_list, lr=0.05)
    engine, _ = demo.train_with_engine(X_train, y_train, params, batch_list, lr=0.05)
    assert mine[0] == pytest.approx(engine[0])    # the same start ...
    assert mine[-10:].mean() < mine[0] / 5        # a wrong backward still "trains" (the lesson says so)
    assert np.all(np.isfinite(mine)) and np.max(np.abs(mine - engine)) > 1e-3   # ... then apart


def test_forgetting_zero_grad_derails_the_same_run(wine):
    X_train, y_train, _, _ = wine
    params = demo.initial_two_layer_params(11, 32, seed=0)
    batch_list = demo.batches(len(X_train), 64, epochs=20, seed=0)
    right, _ = demo.train_with_engine(X_train, y_train, params, batch_list, lr=0.05)
    forgetful, _ = demo.train_with_engine(X_train, y_train, params, batch_list, lr=0.05, zero_grad=False)
    assert np.array_equal(forgetful[:2], right[:2])              # the first step is the same
    assert forgetful[3] > right[3] and forgetful[39] > 10 * right[39]
    broken = np.flatnonzero(~np.isfinite(forgetful))
    assert len(broken) and 30 < broken[0] < 100                   # "after a few dozen steps ... NaN"
    assert np.all(np.isfinite(right))


# ---------------------------------------------------------------------------
# Vanishing gradients
# ---------------------------------------------------------------------------

def test_sigmoid_derivative_is_at_most_a_quarter():
    sigmoid = nn.Sigmoid()
    z = np.linspace(-8, 8, 1601).reshape(1, -1)
    sigmoid.forward(z)
    derivative = sigmoid.backward(np.ones_like(z))
    assert np.isclose(derivative.max(), 0.25) and np.argmax(derivative) == 800   # at z = 0


def test_gradients_vanish_through_sigmoids_and_not_through_relus():
    depth = 15
    sigmoid = demo.gradient_norms_by_layer("sigmoid", depth)
    relu = demo.gradient_norms_by_layer("relu", depth)
    tanh = demo.gradient_norms_by_layer("tanh", depth)
    assert sigmoid.shape == (depth,)
    assert sigmoid[0] / sigmoid[-1] < 1e-6                     # "about ten million times smaller"
    assert 0.2 < (sigmoid[0] / sigmoid[-1]) ** (1 / (depth - 1)) < 0.45
    assert 0.5 < relu[0] / relu[-1] < 2 and 0.5 < tanh[0] / tanh[-1] < 2.5
    default_relu = demo.gradient_norms_by_layer("relu", depth, init="course_lib default")
    assert 0.35 < (default_relu[0] / default_relu[-1]) ** (1 / (depth - 1)) < 0.65   # "about half"
    assert np.array_equal(sigmoid, demo.gradient_norms_by_layer("sigmoid", depth))   # seeded
    with pytest.raises(ValueError):
        demo.deep_stack("softplus", 3)
    with pytest.raises(ValueError):
        demo.deep_stack("relu", 3, init="lecun")


# ---------------------------------------------------------------------------
# Widgets, headless
# ---------------------------------------------------------------------------

def test_graph_explorer_steps_through_both_passes():
    w = demo.graph_explorer()
    (slider,) = w.kwargs_widgets
    assert w.result.number == 0 and w.result.step.phase == "forward"
    slider.value = 12
    assert w.result.number == 12 and w.result.step.phase == "backward"
    slider.value = slider.max
    assert w.result.grads_known >= {"z1", "z2", "z3"}
    assert w.play.max == slider.max
    plt.close("all")


def test_weight_explorer_recomputes_loss_and_gradients():
    w = demo.weight_explorer()
    controls = {c.description: c for c in w.kwargs_widgets}
    first = w.result
    assert first.label == "W1[0,0]" and np.isclose(first.tiny.loss, 0.81)
    controls["weight"].value = "W1[0,2]"
    controls["change by"].value = 1.5
    assert w.result.label == "W1[0,2]" and w.result.tiny.z[0, 2] > 0 and w.result.slope != 0
    controls["change by"].value = -2.0
    assert w.result.slope == 0
    plt.close("all")


def test_vanishing_explorer():
    w = demo.vanishing_explorer()
    controls = {c.description: c for c in w.kwargs_widgets}
    assert set(w.result) == {"sigmoid", "tanh", "relu"} and len(w.result["relu"]) == 15
    controls["hidden layers"].value = 30
    assert len(w.result["sigmoid"]) == 30
    assert w.result["sigmoid"][0] / w.result["sigmoid"][-1] < 1e-10
    controls["initialisation"].value = "course_lib default"
    assert w.result["relu"][0] / w.result["relu"][-1] < 1e-4
    plt.close("all")


def test_graph_explorer_redraws_its_picture_in_place():
    plt.close("all")
    w = demo.graph_explorer()
    (slider,) = w.kwargs_widgets
    tiny = demo.tiny_pass()
    pictures = {bytes(w.plot.image.value)}
    for k in (5, 12, slider.max):
        slider.value = k
        pictures.add(bytes(w.plot.image.value))
        expected = demo.graph_state(tiny, k)
        assert w.result.step == expected.step and w.result.grads_known == expected.grads_known
        assert w.result.values_known == expected.values_known and w.result.params_known == expected.params_known
    assert len(pictures) == 4                         # every step looks different
    assert plt.get_fignums() == []                    # no pyplot figure made or leaked


def test_weight_explorer_redraws_its_picture_in_place():
    plt.close("all")
    w = demo.weight_explorer()
    controls = {c.description: c for c in w.kwargs_widgets}
    first = bytes(w.plot.image.value)
    controls["change by"].value = 0.5
    moved = bytes(w.plot.image.value)
    assert moved != first
    expected = demo.weight_sweep("W1[0,0]", 0.5)
    assert w.result.slope == expected.slope and w.result.tiny.loss == expected.tiny.loss
    np.testing.assert_array_equal(w.result.losses, expected.losses)
    controls["weight"].value = "b2[0]"
    assert bytes(w.plot.image.value) != moved
    np.testing.assert_array_equal(w.result.losses, demo.weight_sweep("b2[0]", 0.5).losses)
    assert plt.get_fignums() == []


def test_vanishing_explorer_redraws_its_picture_in_place():
    plt.close("all")
    w = demo.vanishing_explorer()
    controls = {c.description: c for c in w.kwargs_widgets}
    first = bytes(w.plot.image.value)
    controls["hidden layers"].value = 20
    assert bytes(w.plot.image.value) != first
    for name in ("sigmoid", "tanh", "relu"):
        assert np.array_equal(w.result[name], demo.gradient_norms_by_layer(name, 20))
    assert plt.get_fignums() == []
