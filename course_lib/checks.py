"""Input checks shared by the engine, kept here so that the algorithms stay in view.

Every check raises one of ``course_lib.errors``' errors with a message that
names the problem *and* the fix; none of them changes a valid value (they
only convert numbers to Python floats and flags to bools).
"""

import math

import numpy as np

from .errors import HyperparameterError, ShapeError, StateDictError

REAL_NUMBER = (int, float, np.integer, np.floating)


def _is_number(value):
    return isinstance(value, REAL_NUMBER) and not isinstance(value, (bool, np.bool_))


# --------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------

def learning_rate(lr, where="learning rate"):
    """``lr`` as a float, or a HyperparameterError unless it is a finite number >= 0.

    Used by every optimizer at construction *and* at every ``step()``, so a
    rate set later (``optimizer.lr = ...``, a schedule) is checked too.
    """
    if not _is_number(lr):
        raise HyperparameterError(f"Invalid {where}: {lr!r} (lr must be a number >= 0)")
    if lr < 0:
        raise HyperparameterError(f"Invalid {where}: {lr} (lr must be >= 0). A negative rate "
                                  "climbs the loss: use lr > 0 (maximize=True climbs on purpose).")
    if not math.isfinite(lr):
        raise HyperparameterError(f"Invalid {where}: {lr} (lr must be a finite number >= 0, "
                                  "e.g. lr=1e-3)")
    return float(lr)


def at_least_zero(name, value, label=None):
    """``value`` as a float, or a HyperparameterError unless it is a finite number >= 0."""
    label = label or f"{name} value"
    if not _is_number(value):
        raise HyperparameterError(f"Invalid {label}: {value!r} ({name} must be a number >= 0)")
    if value < 0:
        raise HyperparameterError(f"Invalid {label}: {value} ({name} must be >= 0)")
    if not math.isfinite(value):                     # NaN or inf
        raise HyperparameterError(f"Invalid {label}: {value} ({name} must be a finite number >= 0)")
    return float(value)


def finite_number(name, value):
    """``value`` as a float, or a HyperparameterError unless it is a finite number."""
    if not (_is_number(value) and math.isfinite(value)):
        raise HyperparameterError(f"Invalid {name} value: {value!r} ({name} must be a finite "
                                  "number)")
    return float(value)


def beta(index, value):
    """One of Adam's betas, in [0, 1)."""
    if not (_is_number(value) and 0.0 <= value < 1.0):
        raise HyperparameterError(f"Invalid beta parameter at index {index}: {value!r} "
                                  f"(betas[{index}] must be in [0, 1))")
    return float(value)


def betas(value):
    """Adam's ``(beta1, beta2)``, each in [0, 1)."""
    try:
        beta1, beta2 = value
    except (TypeError, ValueError):
        raise HyperparameterError(
            f"Invalid betas: {value!r} (betas must be a pair (beta1, beta2), "
            "each in [0, 1), e.g. (0.9, 0.999))") from None
    return (beta(0, beta1), beta(1, beta2))


def flag(name, value):
    """A bool, or a HyperparameterError: a string such as "no" is not silently True."""
    if not isinstance(value, (bool, np.bool_)):
        raise HyperparameterError(f"Invalid {name} value: {value!r} ({name} must be True or "
                                  f"False)")
    return bool(value)


# --------------------------------------------------------------------------
# Parameters handed to an optimizer
# --------------------------------------------------------------------------

def parameter_list(params):
    """A Module or an iterable of Parameters as a list, duplicates dropped, dtypes checked."""
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"params must be a model (a Module) or a list of Parameters, "
                        f"got {type(params).__name__}") from None
    unique, seen = [], set()
    for param in params:
        if not (hasattr(param, "data") and hasattr(param, "grad")):
            raise TypeError(f"params must hold Parameters (objects with .data and .grad), got "
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


def same_shape(what, array, shape):
    """Raise a ShapeError unless ``array`` has ``shape``."""
    if np.shape(array) != tuple(shape):
        raise ShapeError(f"{what} has shape {np.shape(array)} but the parameter has shape "
                         f"{tuple(shape)}; was it saved for another model?")


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------

def positive_int(owner, name, value):
    """Raise unless ``value`` is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise HyperparameterError(f"{owner}: {name} must be a positive integer (1, 2, ...), "
                                  f"got {value!r}.")


def grad_shape(layer, grad_output, expected_shape):
    """Raise unless ``grad_output`` has the shape of the layer's last output."""
    if expected_shape is None:
        raise RuntimeError(f"{layer!r}.backward was called before forward; call forward first.")
    if grad_output.shape != expected_shape:
        raise ShapeError(
            f"{layer!r}.backward expects a gradient of shape {expected_shape} (the shape of its "
            f"last output) but got {grad_output.shape}; pass dL/d(output) of the last forward call.")


def linear_input_message(layer, shape, in_features):
    """The message for an input of the wrong shape given to ``Linear``, with the likely fix."""
    expected = f"{layer!r} expects inputs of shape (batch, {in_features}) but got {shape}"
    if len(shape) > 2 and int(np.prod(shape[1:])) == in_features:
        return expected + "; flatten the images first with nn.Flatten()."
    if len(shape) == 1 and shape[0] == in_features:
        return expected + "; add a batch axis, e.g. x.reshape(1, -1)."
    if len(shape) == 2:
        return (expected + f"; the input width ({shape[1]}) must equal in_features "
                f"({in_features}): check the previous layer's out_features.")
    return expected + "."


def state_dict_fits(model, state, source="the state dict"):
    """Raise unless ``state`` has exactly ``model``'s parameter names and shapes.

    ``StateDictError`` names the missing and unexpected entries; ``ShapeError``
    names each entry whose saved shape differs. ``source`` (e.g. a file name)
    says where the state came from.
    """
    params = dict(model.named_parameters())
    missing = [name for name in params if name not in state]
    unexpected = [name for name in state if name not in params]
    advice = ". Build the model exactly as when it was saved."
    kind = type(model).__name__
    if missing or unexpected:
        problems = []
        if missing:
            problems.append(f"missing from it: {missing}")
        if unexpected:
            problems.append(f"not in this model: {unexpected}")
        raise StateDictError(f"{source} does not fit this {kind}: " + "; ".join(problems) + advice)
    wrong = [f"{name!r}: saved {np.shape(state[name])}, model {p.shape}"
             for name, p in params.items() if np.shape(state[name]) != p.shape]
    if wrong:
        raise ShapeError(f"{source} does not fit this {kind}, shapes differ: "
                         + "; ".join(wrong) + advice)
