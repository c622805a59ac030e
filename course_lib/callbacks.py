"""Callbacks: code that ``fit`` runs at the end of every epoch.

The one the course teaches is ``EarlyStopping``: "the validation loss has
stopped improving, so stop training and keep the best weights".

With ``fit``::

    stopper = EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    history = model.fit(X, y, epochs=200, validation_data=(X_val, y_val), callbacks=[stopper])
    stopper.best_epoch, stopper.best_value, stopper.stopped_epoch

In the explicit loop, the same object is called by hand (this is all that
``fit`` does with it)::

    stopper.on_train_begin(model)
    for epoch in range(1, 201):
        logs = train_epoch(model, loader, loss, optimizer)
        logs["val_loss"] = evaluate(model, (X_val, y_val), loss)["loss"]
        if stopper.on_epoch_end(epoch, logs, model):
            break
    stopper.on_train_end(model)          # puts the best weights back

A callback is any object with these three methods; ``on_epoch_end``
returns True to stop training after this epoch. ``History`` (what ``fit``
returns) lives here too, as in Keras.
"""

import math

from .errors import HyperparameterError


class Callback:
    """The three hooks ``fit`` calls; each does nothing unless overridden."""

    def on_train_begin(self, model):
        pass

    def on_epoch_end(self, epoch, logs, model):
        """Called after epoch ``epoch`` (1, 2, ...) with its ``logs``; True stops training."""
        return False

    def on_train_end(self, model):
        pass


class EarlyStopping(Callback):
    """Stop when a monitored figure has not improved for ``patience`` epochs.

    An epoch *improves* when its value is lower than the best so far by more
    than ``min_delta`` (for ``mode="min"``, the default for losses; use
    ``mode="max"`` for accuracy). After ``patience`` epochs in a row without
    improvement, training stops. With ``restore_best_weights=True`` the
    model's parameters are set back to those of the best epoch when
    training ends (whether it stopped early or ran all its epochs).

    Parameters
    ----------
    monitor : str, default "val_loss"
        A key of the epoch's logs, e.g. ``"val_loss"`` or ``"val_accuracy"``.
    patience : int >= 1, default 5
    min_delta : float >= 0, default 0.0
    mode : "min" or "max", default "min"
    restore_best_weights : bool, default True

    Attributes (after training)
    ---------------------------
    best_epoch : int      the epoch (1, 2, ...) with the best value
    best_value : float
    stopped_epoch : int   the epoch after which training stopped; 0 if it never stopped early
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="min",
                 restore_best_weights=True):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise HyperparameterError(f"EarlyStopping: patience must be an integer >= 1 (the "
                                      f"epochs to wait without improvement), got {patience!r}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)) \
                or not 0 <= min_delta < math.inf:
            raise HyperparameterError(f"EarlyStopping: min_delta must be a number >= 0, "
                                      f"got {min_delta!r}")
        if mode not in ("min", "max"):
            raise HyperparameterError(f"EarlyStopping: mode must be 'min' (for a loss) or "
                                      f"'max' (for an accuracy), got {mode!r}")
        if not isinstance(restore_best_weights, bool):
            raise HyperparameterError(f"EarlyStopping: restore_best_weights must be True or "
                                      f"False, got {restore_best_weights!r}")
        self.monitor, self.patience, self.min_delta = monitor, patience, float(min_delta)
        self.mode, self.restore_best_weights = mode, restore_best_weights
        self.on_train_begin(None)

    def on_train_begin(self, model):
        """Forget any earlier run."""
        self.best_value = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_weights = None
        self.epochs_without_improvement = 0
        self.stopped_epoch = 0

    def _improves(self, value):
        if self.mode == "min":
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    def on_epoch_end(self, epoch, logs, model):
        if self.monitor not in logs:
            raise KeyError(f"EarlyStopping monitors {self.monitor!r} but the epoch's logs hold "
                           f"only {sorted(logs)}; for 'val_loss', give fit validation_data=...")
        value = float(logs[self.monitor])
        if self._improves(value):
            self.best_value, self.best_epoch = value, epoch
            self.epochs_without_improvement = 0
            if self.restore_best_weights and model is not None:
                self.best_weights = model.state_dict()          # copies
            return False
        self.epochs_without_improvement += 1
        if self.epochs_without_improvement >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, model):
        if self.restore_best_weights and self.best_weights is not None and model is not None:
            model.load_state_dict(self.best_weights)

    def __repr__(self):
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, mode={self.mode!r}, "
                f"restore_best_weights={self.restore_best_weights})")


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
