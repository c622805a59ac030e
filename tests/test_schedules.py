"""Tests of course_lib.schedules against values worked out by hand (t counts from 1)."""

import math

import numpy as np
import pytest

from course_lib import nn, optim, schedules
from course_lib.errors import HyperparameterError, UnknownNameError


def test_constant():
    assert [schedules.constant(t, lr=0.1) for t in (1, 2, 50)] == [0.1, 0.1, 0.1]


def test_step_decay():
    # lr · gamma^⌊(t - 1) / step_size⌋ with lr=0.1, step_size=3, gamma=0.5
    expected = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
    got = [schedules.step_decay(t, lr=0.1, step_size=3, gamma=0.5) for t in range(1, 8)]
    assert got == pytest.approx(expected, rel=1e-15)


def test_exponential():
    # 0.1, 0.1 · 0.9 = 0.09, 0.1 · 0.81 = 0.081
    got = [schedules.exponential(t, lr=0.1, gamma=0.9) for t in (1, 2, 3)]
    assert got == pytest.approx([0.1, 0.09, 0.081], rel=1e-14)


def test_inverse_sqrt():
    # lr / √t: 0.1 / 1, 0.1 / 2, 0.1 / 10
    got = [schedules.inverse_sqrt(t, lr=0.1) for t in (1, 4, 100)]
    assert got == pytest.approx([0.1, 0.05, 0.01], rel=1e-15)


def test_cosine():
    # T = 4: (1 + cos(π·0/4))/2 = 1, (1 + cos(π/4))/2 = 0.853553..., (1 + cos(π/2))/2 = 0.5,
    # (1 + cos(3π/4))/2 = 0.146446..., (1 + cos(π))/2 = 0, then it stays at min_lr.
    half_root2 = math.sqrt(2) / 2
    expected = [0.1, 0.1 * (1 + half_root2) / 2, 0.05, 0.1 * (1 - half_root2) / 2, 0.0, 0.0]
    got = [schedules.cosine(t, lr=0.1, total_steps=4) for t in range(1, 7)]
    assert got == pytest.approx(expected, abs=1e-15)
    assert schedules.cosine(3, lr=0.1, total_steps=4, min_lr=0.02) == pytest.approx(0.06)
    assert schedules.cosine(99, lr=0.1, total_steps=4, min_lr=0.02) == pytest.approx(0.02)


def test_arrays_of_t_give_arrays_for_plots():
    t = np.arange(1, 6)
    values = schedules.inverse_sqrt(t, lr=1.0)
    assert isinstance(values, np.ndarray) and values.shape == (5,)
    np.testing.assert_allclose(values, 1 / np.sqrt(t))
    assert isinstance(schedules.inverse_sqrt(4, lr=1.0), float)


def test_get_fixes_the_options():
    schedule = schedules.get("step", lr=0.1, step_size=10)
    assert schedule(25) == pytest.approx(0.001)      # 0.1 · 0.1^⌊24/10⌋ = 0.1 · 0.01


@pytest.mark.parametrize("call, message", [
    (lambda: schedules.inverse_sqrt(0, lr=0.1), "Invalid step t: 0 (t counts from 1, so t must be >= 1)"),
    (lambda: schedules.constant(1, lr=-1), "Invalid lr: -1 (lr must be >= 0)"),
    (lambda: schedules.step_decay(1, lr=0.1, step_size=0), "Invalid step_size: 0 (step_size must be an integer >= 1)"),
    (lambda: schedules.step_decay(1, lr=0.1, step_size=2, gamma=0), "Invalid gamma: 0 (gamma must be > 0)"),
    (lambda: schedules.exponential(1, lr=0.1, gamma=-0.5), "Invalid gamma: -0.5 (gamma must be > 0)"),
    (lambda: schedules.cosine(1, lr=0.1, total_steps=0), "Invalid total_steps: 0 (total_steps must be an integer >= 1)"),
    (lambda: schedules.cosine(1, lr=0.1, total_steps=5, min_lr=0.5), "Invalid min_lr: 0.5 (min_lr must be <= lr = 0.1)"),
    (lambda: schedules.get("step", lr=0.1), "schedule 'step':"),
    (lambda: schedules.get("step", lr=0.1, step_size=-2), "Invalid step_size: -2"),
])
def test_invalid_arguments(call, message):
    with pytest.raises(HyperparameterError) as caught:
        call()
    assert str(caught.value).startswith(message)


def test_unknown_schedule_lists_the_valid_names():
    with pytest.raises(UnknownNameError) as caught:
        schedules.get("linear", lr=0.1)
    message = str(caught.value)
    assert "unknown schedule 'linear'" in message
    for name in ("'constant'", "'step'", "'exponential'", "'inverse_sqrt'", "'cosine'"):
        assert name in message


def test_a_schedule_that_is_neither_a_name_nor_a_function_is_a_type_error():
    with pytest.raises(TypeError, match="name such as 'cosine' or a function .* got float"):
        schedules.get(0.1)


def test_scheduler_sets_the_optimizer_learning_rate_per_epoch():
    optimizer = optim.SGD([nn.Parameter(np.zeros(1))], lr=0.1)
    scheduler = schedules.Scheduler(optimizer, "step", step_size=2, gamma=0.5)
    seen = [optimizer.lr]                  # epoch 1
    for _ in range(4):
        scheduler.step()                   # after each epoch
        seen.append(optimizer.lr)
    assert seen == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert scheduler.t == 5


def test_scheduler_per_iteration_inverse_sqrt_moves_sgd_by_hand_values():
    param = nn.Parameter(np.array([1.0]))
    optimizer = optim.SGD([param], lr=0.1)
    scheduler = schedules.Scheduler(optimizer, "inverse_sqrt")
    for _ in range(3):                     # gradient 1 every step
        param.grad[...] = 1.0
        optimizer.step()
        scheduler.step()
    expected = 1.0 - 0.1 / math.sqrt(1) - 0.1 / math.sqrt(2) - 0.1 / math.sqrt(3)
    assert param.data[0] == pytest.approx(expected, rel=1e-14)


def test_scheduler_with_a_function_and_its_state():
    optimizer = optim.Adam([nn.Parameter(np.zeros(1))], lr=0.1)
    scheduler = schedules.Scheduler(optimizer, lambda t: 1.0 / t)
    scheduler.step()
    scheduler.step()
    assert optimizer.lr == pytest.approx(1 / 3)
    other = schedules.Scheduler(optim.Adam([nn.Parameter(np.zeros(1))]), lambda t: 1.0 / t)
    other.load_state_dict(scheduler.state_dict())
    assert other.t == 3 and other.lr == pytest.approx(1 / 3)
