"""The optimizers' fast path: the same update rules as compiled loops over one flat buffer.

Nothing here is needed to learn or to use ``course_lib``: ``optim.py`` holds
the rules as you read them in the lessons, and runs them on its own. This
module only makes them faster, and a test (``tests/test_fast_optim.py``)
requires it to give the same numbers.

When is it used?
    ``optim.Adam(model, fast=True)`` asks for it (an error if numba is not
    installed); ``fast=False`` never uses it; ``fast=None`` (the default)
    uses it when numba imports and the environment variable ``DESCENT_FAST``
    is not ``0``. ``optimizer.fast`` is None on the reference path.

Why is it faster?
    1. **One flat buffer.** Every parameter of one dtype is copied, end to end,
       into one long 1-D array (and every gradient into another); each
       ``param.data`` / ``param.grad`` becomes a *view* into it, with its own
       shape. The optimizer's state arrays become views into flat arrays too.
       A step is then one call per dtype, however many layers there are.
    2. **Compiled loops.** Written with NumPy, Adam's step makes about a dozen
       passes over all 670,000 numbers of the Fashion-MNIST network (each line
       of ``Adam.update`` is one or two). ``numba.njit`` compiles the loops
       below, which read and write each number once: 1.9 ms -> about 0.5 ms.
    3. **No subnormal numbers.** A running average whose gradient stays 0
       (Adam's m for a weight on an always-black pixel) shrinks by β each step
       until it is below the smallest normal float (1.2e-38 in float32).
       Arithmetic on such *subnormal* numbers is ~15x slower on most CPUs.
       The kernels set them to exactly 0 (``flush_subnormal``); their effect
       on θ is far below float32 precision, so θ gets the same numbers.

Each kernel applies, to one coordinate at a time, exactly the formula of its
class in ``optim.py``, with the operations in the same order, so that the
rounding is the same.

If you rebind ``param.data = new_array`` the next ``step()`` or
``zero_grad()`` copies it into the buffer (``param.data`` is a view again).
"""

import os
import warnings

import numpy as np

from .errors import ShapeError

try:                                   # numba is an optional extra: pip install course_lib[fast]
    import numba
except Exception as error:             # not installed, or a broken install (say, llvmlite)
    numba = None
    NUMBA_PROBLEM = f"numba does not import ({type(error).__name__}: {error})"
else:
    NUMBA_PROBLEM = None

ENVIRONMENT_SWITCH = "DESCENT_FAST"    # "0" turns the fast path off


def available():
    """True when numba imports and no kernel has failed to compile."""
    return NUMBA_PROBLEM is None


def wanted(fast):
    """Decide whether an optimizer built with ``fast=`` uses this module."""
    if fast is None:
        switched_off = os.environ.get(ENVIRONMENT_SWITCH, "1").strip().lower() in (
            "0", "false", "no", "off")
        return available() and not switched_off
    if not isinstance(fast, (bool, np.bool_)):
        raise TypeError(f"fast must be True, False or None (automatic), got {fast!r}")
    if fast and not available():
        raise RuntimeError(f"fast=True needs the compiled fast path, but {NUMBA_PROBLEM}. "
                           "Install it with: python3 course.py setup --fast "
                           "(or pip install numba), or use fast=False.")
    return bool(fast)


def _compile(function):
    """``numba.njit`` with a disk cache where one can be written, else without one.

    ``error_model="numpy"``: a division by zero gives inf or nan as in NumPy,
    instead of a check that would stop the compiler from vectorising the loop.
    On a read-only install numba cannot cache ("no locator available"): the
    kernels are then compiled in memory at first use (about 2 s in all).
    """
    if numba is None:
        return function
    try:
        return numba.njit(error_model="numpy", cache=True)(function)
    except RuntimeError:
        return numba.njit(error_model="numpy", cache=False)(function)


# --------------------------------------------------------------------------
# The kernels: one coordinate at a time, the formulas of optim.py
# --------------------------------------------------------------------------

@_compile
def flush_subnormal(x, smallest_normal):
    """``x``, or exactly 0 when ``|x|`` is below the smallest normal float."""
    return x * (abs(x) >= smallest_normal)


@_compile
def sgd_kernel(theta, grad, momentum_buffer, lr, momentum, one_minus_dampening, weight_decay,
               nesterov, maximize, first_step, smallest_normal):
    for i in range(theta.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + weight_decay * theta[i]                          # g = g + λ θ
        if momentum != 0:
            if first_step:
                b = g                                                # b = g at t = 1
            else:
                b = momentum * momentum_buffer[i] + one_minus_dampening * g   # μ b + (1 - τ) g
            b = flush_subnormal(b, smallest_normal)
            momentum_buffer[i] = b
            g = g + momentum * b if nesterov else b
        theta[i] = theta[i] - lr * g                                 # θ = θ - γ g


@_compile
def adagrad_kernel(theta, grad, state_sum, decayed_lr, eps, weight_decay, maximize,
                   smallest_normal):
    for i in range(theta.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + weight_decay * theta[i]
        s = state_sum[i] + g * g                                     # s = s + g²
        state_sum[i] = s
        theta[i] = theta[i] - decayed_lr * g / (np.sqrt(s) + eps)    # θ = θ - γ_t g / (√s + eps)


@_compile
def rmsprop_kernel(theta, grad, square_avg, grad_avg, momentum_buffer, lr, alpha,
                   one_minus_alpha, eps, weight_decay, momentum, centered, maximize,
                   smallest_normal):
    for i in range(theta.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + weight_decay * theta[i]
        v = flush_subnormal(alpha * square_avg[i] + one_minus_alpha * g * g, smallest_normal)
        square_avg[i] = v                                            # v = α v + (1 - α) g²
        if centered:
            m = flush_subnormal(alpha * grad_avg[i] + one_minus_alpha * g, smallest_normal)
            grad_avg[i] = m                                          # m = α m + (1 - α) g
            d = np.sqrt(v - m * m) + eps                             # d = √(v - m²) + eps
        else:
            d = np.sqrt(v) + eps                                     # d = √v + eps
        if momentum > 0:
            b = flush_subnormal(momentum * momentum_buffer[i] + g / d, smallest_normal)
            momentum_buffer[i] = b                                   # b = μ b + g / d
            theta[i] = theta[i] - lr * b                             # θ = θ - γ b
        else:
            theta[i] = theta[i] - lr * g / d                         # θ = θ - γ g / d


@_compile
def adam_kernel(theta, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, one_minus_beta1,
                beta2, one_minus_beta2, bias_correction1, bias_correction2, eps, weight_decay,
                shrink, amsgrad, maximize, smallest_normal):
    for i in range(theta.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + weight_decay * theta[i]                          # Adam: g = g + λ θ
        theta_i = theta[i] * shrink if shrink != 1 else theta[i]     # AdamW: θ = θ - γ λ θ
        m = flush_subnormal(beta1 * exp_avg[i] + one_minus_beta1 * g, smallest_normal)
        v = flush_subnormal(beta2 * exp_avg_sq[i] + one_minus_beta2 * g * g, smallest_normal)
        exp_avg[i] = m                                               # m = β₁ m + (1 - β₁) g
        exp_avg_sq[i] = v                                            # v = β₂ v + (1 - β₂) g²
        if amsgrad:
            v = max(max_exp_avg_sq[i], v)                            # v_max = max(v_max, v)
            max_exp_avg_sq[i] = v
        m_hat = m / bias_correction1                                 # m̂ = m / (1 - β₁ᵗ)
        v_hat = v / bias_correction2                                 # v̂ = v / (1 - β₂ᵗ)
        theta[i] = theta_i - lr * (m_hat / (np.sqrt(v_hat) + eps))   # θ = θ - γ m̂ / (√v̂ + eps)


def _sgd_step(optimizer, group, t, number):
    sgd_kernel(group.theta, group.grad, group.state["momentum_buffer"], number(optimizer.lr),
               number(optimizer.momentum), number(1 - optimizer.dampening),
               number(optimizer.weight_decay), optimizer.nesterov, optimizer.maximize, t == 1,
               group.smallest_normal)


def _adagrad_step(optimizer, group, t, number):
    decayed_lr = optimizer.lr / (1 + (t - 1) * optimizer.lr_decay)
    adagrad_kernel(group.theta, group.grad, group.state["sum"], number(decayed_lr),
                   number(optimizer.eps), number(optimizer.weight_decay), optimizer.maximize,
                   group.smallest_normal)


def _rmsprop_step(optimizer, group, t, number):
    state = group.state
    rmsprop_kernel(group.theta, group.grad, state["square_avg"], state["grad_avg"],
                   state["momentum_buffer"], number(optimizer.lr), number(optimizer.alpha),
                   number(1 - optimizer.alpha), number(optimizer.eps),
                   number(optimizer.weight_decay), number(optimizer.momentum),
                   optimizer.centered, optimizer.maximize, group.smallest_normal)


def _adam_step(optimizer, group, t, number):
    beta1, beta2 = optimizer.betas
    shrink = 1.0
    if type(optimizer).__name__ == "AdamW":
        shrink = 1 - optimizer.lr * optimizer.weight_decay
    state = group.state
    adam_kernel(group.theta, group.grad, state["exp_avg"], state["exp_avg_sq"],
                state["max_exp_avg_sq"], number(optimizer.lr), number(beta1), number(1 - beta1),
                number(beta2), number(1 - beta2), number(1 - beta1 ** t), number(1 - beta2 ** t),
                number(optimizer.eps), number(optimizer.l2_penalty()), number(shrink),
                optimizer.amsgrad, optimizer.maximize, group.smallest_normal)


STEPS = {"SGD": _sgd_step, "Adagrad": _adagrad_step, "RMSprop": _rmsprop_step,
         "Adam": _adam_step, "AdamW": _adam_step}


# --------------------------------------------------------------------------
# The flat buffers
# --------------------------------------------------------------------------

class FlatGroup:
    """All parameters of one dtype, laid end to end: ``theta``, ``grad`` and ``state`` (1-D)."""

    def __init__(self, params, states):
        self.params = params
        self.dtype = params[0].data.dtype
        self.smallest_normal = self.dtype.type(np.finfo(self.dtype).tiny)
        total = sum(p.data.size for p in params)
        self.theta = np.empty(total, dtype=self.dtype)
        self.grad = np.zeros(total, dtype=self.dtype)
        self.state = {name: np.empty(total, dtype=self.dtype) for name in states[0]}
        self.data_views, self.grad_views = [], []
        offset = 0
        for param, state in zip(params, states):
            where = slice(offset, offset + param.data.size)
            offset += param.data.size
            data_view = self.theta[where].reshape(param.data.shape)
            grad_view = self.grad[where].reshape(param.data.shape)
            data_view[...] = param.data
            if param.grad is not None:
                grad_view[...] = param.grad
            param.data, param.grad = data_view, grad_view
            for name, array in state.items():           # the optimizer's state becomes views too
                view = self.state[name][where].reshape(param.data.shape)
                view[...] = array
                state[name] = view
            self.data_views.append(data_view)
            self.grad_views.append(grad_view)

    def adopt_rebound_arrays(self):
        """Copy back any ``param.data`` / ``param.grad`` someone rebound, and re-view it."""
        for param, data_view, grad_view in zip(self.params, self.data_views, self.grad_views):
            if param.data is not data_view:
                _copy_checked(data_view, param.data, f"{param!r}.data")
                param.data = data_view
            if param.grad is not grad_view:
                if param.grad is None:
                    grad_view.fill(0)
                else:
                    _copy_checked(grad_view, param.grad, f"{param!r}.grad")
                param.grad = grad_view


def _copy_checked(destination, source, what):
    source = np.asarray(source)
    if source.shape != destination.shape:
        raise ShapeError(
            f"{what} now has shape {source.shape} but the optimizer was built for "
            f"shape {destination.shape}; assign in place with p.data[...] = values, "
            "or create a new optimizer after changing a parameter's shape")
    destination[...] = source


class FlatBuffers:
    """An optimizer's parameters and state in one flat buffer per dtype, stepped by a kernel."""

    def __init__(self, optimizer):
        if type(optimizer).__name__ not in STEPS:
            raise TypeError(f"the fast path knows SGD, Adagrad, RMSprop, Adam and AdamW, not "
                            f"{type(optimizer).__name__}; build it with fast=False")
        self.optimizer = optimizer
        by_dtype = {}
        for param, state in zip(optimizer.params, optimizer.state):
            by_dtype.setdefault(param.data.dtype, ([], []))
            by_dtype[param.data.dtype][0].append(param)
            by_dtype[param.data.dtype][1].append(state)
        self.groups = [FlatGroup(params, states) for params, states in by_dtype.values()]

    def zero_grad(self):
        for group in self.groups:
            group.adopt_rebound_arrays()
            group.grad.fill(0)

    def step(self, t):
        step_rule = STEPS[type(self.optimizer).__name__]
        for group in self.groups:
            group.adopt_rebound_arrays()
        for index, group in enumerate(self.groups):
            try:
                step_rule(self.optimizer, group, t, group.dtype.type)
            except Exception as error:
                # A kernel that cannot compile on this machine, before anything was updated:
                # warn once and let the reference rule (the same numbers) take this step.
                compile_failed = numba is not None and isinstance(error, numba.core.errors.NumbaError)
                if not compile_failed or index > 0:
                    raise
                _give_up(error)
                self.optimizer.fast = None
                self.optimizer.update(t)
                return


def _give_up(error):
    global NUMBA_PROBLEM
    NUMBA_PROBLEM = f"a kernel did not compile ({type(error).__name__})"
    warnings.warn(f"The compiled optimizers failed ({NUMBA_PROBLEM}); using the NumPy reference "
                  "path, which gives the same numbers more slowly.", RuntimeWarning, stacklevel=3)

