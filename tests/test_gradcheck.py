"""Tests of course_lib.gradcheck: the finite-difference gradient and relative error."""

import numpy as np
import pytest

from course_lib import nn
from course_lib.errors import ShapeError
from course_lib.gradcheck import check_layer_gradients, numerical_gradient, relative_error


def test_numerical_gradient_of_known_functions_any_shape():
    x = np.random.default_rng(0).normal(size=(2, 3, 2))
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v ** 2), x), 2 * x, rtol=1e-8)
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(np.sin(v)), x), np.cos(x),
                               rtol=1e-7, atol=1e-9)
    scalar = np.array(1.5)
    assert numerical_gradient(lambda v: float(v) ** 3, scalar) == pytest.approx(3 * 1.5 ** 2)


def test_numerical_gradient_restores_x_even_when_f_raises():
    x = np.array([1.0, 2.0, 3.0])
    original = x.copy()
    numerical_gradient(lambda v: np.prod(v), x)
    assert np.array_equal(x, original)

    def failing(v):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numerical_gradient(failing, x)
    assert np.array_equal(x, original)


def test_numerical_gradient_perturbs_in_place_so_closures_see_it():
    weights = np.array([2.0, -1.0])
    data = np.array([3.0, 4.0])
    grad = numerical_gradient(lambda _: float(weights @ data) ** 2, weights)
    np.testing.assert_allclose(grad, 2 * (weights @ data) * data, rtol=1e-8)


def test_numerical_gradient_refuses_low_precision_arrays():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(np.sum, np.ones(3, np.float32))


def test_numerical_gradient_accepts_numbers_and_lists():
    grad = numerical_gradient(lambda x: x ** 3 - 2 * x ** 2 + 2, 2.0)
    assert isinstance(grad, float) and grad == pytest.approx(3 * 4 - 4 * 2)
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v ** 2), [1.0, -2.0]), [2.0, -4.0])


def test_relative_error_definition():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0, -2.0], [-1.0, 2.0]) == pytest.approx(1.0)
    # max |a - b| = 0.1, max (|a| + |b|) = 4.1
    assert relative_error([1.0, 2.0], [1.0, 2.1]) == pytest.approx(0.1 / 4.1)
    # tiny entries do not dominate: the error is relative to the largest magnitude
    assert relative_error([1.0, 1e-13], [1.0, 3e-13]) < 1e-12
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.zeros(3), np.full(3, 1e-20)) == pytest.approx(1e-8)
    with pytest.raises(ShapeError, match=r"\(2,\).*\(3,\)"):
        relative_error(np.zeros(2), np.zeros(3))


def test_check_layer_gradients_catches_a_wrong_backward():
    class WrongSquare(nn.Module):          # forward x², backward claims x (missing the 2)
        def forward(self, x):
            self.x = x
            return x ** 2

        def backward(self, grad_output):
            return grad_output * self.x

    errors = check_layer_gradients(WrongSquare(), np.array([[1.0, 2.0, -3.0]]))
    assert errors["input"] > 0.1
