"""Lesson 0: the warm-up questions and the two teaser widgets."""

import numpy as np
import pytest

from lesson_helpers import assert_source_notebook_structure
from exercise_helpers import assert_question_behaves, assert_status
from course_lib.demos import start_here as sh
from course_lib.exercises import lesson0 as ex


# ---------------------------------------------------------------------------
# Questions
# ---------------------------------------------------------------------------

def test_q1_predict():
    assert_question_behaves(ex.q1, wrong_answers={
        "swapped the roles of w and b": lambda w, b, x: b * x + w,
        "forgot the intercept": lambda w, b, x: w * x,
        "added b before multiplying": lambda w, b, x: w * (x + b),
    })


def test_q2_gd_step():
    assert_question_behaves(ex.q2, wrong_answers={
        "stepped uphill": lambda x, gradient, lr: x + lr * gradient,
        "forgot the learning rate": lambda x, gradient, lr: x - gradient,
    })


def test_q2_in_place_update_is_reported():
    def in_place(x, gradient, lr):
        x -= lr * gradient
        return x

    assert_status(ex.q2, in_place, "incorrect", reason="mutated", contains="in place")


def test_q3_learning_rate_korean():
    assert_question_behaves(ex.q3, wrong_answers={
        "gradient descent": "경사 하강법",
        "loss function": "손실 함수",
        "English term": "learning rate",
    })
    assert_status(ex.q3, "  학습률 ", "correct")


def test_q3_accepts_the_common_spelling_and_names_the_standard_one():
    result = ex.q3.evaluate("학습율")
    assert result.status == "correct"
    assert "standard spelling is 학습률" in result.summary


def test_progress_lists_the_three_questions():
    rows = ex.questions.summary().rows
    assert [row[0] for row in rows] == ["q1", "q2", "q3"]


# ---------------------------------------------------------------------------
# Widgets
# ---------------------------------------------------------------------------

def _control(widget, description):
    for child in widget.children:
        if getattr(child, "description", None) == description:
            return child
    raise AssertionError(f"no control {description!r} in {[c.description for c in widget.children[:-1]]}")


def test_valley_path_pure():
    slow = sh.valley_path(0.01, 10)
    good = sh.valley_path(0.3, 10)
    assert abs(good.final - 3) < abs(slow.final - 3)
    assert sh.valley_path(1.0, 10).status == "bouncing"
    assert sh.valley_path(1.2, 10).status == "diverging"
    far = sh.valley_path(1.5, 60)
    assert far.status == "diverged" and "diverged after" in far.message
    assert np.all(np.isfinite(far.xs))


def test_lr_teaser_widget():
    w = sh.lr_teaser()
    lr, steps = _control(w, "learning rate"), _control(w, "steps")
    assert lr.__class__.__name__ == "FloatLogSlider"
    lr.value, steps.value = 0.1, 5
    few = abs(w.result.final - 3)
    steps.value = 50
    many = abs(w.result.final - 3)
    assert many < few < 5                      # more steps -> closer to the bottom
    steps.value = 1
    assert w.result.steps_taken == 1           # one step works
    lr.value = 1.5
    steps.value = 60
    assert w.result.diverged and "diverged after" in w.result.message


def test_fit_by_hand_widget():
    w = sh.fit_by_hand()
    slope, intercept = _control(w, "slope w"), _control(w, "intercept b")
    first = w.result.mse
    slope.value, intercept.value = -2.4, 60.0
    better = w.result
    assert better.mse < first
    assert better.mse == pytest.approx(better.best_mse, rel=0.05)
    assert better.best_mse <= better.mse
    assert better.best_w < 0                   # sweeter cereals get lower ratings


def test_widgets_close_their_figures():
    import matplotlib.pyplot as plt

    plt.close("all")
    for build in (sh.lr_teaser, sh.fit_by_hand):
        widget = build()
        widget.children[0].value = widget.children[0].max    # an extreme setting redraws too
    assert plt.get_fignums() == []


def test_source_notebook_structure():
    """Committed without outputs, python3 kernelspec, widgets and checked exercises present."""
    sources = assert_source_notebook_structure("00_start_here.ipynb", min_exercises=3)
    assert "run_preflight()" in sources[0]          # the pre-flight check is the first code cell
