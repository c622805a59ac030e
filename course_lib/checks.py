"""Input checks shared by the engine, kept here so that the algorithms stay in view.

Every check raises one of ``course_lib.errors``' errors with a message that
names the problem *and* the fix; none of them changes a valid value (they
only convert numbers to Python floats and flags to bools).
"""

import difflib
import inspect
import math

import numpy as np

from .errors import (HyperparameterError, LabelError, ProbabilityError, ShapeError,
                     StateDictError, UnknownNameError, UsageError)

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


def in_unit_interval(name, value):
    """``value`` as a float, or a HyperparameterError unless 0 <= value < 1."""
    if not (_is_number(value) and 0.0 <= value < 1.0):
        raise HyperparameterError(f"{name} must be in [0, 1), got {value!r}.")
    return float(value)


def positive_number(owner, name, value):
    """``value`` as a float, or a HyperparameterError unless 0 < value < inf."""
    if not (_is_number(value) and math.isfinite(value) and value > 0):
        raise HyperparameterError(f"{owner}: {name} must be a positive number (0 < {name} < inf), "
                                  f"got {value!r}.")
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


def _epsilon(name, value):
    return at_least_zero(name, value, label="epsilon value")


# The range of every optimizer hyperparameter (as torch.optim checks them).
OPTIMIZER_LIMITS = {
    "lr": lambda name, value: learning_rate(value),
    "momentum": at_least_zero, "weight_decay": at_least_zero, "lr_decay": at_least_zero,
    "initial_accumulator_value": at_least_zero, "alpha": at_least_zero, "eps": _epsilon,
    "dampening": finite_number, "betas": lambda name, value: betas(value),
    "nesterov": flag, "maximize": flag, "centered": flag, "amsgrad": flag,
}


def optimizer_hyperparameters(optimizer):
    """Check (and normalise: floats, bools) every hyperparameter of ``optimizer``."""
    for name in optimizer.defaults:
        check = OPTIMIZER_LIMITS.get(name, lambda name, value: value)   # yours: unchecked
        setattr(optimizer, name, check(name, getattr(optimizer, name)))
    if getattr(optimizer, "nesterov", False) and (optimizer.momentum <= 0
                                                  or optimizer.dampening != 0):
        raise HyperparameterError(
            "Nesterov momentum requires a momentum and zero dampening "
            f"(got momentum={optimizer.momentum}, dampening={optimizer.dampening}: "
            "use momentum > 0 and dampening = 0, or nesterov=False)")


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
        raise UsageError(f"params must be a model (a Module) or a list of Parameters, "
                        f"got {type(params).__name__}") from None
    unique, seen = [], set()
    for param in params:
        if not (hasattr(param, "data") and hasattr(param, "grad")):
            raise UsageError(f"params must hold Parameters (objects with .data and .grad), got "
                            f"{type(param).__name__}; wrap arrays with nn.Parameter(array)")
        if id(param) not in seen:
            seen.add(id(param))
            unique.append(param)
    if not unique:
        raise UsageError("the optimizer got an empty parameter list: pass model.parameters() "
                         "of a model that has parameters")
    for param in unique:
        dtype = np.asarray(param.data).dtype
        if not np.issubdtype(dtype, np.floating):
            raise UsageError(f"{param!r} holds {dtype} values; "
                            "parameters must be floating point (e.g. float32)")
        if dtype not in (np.float32, np.float64):
            raise UsageError(f"{param!r} holds {dtype} values; the optimizers work on float32 "
                            "and float64 parameters: convert with "
                            "p.data = p.data.astype(np.float32) before creating the optimizer")
    return unique


def optimizer_state_fits(optimizer, state_dict):
    """Raise unless ``state_dict`` was saved from this kind of optimizer for these shapes."""
    kind = type(optimizer).__name__
    saved_type = str(state_dict.get("optimizer", kind))
    if saved_type != kind:
        raise UsageError(f"this state was saved from a {saved_type} optimizer; "
                         f"load it into optim.{saved_type}, not into {kind}")
    saved_state = state_dict["state"]
    if len(saved_state) != len(optimizer.params):
        raise UsageError(f"this state holds {len(saved_state)} parameters but the optimizer "
                         f"has {len(optimizer.params)}; was it saved for another model?")
    for index, state in enumerate(optimizer.state):
        for name, array in state.items():
            same_shape(f"optimizer state {name!r} of parameter {index}",
                       np.asarray(saved_state[str(index)][name]), array.shape)


def plain_value(value):
    """A number or tuple from what a file gave back (a 0-d or 1-d array, a NumPy scalar)."""
    if isinstance(value, np.ndarray):
        value = tuple(value.tolist()) if value.ndim else value.item()
    if isinstance(value, np.generic):
        value = value.item()
    return value


def optimizer_fits(optimizer, model):
    """Raise unless ``optimizer`` was built on exactly ``model``'s parameters."""
    if {id(p) for p in optimizer.params} != {id(p) for p in model.parameters()}:
        raise UsageError(f"this {type(optimizer).__name__} was built on other parameters than "
                         "this model's; build it on the model, e.g. "
                         f"optim.{type(optimizer).__name__}(model, lr=...)")


def compiled(model, method):
    """Raise unless ``model.compile(...)`` was called."""
    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        raise UsageError(f"This model has not been compiled yet: call model.compile("
                         f"optimizer='adam', loss='mse', metrics=[...]) before model.{method}(...)")


def batch_of_inputs(owner, X):
    """``X`` as an array with a first axis of examples (not a scalar)."""
    X = np.asarray(X)
    if X.ndim == 0:
        raise ShapeError(f"{owner} expects a batch of inputs (first axis = examples), got a "
                         f"scalar of shape {X.shape}")
    return X


def non_negative_int(owner, name, value):
    """Raise unless ``value`` is an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise UsageError(f"{owner}: {name} must be an integer >= 0, got {value!r}")


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


def float_dtype(owner, dtype):
    """``np.dtype(dtype)``, or a HyperparameterError unless it is a float type."""
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise HyperparameterError(f"{owner}: dtype must be a float type such as np.float32 or "
                                  f"np.float64, got {dtype}.")
    return dtype


def grad_shape(layer, grad_output, expected_shape):
    """Raise unless ``grad_output`` has the shape of the layer's last output."""
    if expected_shape is None:
        raise UsageError(f"{layer!r}.backward was called before forward; call forward first.")
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


# --------------------------------------------------------------------------
# Loss inputs
# --------------------------------------------------------------------------

def as_float(y_pred):
    """y_pred as a float array (an integer or list input becomes float64)."""
    y_pred = np.asarray(y_pred)
    if not np.issubdtype(y_pred.dtype, np.floating):
        y_pred = y_pred.astype(np.float64)
    return y_pred


def same_shape_pair(loss_name, y_true, y_pred):
    """Return (y_true, y_pred) as float arrays of y_pred's dtype, checking that the shapes match."""
    y_pred = as_float(y_pred)
    y_true = np.asarray(y_true)
    if _one_trailing_axis_apart(y_true.shape, y_pred.shape):
        # As Keras does: targets (N,) and predictions (N, 1) are lined up by reshaping
        # (never by broadcasting, which would make an (N, N) matrix of errors).
        y_true = y_true.reshape(y_pred.shape)
    if y_true.shape != y_pred.shape:
        raise ShapeError(_shape_mismatch_message(loss_name, y_true.shape, y_pred.shape))
    if y_pred.size == 0:
        raise ShapeError(f"{loss_name}: y_pred is empty (shape {y_pred.shape}); a mean loss "
                         f"needs at least one value.")
    return y_true.astype(y_pred.dtype, copy=False), y_pred


def _one_trailing_axis_apart(shape_a, shape_b):
    """True for shapes like (N,) and (N, 1): equal except for one extra axis of length 1 at the end."""
    return (shape_a == shape_b[:-1] and shape_b[-1:] == (1,)) or \
        (shape_b == shape_a[:-1] and shape_a[-1:] == (1,))


def _shape_mismatch_message(loss_name, true_shape, pred_shape):
    message = (f"{loss_name}: y_true has shape {true_shape} but y_pred has shape {pred_shape}; "
               f"they must be the same shape")
    if loss_name == "categorical_crossentropy" and true_shape == pred_shape[:-1]:
        return (message + ". y_true looks like integer class labels: use "
                "sparse_categorical_crossentropy (or cross_entropy for logits), or one-hot encode them.")
    if int(np.prod(true_shape)) == int(np.prod(pred_shape)):
        return message + f". They hold the same number of values: use y_true.reshape{pred_shape}."
    return (message + ". Check that y_pred comes from the model for these targets and that the "
            "model's last layer has one output per target column.")


def class_labels(loss_name, y_true, y_pred):
    """Integer labels for a class-axis loss: shape y_pred.shape[:-1], values in 0 .. C-1.

    A trailing axis of length 1 (labels of shape (N, 1)) is accepted and
    dropped, as Keras does. Float labels holding whole numbers are accepted.
    """
    if y_pred.ndim == 0:
        raise ShapeError(f"{loss_name}: y_pred must have a class axis (shape (N, n_classes)), "
                         f"got a scalar.")
    n_classes = y_pred.shape[-1]
    expected_shape = y_pred.shape[:-1]
    labels = np.asarray(y_true)
    if labels.shape == expected_shape + (1,):
        labels = labels.reshape(expected_shape)
    if labels.shape != expected_shape:
        hint = ("; y_true looks one-hot: use categorical_crossentropy, or y_true.argmax(axis=-1)"
                if labels.shape == y_pred.shape else "")
        raise ShapeError(f"{loss_name}: y_true holds integer labels and must have shape "
                         f"{expected_shape} (y_pred's shape {y_pred.shape} without the class axis) "
                         f"but got {labels.shape}{hint}.")
    if y_pred.size == 0:
        raise ShapeError(f"{loss_name}: y_pred is empty (shape {y_pred.shape}); a mean loss "
                         f"needs at least one sample.")
    if not np.issubdtype(labels.dtype, np.integer):
        if labels.dtype == bool or not np.issubdtype(labels.dtype, np.number) \
                or not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise LabelError(f"{loss_name}: y_true must hold integer class labels "
                             f"0 .. {n_classes - 1}, got values of dtype {labels.dtype} such as "
                             f"{labels.ravel()[:3].tolist()}.")
        labels = labels.astype(np.int64)
    bad = (labels < 0) | (labels >= n_classes)
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise LabelError(f"{loss_name}: labels must be in 0 .. {n_classes - 1} (y_pred has "
                         f"{n_classes} classes) but y_true{list(index)} = {labels[index]}.")
    return labels



def probabilities(loss_name, y_pred, rows_sum_to_one=False):
    """Raise unless ``y_pred`` looks like probabilities: values in [0, 1] (and, for a
    class axis, rows summing to 1 within 0.01). Logits given by mistake are the
    usual cause, so the message names the loss for logits."""
    fix = (f"If the model outputs logits (no softmax/sigmoid at the end), use "
           f"losses.get({loss_name!r}, from_logits=True)"
           + (" or losses.cross_entropy" if loss_name == "sparse_categorical_crossentropy" else "")
           + "; otherwise apply the softmax/sigmoid first.")
    outside = (y_pred < 0) | (y_pred > 1) | np.isnan(y_pred)
    if np.any(outside):
        example = y_pred[outside].ravel()[0]
        raise ProbabilityError(f"{loss_name}: y_pred holds {int(outside.sum())} values outside "
                               f"[0, 1] (e.g. {example:g}), so they are not probabilities. {fix}")
    if rows_sum_to_one and y_pred.ndim >= 1:
        sums = y_pred.sum(axis=-1, dtype=np.float64)
        far = np.abs(sums - 1) > 0.01
        if np.any(far):
            raise ProbabilityError(
                f"{loss_name}: the rows of y_pred should each sum to 1 (probabilities over the "
                f"classes), but {int(far.sum())} of {far.size} do not (e.g. {sums[far][0]:.4g}). "
                + fix)


def binary_labels(loss_name, y_true):
    """Raise unless every label is in [0, 1] (0 or 1, or a soft label in between)."""
    outside = (y_true < 0) | (y_true > 1) | np.isnan(y_true)
    if np.any(outside):
        raise LabelError(f"{loss_name}: labels must be 0 or 1 (or a soft label in [0, 1]), got "
                         f"values such as {np.unique(y_true[outside])[:3].tolist()}. For labels "
                         "-1 / 1 use hinge, or map them to 0 / 1 with (y + 1) / 2.")


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------

def divergence_message(loss_value, epoch, step, steps, optimizer, model):
    """What ``train_epoch`` says when the loss becomes NaN or infinite: where, the state of
    the parameters, and what to try (never a non-finite learning rate)."""
    where = f"epoch {epoch}, " if epoch is not None else ""
    where += f"step {step}" + (f" of {steps}" if steps else "")
    values = [p.data for p in model.parameters()]
    broken = sum(int(np.count_nonzero(~np.isfinite(v))) for v in values)
    if broken:
        about_parameters = (f"{broken} parameter values are already NaN or infinite: the model "
                            "cannot recover, so build it again (or load a saved state) before "
                            "retraining.")
    else:
        largest = max((float(np.max(np.abs(v))) for v in values if v.size), default=0.0)
        about_parameters = (f"This batch did not update the parameters; they are finite (largest "
                            f"|value| {largest:.3g}) but come from the steps that diverged, so "
                            "rebuild the model (or load a saved state) before retraining.")
    lr = getattr(optimizer, "lr", None)
    if isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0:
        advice = (f"The learning rate is lr={lr:g}: try a smaller one, e.g. lr={lr / 10:g}, "
                  "and check that the inputs are scaled (e.g. pixels to [0, 1]).")
    elif lr == 0:
        advice = ("The learning rate is 0, so training did not cause this: look for NaN or "
                  "infinite values in the inputs and targets.")
    else:
        advice = "Try a smaller learning rate, and check that the inputs are scaled."
    return f"Training diverged: the loss became {loss_value} at {where}. {about_parameters} {advice}"


# --------------------------------------------------------------------------
# Looking things up by name
# --------------------------------------------------------------------------

def find_by_name(kind, name, table, aliases=None):
    """The key of ``table`` that ``name`` means (any case; ``aliases`` map other names).

    Raises UnknownNameError naming the closest valid name and listing them all.
    """
    if not isinstance(name, str):
        raise UsageError(f"expected a {kind} name such as {next(iter(table))!r}, got {name!r}")
    aliases = aliases or {}
    key = name.lower()
    key = aliases.get(key, key)
    if key not in table:
        valid = sorted(table) + sorted(aliases)
        close = difflib.get_close_matches(key, valid, n=1)
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownNameError(f"unknown {kind} {name!r}.{suggestion} Valid names: "
                               f"{', '.join(valid)}.")
    return key


def known_options(kind, key, factory, options):
    """Raise a HyperparameterError for any option ``factory`` (a class) does not take."""
    allowed = [p for p in inspect.signature(factory).parameters
               if p not in ("name", "params", "self")]
    for option in options:
        if option not in allowed:
            raise HyperparameterError(f"{kind} {key!r} has no option {option!r}; its options: "
                                      f"{', '.join(allowed) if allowed else 'none'}.")
