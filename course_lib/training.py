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

A training figure (``loss``, ``accuracy``, ...) is the mean over every
example of the epoch, each measured *before* its batch's update, as Keras
reports it. A NaN or infinite loss stops training with a ``DivergenceError``
that says where and what to try; ``error.history`` keeps the epochs before.
"""

import math
import time

import numpy as np

from . import checks, losses, nn, optim, schedules
from . import metrics as metrics_module
from .callbacks import EarlyStopping, History  # noqa: F401  (training.EarlyStopping works)
from .data import DataLoader, as_loader
from .errors import DivergenceError, UsageError
from .progress import make_display, format_logs

__all__ = ["train_epoch", "evaluate", "fit", "evaluate_model", "predict",  # and compile()
           "History", "EarlyStopping"]


# --- The explicit pair: train_epoch and evaluate ---------------------------

def train_epoch(model, loader, loss, optimizer, metrics=None, epoch=None, on_batch=None):
    """Train ``model`` for one pass over ``loader``; return the epoch's averages.

    ``model`` is put in training mode; ``loader`` is a DataLoader (or any
    iterable of ``(X_batch, y_batch)``); ``loss`` a name or loss object;
    ``optimizer`` is built on the model's parameters; ``metrics`` names or
    functions; ``epoch`` only names the epoch in errors; ``on_batch(step,
    mean_loss_so_far)`` is called after every batch (fit's progress bar).

    Returns ``{"loss": mean loss, "<metric>": mean value, ...}`` over the
    epoch's examples. A NaN or infinite loss raises ``DivergenceError``
    (with ``.epoch``, ``.step``, ``.loss_value``, ``.lr``) *before* that
    batch's update.
    """
    if isinstance(loader, tuple):
        raise UsageError("train_epoch needs a DataLoader, e.g. "
                        "DataLoader(X, y, batch_size=32, seed=0), not an (X, y) pair")
    loss = losses.get(loss)
    metric_functions = metrics_module.resolve(metrics, loss)
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
            error = DivergenceError(checks.divergence_message(loss_value, epoch, step, steps, optimizer,
                                                            model))
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
        raise UsageError("the loader gave no batches: is the data empty, "
                         "or drop_last=True with fewer examples than batch_size?")
    logs = {"loss": loss_sum / example_count}
    for name, total in metric_sums.items():
        logs[name] = total / example_count
    return logs


def evaluate(model, data, loss, metrics=None, batch_size=256):
    """The loss (and metrics) of ``model`` on ``data``, without training.

    ``model`` is put in evaluation mode (Dropout off); ``data`` is an ``(X, y)``
    pair (taken ``batch_size`` examples at a time, which only saves memory) or
    a DataLoader. Returns ``{"loss": ..., "<metric>": ...}``, means over every
    example.
    """
    loss = losses.get(loss)
    metric_functions = metrics_module.resolve(metrics, loss)
    model.eval()
    loader = as_loader(data, batch_size)
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
        raise UsageError("evaluate got no examples")
    logs = {"loss": loss_sum / example_count}
    for name, total in metric_sums.items():
        logs[name] = total / example_count
    return logs


# --- Keras style: compile / fit / evaluate_model / predict, and History ----

def compile(model, optimizer="rmsprop", loss=None, metrics=None):
    """Choose the optimizer, the loss and the metrics that ``fit`` will use.

    ``optimizer`` (default ``"rmsprop"``, Keras's choice): a name gets exactly the
    defaults of optim's table (torch.optim's), e.g. ``"rmsprop"`` lr=1e-2, alpha=0.99,
    eps=1e-8 and ``"adam"`` lr=1e-3, betas=(0.9, 0.999) (Keras's RMSprop would have
    lr=1e-3, rho=0.9); for other settings pass ``optim.Adam(model, lr=1e-2)``.
    ``loss`` (required) a name or loss object; ``metrics`` names or functions.
    Sets ``model.optimizer``, ``model.loss`` and ``model.metrics``.
    """
    if loss is None:
        raise UsageError("compile needs a loss, e.g. model.compile(optimizer='adam', loss='mse')")
    loss_object = losses.get(loss)
    if isinstance(optimizer, optim.Optimizer):
        checks.optimizer_fits(optimizer, model)
    model.optimizer = optim.get(optimizer, model)
    model.loss = loss_object
    model.metrics = metrics_module.resolve(metrics, loss_object)


def fit(model, X, y, batch_size=32, epochs=1, validation_data=None, shuffle=True, seed=None,
        verbose=1, lr_schedule=None, callbacks=None):
    """Train a compiled model for ``epochs`` passes over ``(X, y)``.

    Each epoch is one ``train_epoch`` call, then one ``evaluate`` call on
    ``validation_data`` if given. ``seed`` fixes the batch order; ``verbose`` is
    0 (silent), 1 (progress bar) or 2 (one line per epoch). ``lr_schedule``
    sets ``model.optimizer.lr`` before each epoch t = 1, 2, ...: a function
    ``t -> lr`` (e.g. ``schedules.get("step_decay", lr=1e-3, step_size=8,
    gamma=0.1)``) or a name needing no other option (``"inverse_sqrt"``); the
    rates are recorded as ``history.history["lr"]``. ``callbacks``: objects
    with ``on_train_begin``, ``on_epoch_end`` (True stops) and ``on_train_end``,
    e.g. ``EarlyStopping``. Returns the ``History`` (also ``model.history``;
    after a divergence, ``error.history``); the model is left in eval mode.
    """
    checks.compiled(model, "fit")
    checks.non_negative_int("fit", "epochs", epochs)
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=shuffle, seed=seed)
    scheduler = schedules.for_fit(model.optimizer, lr_schedule)
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


def evaluate_model(model, X, y, batch_size=32, verbose=1):
    """``model.evaluate(X, y)``: the compiled loss and metrics on ``(X, y)``, as a dict."""
    checks.compiled(model, "evaluate")
    logs = evaluate(model, (X, y), model.loss, metrics=model.metrics, batch_size=batch_size)
    if verbose:
        print(format_logs(logs))
    return logs


def predict(model, X, batch_size=32):
    """The model's outputs for ``X``, computed ``batch_size`` examples at a time (eval mode)."""
    model.eval()
    X = checks.batch_of_inputs("predict", X)
    checks.positive_int("predict", "batch_size", batch_size)
    outputs = [np.array(model(X[start:start + batch_size]))
               for start in range(0, len(X), batch_size)]
    return np.concatenate(outputs, axis=0)
