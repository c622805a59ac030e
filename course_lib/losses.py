"""Loss functions, each with its value and its gradient next to it.

Every loss is an object with the same contract (Keras names and argument order)::

    loss(y_true, y_pred)                     -> float, the mean loss L
    loss.gradient(y_true, y_pred)            -> dL/d(y_pred), same shape and dtype as y_pred
    loss.value_and_gradient(y_true, y_pred)  -> (L, dL/d(y_pred)) in one pass

``L`` is a *mean*, so the gradient carries the factor 1/n: ``mae``, ``mse``,
``huber``, ``hinge`` and ``binary_crossentropy`` average over all n elements
of y_pred (as Keras does); the losses with a class axis
(``categorical_crossentropy``, ``sparse_categorical_crossentropy``,
``cross_entropy``, ``nll``) sum over the classes and average over the n samples.

Configured losses: ``get("huber", delta=2.0)``, ``get("binary_crossentropy",
from_logits=True)``. Conventions worth knowing:

* Probabilities are clipped to [EPSILON, 1 - EPSILON], EPSILON = 1e-7, before
  a log (as Keras does); where the clip is active the gradient is 0.
* A loss that expects probabilities refuses values outside [0, 1] (and, with
  a class axis, rows that do not sum to 1): those are usually logits, and the
  error names ``from_logits=True``. Rows are not renormalised.
* At a kink the gradient is a subgradient: MAE at y_pred == y_true gives 0;
  hinge exactly at the margin (y_true * y_pred == 1) gives 0.
* y_true and y_pred must have the same shape; nothing is broadcast, except
  targets (N,) with predictions (N, 1), lined up by reshaping (as Keras does).
* The gradient keeps y_pred's dtype (float32 in, float32 out).
"""

import numpy as np

from . import checks, nn
from .errors import LabelError, ShapeError, UsageError

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON]


# --- Helpers (the input checks live in checks.py, so the formulas stay in view) ---

def _mean(per_element):
    """The mean as a Python float, summed in float64 for accuracy."""
    return float(np.mean(per_element, dtype=np.float64))


def log_softmax(logits):
    """``log(softmax(z))`` along the last axis (``nn.log_softmax``: the maximum subtracted first,
    so that exp cannot overflow and the log never sees 0)."""
    return nn.log_softmax(checks.as_float(logits))


def softmax(logits):
    """``exp(z_i) / sum_j exp(z_j)`` along the last axis (``nn.softmax``)."""
    return nn.softmax(checks.as_float(logits))


# --- The common interface --------------------------------------------------

class Loss:
    """Base class: subclasses define ``value`` and ``gradient`` (and may
    override ``value_and_gradient`` to share work between them)."""

    name = "loss"

    def __call__(self, y_true, y_pred):
        return self.value(y_true, y_pred)

    def value(self, y_true, y_pred):
        raise NotImplementedError

    def gradient(self, y_true, y_pred):
        raise NotImplementedError

    def value_and_gradient(self, y_true, y_pred):
        return self.value(y_true, y_pred), self.gradient(y_true, y_pred)

    def __repr__(self):
        options = [f"{key}={value!r}" for key, value in vars(self).items()
                   if not key.startswith("_") and key != "name"]
        return f"{type(self).__name__}({', '.join(options)})"



# --- Regression losses (mean over all elements) ----------------------------

class MeanAbsoluteError(Loss):
    """MAE: ``L = mean(|y_pred - y_true|)`` over all n elements.

    dL/dy_pred = sign(y_pred - y_true) / n. At y_pred == y_true (the kink)
    the subgradient 0 is used.
    """

    name = "mae"

    def value(self, y_true, y_pred):
        y_true, y_pred = checks.same_shape_pair(self.name, y_true, y_pred)
        return _mean(np.abs(y_pred - y_true))

    def gradient(self, y_true, y_pred):
        y_true, y_pred = checks.same_shape_pair(self.name, y_true, y_pred)
        return np.sign(y_pred - y_true) / y_pred.dtype.type(y_pred.size)


class MeanSquaredError(Loss):
    """MSE: ``L = mean((y_pred - y_true)²)`` over all n elements.

    dL/dy_pred = 2 (y_pred - y_true) / n.
    """

    name = "mse"

    def value(self, y_true, y_pred):
        y_true, y_pred = checks.same_shape_pair(self.name, y_true, y_pred)
        error = y_pred - y_true
        return _mean(error * error)

    def gradient(self, y_true, y_pred):
        y_true, y_pred = checks.same_shape_pair(self.name, y_true, y_pred)
        return (y_pred - y_true) * y_pred.dtype.type(2 / y_pred.size)


class Huber(Loss):
    """Huber loss: quadratic for small errors, linear for large ones.

    With e = y_pred - y_true, over all n elements::

        L = mean( 0.5 e²                  if |e| <= delta
                  delta (|e| - 0.5 delta)  otherwise )

        dL/dy_pred = clip(e, -delta, delta) / n

    The two pieces meet with the same slope at |e| = delta, so the loss is
    differentiable everywhere (the gradient there is ±delta / n).
    """

    name = "huber"

    def __init__(self, delta=1.0):
        self.delta = checks.positive_number("huber", "delta", delta)

    def value(self, y_true, y_pred):
        y_true, y_pred = checks.same_shape_pair(self.name, y_true, y_pred)
        abs_error = np.abs(y_pred - y_true)
        quadratic = 0.5 * abs_error ** 2
        linear = self.delta * (abs_error - 0.5 * self.delta)
        return _mean(np.where(abs_error <= self.delta, quadratic, linear))

    def gradient(self, y_true, y_pred):
        y_true, y_pred = checks.same_shape_pair(self.name, y_true, y_pred)
        clipped = np.clip(y_pred - y_true, -self.delta, self.delta)
        return clipped / y_pred.dtype.type(y_pred.size)


# --- Binary classification (mean over all elements) ------------------------

class BinaryCrossentropy(Loss):
    """Binary cross-entropy, for targets y in [0, 1] (usually 0 or 1).

    On probabilities p = y_pred (``from_logits=False``, the default), p is
    first clipped to [EPSILON, 1 - EPSILON]::

        L = mean( -(y log p + (1 - y) log(1 - p)) )       over all n elements
        dL/dp = (p - y) / (p (1 - p)) / n                 (0 where p was clipped)

    On logits z = y_pred (``from_logits=True``), p = sigmoid(z) is never
    formed; the stable form max(z, 0) - z y + log(1 + exp(-|z|)) is used::

        dL/dz = (sigmoid(z) - y) / n
    """

    name = "binary_crossentropy"

    def __init__(self, from_logits=False):
        self.from_logits = checks.flag("from_logits", from_logits)

    def _inputs(self, y_true, y_pred):
        y, y_pred = checks.same_shape_pair(self.name, y_true, y_pred)
        checks.binary_labels(self.name, y)
        if not self.from_logits:
            checks.probabilities(self.name, y_pred)
        return y, y_pred

    def value(self, y_true, y_pred):
        y, y_pred = self._inputs(y_true, y_pred)
        if self.from_logits:
            z = y_pred
            return _mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return _mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)))

    def gradient(self, y_true, y_pred):
        y, y_pred = self._inputs(y_true, y_pred)
        n = y_pred.dtype.type(y_pred.size)
        if self.from_logits:
            z = y_pred
            return (nn.sigmoid(z) - y) / n
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        not_clipped = p == y_pred
        return np.where(not_clipped, (p - y) / (p * (1 - p)), 0) / n


class Hinge(Loss):
    """Hinge loss of a linear classifier (SVM), for labels y in {-1, 1}.

    Labels given as {0, 1} are mapped to {-1, 1} (as Keras does: when every
    label is 0 or 1, y -> 2y - 1). With scores s = y_pred, over all n elements::

        L = mean( max(0, 1 - y s) )
        dL/ds = -y / n   where y s < 1 (inside the margin), else 0

    Exactly at the margin (y s == 1) the subgradient 0 is used: a point
    classified with margin 1 does not move.
    """

    name = "hinge"

    def _labels(self, y_true, y_pred):
        y, s = checks.same_shape_pair(self.name, y_true, y_pred)
        if np.all((y == 0) | (y == 1)):
            y = 2 * y - 1
        elif not np.all((y == -1) | (y == 1)):
            raise LabelError(f"hinge: labels must be -1 or 1 (or 0 and 1, which are mapped to "
                             f"-1 and 1), got values such as {np.unique(y)[:5].tolist()}.")
        return y, s

    def value(self, y_true, y_pred):
        y, s = self._labels(y_true, y_pred)
        return _mean(np.maximum(0, 1 - y * s))

    def gradient(self, y_true, y_pred):
        y, s = self._labels(y_true, y_pred)
        inside_margin = y * s < 1
        return np.where(inside_margin, -y, 0) / s.dtype.type(s.size)


# --- Multi-class classification (one loss per sample, mean over samples) ---

class CategoricalCrossentropy(Loss):
    """Cross-entropy for one-hot (or soft) targets, shape (N, C) for both.

    On probabilities p = y_pred (the default), clipped to [EPSILON, 1 - EPSILON]
    and NOT renormalised (Keras divides by the row sum; here rows must sum to 1
    within 0.01, and are used as they are)::

        L = mean over samples of  -sum_c y_c log p_c
        dL/dp = -y / p / N                        (0 where p was clipped)

    On logits z = y_pred (``from_logits=True``)::

        L = mean over samples of  -sum_c y_c log_softmax(z)_c
        dL/dz = (softmax(z) * sum_c y_c - y) / N      (= (softmax(z) - y) / N for one-hot y)
    """

    name = "categorical_crossentropy"

    def __init__(self, from_logits=False):
        self.from_logits = checks.flag("from_logits", from_logits)

    def _inputs(self, y_true, y_pred):
        y, y_pred = checks.same_shape_pair(self.name, y_true, y_pred)
        if y_pred.ndim == 0:
            raise ShapeError(f"{self.name}: y_pred must have a class axis (shape (N, n_classes)).")
        if not self.from_logits:
            checks.probabilities(self.name, y_pred, rows_sum_to_one=True)
        n_samples = y_pred.dtype.type(y_pred.size // y_pred.shape[-1])
        return y, y_pred, n_samples

    def value(self, y_true, y_pred):
        y, y_pred, _ = self._inputs(y_true, y_pred)
        if self.from_logits:
            log_p = log_softmax(y_pred)
        else:
            log_p = np.log(np.clip(y_pred, EPSILON, 1 - EPSILON))
        return _mean(-np.sum(y * log_p, axis=-1))

    def gradient(self, y_true, y_pred):
        y, y_pred, n_samples = self._inputs(y_true, y_pred)
        if self.from_logits:
            return (softmax(y_pred) * y.sum(axis=-1, keepdims=True) - y) / n_samples
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return np.where(p == y_pred, -y / p, 0) / n_samples


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy for integer labels: y_true (N,) in 0 .. C-1, y_pred (N, C).

    On probabilities p = y_pred (the default), clipped to [EPSILON, 1 - EPSILON]
    and not renormalised::

        L = mean over samples i of  -log p[i, y_i]
        dL/dp[i, c] = -1 / (p[i, y_i] N)  if c == y_i (and p not clipped), else 0

    With ``from_logits=True`` it is ``cross_entropy`` (see CrossEntropy).
    Labels of shape (N, 1) are accepted, as in Keras.
    """

    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False):
        self.from_logits = checks.flag("from_logits", from_logits)
        self._on_logits = CrossEntropy(name=self.name)

    def _inputs(self, y_true, y_pred):
        y_pred = checks.as_float(y_pred)
        labels = checks.class_labels(self.name, y_true, y_pred)
        checks.probabilities(self.name, y_pred, rows_sum_to_one=True)
        return labels, y_pred

    def value(self, y_true, y_pred):
        if self.from_logits:
            return self._on_logits.value(y_true, y_pred)
        labels, y_pred = self._inputs(y_true, y_pred)
        p_correct = np.take_along_axis(y_pred, labels[..., None], axis=-1)
        return _mean(-np.log(np.clip(p_correct, EPSILON, 1 - EPSILON)))

    def gradient(self, y_true, y_pred):
        if self.from_logits:
            return self._on_logits.gradient(y_true, y_pred)
        labels, y_pred = self._inputs(y_true, y_pred)
        n_samples = y_pred.dtype.type(labels.size)
        p_correct = np.take_along_axis(y_pred, labels[..., None], axis=-1)
        p_clipped = np.clip(p_correct, EPSILON, 1 - EPSILON)
        grad = np.zeros_like(y_pred)
        values = np.where(p_clipped == p_correct, -1 / p_clipped, 0) / n_samples
        np.put_along_axis(grad, labels[..., None], values, axis=-1)
        return grad

    def value_and_gradient(self, y_true, y_pred):
        if self.from_logits:
            return self._on_logits.value_and_gradient(y_true, y_pred)
        return super().value_and_gradient(y_true, y_pred)


class CrossEntropy(Loss):
    """Softmax cross-entropy from logits (PyTorch's ``F.cross_entropy``).

    y_true: integer labels (N,) in 0 .. C-1; y_pred: logits z (N, C), any real
    numbers. With m_i = max_c z[i, c]::

        L = mean over i of  log(sum_c exp(z[i, c] - m_i)) - (z[i, y_i] - m_i)
          = mean over i of  -log_softmax(z)[i, y_i]
        dL/dz = (softmax(z) - onehot(y)) / N

    ``value_and_gradient`` computes log_softmax once for both, in y_pred's
    dtype (float32 stays float32); the training loop uses it.
    """

    name = "cross_entropy"

    def __init__(self, name="cross_entropy"):
        self.name = name  # so that errors name the loss the user asked for

    def _inputs(self, y_true, y_pred):
        logits = checks.as_float(y_pred)
        labels = checks.class_labels(self.name, y_true, logits)
        n_classes = logits.shape[-1]
        return labels.reshape(-1), logits.reshape(-1, n_classes)  # as (N,) and (N, C)

    def value(self, y_true, y_pred):
        return self.value_and_gradient(y_true, y_pred)[0]

    def gradient(self, y_true, y_pred):
        return self.value_and_gradient(y_true, y_pred)[1]

    def value_and_gradient(self, y_true, y_pred):
        labels, logits = self._inputs(y_true, y_pred)
        rows = np.arange(len(labels))
        log_p = nn.log_softmax(logits)                       # (N, C), stable
        loss = _mean(-log_p[rows, labels])                   # mean of -log p[i, y_i]
        grad = np.exp(log_p)                                 # softmax(z)
        grad[rows, labels] -= 1                              # softmax(z) - onehot(y)
        grad /= len(labels)                                  # the 1/N of the mean
        return loss, grad.reshape(np.shape(y_pred))


class NLL(Loss):
    """Negative log-likelihood (PyTorch's ``F.nll_loss``).

    y_true: integer labels (N,) in 0 .. C-1; y_pred: log-probabilities (N, C),
    e.g. the output of ``log_softmax``::

        L = mean over i of  -y_pred[i, y_i]
        dL/dy_pred[i, c] = -1 / N  if c == y_i, else 0

    ``nll(y, log_softmax(z))`` equals ``cross_entropy(y, z)``.
    """

    name = "nll"

    def value(self, y_true, y_pred):
        log_p = checks.as_float(y_pred)
        labels = checks.class_labels(self.name, y_true, log_p)
        return _mean(-np.take_along_axis(log_p, labels[..., None], axis=-1))

    def gradient(self, y_true, y_pred):
        log_p = checks.as_float(y_pred)
        labels = checks.class_labels(self.name, y_true, log_p)
        grad = np.zeros_like(log_p)
        np.put_along_axis(grad, labels[..., None], log_p.dtype.type(-1 / labels.size), axis=-1)
        return grad


# --- Ready-made instances and get() ----------------------------------------

mae = MeanAbsoluteError()
mse = MeanSquaredError()
huber = Huber()
binary_crossentropy = BinaryCrossentropy()
categorical_crossentropy = CategoricalCrossentropy()
sparse_categorical_crossentropy = SparseCategoricalCrossentropy()
hinge = Hinge()
cross_entropy = CrossEntropy()
nll = NLL()

LOSSES = {"mae": MeanAbsoluteError, "mse": MeanSquaredError, "huber": Huber,
          "binary_crossentropy": BinaryCrossentropy,
          "categorical_crossentropy": CategoricalCrossentropy,
          "sparse_categorical_crossentropy": SparseCategoricalCrossentropy, "hinge": Hinge,
          "cross_entropy": CrossEntropy, "nll": NLL}
ALIASES = {"mean_absolute_error": "mae", "mean_squared_error": "mse", "huber_loss": "huber"}


def get(name_or_loss, **options):
    """A configured loss: ``get("mse")``, ``get("huber", delta=2.0)``; a Loss is returned as it is.

    An unknown name raises UnknownNameError, an unknown option HyperparameterError.
    """
    if isinstance(name_or_loss, Loss):
        if options:
            raise UsageError(f"get({name_or_loss!r}, ...): options can only be given with a name.")
        return name_or_loss
    key = checks.find_by_name("loss", name_or_loss, LOSSES, ALIASES)
    checks.known_options("loss", key, LOSSES[key], options)
    return LOSSES[key](**options)
