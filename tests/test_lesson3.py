"""Lesson 3: stochastic gradient descent questions, pure functions and widgets."""

import numpy as np
import pytest

from lesson_helpers import assert_source_notebook_structure
from exercise_helpers import assert_question_behaves, assert_status
from course_lib import data, schedules
from course_lib.demos import sgd
from course_lib.exercises import lesson3 as ex


@pytest.fixture(scope="module")
def wine():
    X, y, names = data.load_red_wine()
    columns = [names.index("alcohol"), names.index("volatile acidity")]
    X_scaled, _ = data.min_max_scale(X[:, columns])
    return X_scaled, y


# ---------------------------------------------------------------------------
# Questions
# ---------------------------------------------------------------------------

def test_q1_sgd_step():
    def uphill(x_i, y_i, w, b, lr):
        r = x_i @ w + b - y_i
        return w + 2 * lr * r * x_i, b + 2 * lr * r

    def without_x(x_i, y_i, w, b, lr):
        r = x_i @ w + b - y_i
        return w - 2 * lr * r, b - 2 * lr * r

    assert_question_behaves(ex.q1, wrong_answers={"uphill": uphill, "left out x_i": without_x})


def test_q2_unseen_fraction():
    assert_question_behaves(ex.q2, wrong_answers={
        "limit for large n": lambda n: 1 / np.e,
        "raise it to the power n": lambda n: 1 - 1 / n,
        "at least once": lambda n: 1 - (1 - 1 / n) ** n,
    })


def test_q3_decayed_lr():
    assert_question_behaves(ex.q3, wrong_answers={
        "1/t": lambda lr0, t: lr0 / t,
        "don't add 1": lambda lr0, t: lr0 / np.sqrt(t + 1),
    })


def test_q4_hinge_subgradient():
    def perceptron(x_i, y_i, w, b):
        if y_i * (x_i @ w + b) < 0:
            return -y_i * x_i, -y_i
        return np.zeros_like(x_i), 0.0

    def flipped(x_i, y_i, w, b):
        if y_i * (x_i @ w + b) < 1:
            return y_i * x_i, y_i
        return np.zeros_like(x_i), 0.0

    assert_question_behaves(ex.q4, wrong_answers={"perceptron": perceptron, "sign is flipped": flipped})


def test_q5_proper_seeding():
    assert_question_behaves(ex.q5, wrong_answers={"assignment": "a", "global generator": "c"})
    assert_status(ex.q5, "B", "correct")


# ---------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------

def test_step_size_schedules():
    assert sgd.step_size(0.1, 1, "1/sqrt(t)") == pytest.approx(0.1)
    assert sgd.step_size(0.1, 100, "1/sqrt(t)") == pytest.approx(0.01)
    assert sgd.step_size(0.1, 100, "constant") == 0.1
    with pytest.raises(ValueError):
        sgd.step_size(0.1, 0)


def test_sgd_curve_mostly_falls_but_sometimes_rises(wine):
    X, y = wine
    run, gd_run = sgd.sgd_vs_gd(X, y, lr=0.05, epochs=1, seed=0)
    assert len(run.losses) == len(X) + 1                    # one update per example
    steps = np.diff(run.losses)
    assert 0.05 < np.mean(steps > 0) < 0.95                 # it does rise, often
    assert run.losses[-1] < 0.05 * run.losses[0]            # but overall it falls a lot
    assert run.final_loss < gd_run.final_loss               # after one epoch SGD is far ahead of one GD step
    assert np.all(np.diff(gd_run.losses) <= 0)              # full-batch GD: every step goes down


def test_same_seed_same_run_and_different_seed_different_run(wine):
    X, y = wine
    a = sgd.sgd_linear_regression(X, y, 0.05, 1, seed=3)
    b = sgd.sgd_linear_regression(X, y, 0.05, 1, seed=3)
    c = sgd.sgd_linear_regression(X, y, 0.05, 1, seed=4)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert not np.array_equal(a.losses, c.losses)


def test_decaying_step_size_ends_closer_and_calmer(wine):
    X, y = wine
    best = np.mean((np.column_stack([X, np.ones(len(X))])
                    @ np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)[0] - y) ** 2)
    constant = sgd.sgd_linear_regression(X, y, 0.2, 3, schedule="constant", seed=0)
    decaying = sgd.sgd_linear_regression(X, y, 0.2, 3, schedule="1/sqrt(t)", seed=0)
    tail = slice(-len(X), None)
    assert decaying.losses[tail].std() < constant.losses[tail].std()
    assert decaying.final_loss - best < constant.final_loss - best


def test_with_replacement_misses_about_one_over_e():
    with_replacement = sgd.times_seen(100_000, replacement=True, seed=0)
    assert with_replacement.unseen_fraction == pytest.approx(np.exp(-1), abs=0.005)
    assert with_replacement.counts.sum() == 100_000
    without = sgd.times_seen(100_000, replacement=False, seed=0)
    assert without.unseen_fraction == 0.0 and np.all(without.counts == 1)


def test_hinge_classifier_beats_the_majority_class(wine):
    X, y = wine
    labels = np.where(y >= 6, 1.0, -1.0)
    run = sgd.hinge_sgd(X, labels, lr=0.5, epochs=5, lam=1e-3, seed=0)
    majority = max(np.mean(labels == 1), np.mean(labels == -1))
    assert run.accuracies[-1] > majority + 0.1
    assert run.losses[-1] < run.losses[0]
    assert run.w[0] > 0 and run.w[1] < 0   # more alcohol -> better, more volatile acidity -> worse
    with pytest.raises(ValueError, match="-1, \\+1"):
        sgd.hinge_sgd(X, (y >= 6).astype(float), lr=0.5, epochs=1)


# ---------------------------------------------------------------------------
# Widgets
# ---------------------------------------------------------------------------

def _control(widget, description):
    for child in widget.children:
        if getattr(child, "description", None) == description:
            return child
    raise AssertionError(f"no control {description!r}")


def test_sgd_explorer_widget(wine):
    X, y = wine
    w = sgd.sgd_explorer(X, y)
    lr = _control(w, "learning rate")
    assert lr.__class__.__name__ == "FloatLogSlider"
    _control(w, "epochs").value = 1
    lr.value = 0.05
    assert w.result.status == "finished" and 0 < w.result.rises < 1
    noisy = w.result.losses[-500:].std()
    _control(w, "step size").value = "1/sqrt(t)"
    assert w.result.losses[-500:].std() < noisy
    _control(w, "sampling").value = "with replacement"
    assert len(w.result.losses) == len(X) + 1
    lr.value = 1.0
    _control(w, "step size").value = "constant"
    assert w.result.status == "diverged" and "diverged after" in w.result.message
    assert np.all(np.isfinite(w.result.losses))


def test_replacement_explorer_widget():
    w = sgd.replacement_explorer()
    _control(w, "examples n").value = 10000
    _control(w, "sampling").value = "with replacement"
    assert w.result.unseen_fraction == pytest.approx(np.exp(-1), abs=0.02)
    _control(w, "sampling").value = "without replacement"
    assert w.result.unseen_fraction == 0.0
    _control(w, "examples n").value = 10
    assert w.result.n == 10


def test_hinge_explorer_widget(wine):
    X, y = wine
    labels = np.where(y >= 6, 1.0, -1.0)
    w = sgd.hinge_explorer(X, labels, ("alcohol", "volatile acidity"))
    _control(w, "learning rate").value = 0.001
    _control(w, "epochs").value = 1
    weak = w.result.accuracies[-1]
    _control(w, "learning rate").value = 0.5
    _control(w, "epochs").value = 5
    assert w.result.accuracies[-1] > weak
    _control(w, "λ (regularisation)").value = 1.0               # strong regularisation shrinks w
    assert np.linalg.norm(w.result.w) < 1.0


def test_widgets_close_their_figures(wine):
    import matplotlib.pyplot as plt

    X, y = wine
    plt.close("all")
    for widget in (sgd.sgd_explorer(X, y), sgd.replacement_explorer(),
                   sgd.hinge_explorer(X, np.where(y >= 6, 1.0, -1.0))):
        widget.children[0].value = widget.children[0].options[-1] if hasattr(widget.children[0], "options") \
            else widget.children[0].max
    assert plt.get_fignums() == []


def _png(widget):
    return bytes(widget.plot.image.value)


def test_sgd_explorer_redraws_its_live_plot(wine):
    import matplotlib.pyplot as plt

    X, y = wine
    plt.close("all")
    w = sgd.sgd_explorer(X, y)
    assert w.plot.image in w.children and _png(w).startswith(b"\x89PNG")
    first = _png(w)
    lr = _control(w, "learning rate")
    lr.value = 0.1
    assert _png(w) != first
    expected = sgd.sgd_linear_regression(X, y, 0.1, 2, seed=0)
    np.testing.assert_array_equal(w.result.losses, expected.losses)
    sgd_line = w.plot.figure.axes[0].get_lines()[1]
    np.testing.assert_array_equal(sgd_line.get_ydata(), expected.losses)
    before = _png(w)
    _control(w, "seed").value = 1
    assert _png(w) != before and w.result.message == sgd.sgd_linear_regression(X, y, 0.1, 2, seed=1).message
    _control(w, "epochs").value = 3                              # a new x range: the axes are drawn again
    assert w.plot.figure.axes[0].get_xlim()[1] > 3
    lr.value = 1.0
    assert w.result.status == "diverged"
    assert any("diverged after" in t.get_text() and t.get_visible() for t in w.plot.figure.axes[0].texts)
    assert plt.get_fignums() == []


def test_mse_of_each_row_matches_mse_loss(wine):
    from course_lib.demos.gradient_descent import mse_loss

    X, y = wine
    rows = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 5.5], [3.0, 1.0, -4.0]])
    expected = [mse_loss(X, y, row[:-1], row[-1]) for row in rows]
    np.testing.assert_allclose(sgd.mse_of_each_row(X, y, rows), expected, rtol=1e-12)


def test_replacement_explorer_redraws_its_bars():
    import matplotlib.pyplot as plt

    plt.close("all")
    w = sgd.replacement_explorer()
    first = _png(w)
    _control(w, "seed").value = 1
    assert _png(w) != first
    coverage = sgd.times_seen(1000, True, seed=1)
    assert w.result.message == coverage.message
    ax = w.plot.figure.axes[0]
    assert ax.patches[0].get_height() == pytest.approx(coverage.unseen_fraction)   # the bar at "drawn 0 times"
    _control(w, "sampling").value = "without replacement"
    assert ax.patches[1].get_height() == 1.0 and ax.patches[0].get_height() == 0.0
    assert plt.get_fignums() == []


def test_hinge_explorer_redraws_its_live_plot(wine):
    import matplotlib.pyplot as plt

    X, y = wine
    labels = np.where(y >= 6, 1.0, -1.0)
    plt.close("all")
    w = sgd.hinge_explorer(X, labels, ("alcohol", "volatile acidity"))
    first = _png(w)
    _control(w, "learning rate").value = 0.1
    assert _png(w) != first
    expected = sgd.hinge_sgd(X, labels, 0.1, 5, lam=1e-3)
    np.testing.assert_array_equal(w.result.params, expected.params)
    before = _png(w)
    _control(w, "λ (regularisation)").value = 1e-2
    assert _png(w) != before
    _control(w, "epochs").value = 8                              # a new x range: the axes are drawn again
    assert len(w.result.losses) == 9 and w.plot.figure.axes[1].get_xlim()[1] > 8
    _control(w, "learning rate").value = 10.0                    # weights blow up: drawn, not crashing
    assert plt.get_fignums() == []


def test_source_notebook_structure():
    """Committed without outputs, python3 kernelspec, widgets and checked exercises present."""
    assert_source_notebook_structure("03_stochastic_gradient_descent.ipynb", min_exercises=5)


def test_why_one_over_sqrt_t_the_two_sums():
    """Lesson 3's claims on Σηₜ and Σηₜ²: 1/√t travels without bound (about 2√T), its squares grow like
    ln T, and 1/t² stops below 1.65."""
    steps = np.arange(1, 10**6 + 1, dtype=float)
    for T in (10, 1000, 10**6):
        travel = np.sum(schedules.inverse_sqrt(steps[:T], lr=1.0))
        assert 2 * np.sqrt(T) - 1.5 < travel < 2 * np.sqrt(T)
        assert abs(np.sum(1 / steps[:T]) - (np.log(T) + 0.5772)) < 0.06
    assert np.sum(1 / steps ** 2) < 1.65
