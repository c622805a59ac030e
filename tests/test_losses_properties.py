"""Property-based tests of course_lib.losses (hypothesis): for random shapes and
values, every loss is finite and non-negative, its gradient has y_pred's shape
and dtype, its value equals the textbook formula, and its gradient predicts
how the loss changes along a random direction."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from course_lib import losses

# derandomize: the same examples on every run (the suite must be deterministic);
# database=None: nothing written to disk. A local object, not a global profile,
# so other test files keep their own settings.
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True, database=None)

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)
dtypes = st.sampled_from([np.float32, np.float64])


def reals(shape, dtype, bound):
    return hnp.arrays(dtype, shape, elements=st.floats(-bound, bound, width=32))


@st.composite
def regression_pair(draw, bound=1e3):
    shape, dtype = draw(shapes), draw(dtypes)
    return draw(reals(shape, np.float64, bound)), draw(reals(shape, dtype, bound))


@st.composite
def labels_and_logits(draw, bound=1e4):
    n, classes, dtype = draw(st.integers(1, 6)), draw(st.integers(2, 6)), draw(dtypes)
    logits = draw(reals((n, classes), dtype, bound))
    labels = draw(hnp.arrays(np.int64, n, elements=st.integers(0, classes - 1)))
    return labels, logits


REGRESSION = {
    "mae": lambda t, p: np.mean(np.abs(p - t)),
    "mse": lambda t, p: np.mean((p - t) ** 2),
    "huber": lambda t, p: np.mean(np.where(np.abs(p - t) <= 1, 0.5 * (p - t) ** 2, np.abs(p - t) - 0.5)),
}


@pytest.mark.parametrize("name", sorted(REGRESSION))
@PROPERTY
@given(pair=regression_pair())
def test_regression_losses_match_the_formula_and_are_non_negative(name, pair):
    y_true, y_pred = pair
    loss = losses.get(name)
    value, grad = loss.value_and_gradient(y_true, y_pred)
    naive = REGRESSION[name](y_true, y_pred.astype(np.float64))
    assert value >= 0 and np.isfinite(value)
    assert value == pytest.approx(naive, rel=1e-5 if y_pred.dtype == np.float32 else 1e-9, abs=1e-6)
    assert grad.shape == y_pred.shape and grad.dtype == y_pred.dtype
    assert np.all(np.isfinite(grad))
    assert loss(y_pred, y_pred) == 0


@PROPERTY
@given(pair=regression_pair(), data=st.data())
def test_mae_gradient_is_sign_over_n_and_huber_gradient_is_bounded(pair, data):
    y_true, y_pred = pair
    n = y_pred.size
    grad = losses.mae.gradient(y_true, y_pred)
    np.testing.assert_allclose(grad * n, np.sign(y_pred - y_true.astype(y_pred.dtype)), rtol=1e-6)
    delta = data.draw(st.floats(0.01, 10))
    huber_grad = losses.get("huber", delta=delta).gradient(y_true, y_pred)
    assert np.all(np.abs(huber_grad) * n <= delta * (1 + 1e-6))


SMOOTH = ["mse", "huber", "cross_entropy", "binary_crossentropy_logits", "categorical_logits"]


@st.composite
def smooth_case(draw):
    name = draw(st.sampled_from(SMOOTH))
    n, classes = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    y_pred = draw(reals((n, classes), np.float64, 5.0))
    direction = draw(reals((n, classes), np.float64, 1.0))
    if name == "cross_entropy":
        y_true = draw(hnp.arrays(np.int64, n, elements=st.integers(0, classes - 1)))
        loss = losses.cross_entropy
    elif name == "binary_crossentropy_logits":
        y_true = draw(hnp.arrays(np.float64, (n, classes), elements=st.sampled_from([0.0, 1.0])))
        loss = losses.get("binary_crossentropy", from_logits=True)
    elif name == "categorical_logits":
        y_true = np.eye(classes)[draw(hnp.arrays(np.int64, n, elements=st.integers(0, classes - 1)))]
        loss = losses.get("categorical_crossentropy", from_logits=True)
    else:
        y_true = draw(reals((n, classes), np.float64, 5.0))
        loss = losses.get(name)
    return loss, y_true, y_pred, direction


@PROPERTY
@given(case=smooth_case())
def test_gradient_predicts_the_change_along_a_random_direction(case):
    loss, y_true, y_pred, direction = case
    eps = 1e-6
    predicted = np.sum(loss.gradient(y_true, y_pred) * direction)
    measured = (loss(y_true, y_pred + eps * direction) - loss(y_true, y_pred - eps * direction)) / (2 * eps)
    assert measured == pytest.approx(predicted, rel=1e-5, abs=1e-7)


@PROPERTY
@given(case=labels_and_logits())
def test_cross_entropy_is_finite_non_negative_and_its_gradient_rows_sum_to_zero(case):
    labels, logits = case
    value, grad = losses.cross_entropy.value_and_gradient(labels, logits)
    assert np.isfinite(value) and value >= 0
    assert losses.cross_entropy(labels, logits) == pytest.approx(value, rel=1e-6, abs=1e-6)
    assert grad.shape == logits.shape and grad.dtype == logits.dtype
    assert np.all(np.isfinite(grad))
    n = len(labels)
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-5 / n)
    assert np.all(grad >= -1 / n - 1e-6) and np.all(grad <= 1 / n + 1e-6)


@PROPERTY
@given(case=labels_and_logits(bound=20.0), shift=st.floats(-50, 50))
def test_cross_entropy_equals_the_naive_formula_and_ignores_a_shift(case, shift):
    labels, logits = case
    z = logits.astype(np.float64)
    probabilities = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    naive = -np.mean(np.log(probabilities[np.arange(len(labels)), labels]))
    rel = 1e-5 if logits.dtype == np.float32 else 1e-9
    assert losses.cross_entropy(labels, z) == pytest.approx(naive, rel=1e-9, abs=1e-9)
    assert losses.cross_entropy(labels, logits) == pytest.approx(naive, rel=rel, abs=1e-5)
    assert losses.cross_entropy(labels, z + shift) == pytest.approx(naive, rel=1e-7, abs=1e-7)
    # the same number along the three routes to it
    assert losses.nll(labels, losses.log_softmax(z)) == pytest.approx(naive, rel=1e-9, abs=1e-9)
    sparse_logits = losses.get("sparse_categorical_crossentropy", from_logits=True)
    assert sparse_logits(labels, z) == pytest.approx(naive, rel=1e-9, abs=1e-9)


@PROPERTY
@given(case=labels_and_logits(bound=8.0))
def test_probability_losses_match_their_formulas(case):
    labels, logits = case
    p = losses.softmax(logits.astype(np.float64))
    clipped = np.clip(p, 1e-7, 1 - 1e-7)
    one_hot = np.eye(p.shape[1])[labels]
    expected = -np.mean(np.sum(one_hot * np.log(clipped), axis=1))
    assert losses.categorical_crossentropy(one_hot, p) == pytest.approx(expected, rel=1e-9)
    assert losses.sparse_categorical_crossentropy(labels, p) == pytest.approx(expected, rel=1e-9)
    binary_targets = (one_hot > 0).astype(float)
    expected_bce = -np.mean(binary_targets * np.log(clipped) + (1 - binary_targets) * np.log(1 - clipped))
    assert losses.binary_crossentropy(binary_targets, p) == pytest.approx(expected_bce, rel=1e-9)


@PROPERTY
@given(pair=regression_pair(bound=1e4))
def test_binary_crossentropy_from_logits_is_finite_for_extreme_logits(pair):
    _, logits = pair
    targets = (np.arange(logits.size).reshape(logits.shape) % 2).astype(np.float64)
    loss = losses.get("binary_crossentropy", from_logits=True)
    value, grad = loss.value_and_gradient(targets, logits)
    assert np.isfinite(value) and value >= 0
    assert np.all(np.isfinite(grad)) and grad.shape == logits.shape
    # with moderate logits it agrees with the probability version
    moderate = np.clip(logits.astype(np.float64), -8, 8)
    sigmoid = 1 / (1 + np.exp(-moderate))
    assert loss(targets, moderate) == pytest.approx(losses.binary_crossentropy(targets, sigmoid), rel=1e-6)


@PROPERTY
@given(pair=regression_pair(bound=10.0), zero_one=st.booleans())
def test_hinge_is_non_negative_and_its_gradient_is_minus_y_over_n_or_zero(pair, zero_one):
    y_true, scores = pair
    signs = np.where(y_true >= 0, 1.0, -1.0)
    labels = (signs + 1) / 2 if zero_one else signs
    value, grad = losses.hinge.value_and_gradient(labels, scores)
    assert value >= 0
    expected = np.mean(np.maximum(0, 1 - signs * scores.astype(np.float64)))
    assert value == pytest.approx(expected, rel=1e-6, abs=1e-6)
    n = scores.size
    inside = signs * scores.astype(np.float64) < 1
    np.testing.assert_allclose(grad, np.where(inside, -signs / n, 0), rtol=1e-6)
