"""Optimizers: the rules that turn gradients into parameter updates.

Each optimizer follows the algorithm the ``torch.optim`` documentation
gives, with the same options and defaults:

=========  ===========================================================
SGD        lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False
Adagrad    lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10
RMSprop    lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False
Adam       lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False
AdamW      lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False
=========  ===========================================================

All of them also take ``maximize=False`` (climb instead of descend: the
gradient is negated first) and ``fast=None`` (see "The fast path" below).

Use: ``optimizer = optim.Adam(model, lr=1e-3)``, then per batch ``zero_grad()``,
forward, backward, ``step()`` (the loop of ``course_lib.training``).

The contract, stated once
-------------------------
``step()`` loops over the parameters: for each ``p`` it reads ``p.grad``,
updates the arrays the rule keeps for ``p`` (``self.state[i]``, e.g.
``{"exp_avg": m, "exp_avg_sq": v}``, created as zeros) and changes
``p.data`` in place. ``t`` is the step number **counted from 1** (the
convention that can be read two ways; Adam's 1 - β₁ᵗ uses it). The
hyperparameters are checked at construction *and* at every step, so
``optimizer.lr = -5.0`` stops the next step instead of training uphill.

The fast path: where numba is installed, ``course_lib.fast_optim`` runs the
same formulas as compiled loops over one flat buffer (one pass over the
parameters instead of a dozen). ``fast=True`` asks for it, ``fast=False``
refuses it, ``fast=None`` uses it when numba imports and the environment
variable ``DESCENT_FAST`` is not ``0``; ``optimizer.fast`` is None on the
reference path. A test requires both paths to give the same numbers.
"""

import numpy as np

from . import checks, fast_optim
from .errors import UnknownNameError, UsageError

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "get"]


class Optimizer:
    """What every optimizer shares: the parameters, their state, ``step`` and ``zero_grad``.

    Subclasses set ``defaults`` (the hyperparameters, in signature order) and
    ``state_names``, and write ``update(t)``: the rule, applied to every
    parameter for step t.
    """

    defaults = {}       # e.g. {"lr": 1e-3, "betas": (0.9, 0.999), ...}
    state_names = ()    # e.g. ("exp_avg", "exp_avg_sq")

    def __init__(self, params, fast=None, **hyperparameters):
        self.params = checks.parameter_list(params)
        for name, value in hyperparameters.items():
            setattr(self, name, value)
        self.check_hyperparameters()
        self.step_count = 0          # t of the last step; the next step() uses t = step_count + 1
        self.state = [{name: np.full_like(p.data, self.initial_state_value(name))
                       for name in self.state_names} for p in self.params]
        self.fast = fast_optim.FlatBuffers(self) if fast_optim.wanted(fast) else None

    def initial_state_value(self, state_name):
        return 0.0

    def zero_grad(self):
        """Set every parameter's ``.grad`` to zeros."""
        if self.fast is not None:
            self.fast.zero_grad()
            return
        for p in self.params:
            p.zero_grad()

    def step(self):
        """Apply one update to every parameter, using the gradients in ``.grad``."""
        self.check_hyperparameters()         # e.g. a negative lr set since the last step
        self.step_count += 1
        if self.fast is not None:
            self.fast.step(self.step_count)
        else:
            self.update(self.step_count)

    def update(self, t):
        raise NotImplementedError

    def direction(self, p, weight_decay=0.0):
        """The g every rule starts from: dL/dθ (negated if maximize), plus λθ if λ != 0."""
        g = -p.grad if self.maximize else p.grad
        if weight_decay != 0:
            g = g + weight_decay * p.data
        return g

    def check_hyperparameters(self):
        """Check every hyperparameter's type and range (see ``checks.optimizer_hyperparameters``)."""
        checks.optimizer_hyperparameters(self)

    @property
    def hyperparameters(self):
        """The current hyperparameters, e.g. ``{"lr": 0.001, "betas": (0.9, 0.999), ...}``."""
        return {name: getattr(self, name) for name in self.defaults}

    def __repr__(self):
        options = ", ".join(f"{name}={value!r}" for name, value in self.hyperparameters.items())
        return f"{type(self).__name__}({options})"

    def state_dict(self):
        """Everything needed to continue exactly where training stopped.

        ``{"optimizer": "Adam", "step": t, "hyperparameters": {...},
        "state": {"0": {"exp_avg": array, ...}, "1": {...}}}``, keyed by the
        parameter's position in ``params``; all arrays are copies.
        """
        return {"optimizer": type(self).__name__, "step": self.step_count,
                "hyperparameters": self.hyperparameters,
                "state": {str(index): {name: array.copy() for name, array in state.items()}
                          for index, state in enumerate(self.state)}}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` returned (the numbers are copied in place)."""
        checks.optimizer_state_fits(self, state_dict)
        for index, state in enumerate(self.state):
            for name, array in state.items():
                array[...] = state_dict["state"][str(index)][name]
        for name, value in state_dict.get("hyperparameters", {}).items():
            setattr(self, name, checks.plain_value(value))    # e.g. betas saved as an array
        self.check_hyperparameters()
        self.step_count = int(state_dict["step"])


# --- The five update rules -------------------------------------------------

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

    Plain SGD (μ = 0) is just θ ← θ − γ·dL/dθ. ``nesterov`` needs μ > 0 and τ = 0.
    """

    defaults = {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0,
                "nesterov": False, "maximize": False}
    state_names = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False, fast=None):
        super().__init__(params, fast, lr=lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)

    def update(self, t):
        for p, state in zip(self.params, self.state):
            g = self.direction(p, self.weight_decay)
            if self.momentum != 0:
                b = state["momentum_buffer"]
                if t == 1:
                    b[...] = g                                            # b = g
                else:
                    b *= self.momentum
                    b += (1 - self.dampening) * g                         # b = μ b + (1 - τ) g
                g = g + self.momentum * b if self.nesterov else b
            p.data -= self.lr * g                                         # θ = θ - γ g


class Adagrad(Optimizer):
    r"""Adagrad: each coordinate's step shrinks with its own gradient history.

    For each step t = 1, 2, ... (γ = lr, η = lr_decay, λ = weight_decay)::

        g   = dL/dθ                         (negated if maximize)
        γ_t = γ / (1 + (t - 1) η)           the decayed learning rate
        g   = g + λ θ                       if λ != 0
        s   = s + g²                        sum of squares, starts at initial_accumulator_value
        θ   = θ - γ_t g / (√s + eps)

    s only grows, so every coordinate's step only shrinks: RMSprop replaces
    the sum by a running *average* so that old gradients are forgotten.
    """

    defaults = {"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0,
                "initial_accumulator_value": 0.0, "eps": 1e-10, "maximize": False}
    state_names = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False, fast=None):
        super().__init__(params, fast, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps,
                         maximize=maximize)

    def initial_state_value(self, state_name):
        return self.initial_accumulator_value

    def update(self, t):
        decayed_lr = self.lr / (1 + (t - 1) * self.lr_decay)             # γ_t
        for p, state in zip(self.params, self.state):
            g = self.direction(p, self.weight_decay)
            s = state["sum"]
            s += g * g                                                    # s = s + g²
            p.data -= decayed_lr * g / (np.sqrt(s) + self.eps)            # θ = θ - γ_t g / (√s + eps)


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

    There is no bias correction: v starts at 0, so the first step is
    γ g / √((1 - α) g²) = γ / √(1 - α) — ten times γ at α = 0.99.
    """

    defaults = {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
                "centered": False, "maximize": False}
    state_names = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False, fast=None):
        super().__init__(params, fast, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                         momentum=momentum, centered=centered, maximize=maximize)

    def update(self, t):
        alpha = self.alpha
        for p, state in zip(self.params, self.state):
            g = self.direction(p, self.weight_decay)
            v = state["square_avg"]
            v *= alpha
            v += (1 - alpha) * g * g                                      # v = α v + (1 - α) g²
            if self.centered:
                m = state["grad_avg"]
                m *= alpha
                m += (1 - alpha) * g                                      # m = α m + (1 - α) g
                d = np.sqrt(v - m * m) + self.eps                         # d = √(v - m²) + eps
            else:
                d = np.sqrt(v) + self.eps                                 # d = √v + eps
            if self.momentum > 0:
                b = state["momentum_buffer"]
                b *= self.momentum
                b += g / d                                                # b = μ b + g / d
                p.data -= self.lr * b                                     # θ = θ - γ b
            else:
                p.data -= self.lr * g / d                                 # θ = θ - γ g / d


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

    In ``state[i]``: m is ``"exp_avg"``, v is ``"exp_avg_sq"``, v_max is
    ``"max_exp_avg_sq"`` (torch's names). Lesson 6 derives every line.
    """

    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                "amsgrad": False, "maximize": False}
    state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")   # max_exp_avg_sq: amsgrad only

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=None,
                 amsgrad=False, *, maximize=False, fast=None):
        if weight_decay is None:
            weight_decay = self.defaults["weight_decay"]
        super().__init__(params, fast, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)

    def update(self, t):
        beta1, beta2 = self.betas
        for p, state in zip(self.params, self.state):
            g = self.direction(p, self.l2_penalty())
            self.decay_weights(p)                                         # AdamW only
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m *= beta1
            m += (1 - beta1) * g                                          # m = β₁ m + (1 - β₁) g
            v *= beta2
            v += (1 - beta2) * g * g                                      # v = β₂ v + (1 - β₂) g²
            if self.amsgrad:
                v_max = state["max_exp_avg_sq"]
                np.maximum(v_max, v, out=v_max)                           # v_max = max(v_max, v)
                v = v_max
            m_hat = m / (1 - beta1 ** t)                                  # m̂ = m / (1 - β₁ᵗ)
            v_hat = v / (1 - beta2 ** t)                                  # v̂ = v / (1 - β₂ᵗ)
            p.data -= self.lr * (m_hat / (np.sqrt(v_hat) + self.eps))     # θ = θ - γ m̂ / (√v̂ + eps)

    def l2_penalty(self):
        """Adam: weight decay is an L2 penalty λθ added to the gradient."""
        return self.weight_decay

    def decay_weights(self, p):
        """Adam: nothing (AdamW shrinks θ here)."""


class AdamW(Adam):
    r"""AdamW: Adam with *decoupled* weight decay (Loshchilov & Hutter).

    As ``Adam``, except that instead of adding λθ to the gradient (where the division
    by √v̂ would rescale it), each step first shrinks θ directly, then runs Adam's
    update with g = dL/dθ::

        θ = θ - γ λ θ                       (γ = lr, λ = weight_decay, default 1e-2)
    """

    defaults = dict(Adam.defaults, weight_decay=1e-2)

    def l2_penalty(self):
        return 0.0

    def decay_weights(self, p):
        p.data *= 1 - self.lr * self.weight_decay                         # θ = θ - γ λ θ


# --- Looking an optimizer up by name ---------------------------------------

OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}


def get(name_or_instance, params=None, **options):
    """An optimizer from its name (``"adam"``, any case) or an instance passed through.

    ``optim.get("adam", model, lr=1e-2)`` is ``optim.Adam(model, lr=1e-2)``:
    a name gets exactly the class's defaults (the table above) unless
    options say otherwise. Unknown names raise ``UnknownNameError``.
    """
    if isinstance(name_or_instance, Optimizer):
        if options:
            raise UsageError("options can only be given with an optimizer name, "
                            f"not with an optimizer instance ({name_or_instance!r})")
        return name_or_instance
    if isinstance(name_or_instance, type) and issubclass(name_or_instance, Optimizer):
        return name_or_instance(params, **options)
    if not isinstance(name_or_instance, str):
        raise UsageError(f"expected an optimizer name such as 'adam' or an optimizer, "
                        f"got {type(name_or_instance).__name__}")
    key = name_or_instance.lower().replace("_", "").replace("-", "")
    if key not in OPTIMIZERS:
        raise UnknownNameError(f"unknown optimizer {name_or_instance!r}; valid names are: "
                               + ", ".join(repr(name) for name in OPTIMIZERS))
    if params is None:
        raise UsageError(f"optim.get({name_or_instance!r}, params): give the parameters "
                        "to optimize (a model or a list of Parameters)")
    return OPTIMIZERS[key](params, **options)
