"""Tests of course_lib.losses: values against hand-computed numbers, gradients
against finite differences (including at the kinks), and every error message."""

import numpy as np
import pytest

from course_lib import losses
from course_lib.errors import ProbabilityError, HyperparameterError, LabelError, ShapeError, UnknownNameError
from course_lib.gradcheck import numerical_gradient, relative_error

TOLERANCE = 1e-6


@pytest.fixture
def rng():
    """A fresh generator for each test, so that every test sees the same numbers on every run."""
    return np.random.default_rng(0)


def check_gradient(loss, y_true, y_pred):
    """Assert that loss.gradient agrees with a central difference of loss (float64)."""
    y_pred = np.array(y_pred, dtype=np.float64)
    analytic = loss.gradient(y_true, y_pred)
    numerical = numerical_gradient(lambda p: loss(y_true, p), y_pred)
    assert analytic.shape == y_pred.shape
    error = relative_error(analytic, numerical)
    assert error < TOLERANCE, (loss, error)


def one_sided_differences(loss, y_true, y_pred, index, eps=1e-6):
    """(left, right) one-sided difference quotients of the loss at y_pred[index]."""
    y_pred = np.array(y_pred, dtype=np.float64)
    center = loss(y_true, y_pred)
    y_pred[index] += eps
    right = (loss(y_true, y_pred) - center) / eps
    y_pred[index] -= 2 * eps
    left = (center - loss(y_true, y_pred)) / eps
    return left, right


# ---------------------------------------------------------------------------
# Values computed by hand
# ---------------------------------------------------------------------------

def test_regression_values_by_hand():
    y_true = np.array([[0.0, 1.0], [2.0, -1.0]])
    y_pred = np.array([[0.5, 1.0], [4.0, -1.5]])       # errors 0.5, 0, 2, -0.5
    assert losses.mae(y_true, y_pred) == pytest.approx((0.5 + 0 + 2 + 0.5) / 4)
    assert losses.mse(y_true, y_pred) == pytest.approx((0.25 + 0 + 4 + 0.25) / 4)
    # huber, delta 1: 0.125, 0, 1 * (2 - 0.5) = 1.5, 0.125
    assert losses.huber(y_true, y_pred) == pytest.approx((0.125 + 0 + 1.5 + 0.125) / 4)
    # delta 3: all quadratic
    assert losses.get("huber", delta=3)(y_true, y_pred) == pytest.approx((0.125 + 0 + 2 + 0.125) / 4)


def test_classification_values_by_hand():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    labels = np.array([0, 2])
    expected = -(np.log(0.7) + np.log(0.8)) / 2
    assert losses.sparse_categorical_crossentropy(labels, p) == pytest.approx(expected)
    assert losses.categorical_crossentropy(np.eye(3)[labels], p) == pytest.approx(expected)
    assert losses.nll(labels, np.log(p)) == pytest.approx(expected)
    assert losses.cross_entropy(labels, np.log(p) + 5.0) == pytest.approx(expected)  # shift-invariant
    assert losses.binary_crossentropy([1.0, 0.0], [0.9, 0.2]) == \
        pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2)
    # hinge: margins 1 - y s = 1 - 2 (<0 -> 0), 1 - 0.5, 1 + 0.5
    assert losses.hinge([1, -1, 1], [2.0, -0.5, -0.5]) == pytest.approx((0 + 0.5 + 1.5) / 3)


def test_categorical_crossentropy_does_not_renormalise_probabilities():
    p = np.array([[0.2, 0.795]])                         # sums to 0.995: within the 0.01 allowed
    assert losses.categorical_crossentropy([[1.0, 0.0]], p) == pytest.approx(-np.log(0.2))


# ---------------------------------------------------------------------------
# Silent wrong numbers, now errors that name the fix (each failed on the old code)
# ---------------------------------------------------------------------------

def test_logits_given_to_categorical_crossentropy_name_from_logits():
    onehot = np.eye(3)[[0, 2]]
    logits = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]])     # the old code returned a number
    with pytest.raises(ProbabilityError, match=r"outside \[0, 1\].*from_logits=True"):
        losses.categorical_crossentropy(onehot, logits)
    with pytest.raises(ProbabilityError, match="from_logits=True"):
        losses.categorical_crossentropy.gradient(onehot, logits)
    assert losses.get("categorical_crossentropy", from_logits=True)(onehot, logits) > 0


def test_rows_that_do_not_sum_to_one_are_refused():
    with pytest.raises(ProbabilityError, match="should each sum to 1.*0.4"):
        losses.categorical_crossentropy([[1.0, 0.0]], [[0.2, 0.2]])
    with pytest.raises(ProbabilityError, match="should each sum to 1"):
        losses.sparse_categorical_crossentropy([0], [[0.2, 0.2]])


def test_logits_given_to_sparse_categorical_crossentropy_name_cross_entropy():
    logits = np.array([[2.0, -1.0, 0.5]])                      # the old code trained on them
    with pytest.raises(ProbabilityError, match="from_logits=True.*cross_entropy"):
        losses.sparse_categorical_crossentropy([0], logits)
    with pytest.raises(ProbabilityError, match="cross_entropy"):
        losses.sparse_categorical_crossentropy.value_and_gradient([0], logits)


def test_binary_crossentropy_refuses_a_prediction_outside_0_1_and_a_label_of_2():
    with pytest.raises(ProbabilityError, match=r"e\.g\. 5.*from_logits=True"):
        losses.binary_crossentropy([1.0], [5.0])
    with pytest.raises(LabelError, match="labels must be 0 or 1.*hinge"):
        losses.binary_crossentropy([2.0], [0.5])
    with pytest.raises(LabelError, match="labels must be 0 or 1"):
        losses.get("binary_crossentropy", from_logits=True).gradient([-1.0], [0.3])
    assert losses.binary_crossentropy([0.3], [0.5]) > 0          # a soft label is fine


@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy"])
@pytest.mark.parametrize("value", ["no", "False", 0, 1, None])
def test_from_logits_must_be_a_bool(name, value):
    with pytest.raises(HyperparameterError, match="from_logits must be True or False"):
        losses.get(name, from_logits=value)


def test_probabilities_are_clipped_to_epsilon():
    assert losses.binary_crossentropy([1.0], [0.0]) == pytest.approx(-np.log(1e-7))
    assert losses.sparse_categorical_crossentropy([0], [[0.0, 1.0]]) == pytest.approx(-np.log(1e-7))
    # the clipped function is flat where the clip is active, so its gradient is 0 there
    assert np.all(losses.binary_crossentropy.gradient([1.0], [0.0]) == 0)
    np.testing.assert_array_equal(losses.categorical_crossentropy.gradient([[1.0, 0.0]], [[0.0, 1.0]]),
                                  [[0.0, 0.0]])
    np.testing.assert_array_equal(losses.sparse_categorical_crossentropy.gradient([0, 1], [[0.0, 1.0]] * 2),
                                  [[0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy.gradient([0], [[0.5, 0.5]]),
                               [[-2.0, 0.0]])


def test_hinge_maps_zero_one_labels_to_minus_one_one():
    scores = np.array([0.3, -2.0, 0.7])
    assert losses.hinge([1, 0, 0], scores) == losses.hinge([1, -1, -1], scores)
    np.testing.assert_array_equal(losses.hinge.gradient([1, 0, 0], scores),
                                  losses.hinge.gradient([1, -1, -1], scores))


def test_nll_of_log_softmax_equals_cross_entropy_and_log_softmax_is_stable():
    z = np.array([[1000.0, 0.0, -1000.0], [3.0, 2.0, 1.0]])
    labels = np.array([0, 2])
    assert np.all(np.isfinite(losses.log_softmax(z)))
    assert losses.nll(labels, losses.log_softmax(z)) == pytest.approx(losses.cross_entropy(labels, z))
    np.testing.assert_allclose(losses.softmax(z).sum(axis=-1), 1.0)


# ---------------------------------------------------------------------------
# Gradients against finite differences
# ---------------------------------------------------------------------------

REGRESSION = [losses.mae, losses.mse, losses.huber, losses.get("huber", delta=0.3)]


@pytest.mark.parametrize("loss", REGRESSION, ids=repr)
@pytest.mark.parametrize("shape", [(7,), (4, 3), (2, 3, 2)])
def test_regression_gradients(loss, shape, rng):
    y_true = rng.normal(size=shape)
    y_pred = y_true + rng.choice([-1, 1], size=shape) * rng.uniform(0.05, 2.5, size=shape)
    check_gradient(loss, y_true, y_pred)


@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_crossentropy_gradient(from_logits, rng):
    y_true = rng.integers(0, 2, size=(5, 2)).astype(float)
    y_pred = rng.normal(size=(5, 2)) * 3 if from_logits else rng.uniform(0.05, 0.95, size=(5, 2))
    check_gradient(losses.get("binary_crossentropy", from_logits=from_logits), y_true, y_pred)


@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical_crossentropy_gradient(from_logits, rng):
    y_true = rng.uniform(0, 1, size=(5, 4))   # soft targets not summing to 1: the general formula
    y_pred = rng.normal(size=(5, 4)) * 3 if from_logits else rng.dirichlet(np.ones(4), size=5)
    check_gradient(losses.get("categorical_crossentropy", from_logits=from_logits), y_true, y_pred)


@pytest.mark.parametrize("name, make_input", [
    ("sparse_categorical_crossentropy", lambda z: losses.softmax(z)),
    ("cross_entropy", lambda z: z),
    ("nll", lambda z: losses.log_softmax(z)),
])
@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 5)])
def test_integer_label_gradients(name, make_input, shape, rng):
    y_true = rng.integers(0, shape[-1], size=shape[:-1])
    check_gradient(losses.get(name), y_true, make_input(rng.normal(size=shape) * 2))


def test_sparse_from_logits_gradient(rng):
    y_true = rng.integers(0, 3, size=6)
    check_gradient(losses.get("sparse_categorical_crossentropy", from_logits=True), y_true,
                   rng.normal(size=(6, 3)))


def test_hinge_gradient_away_from_the_margin(rng):
    y_true = rng.choice([-1.0, 1.0], size=(4, 3))
    scores = y_true * rng.choice([-1, 1], size=(4, 3)) * rng.uniform(0.1, 2, size=(4, 3)) + y_true
    # y * s = 1 ± something in [0.1, 2]: never at the margin
    check_gradient(losses.hinge, y_true, scores)


# ---------------------------------------------------------------------------
# The kinks
# ---------------------------------------------------------------------------

def test_mae_at_the_kink_uses_subgradient_zero_between_the_one_sided_slopes():
    y_true = np.array([1.0, 2.0, 3.0, 4.0])
    y_pred = np.array([1.0, 2.5, 2.0, 4.0])               # error 0 at indices 0 and 3
    grad = losses.mae.gradient(y_true, y_pred)
    np.testing.assert_array_equal(grad, [0.0, 0.25, -0.25, 0.0])
    left, right = one_sided_differences(losses.mae, y_true, y_pred, 0)
    assert left == pytest.approx(-0.25, rel=1e-6) and right == pytest.approx(0.25, rel=1e-6)
    assert left <= grad[0] <= right                        # a valid subgradient
    # away from the kink the finite-difference check holds for the other entries
    numerical = numerical_gradient(lambda p: losses.mae(y_true, p), y_pred.copy())
    assert relative_error(grad[1:3], numerical[1:3]) < TOLERANCE


@pytest.mark.parametrize("delta", [1.0, 0.5])
def test_huber_is_differentiable_at_plus_minus_delta(delta):
    loss = losses.get("huber", delta=delta)
    y_true = np.array([0.0, 1.0, -2.0])
    y_pred = y_true + np.array([delta, -delta, delta])     # exactly on both joins
    grad = loss.gradient(y_true, y_pred)
    np.testing.assert_allclose(grad, np.array([delta, -delta, delta]) / 3)
    check_gradient(loss, y_true, y_pred)                   # the two pieces share their slope


def test_hinge_at_the_margin_uses_subgradient_zero_the_right_hand_slope():
    y_true = np.array([1.0, -1.0, 1.0])
    scores = np.array([1.0, -1.0, 0.2])                    # y s = 1, 1 (margin), 0.2 (inside)
    grad = losses.hinge.gradient(y_true, scores)
    np.testing.assert_array_equal(grad, [0.0, 0.0, -1 / 3])
    for index in (0, 1):
        left, right = one_sided_differences(losses.hinge, y_true, scores, index)
        slope_inside = -y_true[index] / 3                  # moving s into the margin
        assert min(left, right) == pytest.approx(min(0, slope_inside), abs=1e-6)
        assert max(left, right) == pytest.approx(max(0, slope_inside), abs=1e-6)
        assert min(left, right) <= grad[index] <= max(left, right)   # a valid subgradient


# ---------------------------------------------------------------------------
# value_and_gradient, dtypes, get()
# ---------------------------------------------------------------------------

ALL_NAMES = ["mae", "mse", "huber", "binary_crossentropy", "categorical_crossentropy",
             "sparse_categorical_crossentropy", "hinge", "cross_entropy", "nll"]


def example_inputs(name, rng, dtype=np.float64):
    z = rng.normal(size=(5, 3)).astype(dtype)
    labels = rng.integers(0, 3, size=5)
    if name in ("sparse_categorical_crossentropy",):
        return labels, losses.softmax(z)
    if name in ("cross_entropy",):
        return labels, z
    if name == "nll":
        return labels, losses.log_softmax(z)
    if name == "categorical_crossentropy":
        return np.eye(3)[labels], losses.softmax(z)
    if name == "binary_crossentropy":
        return rng.integers(0, 2, size=(5, 3)), losses.softmax(z)
    if name == "hinge":
        return rng.choice([-1, 1], size=(5, 3)), z
    return rng.normal(size=(5, 3)), z


@pytest.mark.parametrize("name", ALL_NAMES)
def test_value_and_gradient_agrees_with_separate_calls(name, rng):
    loss = losses.get(name)
    y_true, y_pred = example_inputs(name, rng)
    value, grad = loss.value_and_gradient(y_true, y_pred)
    assert value == pytest.approx(loss(y_true, y_pred), rel=1e-12)
    np.testing.assert_allclose(grad, loss.gradient(y_true, y_pred), rtol=1e-12)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_float32_in_float32_gradient_out(name, rng):
    loss = losses.get(name)
    y_true, y_pred = example_inputs(name, rng, dtype=np.float32)
    y_pred = y_pred.astype(np.float32)
    value, grad = loss.value_and_gradient(y_true, y_pred)
    assert grad.dtype == np.float32 and isinstance(value, float)
    assert loss.gradient(y_true, y_pred).dtype == np.float32
    reference = loss(y_true, y_pred.astype(np.float64))
    assert value == pytest.approx(reference, rel=1e-5)


def test_cross_entropy_does_not_modify_its_inputs(rng):
    z = rng.normal(size=(4, 3)).astype(np.float32)
    original = z.copy()
    losses.cross_entropy.value_and_gradient([0, 1, 2, 0], z)
    assert np.array_equal(z, original)


def test_module_level_instances_and_get_agree():
    for name in ALL_NAMES:
        assert type(losses.get(name)) is type(getattr(losses, name))
    assert isinstance(losses.get("mean_squared_error"), losses.MeanSquaredError)
    assert losses.get("MSE").name == "mse"
    instance = losses.Huber(delta=2.0)
    assert losses.get(instance) is instance
    assert losses.get("binary_crossentropy", from_logits=True).from_logits
    assert repr(losses.get("huber", delta=2.0)) == "Huber(delta=2.0)"


# ---------------------------------------------------------------------------
# Error messages
# ---------------------------------------------------------------------------

def test_unknown_name_lists_the_valid_names_and_suggests_one():
    with pytest.raises(UnknownNameError) as info:
        losses.get("mean_sqared_error")
    message = str(info.value)
    assert "'mean_sqared_error'" in message and "Did you mean 'mean_squared_error'" in message
    for name in ALL_NAMES:
        assert name in message
    assert isinstance(info.value, KeyError)


def test_unknown_option_names_the_valid_options():
    with pytest.raises(HyperparameterError, match=r"'huber' has no option 'delt'; its options: delta"):
        losses.get("huber", delt=2)
    with pytest.raises(HyperparameterError, match="options: none"):
        losses.get("mse", from_logits=True)


@pytest.mark.parametrize("delta", [0, -1.0, float("nan"), float("inf")])
def test_huber_rejects_a_non_positive_delta(delta):
    with pytest.raises(HyperparameterError, match=r"delta must be a positive number"):
        losses.get("huber", delta=delta)


def test_get_rejects_options_with_an_instance_and_non_names():
    with pytest.raises(TypeError):
        losses.get(losses.mse, delta=1)
    with pytest.raises(TypeError, match="loss name"):
        losses.get(42)


@pytest.mark.parametrize("name", ["mae", "mse", "huber", "binary_crossentropy", "hinge"])
def test_flat_targets_and_column_predictions_are_lined_up_as_in_keras(name, rng):
    loss = losses.get(name)
    y_true = rng.integers(0, 2, size=8).astype(float)
    y_pred = rng.uniform(0.1, 0.9, size=(8, 1))
    assert loss(y_true, y_pred) == loss(y_true.reshape(8, 1), y_pred)      # not an (8, 8) broadcast
    grad = loss.gradient(y_true, y_pred)
    assert grad.shape == (8, 1)
    np.testing.assert_array_equal(grad, loss.gradient(y_true.reshape(8, 1), y_pred))
    assert loss(y_true.reshape(8, 1), y_pred.ravel()) == loss(y_true, y_pred.ravel())


@pytest.mark.parametrize("name", ["mae", "mse", "huber", "binary_crossentropy", "hinge"])
def test_mismatched_shapes_name_both_shapes_and_the_fix(name):
    loss = losses.get(name)
    with pytest.raises(ShapeError) as info:
        loss(np.zeros(8), np.zeros((4, 2)))
    message = str(info.value)
    assert "(8,)" in message and "(4, 2)" in message and "y_true.reshape(4, 2)" in message
    with pytest.raises(ShapeError, match=r"\(8,\).*\(8, 3\).*one output per target column"):
        loss(np.zeros(8), np.zeros((8, 3)))


@pytest.mark.parametrize("name", ALL_NAMES[:5] + ["hinge"])
def test_gradient_also_checks_shapes(name):
    with pytest.raises(ShapeError, match=r"\(3, 2\).*\(2, 3\)"):
        losses.get(name).gradient(np.zeros((3, 2)), np.zeros((2, 3)))


def test_integer_labels_given_to_categorical_crossentropy_suggest_sparse():
    with pytest.raises(ShapeError, match=r"\(4,\).*\(4, 3\).*sparse_categorical_crossentropy"):
        losses.categorical_crossentropy(np.array([0, 1, 2, 0]), np.full((4, 3), 1 / 3))


@pytest.mark.parametrize("name", ["sparse_categorical_crossentropy", "cross_entropy", "nll"])
def test_label_errors(name):
    loss = losses.get(name)
    y_pred = np.full((3, 4), 0.25)
    with pytest.raises(LabelError, match=r"0 \.\. 3 .*4 classes.*y_true\[1\] = 4"):
        loss([0, 4, 1], y_pred)
    with pytest.raises(LabelError, match=r"0 \.\. 3 .*y_true\[2\] = -1"):
        loss.gradient([0, 1, -1], y_pred)
    with pytest.raises(LabelError, match="integer class labels"):
        loss([0.5, 1, 2], y_pred)
    with pytest.raises(ShapeError, match=r"one-hot.*argmax"):
        loss(np.eye(4)[[0, 1, 2]], y_pred)
    with pytest.raises(ShapeError, match=r"shape \(3,\).*got \(2,\)"):
        loss([0, 1], y_pred)
    # accepted: labels as a column (Keras) and as whole-number floats
    assert loss(np.array([[0], [1], [2]]), y_pred) == pytest.approx(loss([0, 1, 2], y_pred))
    assert loss(np.array([0.0, 1.0, 2.0]), y_pred) == pytest.approx(loss([0, 1, 2], y_pred))


def test_hinge_rejects_other_labels():
    with pytest.raises(LabelError, match=r"-1 or 1 \(or 0 and 1"):
        losses.hinge([2.0, -1.0], [0.5, 0.5])


def test_empty_batch_is_an_error():
    with pytest.raises(ShapeError, match="empty"):
        losses.mse(np.zeros(0), np.zeros(0))
    with pytest.raises(ShapeError, match="empty"):
        losses.cross_entropy(np.zeros(0, int), np.zeros((0, 3)))
