"""Optimizers: the rules that turn gradients into parameter updates.

Every optimizer here follows the algorithm that the ``torch.optim``
documentation gives, with the same options and the same defaults:

=========  ===========================================================
SGD        lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False
Adagrad    lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10
RMSprop    lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False
Adam       lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False
AdamW      lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False
=========  ===========================================================

Every one also takes ``maximize=False`` (climb the function instead of
descending it: the gradient is negated before anything else happens).

How to use one (the loop every lesson writes)::

    optimizer = optim.Adam(model, lr=1e-3)      # or model.parameters(), or [p1, p2]
    for X_batch, y_batch in loader:
        optimizer.zero_grad()                   # grad = 0
        y_pred = model(X_batch)                 # forward pass
        model.backward(loss.gradient(y_batch, y_pred))   # grad = dL/dθ
        optimizer.step()                        # θ <- θ - (the rule's update)

The contract, stated once
-------------------------
Each rule is a method ``_update(theta, grad, state, t)`` where

- ``theta`` is the parameter values θ (a 1-D array, changed in place),
- ``grad``  is the gradient dL/dθ (same shape; never changed),
- ``state`` is a dict of arrays of the same shape that the rule keeps from one
  step to the next (Adam's ``exp_avg`` and ``exp_avg_sq``, SGD's
  ``momentum_buffer``, ...), created filled with zeros (Adagrad: with
  ``initial_accumulator_value``),
- ``t`` is the step number, **counted from 1**: the first call of ``step()``
  has t = 1. This is the convention that could be read two ways; Adam's bias
  correction 1 - β₁ᵗ and Adagrad's learning-rate decay both use it.

``_update`` works out the numbers that are the same for every coordinate
(the bias-corrected step size, say) and hands them, with the arrays, to the
rule's *kernel*: a plain loop that applies the formula of the class
docstring to one coordinate at a time, ``for i in range(theta.size): ...``.

Why one flat buffer
-------------------
A network has a handful of parameter arrays (a weight matrix and a bias per
layer). Instead of updating them one by one, when an optimizer is created it

1. copies every parameter of the same dtype, end to end, into ONE long 1-D
   array (``theta``), and every gradient into another (``grad``), kept in a
   ``_FlatGroup`` (``optimizer._groups[0].theta`` if you want to look);
2. makes each ``param.data`` and ``param.grad`` a *view* into those arrays:
   ``param.data`` still has its own shape (say (784, 512)), but its numbers
   live inside the long array. Writing to one writes to the other;
3. keeps its state (``exp_avg``, ...) as long 1-D arrays too.

A step is then one kernel call per dtype, however many layers there are,
and ``zero_grad()`` is a single ``grad.fill(0)``.

Why compiled loops (numba), not NumPy expressions
-------------------------------------------------
Written with NumPy, Adam's step is about a dozen whole-array passes
(``m *= β₁``, ``m += (1 - β₁) g``, ``np.sqrt(v)``, ...): every pass reads and
writes all 670,000 numbers of the Fashion-MNIST network, and the step took
longer than the forward and backward passes together. ``@numba.njit``
compiles the loop below each class to machine code, which reads each number
once and writes it once: Adam's step for that network went from 1.9 ms to
0.4-0.5 ms (measured with ``benchmarks/bench_mlp.py``'s network). The loop
is also the formula exactly as the docstring writes it, one coordinate at a
time. (Without the decorator it is ordinary Python that gives the same
numbers, only slowly: NumPy's rule of "no Python loops over array elements"
still holds everywhere else.)

One detail you will see in every kernel: ``flush_subnormal(x, smallest_normal)``.
A running average whose gradient has been 0 for a long time (Adam's m for a
weight on an always-black pixel) shrinks by β each step: 1e-4, 1e-5, ...
until it is smaller than the smallest normal float32, 1.2e-38. Such
*subnormal* numbers make each multiplication by them ~15x slower on most
CPUs; before the flush, Adam's steps in the benchmark's second epoch took
2.6x as long as in its first. The flush sets them to exactly 0. Their effect on θ was far below float32 precision
(lr · 1e-38 / √v ≪ the spacing of floats near θ), so no parameter changes.

What follows for you:

- Update parameters *in place* (``param.data[...] = new_values``), as
  ``Module.load_state_dict`` does. If you rebind ``param.data = new_array``
  (or ``param.grad = ...``) the optimizer notices at the next ``step()`` or
  ``zero_grad()`` and copies your new array into its buffer, so nothing breaks,
  but ``param.data`` becomes a view again.
- ``state_dict()`` gives the state per parameter, with each parameter's own
  shape (copies, so later steps don't change what you saved).
"""

import math

import numba
import numpy as np

from .errors import HyperparameterError, ShapeError, UnknownNameError

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "get"]



# --------------------------------------------------------------------------
# Checking hyperparameters (the ranges torch.optim accepts)
# --------------------------------------------------------------------------

def _check_at_least_zero(name, value, label=None):
    label = label or f"{name} value"
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise HyperparameterError(
            f"Invalid {label}: {value!r} ({name} must be a number >= 0)")
    if not value >= 0:  # also catches NaN
        raise HyperparameterError(f"Invalid {label}: {value} ({name} must be >= 0)")
    return float(value)


def _check_learning_rate(lr):
    return _check_at_least_zero("lr", lr, label="learning rate")


def _check_betas(betas):
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise HyperparameterError(
            f"Invalid betas: {betas!r} (betas must be a pair (beta1, beta2), "
            "each in [0, 1), e.g. (0.9, 0.999))") from None
    for index, beta in enumerate((beta1, beta2)):
        if not (isinstance(beta, (int, float, np.integer, np.floating))
                and 0.0 <= beta < 1.0):
            raise HyperparameterError(
                f"Invalid beta parameter at index {index}: {beta} "
                f"(betas[{index}] must be in [0, 1))")
    return (float(beta1), float(beta2))


def _check_flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise HyperparameterError(f"Invalid {name} value: {value!r} ({name} must be True or False)")
    return bool(value)


# --------------------------------------------------------------------------
# What every kernel shares
# --------------------------------------------------------------------------

compiled = numba.njit(error_model="numpy", cache=True)
"""The decorator of every kernel. ``error_model="numpy"``: a division by zero
gives inf or nan, as in NumPy, instead of raising (checking for it would
stop the compiler from handling 8 or 16 numbers per instruction).
``cache=True``: the machine code is kept on disk, so only the first run
compiles (about half a second per kernel)."""


@compiled
def flush_subnormal(x, smallest_normal):
    """``x``, or exactly 0 when ``|x|`` is below the smallest normal float.

    (See the module docstring for why; ``x * False`` is 0, ``x * True`` is x.)
    """
    return x * (abs(x) >= smallest_normal)


@compiled
def gradient_direction(grad_i, theta_i, weight_decay, maximize):
    """One coordinate of the direction a rule follows: g = ±dL/dθ + λθ.

    Minus when maximizing; λθ is added only when λ (``weight_decay``) is not 0.
    """
    g = -grad_i if maximize else grad_i
    if weight_decay != 0:
        g = g + weight_decay * theta_i
    return g


def scalars_like(array, **values):
    """The numbers in ``values`` as scalars of ``array``'s dtype (a dict).

    A kernel computes in the precision of its arguments: with float32 arrays
    every scalar must be float32 too, as NumPy would make it, or the whole
    loop would run in float64. ``smallest_normal`` is added for the flush.
    """
    number = array.dtype.type
    converted = {name: number(value) for name, value in values.items()}
    converted["smallest_normal"] = number(np.finfo(array.dtype).tiny)
    return converted


# --------------------------------------------------------------------------
# The flat buffer
# --------------------------------------------------------------------------

class _FlatGroup:
    """All parameters of one dtype, laid end to end in one 1-D array.

    Attributes
    ----------
    params : list of Parameter
    theta, grad : ndarray, shape (total_size,)
        The values and the gradients of every parameter in ``params``;
        ``params[i].data`` and ``params[i].grad`` are views into them.
    slices : list of slice
        Where parameter i lives: ``theta[slices[i]]``.
    state : dict of str -> ndarray, shape (total_size,)
        The optimizer's state (``exp_avg``, ...), flat like ``theta``.
    """

    def __init__(self, params):
        self.params = params
        self.dtype = params[0].data.dtype
        sizes = [p.data.size for p in params]
        total = sum(sizes)
        self.theta = np.empty(total, dtype=self.dtype)
        self.grad = np.zeros(total, dtype=self.dtype)
        self.slices, self.data_views, self.grad_views = [], [], []
        offset = 0
        for param, size in zip(params, sizes):
            where = slice(offset, offset + size)
            offset += size
            data_view = self.theta[where].reshape(param.data.shape)
            grad_view = self.grad[where].reshape(param.data.shape)
            data_view[...] = param.data
            if param.grad is not None:
                grad_view[...] = param.grad
            param.data, param.grad = data_view, grad_view
            self.slices.append(where)
            self.data_views.append(data_view)
            self.grad_views.append(grad_view)
        self.state = {}

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


def _as_parameter_list(params):
    """Accept a Module, a list (or generator) of Parameters; drop duplicates."""
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    try:
        params = list(params)
    except TypeError:
        raise TypeError(
            f"params must be a model (a Module) or a list of Parameters, got {type(params).__name__}"
        ) from None
    unique, seen = [], set()
    for param in params:
        if not (hasattr(param, "data") and hasattr(param, "grad")):
            raise TypeError(
                f"params must hold Parameters (objects with .data and .grad), got "
                f"{type(param).__name__}; wrap arrays with nn.Parameter(array)")
        if id(param) not in seen:
            seen.add(id(param))
            unique.append(param)
    if not unique:
        raise ValueError("the optimizer got an empty parameter list: pass model.parameters() "
                         "of a model that has parameters")
    for param in unique:
        dtype = np.asarray(param.data).dtype
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"{param!r} holds {dtype} values; "
                            "parameters must be floating point (e.g. float32)")
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"{param!r} holds {dtype} values; the optimizers work on float32 "
                            "and float64 parameters: convert with "
                            "p.data = p.data.astype(np.float32) before creating the optimizer")
    return unique


# --------------------------------------------------------------------------
# The base class
# --------------------------------------------------------------------------

class Optimizer:
    """What every optimizer shares: the flat buffers, ``step``, ``zero_grad``, state.

    Subclasses set ``hyperparameter_names``, ``state_names`` and write
    ``_update(theta, grad, state, t)`` (see the module docstring).
    """

    hyperparameter_names = ()   # e.g. ("lr", "betas", "eps", ...), in signature order
    state_names = ()            # e.g. ("exp_avg", "exp_avg_sq")

    def __init__(self, params):
        self.params = _as_parameter_list(params)
        self.step_count = 0          # t of the last step; the next step() uses t = step_count + 1
        by_dtype = {}
        for param in self.params:
            by_dtype.setdefault(np.asarray(param.data).dtype, []).append(param)
        self._groups = [_FlatGroup(group) for group in by_dtype.values()]
        for group in self._groups:
            for name in self.state_names:
                group.state[name] = np.full_like(group.theta, self._initial_state_value(name))

    def _initial_state_value(self, state_name):
        return 0.0

    # -- the two calls of the training loop ---------------------------------

    def zero_grad(self):
        """Set every parameter's ``.grad`` to zero (one ``fill(0)`` per dtype)."""
        for group in self._groups:
            group.adopt_rebound_arrays()
            group.grad.fill(0)
            for param in group.params:
                param.grad_is_zero = True    # lets nn.Linear write its gradient straight in

    def step(self):
        """Apply one update to every parameter, using the gradients in ``.grad``."""
        self.step_count += 1
        t = self.step_count
        for group in self._groups:
            group.adopt_rebound_arrays()
            self._update(group.theta, group.grad, group.state, t)

    def _update(self, theta, grad, state, t):
        raise NotImplementedError

    # -- hyperparameters ----------------------------------------------------

    @property
    def hyperparameters(self):
        """The current hyperparameters, e.g. ``{"lr": 0.001, "betas": (0.9, 0.999), ...}``."""
        return {name: getattr(self, name) for name in self.hyperparameter_names}

    def __repr__(self):
        options = ", ".join(f"{name}={value!r}" for name, value in self.hyperparameters.items())
        return f"{type(self).__name__}({options})"

    # -- saving and restoring -----------------------------------------------

    def state_dict(self):
        """Everything needed to continue training exactly where it stopped.

        Returns
        -------
        dict
            ``{"optimizer": "Adam", "step": t, "hyperparameters": {...},
            "state": {"0": {"exp_avg": array, ...}, "1": {...}, ...}}`` where
            the key is the parameter's position in ``params`` and each array
            has that parameter's shape. All arrays are copies.
        """
        state = {}
        for index, param in enumerate(self.params):
            group, position = self._locate(param)
            where = group.slices[position]
            shape = group.data_views[position].shape
            state[str(index)] = {name: group.state[name][where].reshape(shape).copy()
                                 for name in self.state_names}
        return {
            "optimizer": type(self).__name__,
            "step": self.step_count,
            "hyperparameters": self.hyperparameters,
            "state": state,
        }

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` returned (copies the numbers in place).

        Raises ``ValueError`` if it was saved from another optimizer type or
        for a different number of parameters, ``ShapeError`` if a shape differs.
        """
        saved_type = str(state_dict.get("optimizer", type(self).__name__))
        if saved_type != type(self).__name__:
            raise ValueError(f"this state was saved from a {saved_type} optimizer; "
                             f"load it into optim.{saved_type}, not into {type(self).__name__}")
        saved_state = state_dict["state"]
        if len(saved_state) != len(self.params):
            raise ValueError(f"this state holds {len(saved_state)} parameters but the optimizer "
                             f"has {len(self.params)}; was it saved for another model?")
        for index, param in enumerate(self.params):
            group, position = self._locate(param)
            where = group.slices[position]
            shape = group.data_views[position].shape
            for name in self.state_names:
                saved = np.asarray(saved_state[str(index)][name])
                if saved.shape != shape:
                    raise ShapeError(
                        f"optimizer state {name!r} of parameter {index} has shape {saved.shape} "
                        f"but the parameter has shape {shape}; was it saved for another model?")
                group.state[name][where] = saved.reshape(-1)
        for name, value in state_dict.get("hyperparameters", {}).items():
            if isinstance(value, np.ndarray):
                value = tuple(value.tolist()) if value.ndim else value.item()
            if isinstance(value, np.generic):
                value = value.item()
            setattr(self, name, value)
        self._check_hyperparameters()
        self.step_count = int(state_dict["step"])

    def _locate(self, param):
        for group in self._groups:
            for position, member in enumerate(group.params):
                if member is param:
                    return group, position
        raise KeyError(param)

    def _check_hyperparameters(self):
        raise NotImplementedError


# --------------------------------------------------------------------------
# The five update rules
# --------------------------------------------------------------------------

class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum and weight decay.

    For each step t = 1, 2, ... (γ = lr, μ = momentum, τ = dampening,
    λ = weight_decay)::

        g  = dL/dθ                      (negated if maximize)
        g  = g + λ θ                    if λ != 0   (L2 weight decay)
        if μ != 0:
            b = g                       at t = 1
            b = μ b + (1 - τ) g         at t > 1    (the momentum buffer)
            g = g + μ b                 if nesterov
            g = b                       otherwise
        θ  = θ - γ g

    Plain SGD (μ = 0) is just θ ← θ − γ·dL/dθ.

    Parameters
    ----------
    params : Module or list of Parameter
    lr : float >= 0, default 1e-3
    momentum : float >= 0, default 0
    dampening : float, default 0
    weight_decay : float >= 0, default 0
    nesterov : bool, default False (needs momentum > 0 and dampening = 0)
    maximize : bool, default False
    """

    hyperparameter_names = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
    state_names = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov, self.maximize = weight_decay, nesterov, maximize
        self._check_hyperparameters()
        super().__init__(params)

    def _check_hyperparameters(self):
        self.lr = _check_learning_rate(self.lr)
        self.momentum = _check_at_least_zero("momentum", self.momentum)
        if not isinstance(self.dampening, (int, float, np.integer, np.floating)):
            raise HyperparameterError(f"Invalid dampening value: {self.dampening!r} "
                                      "(dampening must be a number, usually in [0, 1])")
        self.dampening = float(self.dampening)
        self.weight_decay = _check_at_least_zero("weight_decay", self.weight_decay)
        self.nesterov = _check_flag("nesterov", self.nesterov)
        self.maximize = _check_flag("maximize", self.maximize)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise HyperparameterError(
                "Nesterov momentum requires a momentum and zero dampening "
                f"(got momentum={self.momentum}, dampening={self.dampening}: "
                "use momentum > 0 and dampening = 0, or nesterov=False)")

    def _update(self, theta, grad, state, t):
        sgd_kernel(theta, grad, state["momentum_buffer"], first_step=(t == 1),
                   nesterov=self.nesterov, maximize=self.maximize,
                   **scalars_like(theta, lr=self.lr, momentum=self.momentum,
                                  one_minus_dampening=1 - self.dampening,
                                  weight_decay=self.weight_decay))


@compiled
def sgd_kernel(theta, grad, momentum_buffer, lr, momentum, one_minus_dampening, weight_decay,
               nesterov, maximize, first_step, smallest_normal):
    """SGD's rule for every coordinate i (all arrays of shape (n,); the formula of ``SGD``)."""
    for i in range(theta.size):
        g = gradient_direction(grad[i], theta[i], weight_decay, maximize)
        if momentum != 0:
            if first_step:
                b = g                                                # b = g at t = 1
            else:
                b = momentum * momentum_buffer[i] + one_minus_dampening * g   # μ b + (1 - τ) g
            b = flush_subnormal(b, smallest_normal)
            momentum_buffer[i] = b
            if nesterov:
                g = g + momentum * b                                 # g + μ b
            else:
                g = b
        theta[i] -= lr * g                                           # θ = θ - γ g


class Adagrad(Optimizer):
    r"""Adagrad: each coordinate's step shrinks with its own gradient history.

    For each step t = 1, 2, ... (γ = lr, η = lr_decay, λ = weight_decay)::

        g   = dL/dθ                         (negated if maximize)
        γ_t = γ / (1 + (t - 1) η)           the decayed learning rate
        g   = g + λ θ                       if λ != 0
        s   = s + g²                        sum of squares, starts at initial_accumulator_value
        θ   = θ - γ_t g / (√s + eps)

    Parameters
    ----------
    params : Module or list of Parameter
    lr : float >= 0, default 1e-2
    lr_decay : float >= 0, default 0
    weight_decay : float >= 0, default 0
    initial_accumulator_value : float >= 0, default 0
    eps : float >= 0, default 1e-10
    maximize : bool, default False
    """

    hyperparameter_names = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value",
                            "eps", "maximize")
    state_names = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        self.lr, self.lr_decay, self.weight_decay = lr, lr_decay, weight_decay
        self.initial_accumulator_value, self.eps, self.maximize = (
            initial_accumulator_value, eps, maximize)
        self._check_hyperparameters()
        super().__init__(params)

    def _initial_state_value(self, state_name):
        return self.initial_accumulator_value

    def _check_hyperparameters(self):
        self.lr = _check_learning_rate(self.lr)
        self.lr_decay = _check_at_least_zero("lr_decay", self.lr_decay)
        self.weight_decay = _check_at_least_zero("weight_decay", self.weight_decay)
        self.initial_accumulator_value = _check_at_least_zero(
            "initial_accumulator_value", self.initial_accumulator_value)
        self.eps = _check_at_least_zero("eps", self.eps, label="epsilon value")
        self.maximize = _check_flag("maximize", self.maximize)

    def _update(self, theta, grad, state, t):
        decayed_lr = self.lr / (1 + (t - 1) * self.lr_decay)      # γ_t
        adagrad_kernel(theta, grad, state["sum"], maximize=self.maximize,
                       **scalars_like(theta, decayed_lr=decayed_lr, eps=self.eps,
                                      weight_decay=self.weight_decay))


@compiled
def adagrad_kernel(theta, grad, state_sum, decayed_lr, eps, weight_decay, maximize,
                   smallest_normal):
    """Adagrad's rule for every coordinate i (all arrays of shape (n,); the formula of ``Adagrad``).

    (The sum of squares only grows, so it needs no flush of subnormal values.)
    """
    for i in range(theta.size):
        g = gradient_direction(grad[i], theta[i], weight_decay, maximize)
        s = state_sum[i] + g * g                                     # s = s + g²
        state_sum[i] = s
        theta[i] -= decayed_lr * (g / (math.sqrt(s) + eps))          # θ = θ - γ_t g / (√s + eps)


class RMSprop(Optimizer):
    r"""RMSprop: divide the step by a running root-mean-square of the gradient.

    For each step t = 1, 2, ... (γ = lr, α = alpha, μ = momentum, λ = weight_decay)::

        g = dL/dθ                           (negated if maximize)
        g = g + λ θ                         if λ != 0
        v = α v + (1 - α) g²                running mean of g², starts at 0
        if centered:
            m = α m + (1 - α) g             running mean of g, starts at 0
            d = √(v - m²) + eps             (an estimate of the standard deviation)
        else:
            d = √v + eps
        if μ > 0:
            b = μ b + g / d                 starts at 0
            θ = θ - γ b
        else:
            θ = θ - γ g / d

    Parameters
    ----------
    params : Module or list of Parameter
    lr : float >= 0, default 1e-2
    alpha : float >= 0, default 0.99
    eps : float >= 0, default 1e-8
    weight_decay : float >= 0, default 0
    momentum : float >= 0, default 0
    centered : bool, default False
    maximize : bool, default False
    """

    hyperparameter_names = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered",
                            "maximize")
    state_names = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        self.lr, self.alpha, self.eps = lr, alpha, eps
        self.weight_decay, self.momentum, self.centered, self.maximize = (
            weight_decay, momentum, centered, maximize)
        self._check_hyperparameters()
        super().__init__(params)

    def _check_hyperparameters(self):
        self.lr = _check_learning_rate(self.lr)
        self.eps = _check_at_least_zero("eps", self.eps, label="epsilon value")
        self.momentum = _check_at_least_zero("momentum", self.momentum)
        self.weight_decay = _check_at_least_zero("weight_decay", self.weight_decay)
        self.alpha = _check_at_least_zero("alpha", self.alpha)
        self.centered = _check_flag("centered", self.centered)
        self.maximize = _check_flag("maximize", self.maximize)

    def _update(self, theta, grad, state, t):
        rmsprop_kernel(theta, grad, state["square_avg"], state["grad_avg"],
                       state["momentum_buffer"], centered=self.centered, maximize=self.maximize,
                       **scalars_like(theta, lr=self.lr, alpha=self.alpha,
                                      one_minus_alpha=1 - self.alpha, eps=self.eps,
                                      weight_decay=self.weight_decay, momentum=self.momentum))


@compiled
def rmsprop_kernel(theta, grad, square_avg, grad_avg, momentum_buffer, lr, alpha,
                   one_minus_alpha, eps, weight_decay, momentum, centered, maximize,
                   smallest_normal):
    """RMSprop's rule for every coordinate i (all arrays of shape (n,); the formula of ``RMSprop``)."""
    for i in range(theta.size):
        g = gradient_direction(grad[i], theta[i], weight_decay, maximize)
        v = flush_subnormal(alpha * square_avg[i] + one_minus_alpha * (g * g), smallest_normal)
        square_avg[i] = v                                            # v = α v + (1 - α) g²
        if centered:
            m = flush_subnormal(alpha * grad_avg[i] + one_minus_alpha * g, smallest_normal)
            grad_avg[i] = m                                          # m = α m + (1 - α) g
            d = math.sqrt(v - m * m) + eps                           # d = √(v - m²) + eps
        else:
            d = math.sqrt(v) + eps                                   # d = √v + eps
        if momentum > 0:
            b = flush_subnormal(momentum * momentum_buffer[i] + g / d, smallest_normal)
            momentum_buffer[i] = b                                   # b = μ b + g / d
            theta[i] -= lr * b                                       # θ = θ - γ b
        else:
            theta[i] -= lr * (g / d)                                 # θ = θ - γ g / d


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, divided by a running RMS of the gradient.

    For each step t = 1, 2, ... (γ = lr, β₁, β₂ = betas, λ = weight_decay)::

        g  = dL/dθ                          (negated if maximize)
        g  = g + λ θ                        if λ != 0 (L2 penalty; AdamW decays θ instead)
        m  = β₁ m + (1 - β₁) g              first moment, starts at 0
        v  = β₂ v + (1 - β₂) g²             second moment, starts at 0
        m̂  = m / (1 - β₁ᵗ)                  bias correction: t counts from 1, so at t = 1
        v̂  = v / (1 - β₂ᵗ)                  m̂ = g and v̂ = g² exactly
        if amsgrad:
            v_max = max(v_max, v)           the largest v so far, starts at 0
            v̂ = v_max / (1 - β₂ᵗ)
        θ  = θ - γ m̂ / (√v̂ + eps)

    (With amsgrad, torch keeps the running maximum of v and bias-corrects it,
    as written here.)

    Parameters
    ----------
    params : Module or list of Parameter
    lr : float >= 0, default 1e-3
    betas : (float, float), each in [0, 1), default (0.9, 0.999)
    eps : float >= 0, default 1e-8
    weight_decay : float >= 0, default 0
    amsgrad : bool, default False
    maximize : bool, default False
    """

    hyperparameter_names = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")
    state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")   # max_exp_avg_sq: amsgrad only
    default_weight_decay = 0.0

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=None,
                 amsgrad=False, *, maximize=False):
        if weight_decay is None:
            weight_decay = self.default_weight_decay
        self.lr, self.betas, self.eps = lr, betas, eps
        self.weight_decay, self.amsgrad, self.maximize = weight_decay, amsgrad, maximize
        self._check_hyperparameters()
        super().__init__(params)

    def _check_hyperparameters(self):
        self.lr = _check_learning_rate(self.lr)
        self.eps = _check_at_least_zero("eps", self.eps, label="epsilon value")
        self.betas = _check_betas(self.betas)
        self.weight_decay = _check_at_least_zero("weight_decay", self.weight_decay)
        self.amsgrad = _check_flag("amsgrad", self.amsgrad)
        self.maximize = _check_flag("maximize", self.maximize)

    def _update(self, theta, grad, state, t):
        beta1, beta2 = self.betas
        # θ = θ - γ m̂ / (√v̂ + eps) with m̂ = m / c₁, v̂ = v / c₂ (c₁ = 1 - β₁ᵗ, c₂ = 1 - β₂ᵗ).
        # Multiplying top and bottom by √c₂ gives the same value with less work per coordinate:
        #     θ = θ - (γ √c₂ / c₁) · m / (√v + eps √c₂)
        c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
        adam_kernel(theta, grad, state["exp_avg"], state["exp_avg_sq"], state["max_exp_avg_sq"],
                    amsgrad=self.amsgrad, maximize=self.maximize,
                    **scalars_like(theta, beta1=beta1, one_minus_beta1=1 - beta1, beta2=beta2,
                                   one_minus_beta2=1 - beta2,
                                   step_size=self.lr * math.sqrt(c2) / c1,
                                   eps_hat=self.eps * math.sqrt(c2),
                                   **self._weight_decay_terms()))

    def _weight_decay_terms(self):
        """Adam: the L2 penalty joins the gradient (g + λθ); θ is not shrunk."""
        return {"weight_decay": self.weight_decay, "shrink": 1.0}


@compiled
def adam_kernel(theta, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, beta1, one_minus_beta1,
                beta2, one_minus_beta2, step_size, eps_hat, weight_decay, shrink, amsgrad,
                maximize, smallest_normal):
    """Adam's (and AdamW's) rule for every coordinate i (arrays of shape (n,)).

    The formula of ``Adam``, with the bias correction folded into
    ``step_size`` = γ √c₂ / c₁ and ``eps_hat`` = eps √c₂ (see ``Adam._update``),
    and AdamW's decoupled decay as ``shrink`` = 1 - γλ (1 for Adam).
    """
    for i in range(theta.size):
        theta_i = theta[i] * shrink if shrink != 1 else theta[i]      # AdamW: θ = θ - γ λ θ
        g = gradient_direction(grad[i], theta_i, weight_decay, maximize)
        m = flush_subnormal(beta1 * exp_avg[i] + one_minus_beta1 * g, smallest_normal)
        v = flush_subnormal(beta2 * exp_avg_sq[i] + one_minus_beta2 * (g * g), smallest_normal)
        exp_avg[i] = m                                               # m = β₁ m + (1 - β₁) g
        exp_avg_sq[i] = v                                            # v = β₂ v + (1 - β₂) g²
        if amsgrad:
            v = max(max_exp_avg_sq[i], v)                            # v_max = max(v_max, v)
            max_exp_avg_sq[i] = v
        theta[i] = theta_i - step_size * (m / (math.sqrt(v) + eps_hat))


class AdamW(Adam):
    r"""AdamW: Adam with *decoupled* weight decay (Loshchilov & Hutter).

    Identical to ``Adam`` except the weight decay: instead of adding λθ to
    the gradient (where Adam's division by √v̂ would rescale it), every step
    first shrinks the parameters directly::

        θ = θ - γ λ θ                       (γ = lr, λ = weight_decay, default 1e-2)

    and then applies Adam's update with g = dL/dθ (no λθ added).

    Parameters
    ----------
    As ``Adam``, but ``weight_decay`` defaults to 1e-2.
    """

    default_weight_decay = 1e-2

    def _weight_decay_terms(self):
        """AdamW: θ shrinks by 1 - γλ each step; nothing joins the gradient."""
        return {"weight_decay": 0.0, "shrink": 1 - self.lr * self.weight_decay}


# --------------------------------------------------------------------------
# Looking an optimizer up by name
# --------------------------------------------------------------------------

OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}


def get(name_or_instance, params=None, **options):
    """An optimizer from its name (``"adam"``, any case) or an instance passed through.

    ``optim.get("adam", model, lr=1e-2)`` is ``optim.Adam(model, lr=1e-2)``.
    Unknown names raise ``UnknownNameError`` listing the valid ones.
    """
    if isinstance(name_or_instance, Optimizer):
        if options:
            raise TypeError("options can only be given with an optimizer name, "
                            f"not with an optimizer instance ({name_or_instance!r})")
        return name_or_instance
    if isinstance(name_or_instance, type) and issubclass(name_or_instance, Optimizer):
        return name_or_instance(params, **options)
    if not isinstance(name_or_instance, str):
        raise TypeError(f"expected an optimizer name such as 'adam' or an optimizer, "
                        f"got {type(name_or_instance).__name__}")
    key = name_or_instance.lower().replace("_", "").replace("-", "")
    if key not in OPTIMIZERS:
        raise UnknownNameError(
            f"unknown optimizer {name_or_instance!r}; valid names are: "
            + ", ".join(repr(name) for name in OPTIMIZERS))
    if params is None:
        raise TypeError(f"optim.get({name_or_instance!r}, params): give the parameters "
                        "to optimize (a model or a list of Parameters)")
    return OPTIMIZERS[key](params, **options)
