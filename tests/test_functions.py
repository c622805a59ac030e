"""Tests of course_lib.functions: values, gradients (against finite differences),
the listed minima and maxima, and evaluation on a meshgrid."""

import numpy as np
import pytest

from course_lib import functions
from course_lib.errors import HyperparameterError
from course_lib.gradcheck import numerical_gradient, relative_error

ONE_D = [functions.cubic(), functions.tilted_double_well()]
TWO_D = [functions.quadratic_bowl(10), functions.quadratic_bowl(25, center=(1, -2), angle=0.6),
         functions.rosenbrock(), functions.rosenbrock(a=-0.5, b=10), functions.himmelblau()]


@pytest.mark.parametrize("f", ONE_D + TWO_D, ids=repr)
def test_gradient_matches_finite_differences(f):
    rng = np.random.default_rng(1)
    for _ in range(5):
        point = rng.uniform(-2, 2, size=() if f in ONE_D else 2)
        point = np.array(point, dtype=np.float64)
        numerical = numerical_gradient(lambda p: float(f.value(p)), point)
        assert relative_error(f.gradient(point), numerical) < 1e-6


@pytest.mark.parametrize("f", ONE_D + TWO_D, ids=repr)
def test_listed_minima_and_maxima_are_critical_points_of_the_right_kind(f):
    for point in list(f.minima) + list(f.maxima):
        assert np.allclose(f.gradient(point), 0, atol=1e-9)
    h = 1e-3
    for point in f.minima:
        point = np.asarray(point, dtype=float)
        for step in ([h], [-h]) if point.ndim == 0 else ([h, 0], [-h, 0], [0, h], [0, -h]):
            assert f.value(point + np.array(step).reshape(point.shape)) > f.value(point)
    for point in f.maxima:
        point = np.asarray(point, dtype=float)
        for step in ([h], [-h]) if point.ndim == 0 else ([h, 0], [-h, 0], [0, h], [0, -h]):
            assert f.value(point + np.array(step).reshape(point.shape)) < f.value(point)


def test_cubic_has_a_local_minimum_a_local_maximum_and_no_global_minimum():
    f = functions.cubic()
    assert f.minima == pytest.approx([4 / 3]) and f.maxima == pytest.approx([0.0])
    assert f.value(4 / 3) == pytest.approx(22 / 27) and f.value(0) == 2
    assert f.global_minimum is None and f.value(-10) < f.value(4 / 3)


def test_tilted_double_well_has_two_minima_of_different_depth():
    f = functions.tilted_double_well()
    left, right = f.minima
    assert left < f.maxima[0] < right
    assert f.global_minimum == left and f.value(left) < f.value(right)


def test_known_minimum_values():
    assert functions.rosenbrock(a=2, b=5).global_minimum == (2, 4)
    assert functions.rosenbrock(a=2, b=5).value((2, 4)) == 0
    bowl = functions.quadratic_bowl(10, center=(1, 2))
    assert bowl.value((1, 2)) == 0 and bowl.value((2, 2)) > 0
    himmelblau = functions.himmelblau()
    assert len(himmelblau.minima) == 4
    assert all(himmelblau.value(p) < 1e-20 for p in himmelblau.minima)
    assert himmelblau.value(himmelblau.maxima[0]) == pytest.approx(181.6165, rel=1e-6)


def test_quadratic_bowl_has_the_requested_condition_number():
    for angle in (0.0, 0.7):
        bowl = functions.quadratic_bowl(condition_number=40, angle=angle)
        eigenvalues = np.linalg.eigvalsh(bowl.hessian)
        assert eigenvalues.max() / eigenvalues.min() == pytest.approx(40)
        assert bowl.max_stable_lr == pytest.approx(2 / 40)


@pytest.mark.parametrize("f", TWO_D, ids=repr)
def test_two_d_functions_evaluate_a_whole_meshgrid(f):
    X, Y, Z = f.grid(n=30)
    assert X.shape == Y.shape == Z.shape == (30, 30)
    assert Z[7, 11] == pytest.approx(f.value((X[7, 11], Y[7, 11])))
    grad = f.gradient((X, Y))
    assert grad.shape == (2, 30, 30)
    np.testing.assert_allclose(grad[:, 4, 9], f.gradient((X[4, 9], Y[4, 9])))


@pytest.mark.parametrize("f", ONE_D, ids=repr)
def test_one_d_functions_are_elementwise(f):
    x, y = f.curve(n=50)
    assert x[0] == f.x_range[0] and x[-1] == f.x_range[1]
    assert y.shape == (50,) and y[3] == f.value(x[3])
    assert f.gradient(np.ones((2, 3))).shape == (2, 3)


def test_bad_arguments():
    with pytest.raises(HyperparameterError, match="condition_number must be >= 1"):
        functions.quadratic_bowl(0.5)
    with pytest.raises(HyperparameterError, match="b must be > 0"):
        functions.rosenbrock(b=0)
    with pytest.raises(ValueError, match="point \\(x, y\\)"):
        functions.rosenbrock().value([1.0, 2.0, 3.0])
