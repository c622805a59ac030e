"""The optimizers' fast path (course_lib.fast_optim) against the reference (course_lib.optim).

The fast path must give the same numbers as the NumPy rules a learner reads:
float64 to 1e-12 relative, float32 within a few ulps (units in the last place).
"""

import numpy as np
import pytest

from course_lib import fast_optim, nn, optim
from course_lib.errors import ShapeError

needs_numba = pytest.mark.skipif(not fast_optim.available(), reason="numba is not installed")

# Every optimizer, and every option that changes which lines of the rule run.
OPTION_SETS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.5, weight_decay=0.1, initial_accumulator_value=0.2)),
    ("Adagrad", dict(maximize=True, eps=1e-3)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(centered=True, momentum=0.9, weight_decay=0.1, alpha=0.9)),
    ("RMSprop", dict(momentum=0.5, maximize=True)),
    ("RMSprop", dict(centered=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(betas=(0.5, 0.6), eps=0.1, maximize=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.1, amsgrad=True, weight_decay=0.3, maximize=True)),
]


def run(name, options, dtype, fast, steps=30, seed=0):
    """Parameters and optimizer state after ``steps`` steps on random gradients."""
    rng = np.random.default_rng(seed)
    shapes = [(7, 5), (5,), (5, 3), (3,)]
    params = [nn.Parameter(rng.normal(size=shape).astype(dtype)) for shape in shapes]
    optimizer = getattr(optim, name)(params, fast=fast, **options)
    for _ in range(steps):
        optimizer.zero_grad()
        for param in params:
            param.grad += rng.normal(size=param.shape).astype(dtype) * rng.choice([0.01, 1, 10])
        optimizer.step()
    return params, optimizer


@needs_numba
@pytest.mark.parametrize("name, options", OPTION_SETS)
def test_both_paths_give_the_same_numbers_in_float64(name, options):
    reference_params, reference = run(name, options, np.float64, fast=False)
    fast_params, fast = run(name, options, np.float64, fast=True)
    assert reference.fast is None and fast.fast is not None
    for a, b in zip(reference_params, fast_params):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-12, atol=0)
    for state_a, state_b in zip(reference.state, fast.state):
        for key in state_a:
            np.testing.assert_allclose(state_b[key], state_a[key], rtol=1e-12, atol=1e-300)


@needs_numba
@pytest.mark.parametrize("name, options", OPTION_SETS)
def test_both_paths_give_the_same_numbers_in_float32(name, options):
    reference_params, _ = run(name, options, np.float32, fast=False)
    fast_params, _ = run(name, options, np.float32, fast=True)
    for a, b in zip(reference_params, fast_params):
        assert b.data.dtype == a.data.dtype == np.float32
        ulps = np.abs(b.data - a.data) / np.spacing(np.abs(a.data))
        assert ulps.max() <= 4, f"{name} {options}: {ulps.max()} ulps apart"


@needs_numba
def test_the_switch_an_argument_and_an_environment_variable(monkeypatch):
    param = nn.Parameter(np.zeros(3))
    monkeypatch.delenv("DESCENT_FAST", raising=False)
    assert optim.Adam([param]).fast is not None              # automatic: numba is here
    assert optim.Adam([param], fast=False).fast is None
    monkeypatch.setenv("DESCENT_FAST", "0")
    assert optim.Adam([param]).fast is None
    assert optim.Adam([param], fast=True).fast is not None   # the argument wins
    with pytest.raises(TypeError, match="fast must be True, False or None"):
        optim.Adam([param], fast="yes")


def test_without_numba_the_reference_runs_and_fast_true_explains(monkeypatch):
    monkeypatch.setattr(fast_optim, "NUMBA_PROBLEM", "numba does not import (simulated)")
    monkeypatch.delenv("DESCENT_FAST", raising=False)
    param = nn.Parameter(np.array([1.0]))
    optimizer = optim.SGD([param], lr=0.5)
    assert optimizer.fast is None
    param.grad[...] = 1.0
    optimizer.step()
    assert param.data[0] == 0.5
    with pytest.raises(RuntimeError, match="numba does not import.*fast=False"):
        optim.SGD([param], fast=True)


@needs_numba
def test_a_read_only_install_compiles_without_a_disk_cache(monkeypatch):
    """numba raises "cannot cache function ... no locator available" where it can't write."""
    real_njit = fast_optim.numba.njit

    def njit_without_locator(**options):
        if options.get("cache"):
            raise RuntimeError("cannot cache function 'f': no locator available for file 'x'")
        return real_njit(**options)

    monkeypatch.setattr(fast_optim.numba, "njit", njit_without_locator)

    def double(x):
        return 2 * x
    assert fast_optim._compile(double)(21.0) == 42.0


# ===========================================================================
# The flat buffer
# ===========================================================================

def small_model(dtype=np.float32):
    return nn.Sequential(nn.Linear(3, 4, seed=0, dtype=dtype), nn.ReLU(),
                         nn.Linear(4, 2, seed=1, dtype=dtype))


@needs_numba
def test_parameters_and_state_become_views_of_one_flat_buffer():
    model = small_model()
    before = [p.data.copy() for p in model.parameters()]
    optimizer = optim.Adam(model, fast=True)
    (group,) = optimizer.fast.groups
    assert group.theta.shape == (3 * 4 + 4 + 4 * 2 + 2,)
    for param, values, state in zip(model.parameters(), before, optimizer.state):
        assert np.shares_memory(param.data, group.theta)
        assert np.shares_memory(param.grad, group.grad)
        assert np.shares_memory(state["exp_avg"], group.state["exp_avg"])
        np.testing.assert_array_equal(param.data, values)      # values unchanged


@needs_numba
def test_rebinding_data_or_grad_is_noticed():
    param = nn.Parameter(np.array([1.0, 2.0]))
    optimizer = optim.SGD([param], lr=0.5, fast=True)
    param.data = np.array([10.0, 20.0])              # rebound, not in place
    param.grad = np.array([2.0, 4.0])
    optimizer.step()
    np.testing.assert_array_equal(param.data, [9.0, 18.0])
    assert np.shares_memory(param.data, optimizer.fast.groups[0].theta)


@needs_numba
def test_rebinding_with_another_shape_is_a_shape_error():
    param = nn.Parameter(np.zeros(3))
    optimizer = optim.SGD([param], lr=0.5, fast=True)
    param.data = np.zeros(4)
    with pytest.raises(ShapeError, match=r"shape \(4,\).*shape \(3,\)"):
        optimizer.step()


@needs_numba
def test_mixed_dtypes_get_one_buffer_each_and_keep_their_dtype():
    p32 = nn.Parameter(np.ones(3, dtype=np.float32))
    p64 = nn.Parameter(np.ones(2, dtype=np.float64))
    optimizer = optim.SGD([p32, p64], lr=0.5, fast=True)
    assert len(optimizer.fast.groups) == 2
    p32.grad[...] = 1.0
    p64.grad[...] = 1.0
    optimizer.step()
    assert p32.data.dtype == np.float32 and p64.data.dtype == np.float64
    np.testing.assert_array_equal(p32.data, 0.5)
    np.testing.assert_array_equal(p64.data, 0.5)


DECAYING_STATE_CASES = [
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5)),
    ("Adam", dict(lr=0.01, betas=(0.9, 0.99))),
    ("AdamW", dict(lr=0.01, betas=(0.9, 0.99))),
]


@needs_numba
@pytest.mark.parametrize("name, options", DECAYING_STATE_CASES)
def test_state_that_decays_is_flushed_to_zero_and_theta_is_unchanged(name, options):
    # Coordinate 0 gets one gradient, then none: its running averages shrink geometrically
    # through float32's subnormal range (0 < |x| < 1.2e-38). Coordinate 1 keeps getting some.
    smallest_normal = np.finfo(np.float32).tiny
    fast_param = nn.Parameter(np.array([1.0, 1.0], dtype=np.float32))
    reference_param = nn.Parameter(np.array([1.0, 1.0], dtype=np.float32))
    fast = getattr(optim, name)([fast_param], fast=True, **options)
    reference = getattr(optim, name)([reference_param], fast=False, **options)
    saw_subnormal_in_reference = False
    for t in range(1, 2001):
        for param, optimizer in ((fast_param, fast), (reference_param, reference)):
            param.grad[...] = (1.0 if t == 1 else 0.0, 0.5 * (-1) ** t)
            optimizer.step()
        for key, array in fast.state[0].items():
            assert not ((array != 0) & (np.abs(array) < smallest_normal)).any(), (key, t)
        saw_subnormal_in_reference |= any(
            ((array != 0) & (np.abs(array) < smallest_normal)).any()
            for array in reference.state[0].values())
    assert saw_subnormal_in_reference          # the case does reach the subnormal range
    np.testing.assert_array_equal(fast_param.data, reference_param.data)
