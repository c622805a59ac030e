"""Learning-rate schedules: how the step size changes as training goes on.

Each schedule is a plain function of ``t`` (and its options) that returns the
learning rate to use. ``t`` counts from 1, like the optimizers' step count:
the first update uses ``schedule(1)``, which is always the base ``lr``.
``t`` may be a NumPy array, which makes plotting easy::

    t = np.arange(1, 101)
    plt.plot(t, schedules.cosine(t, lr=0.1, total_steps=100))

=============  ===============================================================
constant       lr
step_decay     lr · gamma^⌊(t - 1) / step_size⌋   (divide by 1/gamma every step_size)
exponential    lr · gamma^(t - 1)
inverse_sqrt   lr / √t                             (the classic SGD decay)
cosine         min_lr + (lr - min_lr) · (1 + cos(π · min(t - 1, T) / T)) / 2,  T = total_steps
=============  ===============================================================

To drive an optimizer, wrap it in a ``Scheduler``; it sets ``optimizer.lr``::

    optimizer = optim.SGD(model, lr=0.1)
    scheduler = schedules.Scheduler(optimizer, "inverse_sqrt")   # optimizer.lr = 0.1 / √1
    for epoch in range(10):
        train_epoch(model, loader, loss, optimizer)
        scheduler.step()                   # now t = epoch + 2: lr = 0.1 / √t

Call ``scheduler.step()`` once per epoch for a per-epoch schedule (t is the
epoch number), or right after every ``optimizer.step()`` for a
per-iteration schedule (t is the iteration number, as in lesson 3).
"""

import math

import numpy as np

from . import checks
from .errors import HyperparameterError, UnknownNameError

__all__ = ["constant", "step_decay", "exponential", "inverse_sqrt", "cosine", "get",
           "Scheduler", "SCHEDULES"]


def _check_t(t):
    t_array = np.asarray(t)
    if not np.issubdtype(t_array.dtype, np.number) or np.any(t_array < 1):
        raise HyperparameterError(f"Invalid step t: {t!r} (t counts from 1, so t must be >= 1)")
    return t_array


def _check_positive(name, value, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not (value >= 0 if allow_zero else value > 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise HyperparameterError(f"Invalid {name}: {value!r} ({name} must be {bound})")


def _result(values, t):
    """A Python float for a scalar t, an array for an array of t."""
    return float(values) if np.ndim(t) == 0 else np.asarray(values, dtype=float)


def constant(t, lr):
    """The same learning rate at every step: ``lr``."""
    t_array = _check_t(t)
    _check_positive("lr", lr, allow_zero=True)
    return _result(np.full(t_array.shape, float(lr)), t)


def step_decay(t, lr, step_size, gamma=0.1):
    """``lr · gamma^⌊(t - 1) / step_size⌋``: multiply by ``gamma`` every ``step_size`` steps.

    E.g. lr=0.1, step_size=3, gamma=0.5 gives 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, ...
    (torch's StepLR).
    """
    t_array = _check_t(t)
    _check_positive("lr", lr, allow_zero=True)
    if isinstance(step_size, bool) or not isinstance(step_size, (int, np.integer)) or step_size < 1:
        raise HyperparameterError(f"Invalid step_size: {step_size!r} (step_size must be an "
                                  "integer >= 1)")
    _check_positive("gamma", gamma)
    return _result(lr * gamma ** ((t_array - 1) // step_size), t)


def exponential(t, lr, gamma):
    """``lr · gamma^(t - 1)``: multiply by ``gamma`` (e.g. 0.95) at every step (torch's ExponentialLR)."""
    t_array = _check_t(t)
    _check_positive("lr", lr, allow_zero=True)
    _check_positive("gamma", gamma)
    return _result(lr * gamma ** (t_array - 1.0), t)


def inverse_sqrt(t, lr):
    """``lr / √t``: large steps first, then ever smaller ones (SGD's classic decay)."""
    t_array = _check_t(t)
    _check_positive("lr", lr, allow_zero=True)
    return _result(lr / np.sqrt(t_array), t)


def cosine(t, lr, total_steps, min_lr=0.0):
    """Half a cosine from ``lr`` (at t = 1) down to ``min_lr`` (at t = total_steps + 1).

    ``min_lr + (lr - min_lr) · (1 + cos(π · (t - 1) / T)) / 2`` with T = ``total_steps``;
    after T steps it stays at ``min_lr`` (torch's CosineAnnealingLR without restarts).
    """
    t_array = _check_t(t)
    _check_positive("lr", lr, allow_zero=True)
    if isinstance(total_steps, bool) or not isinstance(total_steps, (int, np.integer)) \
            or total_steps < 1:
        raise HyperparameterError(f"Invalid total_steps: {total_steps!r} (total_steps must be "
                                  "an integer >= 1)")
    _check_positive("min_lr", min_lr, allow_zero=True)
    if min_lr > lr:
        raise HyperparameterError(f"Invalid min_lr: {min_lr} (min_lr must be <= lr = {lr})")
    progress = np.minimum(t_array - 1, total_steps) / total_steps       # 0 -> 1
    return _result(min_lr + (lr - min_lr) * (1 + np.cos(math.pi * progress)) / 2, t)


SCHEDULES = {"constant": constant, "step": step_decay, "step_decay": step_decay,
             "exponential": exponential, "inverse_sqrt": inverse_sqrt, "cosine": cosine}


def get(name, **options):
    """The schedule ``name`` with its options fixed: a function ``t -> lr``.

    ``schedules.get("step", lr=0.1, step_size=10)(25)`` is ``step_decay(25, lr=0.1, step_size=10)``.
    Unknown names raise ``UnknownNameError`` listing the valid ones; options
    are checked at once.
    """
    if callable(name):
        return name
    if not isinstance(name, str):
        raise TypeError(f"a schedule must be a name such as 'cosine' or a function of the "
                        f"epoch (or step) t -> lr, got {type(name).__name__}")
    if name.lower() not in SCHEDULES:
        raise UnknownNameError(f"unknown schedule {name!r}; valid names are: "
                               + ", ".join(repr(known) for known in SCHEDULES))
    function = SCHEDULES[name.lower()]
    try:
        function(1, **options)                         # check the options now, not later
    except TypeError as error:
        raise HyperparameterError(f"schedule {name!r}: {error}") from None

    def schedule(t):
        return function(t, **options)
    schedule.__name__ = f"{name}({', '.join(f'{k}={v!r}' for k, v in options.items())})"
    return schedule


class Scheduler:
    """Sets ``optimizer.lr`` from a schedule, one ``step()`` at a time.

    Parameters
    ----------
    optimizer : an optimizer from ``course_lib.optim``
    schedule : str or function ``t -> lr``
        A name from ``SCHEDULES`` (its ``lr`` defaults to the optimizer's
        current ``lr``) or your own function of t.
    **options : the schedule's options, e.g. ``step_size=10, gamma=0.5``

    Attributes
    ----------
    t : int
        The step the optimizer's current ``lr`` belongs to (1 after creation).
    """

    def __init__(self, optimizer, schedule="constant", **options):
        if isinstance(schedule, str):
            options.setdefault("lr", optimizer.lr)
        self.optimizer = optimizer
        self.schedule = get(schedule, **options)
        self.t = 1
        self._set_lr()

    def _set_lr(self):
        """``optimizer.lr = schedule(t)``, refusing a rate that is negative, NaN or infinite."""
        value = self.schedule(self.t)
        if isinstance(value, np.ndarray) and value.size == 1:
            value = value.item()
        self.optimizer.lr = checks.learning_rate(
            value, where=f"learning rate from the schedule {getattr(self.schedule, '__name__', '')!s}"
                         f" at t={self.t}")

    @property
    def lr(self):
        """The learning rate in use now."""
        return self.optimizer.lr

    def step(self):
        """Move to the next t and set ``optimizer.lr = schedule(t)``."""
        self.t += 1
        self._set_lr()
        return self.optimizer.lr

    def state_dict(self):
        return {"t": self.t}

    def load_state_dict(self, state):
        self.t = int(state["t"])
        self._set_lr()

    def __repr__(self):
        return f"Scheduler({self.schedule.__name__}, t={self.t}, lr={self.lr:g})"


def for_fit(optimizer, lr_schedule):
    """A ``schedules.Scheduler`` for ``fit``'s ``lr_schedule`` (None when there is none)."""
    if lr_schedule is None:
        return None
    try:
        return Scheduler(optimizer, lr_schedule)
    except HyperparameterError as error:
        raise HyperparameterError(
            f"{error}. In fit, a schedule name gets only lr; give the other options with "
            f"lr_schedule=schedules.get({lr_schedule!r}, lr=..., ...)") from None
