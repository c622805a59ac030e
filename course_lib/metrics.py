"""Metrics: numbers to watch during training, ``metric(y_true, y_pred) -> float``.

A metric is not differentiated (that is what a loss is for); it is averaged
over the batches of an epoch like the loss. ``compile(metrics=[...])`` takes
the names below or your own functions.
"""

import numpy as np

from .errors import ShapeError, UnknownNameError



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


def resolve(metrics, loss):
    """``{name: function}`` for a list of metric names or functions (None: no metrics)."""
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
