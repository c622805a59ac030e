"""Lesson 1: the loss-function questions and widgets."""

import numpy as np
import pytest

from lesson_helpers import assert_source_notebook_structure
from exercise_helpers import assert_question_behaves, assert_status
from course_lib import losses
from course_lib.demos import loss_functions as lf
from course_lib.exercises import lesson1 as ex


# ---------------------------------------------------------------------------
# Questions
# ---------------------------------------------------------------------------

def test_q1_mse():
    assert_question_behaves(ex.q1, wrong_answers={
        "summed instead of averaging": lambda y_true, y_pred: np.sum((y_pred - y_true) ** 2),
        "forgot to square": lambda y_true, y_pred: np.mean(y_pred - y_true),
        "absolute": lambda y_true, y_pred: np.mean(np.abs(y_pred - y_true)),
        "RMSE": lambda y_true, y_pred: np.sqrt(np.mean((y_pred - y_true) ** 2)),
    })


def test_q2_huber():
    def no_half(y_true, y_pred, delta=1.0):
        e = np.abs(y_pred - y_true)
        return np.mean(np.where(e <= delta, e ** 2, delta * (e - delta / 2)))

    def no_offset(y_true, y_pred, delta=1.0):
        e = np.abs(y_pred - y_true)
        return np.mean(np.where(e <= delta, e ** 2 / 2, delta * e))

    def ignores_delta(y_true, y_pred, delta=1.0):
        e = np.abs(y_pred - y_true)
        return np.mean(np.where(e <= 1.0, e ** 2 / 2, e - 0.5))

    results = assert_question_behaves(ex.q2, wrong_answers={"½·e²": no_half, "jumps": no_offset})
    assert results
    assert_status(ex.q2, ignores_delta, "incorrect")


def test_q3_binary_crossentropy():
    assert_question_behaves(ex.q3, wrong_answers={
        "sign is missing": lambda y, p: np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)),
        "only kept the y·log p term": lambda y, p: np.mean(-y * np.log(p)),
        "natural log": lambda y, p: -np.mean(y * np.log10(p) + (1 - y) * np.log10(1 - p)),
    })


def test_q4_log_softmax():
    def naive(z):
        e = np.exp(z)
        return np.log(e / e.sum(axis=-1, keepdims=True))

    def global_max(z):
        s = z - z.max()
        return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))

    results = assert_question_behaves(ex.q4, wrong_answers={"overflows": naive, "each row's": global_max})
    assert results["overflows"].reason == "mistake"


# ---------------------------------------------------------------------------
# Pure functions and widgets
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", lf.ALL_LOSSES)
def test_every_loss_curve_is_finite_and_matches_the_library(name):
    curve = lf.loss_curve(name, points=41)
    assert curve.x.shape == curve.values.shape == curve.gradients.shape == (41,)
    assert np.all(np.isfinite(curve.values)) and np.all(np.isfinite(curve.gradients))
    assert np.all(curve.values >= 0)
    # a finite-difference check of the plotted gradient (away from kinks)
    slope = np.gradient(curve.values, curve.x)
    if name != "nll":  # nll's gradient is with respect to log p, its x-axis is p
        smooth = np.abs(curve.x - (1.0 if name == "hinge" else 0.0)) > 0.3
        np.testing.assert_allclose(slope[smooth][2:-2], curve.gradients[smooth][2:-2], rtol=0.1, atol=0.05)


def test_loss_explorer_widget_switches_loss_and_delta():
    w = lf.loss_explorer()
    name, delta = w.children[0], w.children[1]
    assert delta.__class__.__name__ == "FloatLogSlider"
    name.value = "huber"
    delta.value = 1.0
    small = w.result.values.max()
    delta.value = 3.0
    assert w.result.values.max() > small           # a larger delta: quadratic for longer, larger loss
    name.value = "mse"
    assert w.result.values.max() == pytest.approx(16.0)
    name.value = "binary_crossentropy"
    assert w.result.family == "probability"
    assert w.result.values[0] > w.result.values[-1]  # confident and wrong costs the most


def test_outlier_moves_mse_far_more_than_mae():
    effect = lf.outlier_effect(180.0)
    assert effect.growth("mse") > 20 * effect.growth("mae")
    assert effect.best["mae"] == pytest.approx(np.median(effect.y))
    assert effect.best["mse"] == pytest.approx(np.mean(effect.y))
    assert effect.best["mae"] <= effect.best["huber"] < effect.best["mse"]


def test_outlier_widget():
    w = lf.outlier_explorer()
    outlier, delta = w.children[0], w.children[1]
    outlier.value = 30.0
    near = w.result.best["mse"]
    outlier.value = 300.0
    far = w.result
    assert far.best["mse"] > near + 20                       # the mean is dragged along
    assert far.best["mae"] == pytest.approx(23.0)            # the median stays
    outlier.value = 100.0
    delta.value = 100.0                                      # every error below delta: Huber behaves like MSE
    assert w.result.best["huber"] == pytest.approx(w.result.best["mse"], rel=0.05)


def test_loss_explorer_redraws_its_picture_in_place():
    w = lf.loss_explorer()
    name, delta = w.children[0], w.children[1]
    first = bytes(w.plot.image.value)
    assert first.startswith(b"\x89PNG")
    delta.value = 2.0
    moved = bytes(w.plot.image.value)
    assert moved != first                                    # the Huber curve moved
    expected = lf.loss_curve("huber", delta=2.0)
    np.testing.assert_array_equal(w.result.values, expected.values)
    np.testing.assert_array_equal(w.result.gradients, expected.gradients)
    name.value = "cross_entropy"
    assert bytes(w.plot.image.value) != moved and w.result.name == "cross_entropy"
    np.testing.assert_array_equal(w.result.values, lf.loss_curve("cross_entropy").values)


def test_outlier_explorer_redraws_its_picture_in_place():
    w = lf.outlier_explorer()
    outlier, delta = w.children[0], w.children[1]
    first = bytes(w.plot.image.value)
    outlier.value = 250.0
    moved = bytes(w.plot.image.value)
    assert moved != first
    expected = lf.outlier_effect(250.0, delta.value)
    assert w.result.best == expected.best and w.result.losses_with == expected.losses_with
    delta.value = 1.0
    assert bytes(w.plot.image.value) != moved
    assert w.result.best["huber"] == lf.outlier_effect(250.0, 1.0).best["huber"]


def test_naive_log_softmax_overflows_and_library_does_not():
    z = np.array([[1000.0, 999.0, 998.0]])
    with np.errstate(all="ignore"):
        naive = lf.naive_log_softmax(z)
    assert not np.all(np.isfinite(naive))
    stable = losses.log_softmax(z)
    np.testing.assert_allclose(stable, losses.log_softmax(z - 1000.0))


def test_widgets_close_their_figures():
    import matplotlib.pyplot as plt

    plt.close("all")
    for build in (lf.loss_explorer, lf.outlier_explorer):
        widget = build()
        widget.children[1].value = widget.children[1].max
    assert plt.get_fignums() == []


def test_source_notebook_structure():
    """Committed without outputs, python3 kernelspec, widgets and checked exercises present."""
    assert_source_notebook_structure("01_loss_functions.ipynb", min_exercises=4)
