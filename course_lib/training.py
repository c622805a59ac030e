"""Training: the loop every lesson writes, and Keras-style ``compile`` / ``fit`` on top of it.

The loop, explicitly (this is all that training is)::

    loader = DataLoader(X_train, y_train, batch_size=64, seed=0)
    optimizer = optim.Adam(model, lr=1e-3)
    for epoch in range(1, 11):
        train_logs = train_epoch(model, loader, "cross_entropy", optimizer, metrics=["accuracy"])
        val_logs = evaluate(model, (X_val, y_val), "cross_entropy", metrics=["accuracy"])
        print(epoch, train_logs["loss"], val_logs["loss"], val_logs["accuracy"])

``train_epoch`` runs one pass over the loader; for every mini-batch::

    optimizer.zero_grad()                      # 1. forget the last batch's gradient
    y_pred = model(X_batch)                    # 2. forward pass
    value, grad = loss.value_and_gradient(y_batch, y_pred)   # 3. loss and dL/dy_pred
    model.backward(grad)                       # 4. backward pass: dL/dθ into every .grad
    optimizer.step()                           # 5. update every parameter

The Keras way, on an ``nn.Sequential`` (the model's methods call the
functions of this module, which run exactly the loop above)::

    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X_train, y_train, batch_size=64, epochs=10,
                        validation_data=(X_val, y_val), seed=0)
    history.history["val_loss"]                # one number per epoch
    model.evaluate(X_test, y_test)             # {"loss": ..., "accuracy": ...}
    model.predict(X_test)                      # the model's outputs, batch by batch

Averages: a training figure (``loss``, ``accuracy``, ...) is the average of
the epoch's batch values, each weighted by its batch size: the mean over
every example seen in the epoch, measured *while* the model was changing
(each batch before its update), as Keras reports it.

If the loss becomes NaN or infinite, training stops with a
``DivergenceError`` that names the epoch, the step, the loss and the
learning rate. What ran before is kept::

    try:
        model.fit(X, y, epochs=20)
    except DivergenceError as error:
        history = error.history                # the completed epochs (also model.history)
"""

import math
import time

import numpy as np

from . import losses, nn, optim, schedules
from .callbacks import EarlyStopping  # noqa: F401  (so that training.EarlyStopping works)
from .data import DataLoader
from .errors import DivergenceError, HyperparameterError, ShapeError, UnknownNameError
from .progress import make_display, format_logs

__all__ = ["train_epoch", "evaluate", "fit", "evaluate_model", "predict",  # and compile()
           "History", "accuracy", "mean_absolute_error", "mean_squared_error", "get_metric"]


# ===========================================================================
# Metrics: functions (y_true, y_pred) -> a number, averaged over a batch
# ===========================================================================

def accuracy(y_true, y_pred, threshold=0.5):
    """The fraction of examples whose predicted class is the true class.

    Two kinds of output are understood:

    - **Several classes**: ``y_pred`` of shape (N, C) with C >= 2 (scores,
      logits or probabilities). The predicted class is the column with the
      largest value (``argmax``). ``y_true`` holds integer labels, shape (N,)
      or (N, 1), or one-hot rows, shape (N, C).
    - **Two classes, one output**: ``y_pred`` of shape (N,) or (N, 1). The
      prediction is "positive" when ``y_pred > threshold``: 0.5 for a
      probability (after a sigmoid), 0 for a logit or a hinge score.
      ``y_true`` holds 0/1 or -1/+1 labels (positive: ``y_true > 0.5``).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == 2 and y_pred.shape[1] >= 2:
        predicted = y_pred.argmax(axis=1)
        if y_true.shape == y_pred.shape:                 # one-hot labels
            labels = y_true.argmax(axis=1)
        elif y_true.size == len(y_pred):                 # integer labels
            labels = y_true.reshape(-1)
        else:
            raise ShapeError(f"accuracy: y_pred has shape {y_pred.shape} (N, C) but y_true has "
                             f"shape {y_true.shape}; give integer labels of shape ({len(y_pred)},) "
                             f"or one-hot labels of shape {y_pred.shape}")
        return float(np.mean(predicted == labels))
    if y_true.size != y_pred.size:
        raise ShapeError(f"accuracy: y_true has shape {y_true.shape} but y_pred has shape "
                         f"{y_pred.shape}; they must hold one value per example")
    predicted_positive = y_pred.reshape(-1) > threshold
    truly_positive = y_true.reshape(-1) > 0.5
    return float(np.mean(predicted_positive == truly_positive))


def _paired(metric_name, y_true, y_pred):
    """``y_true`` reshaped like ``y_pred`` (e.g. (N,) -> (N, 1)), so nothing broadcasts by mistake."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        if y_true.size != y_pred.size:
            raise ShapeError(f"{metric_name}: y_true has shape {y_true.shape} but y_pred has "
                             f"shape {y_pred.shape}; they must hold the same number of values")
        y_true = y_true.reshape(y_pred.shape)
    return y_true, y_pred


def mean_absolute_error(y_true, y_pred):
    """``mean(|y_pred - y_true|)`` as a metric (a number to watch, not to differentiate)."""
    y_true, y_pred = _paired("mae", y_true, y_pred)
    return float(np.mean(np.abs(y_pred - y_true)))


def mean_squared_error(y_true, y_pred):
    """``mean((y_pred - y_true)²)`` as a metric."""
    y_true, y_pred = _paired("mse", y_true, y_pred)
    return float(np.mean((y_pred - y_true) ** 2))


METRICS = {"accuracy": accuracy, "acc": accuracy,
           "mae": mean_absolute_error, "mean_absolute_error": mean_absolute_error,
           "mse": mean_squared_error, "mean_squared_error": mean_squared_error}


def get_metric(name_or_function, loss=None):
    """``(name, function)`` for a metric name such as ``"accuracy"`` or a function.

    For ``"accuracy"`` on one output, the decision threshold follows the
    loss: 0 when the model outputs logits (``from_logits=True``) or hinge
    scores, 0.5 when it outputs probabilities.
    """
    if callable(name_or_function):
        return getattr(name_or_function, "__name__", "metric"), name_or_function
    if not isinstance(name_or_function, str) or name_or_function.lower() not in METRICS:
        raise UnknownNameError(f"unknown metric {name_or_function!r}; valid names are: "
                               + ", ".join(repr(name) for name in METRICS))
    name = name_or_function.lower()
    function = METRICS[name]
    if function is accuracy:
        outputs_scores = getattr(loss, "from_logits", False) or getattr(loss, "name", "") == "hinge"
        threshold = 0.0 if outputs_scores else 0.5

        def accuracy_metric(y_true, y_pred):
            return accuracy(y_true, y_pred, threshold=threshold)
        return name, accuracy_metric
    return name, function


def _resolve_metrics(metrics, loss):
    if metrics is None:
        return {}
    if isinstance(metrics, dict):                    # already resolved: {name: function}
        return dict(metrics)
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    resolved = {}
    for metric in metrics:
        name, function = get_metric(metric, loss)
        resolved[name] = function
    return resolved


# ===========================================================================
# The explicit pair: train_epoch and evaluate
# ===========================================================================

def train_epoch(model, loader, loss, optimizer, metrics=None, epoch=None, on_batch=None):
    """Train ``model`` for one pass over ``loader``; return the epoch's averages.

    Parameters
    ----------
    model : Module
        Put in training mode (``model.train()``) first.
    loader : DataLoader (or any iterable of ``(X_batch, y_batch)`` pairs)
    loss : str or loss object, e.g. ``"mse"`` or ``losses.get("huber", delta=2.0)``
    optimizer : an optimizer from ``course_lib.optim`` built on ``model``'s parameters
    metrics : list of names (``"accuracy"``, ``"mae"``, ``"mse"``) or functions, optional
    epoch : int, optional
        Only used in the error message if the loss diverges.
    on_batch : function ``(step, mean_loss_so_far)``, optional
        Called after every batch (``fit`` uses it for the progress bar).

    Returns
    -------
    dict
        ``{"loss": mean loss, "<metric>": mean value, ...}``, averaged over the
        epoch's batches (each weighted by its size).

    Raises
    ------
    DivergenceError
        If a batch's loss is NaN or infinite (checked *before* the update,
        so the parameters keep their last finite values). The error has
        ``.epoch``, ``.step``, ``.loss_value`` and ``.lr``.
    """
    if isinstance(loader, tuple):
        raise TypeError("train_epoch needs a DataLoader, e.g. "
                        "DataLoader(X, y, batch_size=32, seed=0), not an (X, y) pair")
    loss = losses.get(loss)
    metric_functions = _resolve_metrics(metrics, loss)
    model.train()
    loss_sum, example_count = 0.0, 0
    metric_sums = dict.fromkeys(metric_functions, 0.0)
    steps = len(loader) if hasattr(loader, "__len__") else None
    for step, (X_batch, y_batch) in enumerate(loader, start=1):
        optimizer.zero_grad()
        y_pred = model(X_batch)
        loss_value, grad = loss.value_and_gradient(y_batch, y_pred)
        loss_value = float(loss_value)
        if not math.isfinite(loss_value):
            error = DivergenceError(_divergence_message(loss_value, epoch, step, steps, optimizer))
            error.epoch, error.step, error.loss_value = epoch, step, loss_value
            error.lr = getattr(optimizer, "lr", None)
            raise error
        batch_size = len(X_batch)
        for name, function in metric_functions.items():
            metric_sums[name] += function(y_batch, y_pred) * batch_size
        if isinstance(model, nn.Sequential):
            model.backward(grad, need_input_grad=False)   # the input is data: skip dL/dX
        else:
            model.backward(grad)
        optimizer.step()
        loss_sum += loss_value * batch_size
        example_count += batch_size
        if on_batch is not None:
            on_batch(step, loss_sum / example_count)
    if example_count == 0:
        raise ValueError("the loader gave no batches: is the data empty, "
                         "or drop_last=True with fewer examples than batch_size?")
    logs = {"loss": loss_sum / example_count}
    for name, total in metric_sums.items():
        logs[name] = total / example_count
    return logs


def _divergence_message(loss_value, epoch, step, steps, optimizer):
    where = f"epoch {epoch}, " if epoch is not None else ""
    where += f"step {step}" + (f" of {steps}" if steps else "")
    lr = getattr(optimizer, "lr", None)
    if lr is not None:
        advice = (f"The learning rate is lr={lr:g}: try a smaller one, e.g. lr={lr / 10:g}, "
                  "and check the inputs are scaled (e.g. pixels to [0, 1]).")
    else:
        advice = "Try a smaller learning rate, and check the inputs are scaled."
    return (f"Training diverged: the loss became {loss_value} at {where}. "
            f"The parameters were not updated with it. {advice}")


def evaluate(model, data, loss, metrics=None, batch_size=256):
    """The loss (and metrics) of ``model`` on ``data``, without training.

    Parameters
    ----------
    model : Module
        Put in evaluation mode (``model.eval()``: e.g. Dropout off) first.
    data : ``(X, y)`` pair, or a DataLoader / iterable of ``(X_batch, y_batch)``
    loss : str or loss object
    metrics : list of names or functions, optional
    batch_size : int
        Used when ``data`` is an ``(X, y)`` pair (batches only save memory:
        the result is the mean over all examples either way).

    Returns
    -------
    dict
        ``{"loss": ..., "<metric>": ..., ...}``: means over every example.
    """
    loss = losses.get(loss)
    metric_functions = _resolve_metrics(metrics, loss)
    model.eval()
    loader = _as_loader(data, batch_size)
    loss_sum, example_count = 0.0, 0
    metric_sums = dict.fromkeys(metric_functions, 0.0)
    for X_batch, y_batch in loader:
        y_pred = model(X_batch)
        batch_size_now = len(X_batch)
        loss_sum += float(loss(y_batch, y_pred)) * batch_size_now
        for name, function in metric_functions.items():
            metric_sums[name] += function(y_batch, y_pred) * batch_size_now
        example_count += batch_size_now
    if example_count == 0:
        raise ValueError("evaluate got no examples")
    logs = {"loss": loss_sum / example_count}
    for name, total in metric_sums.items():
        logs[name] = total / example_count
    return logs


def _as_loader(data, batch_size):
    if isinstance(data, (tuple, list)) and len(data) == 2:
        X, y = data
        return DataLoader(X, y, batch_size=batch_size, shuffle=False)
    if isinstance(data, (tuple, list)):
        raise TypeError(f"expected data as an (X, y) pair, got a {type(data).__name__} "
                        f"of {len(data)} items")
    return data


# ===========================================================================
# Keras style: compile / fit / evaluate_model / predict, and History
# ===========================================================================

class History:
    """What ``fit`` records, one entry per completed epoch (as Keras's ``History``).

    Attributes
    ----------
    history : dict of str -> list of float
        ``"loss"``, each metric (``"accuracy"``, ...), and with validation data
        ``"val_loss"``, ``"val_accuracy"``, ...; one value per epoch.
    epoch : list of int
        The epochs recorded, counted from 0 as Keras does.
    params : dict
        ``epochs``, ``steps`` (batches per epoch), ``batch_size``, ``verbose``, ...
    """

    def __init__(self, params=None):
        self.history = {}
        self.epoch = []
        self.params = dict(params or {})

    def record(self, epoch_index, logs):
        self.epoch.append(epoch_index)
        for name, value in logs.items():
            self.history.setdefault(name, []).append(value)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


def compile(model, optimizer="rmsprop", loss=None, metrics=None):
    """Choose the optimizer, the loss and the metrics that ``fit`` will use.

    Parameters
    ----------
    model : Module (usually ``nn.Sequential``)
    optimizer : str or optimizer
        A name (``"sgd"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``, ``"adamw"``:
        built on the model's parameters with torch's defaults) or an optimizer
        already built on ``model`` (e.g. ``optim.Adam(model, lr=1e-2)``).
    loss : str or loss object (required), e.g. ``"mae"``
    metrics : list of ``"accuracy"`` / ``"acc"`` / ``"mae"`` / ``"mse"`` or functions

    Sets ``model.optimizer``, ``model.loss`` and ``model.metrics``.
    """
    if loss is None:
        raise ValueError("compile needs a loss, e.g. model.compile(optimizer='adam', loss='mse')")
    loss_object = losses.get(loss)
    if isinstance(optimizer, optim.Optimizer):
        model_params = {id(p) for p in model.parameters()}
        if {id(p) for p in optimizer.params} != model_params:
            raise ValueError(f"this {type(optimizer).__name__} was built on other parameters "
                             "than this model's; build it on the model, e.g. "
                             f"optim.{type(optimizer).__name__}(model, lr=...)")
        optimizer_object = optimizer
    else:
        optimizer_object = optim.get(optimizer, model)
    model.optimizer = optimizer_object
    model.loss = loss_object
    model.metrics = _resolve_metrics(metrics, loss_object)


def _check_compiled(model, method):
    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        raise RuntimeError(
            f"This model has not been compiled yet: call model.compile(optimizer='adam', "
            f"loss='mse', metrics=[...]) before model.{method}(...)")


def fit(model, X, y, batch_size=32, epochs=1, validation_data=None, shuffle=True, seed=None,
        verbose=1, lr_schedule=None, callbacks=None):
    """Train a compiled model for ``epochs`` passes over ``(X, y)``.

    Each epoch is one ``train_epoch`` call (then one ``evaluate`` call on
    ``validation_data`` if given). ``seed`` fixes the order of the batches
    (the same seed gives the same numbers); ``verbose`` is 0 (silent),
    1 (progress bar / live line) or 2 (one line per epoch).

    ``lr_schedule`` (optional) sets ``model.optimizer.lr`` before every
    epoch, epoch t = 1, 2, ... (the t of ``course_lib.schedules``): a
    function ``t -> lr``, e.g. ``schedules.get("step_decay", lr=1e-3,
    step_size=8, gamma=0.1)`` (1e-3 for epochs 1-8, then 1e-4), or a name
    that needs no other option (``"constant"``, ``"inverse_sqrt"``), which
    starts from the optimizer's lr. The rate each epoch used is recorded as
    ``history.history["lr"]``.

    ``callbacks`` (optional): a list of objects with ``on_train_begin(model)``,
    ``on_epoch_end(epoch, logs, model)`` (True stops training after that
    epoch) and ``on_train_end(model)``, e.g. ``callbacks.EarlyStopping``.

    Returns
    -------
    History
        Also kept as ``model.history``. If the loss diverges, the
        ``DivergenceError`` carries the completed epochs as ``error.history``.
        The model is left in evaluation mode.
    """
    _check_compiled(model, "fit")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be an integer >= 0, got {epochs!r}")
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=shuffle, seed=seed)
    scheduler = _make_scheduler(model.optimizer, lr_schedule)
    history = History(params={"epochs": int(epochs), "steps": len(loader),
                              "batch_size": int(batch_size), "verbose": verbose,
                              "shuffle": shuffle, "seed": seed})
    model.history = history
    display = make_display(verbose, int(epochs), len(loader))
    callbacks = list(callbacks or [])
    for callback in callbacks:
        callback.on_train_begin(model)
    try:
        for epoch in range(1, int(epochs) + 1):
            if scheduler is not None and epoch > 1:
                scheduler.step()                       # optimizer.lr = schedule(epoch)
            display.start_epoch(epoch)
            started = time.perf_counter()
            try:
                logs = train_epoch(model, loader, model.loss, model.optimizer,
                                   metrics=model.metrics, epoch=epoch,
                                   on_batch=display.batch_done)
            except DivergenceError as error:
                completed = len(history.epoch)
                error.history = history
                error.args = (error.args[0] + f" The History of the {completed} completed "
                              f"epoch{'s' if completed != 1 else ''} is kept in error.history "
                              "and model.history.",)
                raise
            if validation_data is not None:
                val_logs = evaluate(model, validation_data, model.loss, metrics=model.metrics,
                                    batch_size=batch_size)
                logs.update({"val_" + name: value for name, value in val_logs.items()})
            if scheduler is not None:
                logs["lr"] = scheduler.lr
            history.record(epoch - 1, logs)
            display.end_epoch(epoch, logs, time.perf_counter() - started)
            stop = [callback.on_epoch_end(epoch, logs, model) for callback in callbacks]
            if any(stop):
                break
        for callback in callbacks:
            callback.on_train_end(model)
    finally:
        display.close()
        model.eval()
    return history


def _make_scheduler(optimizer, lr_schedule):
    """A ``schedules.Scheduler`` for ``fit``'s ``lr_schedule`` (None when there is none)."""
    if lr_schedule is None:
        return None
    try:
        return schedules.Scheduler(optimizer, lr_schedule)
    except HyperparameterError as error:
        raise HyperparameterError(
            f"{error}. In fit, a schedule name gets only lr; give the other options with "
            f"lr_schedule=schedules.get({lr_schedule!r}, lr=..., ...)") from None


def evaluate_model(model, X, y, batch_size=32, verbose=1):
    """``model.evaluate(X, y)``: the compiled loss and metrics on ``(X, y)``, as a dict."""
    _check_compiled(model, "evaluate")
    logs = evaluate(model, (X, y), model.loss, metrics=model.metrics, batch_size=batch_size)
    if verbose:
        print(format_logs(logs))
    return logs


def predict(model, X, batch_size=32):
    """The model's outputs for ``X``, computed ``batch_size`` examples at a time (eval mode)."""
    model.eval()
    X = np.asarray(X)
    if X.ndim == 0:
        raise ShapeError(f"predict expects a batch of inputs (first axis = examples), got a "
                         f"scalar of shape {X.shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    outputs = [np.array(model(X[start:start + batch_size]))
               for start in range(0, len(X), batch_size)]
    return np.concatenate(outputs, axis=0)
