"""Tests of course_lib.optim.

The reference values are worked out by hand, in plain Python arithmetic,
step by step, for a one-number parameter θ that starts at 1.0 and receives
the fixed gradient sequence 0.5, -1.0, 2.0 (whatever θ is: a gradient we
choose, so that the arithmetic stays readable). Each test writes out the
rule's formulas for t = 1, 2, 3 and compares with what the optimizer did.
Where PyTorch is installed, the same runs are also compared with torch.optim.
"""

import math

import numpy as np
import pytest

from course_lib import fast_optim, nn, optim
from course_lib.errors import HyperparameterError, ShapeError, UnknownNameError

@pytest.fixture(autouse=True, params=["reference", "fast"])
def optimizer_path(request, monkeypatch):
    """Every test here runs on both paths: the NumPy reference and the compiled fast path."""
    if request.param == "fast" and not fast_optim.available():
        pytest.skip("the fast path needs numba, which is not installed")
    monkeypatch.setenv("DESCENT_FAST", "1" if request.param == "fast" else "0")
    return request.param


THETA0 = 1.0
GRADS = [0.5, -1.0, 2.0]


def trajectory(optimizer_class, grads=GRADS, theta0=THETA0, **options):
    """θ after each step, for a one-number float64 parameter and the given gradients."""
    param = nn.Parameter(np.array([theta0], dtype=np.float64))
    optimizer = optimizer_class([param], **options)
    thetas = []
    for grad in grads:
        optimizer.zero_grad()
        param.grad[...] = grad
        optimizer.step()
        thetas.append(float(param.data[0]))
    return thetas


def close(values):
    return pytest.approx(values, rel=1e-12, abs=1e-15)


# ===========================================================================
# SGD
# ===========================================================================

def test_sgd_plain():
    lr = 0.1
    theta1 = 1.0 - lr * 0.5            # 0.95
    theta2 = theta1 - lr * (-1.0)      # 1.05
    theta3 = theta2 - lr * 2.0         # 0.85
    assert [theta1, theta2, theta3] == close([0.95, 1.05, 0.85])
    assert trajectory(optim.SGD, lr=lr) == close([theta1, theta2, theta3])


def test_sgd_momentum():
    lr, mu = 0.1, 0.9
    b1 = 0.5                           # t = 1: the buffer starts as the gradient
    theta1 = 1.0 - lr * b1             # 0.95
    b2 = mu * b1 + (-1.0)              # 0.45 - 1.0 = -0.55
    theta2 = theta1 - lr * b2          # 1.005
    b3 = mu * b2 + 2.0                 # -0.495 + 2.0 = 1.505
    theta3 = theta2 - lr * b3          # 0.8545
    assert [theta1, theta2, theta3] == close([0.95, 1.005, 0.8545])
    assert trajectory(optim.SGD, lr=lr, momentum=mu) == close([theta1, theta2, theta3])


def test_sgd_momentum_with_dampening():
    lr, mu, tau = 0.1, 0.9, 0.5
    b1 = 0.5                           # t = 1: no dampening on the first step (torch)
    theta1 = 1.0 - lr * b1             # 0.95
    b2 = mu * b1 + (1 - tau) * (-1.0)  # 0.45 - 0.5 = -0.05
    theta2 = theta1 - lr * b2          # 0.955
    b3 = mu * b2 + (1 - tau) * 2.0     # -0.045 + 1.0 = 0.955
    theta3 = theta2 - lr * b3          # 0.8595
    assert [theta1, theta2, theta3] == close([0.95, 0.955, 0.8595])
    assert trajectory(optim.SGD, lr=lr, momentum=mu, dampening=tau) == close(
        [theta1, theta2, theta3])


def test_sgd_nesterov():
    lr, mu = 0.1, 0.9
    b1 = 0.5
    theta1 = 1.0 - lr * (0.5 + mu * b1)        # step along g + μb = 0.95  -> 0.905
    b2 = mu * b1 + (-1.0)                      # -0.55
    theta2 = theta1 - lr * (-1.0 + mu * b2)    # g + μb = -1.495 -> 1.0545
    b3 = mu * b2 + 2.0                         # 1.505
    theta3 = theta2 - lr * (2.0 + mu * b3)     # g + μb = 3.3545 -> 0.71905
    assert [theta1, theta2, theta3] == close([0.905, 1.0545, 0.71905])
    assert trajectory(optim.SGD, lr=lr, momentum=mu, nesterov=True) == close(
        [theta1, theta2, theta3])


def test_sgd_weight_decay():
    lr, lam = 0.1, 0.2
    theta1 = 1.0 - lr * (0.5 + lam * 1.0)          # g = 0.7   -> 0.93
    theta2 = theta1 - lr * (-1.0 + lam * theta1)   # g = -0.814 -> 1.0114
    theta3 = theta2 - lr * (2.0 + lam * theta2)    # g = 2.20228 -> 0.791172
    assert [theta1, theta2, theta3] == close([0.93, 1.0114, 0.791172])
    assert trajectory(optim.SGD, lr=lr, weight_decay=lam) == close([theta1, theta2, theta3])


def test_sgd_weight_decay_and_momentum():
    lr, lam, mu = 0.1, 0.2, 0.5
    g1 = 0.5 + lam * 1.0                   # 0.7
    b1 = g1
    theta1 = 1.0 - lr * b1                 # 0.93
    g2 = -1.0 + lam * theta1               # -0.814
    b2 = mu * b1 + g2                      # -0.464
    theta2 = theta1 - lr * b2              # 0.9764
    g3 = 2.0 + lam * theta2                # 2.19528
    b3 = mu * b2 + g3                      # 1.96328
    theta3 = theta2 - lr * b3              # 0.780072
    assert [theta1, theta2, theta3] == close([0.93, 0.9764, 0.780072])
    assert trajectory(optim.SGD, lr=lr, weight_decay=lam, momentum=mu) == close(
        [theta1, theta2, theta3])


def test_sgd_maximize():
    lr = 0.1
    theta1 = 1.0 + lr * 0.5                # climb: 1.05
    theta2 = theta1 + lr * (-1.0)          # 0.95
    theta3 = theta2 + lr * 2.0             # 1.15
    assert trajectory(optim.SGD, lr=lr, maximize=True) == close([theta1, theta2, theta3])


def test_sgd_maximize_with_weight_decay():
    # The gradient is negated first, then the decay λθ is added (torch's implementation):
    # weight decay still pulls θ towards 0 while maximizing.
    lr, lam = 0.1, 0.2
    theta1 = 1.0 - lr * (-0.5 + lam * 1.0)          # g = -0.3 -> 1.03
    theta2 = theta1 - lr * (1.0 + lam * theta1)     # g = 1.206 -> 0.9094
    theta3 = theta2 - lr * (-2.0 + lam * theta2)    # g = -1.81812 -> 1.091212
    assert [theta1, theta2, theta3] == close([1.03, 0.9094, 1.091212])
    assert trajectory(optim.SGD, lr=lr, weight_decay=lam, maximize=True) == close(
        [theta1, theta2, theta3])


# ===========================================================================
# Adagrad
# ===========================================================================

def test_adagrad_plain():
    lr, eps = 0.1, 1e-10
    s1 = 0.0 + 0.5 ** 2                            # 0.25
    theta1 = 1.0 - lr * 0.5 / (math.sqrt(s1) + eps)       # 1 - 0.1 * 0.5/0.5 = 0.9
    s2 = s1 + 1.0                                  # 1.25
    theta2 = theta1 - lr * (-1.0) / (math.sqrt(s2) + eps)
    s3 = s2 + 4.0                                  # 5.25
    theta3 = theta2 - lr * 2.0 / (math.sqrt(s3) + eps)
    assert theta1 == pytest.approx(0.9)
    assert trajectory(optim.Adagrad, lr=lr) == close([theta1, theta2, theta3])


def test_adagrad_lr_decay():
    lr, eta, eps = 0.1, 0.5, 1e-10
    s1 = 0.25
    theta1 = 1.0 - lr / (1 + 0 * eta) * 0.5 / (math.sqrt(s1) + eps)       # t = 1: γ
    s2 = 1.25
    theta2 = theta1 - lr / (1 + 1 * eta) * (-1.0) / (math.sqrt(s2) + eps)  # t = 2: γ / 1.5
    s3 = 5.25
    theta3 = theta2 - lr / (1 + 2 * eta) * 2.0 / (math.sqrt(s3) + eps)    # t = 3: γ / 2
    assert trajectory(optim.Adagrad, lr=lr, lr_decay=eta) == close([theta1, theta2, theta3])


def test_adagrad_weight_decay():
    lr, lam, eps = 0.1, 0.2, 1e-10
    g1 = 0.5 + lam * 1.0                           # 0.7
    s1 = g1 ** 2
    theta1 = 1.0 - lr * g1 / (math.sqrt(s1) + eps)  # 0.9
    g2 = -1.0 + lam * theta1                       # -0.82
    s2 = s1 + g2 ** 2
    theta2 = theta1 - lr * g2 / (math.sqrt(s2) + eps)
    g3 = 2.0 + lam * theta2
    s3 = s2 + g3 ** 2
    theta3 = theta2 - lr * g3 / (math.sqrt(s3) + eps)
    assert trajectory(optim.Adagrad, lr=lr, weight_decay=lam) == close([theta1, theta2, theta3])


def test_adagrad_initial_accumulator_value_and_eps():
    lr, s0, eps = 0.1, 0.75, 0.5
    s1 = s0 + 0.25                                 # 1.0
    theta1 = 1.0 - lr * 0.5 / (math.sqrt(s1) + eps)        # 1 - 0.05/1.5
    s2 = s1 + 1.0                                  # 2.0
    theta2 = theta1 - lr * (-1.0) / (math.sqrt(s2) + eps)
    s3 = s2 + 4.0                                  # 6.0
    theta3 = theta2 - lr * 2.0 / (math.sqrt(s3) + eps)
    assert trajectory(optim.Adagrad, lr=lr, initial_accumulator_value=s0, eps=eps) == close(
        [theta1, theta2, theta3])


def test_adagrad_maximize():
    lr, eps = 0.1, 1e-10
    theta1 = 1.0 + lr * 0.5 / (math.sqrt(0.25) + eps)
    theta2 = theta1 + lr * (-1.0) / (math.sqrt(1.25) + eps)
    theta3 = theta2 + lr * 2.0 / (math.sqrt(5.25) + eps)
    assert trajectory(optim.Adagrad, lr=lr, maximize=True) == close([theta1, theta2, theta3])


# ===========================================================================
# RMSprop
# ===========================================================================

def test_rmsprop_plain():
    lr, alpha, eps = 0.01, 0.9, 1e-8
    v1 = alpha * 0.0 + (1 - alpha) * 0.5 ** 2          # 0.025
    theta1 = 1.0 - lr * 0.5 / (math.sqrt(v1) + eps)
    v2 = alpha * v1 + (1 - alpha) * 1.0                # 0.1225
    theta2 = theta1 - lr * (-1.0) / (math.sqrt(v2) + eps)
    v3 = alpha * v2 + (1 - alpha) * 4.0                # 0.51025
    theta3 = theta2 - lr * 2.0 / (math.sqrt(v3) + eps)
    assert [v1, v2, v3] == close([0.025, 0.1225, 0.51025])
    assert trajectory(optim.RMSprop, lr=lr, alpha=alpha) == close([theta1, theta2, theta3])


def test_rmsprop_centered():
    lr, alpha, eps = 0.01, 0.9, 1e-8
    v1, m1 = 0.025, (1 - alpha) * 0.5                  # m1 = 0.05
    theta1 = 1.0 - lr * 0.5 / (math.sqrt(v1 - m1 ** 2) + eps)
    v2, m2 = 0.1225, alpha * m1 + (1 - alpha) * (-1.0)  # m2 = -0.055
    theta2 = theta1 - lr * (-1.0) / (math.sqrt(v2 - m2 ** 2) + eps)
    v3, m3 = 0.51025, alpha * m2 + (1 - alpha) * 2.0   # m3 = 0.1505
    theta3 = theta2 - lr * 2.0 / (math.sqrt(v3 - m3 ** 2) + eps)
    assert trajectory(optim.RMSprop, lr=lr, alpha=alpha, centered=True) == close(
        [theta1, theta2, theta3])


def test_rmsprop_momentum():
    lr, alpha, eps, mu = 0.01, 0.9, 1e-8, 0.5
    b1 = mu * 0.0 + 0.5 / (math.sqrt(0.025) + eps)
    theta1 = 1.0 - lr * b1
    b2 = mu * b1 + (-1.0) / (math.sqrt(0.1225) + eps)
    theta2 = theta1 - lr * b2
    b3 = mu * b2 + 2.0 / (math.sqrt(0.51025) + eps)
    theta3 = theta2 - lr * b3
    assert trajectory(optim.RMSprop, lr=lr, alpha=alpha, momentum=mu) == close(
        [theta1, theta2, theta3])


def test_rmsprop_centered_momentum_weight_decay():
    lr, alpha, eps, mu, lam = 0.01, 0.9, 1e-8, 0.5, 0.2
    theta, v, m, b = 1.0, 0.0, 0.0, 0.0
    expected = []
    # t = 1
    g = 0.5 + lam * theta
    v = alpha * v + (1 - alpha) * g * g
    m = alpha * m + (1 - alpha) * g
    b = mu * b + g / (math.sqrt(v - m * m) + eps)
    theta = theta - lr * b
    expected.append(theta)
    # t = 2
    g = -1.0 + lam * theta
    v = alpha * v + (1 - alpha) * g * g
    m = alpha * m + (1 - alpha) * g
    b = mu * b + g / (math.sqrt(v - m * m) + eps)
    theta = theta - lr * b
    expected.append(theta)
    # t = 3
    g = 2.0 + lam * theta
    v = alpha * v + (1 - alpha) * g * g
    m = alpha * m + (1 - alpha) * g
    b = mu * b + g / (math.sqrt(v - m * m) + eps)
    theta = theta - lr * b
    expected.append(theta)
    assert trajectory(optim.RMSprop, lr=lr, alpha=alpha, momentum=mu, centered=True,
                      weight_decay=lam) == close(expected)


def test_rmsprop_maximize():
    lr, alpha, eps = 0.01, 0.9, 1e-8
    theta1 = 1.0 + lr * 0.5 / (math.sqrt(0.025) + eps)
    theta2 = theta1 + lr * (-1.0) / (math.sqrt(0.1225) + eps)
    theta3 = theta2 + lr * 2.0 / (math.sqrt(0.51025) + eps)
    assert trajectory(optim.RMSprop, lr=lr, alpha=alpha, maximize=True) == close(
        [theta1, theta2, theta3])


# ===========================================================================
# Adam and AdamW
# ===========================================================================

def adam_by_hand(lr, beta1, beta2, eps, grads=GRADS, l2=0.0, decoupled=0.0, amsgrad=False,
                 sign=1.0):
    """Adam written out for a single number, the way the torch documentation states it."""
    theta, m, v, v_max = THETA0, 0.0, 0.0, 0.0
    thetas = []
    for t, grad in enumerate(grads, start=1):
        theta = theta * (1 - lr * decoupled)          # AdamW only (decoupled = λ)
        g = sign * grad + l2 * theta                  # Adam's L2 penalty (l2 = λ)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t)
        if amsgrad:
            v_max = max(v_max, v)
            v_hat = v_max / (1 - beta2 ** t)
        else:
            v_hat = v / (1 - beta2 ** t)
        theta = theta - lr * m_hat / (math.sqrt(v_hat) + eps)
        thetas.append(theta)
    return thetas


def test_adam_first_step_is_lr_times_sign_of_gradient():
    # Bias correction with t = 1: m̂ = g and v̂ = g², so the step is lr · g/|g| (up to eps).
    lr = 0.1
    m1, v1 = (1 - 0.9) * 0.5, (1 - 0.999) * 0.25
    m_hat, v_hat = m1 / (1 - 0.9 ** 1), v1 / (1 - 0.999 ** 1)
    assert m_hat == pytest.approx(0.5) and v_hat == pytest.approx(0.25)
    theta1 = 1.0 - lr * m_hat / (math.sqrt(v_hat) + 1e-8)
    assert theta1 == pytest.approx(0.9, abs=1e-7)
    assert trajectory(optim.Adam, grads=[0.5], lr=lr) == close([theta1])


def test_adam_three_steps_by_hand():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    # t = 1
    m1 = 0.1 * 0.5                              # 0.05
    v1 = 0.001 * 0.25                           # 0.00025
    theta1 = 1.0 - lr * (m1 / 0.1) / (math.sqrt(v1 / 0.001) + eps)
    # t = 2
    m2 = 0.9 * m1 + 0.1 * (-1.0)                # -0.055
    v2 = 0.999 * v1 + 0.001 * 1.0               # 0.00124975
    theta2 = theta1 - lr * (m2 / (1 - 0.81)) / (math.sqrt(v2 / (1 - 0.998001)) + eps)
    # t = 3
    m3 = 0.9 * m2 + 0.1 * 2.0                   # 0.1505
    v3 = 0.999 * v2 + 0.001 * 4.0               # 0.00524850025
    theta3 = theta2 - lr * (m3 / (1 - 0.729)) / (math.sqrt(v3 / (1 - 0.997002999)) + eps)
    assert [m1, m2, m3] == close([0.05, -0.055, 0.1505])
    assert [v1, v2, v3] == close([0.00025, 0.00124975, 0.00524850025])
    assert adam_by_hand(lr, b1, b2, eps) == close([theta1, theta2, theta3])
    assert trajectory(optim.Adam, lr=lr) == close([theta1, theta2, theta3])


def test_adam_betas_and_eps():
    lr, b1, b2, eps = 0.05, 0.5, 0.75, 0.1
    m1, v1 = 0.5 * 0.5, 0.25 * 0.25                          # 0.25, 0.0625
    theta1 = 1.0 - lr * (m1 / 0.5) / (math.sqrt(v1 / 0.25) + eps)
    m2, v2 = 0.5 * m1 + 0.5 * (-1.0), 0.75 * v1 + 0.25 * 1.0   # -0.375, 0.296875
    theta2 = theta1 - lr * (m2 / 0.75) / (math.sqrt(v2 / (1 - 0.5625)) + eps)
    m3, v3 = 0.5 * m2 + 0.5 * 2.0, 0.75 * v2 + 0.25 * 4.0      # 0.8125, 1.22265625
    theta3 = theta2 - lr * (m3 / 0.875) / (math.sqrt(v3 / (1 - 0.421875)) + eps)
    assert trajectory(optim.Adam, lr=lr, betas=(b1, b2), eps=eps) == close(
        [theta1, theta2, theta3])
    assert adam_by_hand(lr, b1, b2, eps) == close([theta1, theta2, theta3])


def test_adam_weight_decay_is_l2_added_to_the_gradient():
    lr, lam = 0.1, 0.5
    theta, m, v = 1.0, 0.0, 0.0
    expected = []
    for t, grad in enumerate(GRADS, start=1):
        g = grad + lam * theta                   # the L2 penalty joins the gradient
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        theta = theta - lr * (m / (1 - 0.9 ** t)) / (math.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        expected.append(theta)
    assert trajectory(optim.Adam, lr=lr, weight_decay=lam) == close(expected)


def test_adam_amsgrad_uses_the_largest_second_moment():
    # A large gradient first, then small ones: v falls, v_max keeps the large value.
    lr, grads = 0.1, [3.0, 0.0, 0.0]
    v1 = 0.001 * 9.0                             # 0.009
    v2 = 0.999 * v1                              # 0.008991 < v1
    v3 = 0.999 * v2                              # 0.008982009
    v_max = [v1, max(v1, v2), max(v1, v2, v3)]   # all 0.009
    m1 = 0.3
    m2 = 0.9 * m1                                # 0.27
    m3 = 0.9 * m2                                # 0.243
    theta1 = 1.0 - lr * (m1 / 0.1) / (math.sqrt(v_max[0] / 0.001) + 1e-8)
    theta2 = theta1 - lr * (m2 / 0.19) / (math.sqrt(v_max[1] / (1 - 0.999 ** 2)) + 1e-8)
    theta3 = theta2 - lr * (m3 / 0.271) / (math.sqrt(v_max[2] / (1 - 0.999 ** 3)) + 1e-8)
    got = trajectory(optim.Adam, grads=grads, lr=lr, amsgrad=True)
    assert got == close([theta1, theta2, theta3])
    assert got != close(trajectory(optim.Adam, grads=grads, lr=lr))       # it changed something


def test_adam_maximize():
    assert trajectory(optim.Adam, lr=0.1, maximize=True) == close(
        adam_by_hand(0.1, 0.9, 0.999, 1e-8, sign=-1.0))


def test_adamw_decoupled_weight_decay():
    lr, lam = 0.1, 0.5
    theta, m, v = 1.0, 0.0, 0.0
    expected = []
    for t, grad in enumerate(GRADS, start=1):
        theta = theta - lr * lam * theta         # shrink θ directly: θ(1 - γλ)
        m = 0.9 * m + 0.1 * grad                 # the gradient itself, no λθ added
        v = 0.999 * v + 0.001 * grad * grad
        theta = theta - lr * (m / (1 - 0.9 ** t)) / (math.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        expected.append(theta)
    # t = 1 by hand: θ = 1·(1 - 0.05) = 0.95, then the Adam step of size 0.1: 0.85
    assert expected[0] == pytest.approx(0.85, abs=1e-7)
    assert trajectory(optim.AdamW, lr=lr, weight_decay=lam) == close(expected)
    assert trajectory(optim.Adam, lr=lr, weight_decay=lam) != close(expected)


def test_adamw_default_weight_decay_is_0_01():
    assert optim.AdamW([nn.Parameter(np.zeros(1))]).weight_decay == 0.01
    assert trajectory(optim.AdamW, lr=0.1) == close(
        adam_by_hand(0.1, 0.9, 0.999, 1e-8, decoupled=0.01))


def test_adamw_amsgrad_and_maximize():
    grads = [3.0, 0.0, 0.5]
    assert trajectory(optim.AdamW, grads=grads, lr=0.1, weight_decay=0.2, amsgrad=True,
                      maximize=True) == close(
        adam_by_hand(0.1, 0.9, 0.999, 1e-8, grads=grads, decoupled=0.2, amsgrad=True, sign=-1))


# ===========================================================================
# Defaults: exactly torch.optim's
# ===========================================================================

@pytest.mark.parametrize("optimizer_class, defaults", [
    (optim.SGD, dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                     maximize=False)),
    (optim.Adagrad, dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                         eps=1e-10, maximize=False)),
    (optim.RMSprop, dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                         centered=False, maximize=False)),
    (optim.Adam, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                      maximize=False)),
    (optim.AdamW, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                       maximize=False)),
])
def test_defaults_are_torchs(optimizer_class, defaults):
    optimizer = optimizer_class([nn.Parameter(np.zeros(2))])
    assert optimizer.hyperparameters == defaults


# ===========================================================================
# Errors
# ===========================================================================

@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-0.1), "Invalid learning rate: -0.1 (lr must be >= 0)"),
    (lambda p: optim.Adam(p, lr=-0.1), "Invalid learning rate: -0.1 (lr must be >= 0)"),
    (lambda p: optim.SGD(p, lr=float("nan")), "Invalid learning rate: nan (lr must be a finite number >= 0"),
    (lambda p: optim.Adam(p, lr=float("inf")), "Invalid learning rate: inf (lr must be a finite number >= 0"),
    (lambda p: optim.SGD(p, momentum=float("inf")), "Invalid momentum value: inf (momentum must be a finite"),
    (lambda p: optim.SGD(p, maximize="no"), "Invalid maximize value: 'no' (maximize must be True or False"),
    (lambda p: optim.SGD(p, lr="fast"), "Invalid learning rate: 'fast' (lr must be a number >= 0)"),
    (lambda p: optim.SGD(p, momentum=-0.5), "Invalid momentum value: -0.5 (momentum must be >= 0)"),
    (lambda p: optim.SGD(p, weight_decay=-1),
     "Invalid weight_decay value: -1 (weight_decay must be >= 0)"),
    (lambda p: optim.SGD(p, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True),
     "Nesterov momentum requires a momentum and zero dampening (got momentum=0.9, dampening=0.1"),
    (lambda p: optim.SGD(p, nesterov="yes"), "Invalid nesterov value: 'yes' (nesterov must be True or False)"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay value: -1 (lr_decay must be >= 0)"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-0.1),
     "Invalid initial_accumulator_value value: -0.1 (initial_accumulator_value must be >= 0)"),
    (lambda p: optim.Adagrad(p, eps=-1e-10), "Invalid epsilon value: -1e-10 (eps must be >= 0)"),
    (lambda p: optim.RMSprop(p, alpha=-0.9), "Invalid alpha value: -0.9 (alpha must be >= 0)"),
    (lambda p: optim.RMSprop(p, momentum=-1), "Invalid momentum value: -1 (momentum must be >= 0)"),
    (lambda p: optim.RMSprop(p, eps=-1), "Invalid epsilon value: -1 (eps must be >= 0)"),
    (lambda p: optim.RMSprop(p, centered=1), "Invalid centered value: 1 (centered must be True or False)"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)),
     "Invalid beta parameter at index 0: 1.0 (betas[0] must be in [0, 1))"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)),
     "Invalid beta parameter at index 1: -0.1 (betas[1] must be in [0, 1))"),
    (lambda p: optim.Adam(p, betas=0.9), "Invalid betas: 0.9 (betas must be a pair"),
    (lambda p: optim.Adam(p, eps=-1), "Invalid epsilon value: -1 (eps must be >= 0)"),
    (lambda p: optim.AdamW(p, weight_decay=-0.01),
     "Invalid weight_decay value: -0.01 (weight_decay must be >= 0)"),
    (lambda p: optim.AdamW(p, amsgrad=None), "Invalid amsgrad value: None (amsgrad must be True or False)"),
])
def test_invalid_hyperparameters_name_the_value_and_the_range(make, message):
    with pytest.raises(HyperparameterError) as caught:
        make([nn.Parameter(np.zeros(2))])
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, ValueError)          # `except ValueError` still works


def test_empty_parameter_list_is_refused():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])


def test_parameters_must_be_parameters():
    with pytest.raises(TypeError, match="wrap arrays with nn.Parameter"):
        optim.SGD([np.zeros(3)], lr=0.1)


def test_integer_parameters_are_refused():
    with pytest.raises(TypeError, match="floating point"):
        optim.SGD([nn.Parameter(np.zeros(3, dtype=np.int64))], lr=0.1)


@pytest.mark.parametrize("dtype", [np.float16, np.longdouble])
def test_only_float32_and_float64_parameters_are_accepted(dtype):
    if np.dtype(dtype) == np.float64:
        pytest.skip("long double is float64 on this platform")
    with pytest.raises(TypeError, match="float32 and float64 parameters"):
        optim.Adam([nn.Parameter(np.ones(2, dtype=dtype))])


def test_get_by_name_any_case():
    param = nn.Parameter(np.zeros(2))
    optimizer = optim.get("Adam", [param], lr=0.01)
    assert isinstance(optimizer, optim.Adam) and optimizer.lr == 0.01
    assert isinstance(optim.get("rmsprop", [param]), optim.RMSprop)
    assert isinstance(optim.get("adamw", [param]), optim.AdamW)
    assert isinstance(optim.get(optim.SGD, [param], lr=0.1), optim.SGD)
    assert optim.get(optimizer) is optimizer


def test_get_unknown_name_lists_the_valid_names():
    with pytest.raises(UnknownNameError) as caught:
        optim.get("adamax", [nn.Parameter(np.zeros(2))])
    message = str(caught.value)
    assert "unknown optimizer 'adamax'" in message
    for name in ("'sgd'", "'adagrad'", "'rmsprop'", "'adam'", "'adamw'"):
        assert name in message
    assert isinstance(caught.value, KeyError)


def test_get_with_a_module_uses_its_parameters():
    model = nn.Sequential(nn.Linear(3, 2, seed=0), nn.ReLU(), nn.Linear(2, 1, seed=1))
    optimizer = optim.get("sgd", model, lr=0.1)
    assert [id(p) for p in optimizer.params] == [id(p) for p in model.parameters()]


# ===========================================================================
# Many parameters
# ===========================================================================

def small_model(seed=0, dtype=np.float32):
    return nn.Sequential(nn.Linear(3, 4, seed=seed, dtype=dtype), nn.ReLU(),
                         nn.Linear(4, 2, seed=seed + 1, dtype=dtype))


def test_a_step_equals_the_same_rule_applied_per_parameter():
    """The update rules are elementwise: updating one flat buffer = updating each array."""
    rng = np.random.default_rng(0)
    shapes = [(2, 3), (3,), (1,)]
    values = [rng.normal(size=shape) for shape in shapes]
    grads = [[rng.normal(size=shape) for shape in shapes] for _ in range(3)]
    together = [nn.Parameter(v.copy()) for v in values]
    optimizer = optim.Adam(together, lr=0.1, amsgrad=True, weight_decay=0.1)
    for step_grads in grads:
        for param, grad in zip(together, step_grads):
            param.grad[...] = grad
        optimizer.step()
    for index, value in enumerate(values):
        alone = nn.Parameter(value.copy())
        single = optim.Adam([alone], lr=0.1, amsgrad=True, weight_decay=0.1)
        for step_grads in grads:
            alone.grad[...] = step_grads[index]
            single.step()
        np.testing.assert_array_equal(together[index].data, alone.data)


def test_a_parameter_listed_twice_is_updated_once():
    param = nn.Parameter(np.array([1.0]))
    optimizer = optim.SGD([param, param], lr=0.5)
    param.grad[...] = 1.0
    optimizer.step()
    assert param.data[0] == 0.5


def test_model_load_state_dict_reaches_the_optimizer():
    model = small_model()
    optimizer = optim.SGD(model, lr=1.0)
    other = small_model(seed=7)
    model.load_state_dict(other.state_dict())            # copies in place
    for param in model.parameters():
        param.grad[...] = 1.0
    optimizer.step()
    for mine, theirs in zip(model.parameters(), other.parameters()):
        np.testing.assert_allclose(mine.data, theirs.data - 1.0, rtol=1e-6)


# ===========================================================================
# state_dict / load_state_dict
# ===========================================================================

@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.1),
    lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.5),
    lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.1),
])
def test_state_dict_round_trip_continues_identically(make):
    rng = np.random.default_rng(1)
    grads = [[rng.normal(size=(2, 3)), rng.normal(size=3)] for _ in range(6)]
    start = [rng.normal(size=(2, 3)), rng.normal(size=3)]

    straight = [nn.Parameter(v.copy()) for v in start]
    optimizer = make(straight)
    for step_grads in grads:
        for p, g in zip(straight, step_grads):
            p.grad[...] = g
        optimizer.step()

    first = [nn.Parameter(v.copy()) for v in start]
    optimizer_a = make(first)
    for step_grads in grads[:3]:
        for p, g in zip(first, step_grads):
            p.grad[...] = g
        optimizer_a.step()
    saved_state = optimizer_a.state_dict()
    saved_values = [p.data.copy() for p in first]
    for step_grads in grads[3:]:                          # the old run goes on: saved copies
        for p, g in zip(first, step_grads):               # must not change
            p.grad[...] = g
        optimizer_a.step()

    resumed = [nn.Parameter(v) for v in saved_values]
    optimizer_b = make(resumed)
    optimizer_b.load_state_dict(saved_state)
    assert optimizer_b.step_count == 3
    for step_grads in grads[3:]:
        for p, g in zip(resumed, step_grads):
            p.grad[...] = g
        optimizer_b.step()
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_layout():
    model = small_model()
    optimizer = optim.Adam(model, lr=0.01)
    state = optimizer.state_dict()
    assert state["optimizer"] == "Adam" and state["step"] == 0
    assert state["hyperparameters"]["lr"] == 0.01
    assert set(state["state"]) == {"0", "1", "2", "3"}
    assert state["state"]["0"]["exp_avg"].shape == (3, 4)
    assert state["state"]["3"]["exp_avg_sq"].shape == (2,)


def test_load_state_dict_restores_hyperparameters():
    params = [nn.Parameter(np.zeros(2))]
    saved = optim.Adam(params, lr=0.05, betas=(0.8, 0.9)).state_dict()
    optimizer = optim.Adam([nn.Parameter(np.zeros(2))])
    optimizer.load_state_dict(saved)
    assert optimizer.lr == 0.05 and optimizer.betas == (0.8, 0.9)


def test_load_state_dict_refuses_another_shape_or_type():
    saved = optim.Adam([nn.Parameter(np.zeros(3))]).state_dict()
    with pytest.raises(ShapeError, match=r"shape \(3,\) but the parameter has shape \(4,\)"):
        optim.Adam([nn.Parameter(np.zeros(4))]).load_state_dict(saved)
    with pytest.raises(ValueError, match="saved from a Adam optimizer; load it into optim.Adam"):
        optim.SGD([nn.Parameter(np.zeros(3))]).load_state_dict(saved)
    with pytest.raises(ValueError, match="holds 1 parameters but the optimizer has 2"):
        optim.Adam([nn.Parameter(np.zeros(3)), nn.Parameter(np.zeros(1))]).load_state_dict(saved)


# ===========================================================================
# Cross-check with PyTorch (skipped when torch is not installed)
# ===========================================================================

TORCH_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.5, weight_decay=0.1, initial_accumulator_value=0.2)),
    ("Adagrad", dict(maximize=True)),
    ("RMSprop", dict(centered=True, momentum=0.9, weight_decay=0.1, alpha=0.9)),
    ("RMSprop", dict(maximize=True)),
    ("Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(betas=(0.5, 0.6), eps=0.1, maximize=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.1, amsgrad=True, weight_decay=0.3, maximize=True)),
]


@pytest.mark.parametrize("name, options", TORCH_CASES)
def test_matches_torch_optim(name, options):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    start = rng.normal(size=(3, 2))
    grads = [rng.normal(size=(3, 2)) * scale for scale in (1, 0.1, 3, 0.5, 2)]
    param = nn.Parameter(start.copy())
    optimizer = getattr(optim, name)([param], **options)
    torch_param = torch.tensor(start.copy(), dtype=torch.float64, requires_grad=True)
    torch_optimizer = getattr(torch.optim, name)([torch_param], **options)
    for grad in grads:
        param.grad[...] = grad
        optimizer.step()
        torch_param.grad = torch.tensor(grad, dtype=torch.float64)
        torch_optimizer.step()
    np.testing.assert_allclose(param.data, torch_param.detach().numpy(), rtol=1e-12, atol=1e-14)


# ===========================================================================
# A learning rate changed after construction is checked at the next step
# ===========================================================================

@pytest.mark.parametrize("bad_lr, words", [(-5.0, "lr must be >= 0"),
                                           (float("inf"), "finite number"),
                                           (float("nan"), "finite number"),
                                           ("0.1", "must be a number")])
def test_a_bad_lr_set_later_stops_the_next_step(bad_lr, words, optimizer_path):
    param = nn.Parameter(np.array([1.0, 2.0]))
    optimizer = optim.Adam([param], lr=0.1)
    assert optimizer.fast is None if optimizer_path == "reference" else optimizer.fast is not None
    param.grad[...] = 1.0
    optimizer.step()
    before = param.data.copy()
    optimizer.lr = bad_lr                         # as lesson 7 teaches: optimizer.lr = ...
    with pytest.raises(HyperparameterError, match=words):
        optimizer.step()
    np.testing.assert_array_equal(param.data, before)     # nothing moved
    assert optimizer.step_count == 1


def test_other_hyperparameters_changed_later_are_checked_too():
    param = nn.Parameter(np.array([1.0]))
    optimizer = optim.SGD([param], lr=0.1, momentum=0.9)
    optimizer.momentum = -1
    with pytest.raises(HyperparameterError, match="momentum must be >= 0"):
        optimizer.step()
