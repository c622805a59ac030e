"""Lesson 2: gradient descent questions, pure functions and widgets."""

import numpy as np
import pytest

from lesson_helpers import assert_source_notebook_structure
from exercise_helpers import assert_question_behaves, assert_status
from course_lib import data
from course_lib.demos import gradient_descent as gd
from course_lib.exercises import lesson2 as ex


@pytest.fixture(scope="module")
def wine():
    X, y, names = data.load_red_wine()
    columns = [names.index("alcohol"), names.index("volatile acidity")]
    X_scaled, _ = data.min_max_scale(X[:, columns])
    return X_scaled, y


# ---------------------------------------------------------------------------
# Questions
# ---------------------------------------------------------------------------

def test_q1_cubic_gradient():
    assert_question_behaves(ex.q1, wrong_answers={
        "derivative of 2x² is 4x": lambda x: 3 * x ** 2 - 2 * x,
        "that is f(x) itself": lambda x: x ** 3 - 2 * x ** 2 + 2,
        "constant 2 disappears": lambda x: 3 * x ** 2 - 4 * x + 2,
    })


def test_q2_gradient_descent():
    def one_too_many(gradient, x0, lr, steps):
        x = x0
        for _ in range(steps + 1):
            x = x - lr * gradient(x)
        return x

    def uphill(gradient, x0, lr, steps):
        x = x0
        for _ in range(steps):
            x = x + lr * gradient(x)
        return x

    def frozen_gradient(gradient, x0, lr, steps):
        g = gradient(x0)
        x = x0
        for _ in range(steps):
            x = x - lr * g
        return x

    assert_question_behaves(ex.q2, wrong_answers={
        "one step too many": one_too_many, "uphill": uphill, "current* x": frozen_gradient})


def test_q2_path_instead_of_final_point_is_reported():
    def returns_path(gradient, x0, lr, steps):
        xs = [x0]
        for _ in range(steps):
            xs.append(xs[-1] - lr * gradient(xs[-1]))
        return xs

    assert_status(ex.q2, returns_path, "incorrect")


def test_q3_largest_stable_lr():
    assert_question_behaves(ex.q3, wrong_answers={"jumps to the minimum": 0.25, "2 divided": 4.0,
                                                  "at the maximum": -0.5})
    # True (a comparison assigned by mistake) is named as such, not as "twice the expected one"
    result = ex.q3.evaluate(True)
    assert "truth value True" in result.message and "twice" not in result.message
    from decimal import Decimal
    assert ex.q3.evaluate(Decimal("0.5")).status == "correct"
    # and the claim itself: just below 0.5 settles at 4/3, just above does not
    assert abs(gd.cubic_path(1.4, 0.48, 2000).final - 4 / 3) < 1e-6
    assert abs(gd.cubic_path(1.4, 0.52, 2000).final - 4 / 3) > 1e-3


def test_q4_mse_gradient():
    def half(X, y, w, b):
        r = X @ w + b - y
        return X.T @ r / len(y), np.mean(r)

    def summed(X, y, w, b):
        r = X @ w + b - y
        return 2 * X.T @ r, 2 * np.sum(r)

    def flipped(X, y, w, b):
        r = y - X @ w - b
        return 2 * X.T @ r / len(y), 2 * np.mean(r)

    assert_question_behaves(ex.q4, wrong_answers={"2r": half, "summed": summed, "sign is flipped": flipped})


# ---------------------------------------------------------------------------
# The cubic
# ---------------------------------------------------------------------------

def test_cubic_paths_from_several_starts():
    assert abs(gd.cubic_path(2.0, 0.1, 100).final - 4 / 3) < 1e-8
    assert abs(gd.cubic_path(0.5, 0.1, 100).final - 4 / 3) < 1e-8
    stuck = gd.cubic_path(0.0, 0.1, 50)
    assert stuck.final == 0.0 and "MAXIMUM" in stuck.message
    runaway = gd.cubic_path(-0.1, 0.1, 100)
    assert runaway.diverged and "−∞" in runaway.message and "no lowest point" in runaway.message
    assert np.all(np.isfinite(runaway.xs)) and np.all(np.isfinite(runaway.values))


def test_cubic_learning_rates():
    too_small = gd.cubic_path(2.0, 0.01, 50)
    right = gd.cubic_path(2.0, 0.1, 50)
    too_large = gd.cubic_path(2.0, 0.45, 50)
    divergent = gd.cubic_path(2.0, 0.6, 50)
    assert too_small.status == "moving" and abs(too_small.final - 4 / 3) > 0.03
    assert right.status == "converged"
    assert np.any(np.diff(np.sign(too_large.xs - 4 / 3)) != 0)      # zig-zags across the minimum
    assert divergent.diverged and divergent.steps_taken < 10


def test_cubic_explorer_widget():
    w = gd.cubic_explorer()
    start, lr, steps = w.children[0], w.children[1], w.children[2]
    assert lr.__class__.__name__ == "FloatLogSlider"
    start.value, lr.value, steps.value = 2.0, 0.1, 3
    few = abs(w.result.final - 4 / 3)
    steps.value = 100
    assert abs(w.result.final - 4 / 3) < few                # more steps: closer to the minimum
    lr.value = 1.0
    assert w.result.diverged and "diverged after" in w.result.message
    lr.value, steps.value = 0.1, 1
    assert w.result.steps_taken == 1
    start.value, steps.value = -1.0, 200
    assert w.result.diverged and w.result.escaped_to == -1


# ---------------------------------------------------------------------------
# Linear regression on the wine data
# ---------------------------------------------------------------------------

def test_gd_reaches_the_closed_form_solution(wine):
    X, y = wine
    assert X.min() == 0.0 and X.max() == 1.0
    path = gd.linear_regression_gd(X, y, lr=0.5, steps=2000)
    w_star, b_star = gd.closed_form_linear_regression(X, y)
    theta_star = np.append(w_star, b_star)
    reference, *_ = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)
    np.testing.assert_allclose(theta_star, reference)
    relative = np.linalg.norm(path.final - theta_star) / np.linalg.norm(theta_star)
    assert relative < 1e-4
    assert path.status == "converged" and path.relative_error == pytest.approx(relative)
    assert np.all(np.diff(path.losses) <= 1e-12)           # full-batch GD with a good lr never goes up


def test_mse_gradient_matches_finite_differences(wine):
    from course_lib.gradcheck import numerical_gradient, relative_error
    X, y = wine
    theta = np.array([0.7, -1.3, 4.0])
    dw, db = gd.mse_gradient(X, y, theta[:2], theta[2])
    numeric = numerical_gradient(lambda t: gd.mse_loss(X, y, t[:2], t[2]), theta)
    assert relative_error(np.append(dw, db), numeric) < 1e-6


def test_profile_surface_has_its_minimum_at_the_closed_form(wine):
    X, y = wine
    (w1, w2), b = gd.closed_form_linear_regression(X, y)
    grid1 = np.linspace(w1 - 1, w1 + 1, 41)
    grid2 = np.linspace(w2 - 1, w2 + 1, 41)
    Z = gd.profile_loss_grid(X, y, grid1, grid2)
    row, col = np.unravel_index(np.argmin(Z), Z.shape)
    assert (row, col) == (20, 20)
    assert Z.min() == pytest.approx(gd.mse_loss(X, y, np.array([w1, w2]), b))


def test_regression_explorer_widget(wine):
    X, y = wine
    w = gd.regression_explorer(X, y, ("alcohol", "volatile acidity"))
    lr, steps = w.children[0], w.children[1]
    lr.value, steps.value = 0.3, 50
    short = w.result.relative_error
    steps.value = 2000
    assert w.result.relative_error < short and w.result.relative_error < 1e-4
    lr.value = 0.003
    assert w.result.status == "moving"                     # too small: still far after 2000 steps
    lr.value = 3.0
    assert w.result.status == "diverged" and "smaller learning rate" in w.result.message
    assert np.all(np.isfinite(w.result.params))
    steps.value = 1
    assert len(w.result.params) <= 2


def test_widgets_close_their_figures(wine):
    import matplotlib.pyplot as plt

    X, y = wine
    plt.close("all")
    for widget in (gd.cubic_explorer(), gd.regression_explorer(X, y)):
        widget.children[0].value = widget.children[0].max
    assert plt.get_fignums() == []


def test_source_notebook_structure():
    """Committed without outputs, python3 kernelspec, widgets and checked exercises present."""
    assert_source_notebook_structure("02_gradient_descent.ipynb", min_exercises=4)
