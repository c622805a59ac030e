"""Lesson 1 exercises: loss functions.

q1  mse(y_true, y_pred)                         mean squared error
q2  huber(y_true, y_pred, delta)                Huber loss
q3  binary_crossentropy(y_true, p)              binary cross-entropy on probabilities
q4  log_softmax(z)                              log-softmax of logits, stable for large logits
"""

import numpy as np

from course_lib import losses
from course_lib.exercises.core import FunctionQuestion, Mistake, QuestionSet


# ---------------------------------------------------------------------------
# q1: mean squared error
# ---------------------------------------------------------------------------

def _regression_cases():
    rng = np.random.default_rng(1)
    return [
        (np.array([1.0, 2.0, 3.0]), np.array([1.5, 1.0, 3.0])),
        (rng.normal(size=8), rng.normal(size=8)),
        (np.array([22.0, 25.0, 19.0, 180.0]), np.array([23.0, 23.0, 23.0, 23.0])),
    ]


q1 = FunctionQuestion(
    name="mse",
    reference=lambda y_true, y_pred: losses.mse(y_true, y_pred),
    cases=_regression_cases,
    mistakes=[
        Mistake("you summed instead of averaging: divide by the number of elements (np.mean).",
                lambda y_true, y_pred: np.sum((y_pred - y_true) ** 2)),
        Mistake("you forgot to square the errors: positive and negative errors cancel out.",
                lambda y_true, y_pred: np.mean(y_pred - y_true)),
        Mistake("that is the mean *absolute* error; square the errors instead of taking |…|.",
                lambda y_true, y_pred: np.mean(np.abs(y_pred - y_true))),
        Mistake("that is the root of the MSE (RMSE); leave out the square root.",
                lambda y_true, y_pred: np.sqrt(np.mean((y_pred - y_true) ** 2))),
    ],
    hints=[
        "The error of one example is ŷ − y. Square each error, then average them.",
        "`(y_pred - y_true) ** 2` squares elementwise; `np.mean` averages.",
        "`return np.mean((y_pred - y_true) ** 2)`",
    ],
    solution="def mse(y_true, y_pred):\n    return np.mean((y_pred - y_true) ** 2)",
)


# ---------------------------------------------------------------------------
# q2: Huber
# ---------------------------------------------------------------------------

def _huber(y_true, y_pred, delta=1.0):
    return losses.get("huber", delta=delta)(y_true, y_pred)


def _huber_cases():
    errors = np.array([-3.0, -1.0, -0.5, 0.0, 0.2, 0.9, 2.5])
    return [
        (np.zeros(7), errors, 1.0),
        (np.zeros(7), errors, 2.0),
        (np.array([22.0, 25.0, 19.0, 180.0]), np.array([23.0, 23.0, 23.0, 23.0]), 5.0),
    ]


def _huber_without_half(y_true, y_pred, delta=1.0):
    e = np.abs(y_pred - y_true)
    return np.mean(np.where(e <= delta, e**2, delta * (e - 0.5 * delta)))


def _huber_linear_without_offset(y_true, y_pred, delta=1.0):
    e = np.abs(y_pred - y_true)
    return np.mean(np.where(e <= delta, 0.5 * e**2, delta * e))


def _huber_swapped(y_true, y_pred, delta=1.0):
    e = np.abs(y_pred - y_true)
    return np.mean(np.where(e > delta, 0.5 * e**2, delta * (e - 0.5 * delta)))


q2 = FunctionQuestion(
    name="huber",
    reference=_huber,
    cases=_huber_cases,
    mistakes=[
        Mistake("the quadratic piece is ½·e², not e²: with the ½ the two pieces meet with the same slope at |e| = δ.",
                _huber_without_half),
        Mistake("the linear piece is δ·(|e| − ½δ), not δ·|e|: without the −½δ the loss jumps at |e| = δ.",
                _huber_linear_without_offset),
        Mistake("you swapped the pieces: small errors (|e| ≤ δ) get the quadratic ½·e², large ones the linear piece.",
                _huber_swapped),
    ],
    hints=[
        "Compute the errors e = y_pred − y_true. Small errors (|e| ≤ δ) cost ½·e², large ones δ·(|e| − ½δ).",
        "`np.where(condition, a, b)` picks a where the condition holds and b elsewhere, elementwise. Then average.",
        "`e = np.abs(y_pred - y_true)` then "
        "`return np.mean(np.where(e <= delta, 0.5 * e**2, delta * (e - 0.5 * delta)))`",
    ],
    solution=("def huber(y_true, y_pred, delta=1.0):\n"
              "    e = np.abs(y_pred - y_true)\n"
              "    return np.mean(np.where(e <= delta, 0.5 * e**2, delta * (e - 0.5 * delta)))"),
)


# ---------------------------------------------------------------------------
# q3: binary cross-entropy
# ---------------------------------------------------------------------------

def _bce_cases():
    return [
        (np.array([1.0, 0.0, 1.0, 0.0]), np.array([0.9, 0.1, 0.6, 0.3])),
        (np.array([1.0, 1.0, 0.0]), np.array([0.01, 0.5, 0.99])),
        (np.array([0.0, 1.0, 1.0, 0.0, 1.0]), np.array([0.2, 0.7, 0.95, 0.45, 0.3])),
    ]


q3 = FunctionQuestion(
    name="binary_crossentropy",
    reference=lambda y_true, p: losses.binary_crossentropy(y_true, p),
    cases=_bce_cases,
    mistakes=[
        Mistake("the sign is missing: log p is negative, so the loss is −(y·log p + (1 − y)·log(1 − p)).",
                lambda y_true, p: np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))),
        Mistake("you only kept the y·log p term: an example with y = 0 must pay −log(1 − p).",
                lambda y_true, p: np.mean(-y_true * np.log(p))),
        Mistake("you summed instead of averaging over the examples.",
                lambda y_true, p: -np.sum(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))),
        Mistake("np.log10 is the base-10 logarithm; cross-entropy uses the natural log, np.log.",
                lambda y_true, p: -np.mean(y_true * np.log10(p) + (1 - y_true) * np.log10(1 - p))),
    ],
    hints=[
        "An example with y = 1 pays −log p; an example with y = 0 pays −log(1 − p). Average over examples.",
        "Both cases in one formula: −(y·log p + (1 − y)·log(1 − p)), since one of the two terms is always 0.",
        "`return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))`",
    ],
    solution=("def binary_crossentropy(y_true, p):\n"
              "    return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))"),
)


# ---------------------------------------------------------------------------
# q4: a stable log-softmax
# ---------------------------------------------------------------------------

def _log_softmax_cases():
    return [
        np.array([[1.0, 2.0, 3.0]]),
        np.array([[0.5, -1.0, 2.0, 0.0], [3.0, 3.0, 3.0, 3.0]]),
        np.array([[1000.0, 999.0, 998.0], [-5.0, 0.0, 5.0]]),
    ]


def _naive_log_softmax(z):
    exp = np.exp(z)
    return np.log(exp / exp.sum(axis=-1, keepdims=True))


def _log_softmax_global_max(z):
    shifted = z - z.max()
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def _log_softmax_no_keepdims(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1))


q4 = FunctionQuestion(
    name="log_softmax",
    reference=lambda z: losses.log_softmax(z),
    cases=_log_softmax_cases,
    mistakes=[
        Mistake("exp(1000) overflows to inf, and inf / inf is NaN: subtract each row's maximum before "
                "taking exp (it cancels out in the formula).", _naive_log_softmax),
        Mistake("you subtracted the maximum of the whole array; subtract each row's own maximum "
                "(`z.max(axis=-1, keepdims=True)`), or a row far below the maximum underflows to −inf.",
                _log_softmax_global_max),
        Mistake("the row sums need `keepdims=True`, otherwise a (rows,) vector is broadcast against "
                "the columns instead of the rows.", _log_softmax_no_keepdims),
    ],
    hints=[
        "log softmax(z)_i = z_i − log Σ_j exp(z_j). Subtracting a constant m from every z_j changes nothing.",
        "Choose m = the row's maximum: `m = z.max(axis=-1, keepdims=True)`. Then every exp is at most exp(0) = 1.",
        "`s = z - z.max(axis=-1, keepdims=True)` then "
        "`return s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))`",
    ],
    solution=("def log_softmax(z):\n"
              "    s = z - z.max(axis=-1, keepdims=True)\n"
              "    return s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))"),
)


questions = QuestionSet("Lesson 1: loss functions", q1=q1, q2=q2, q3=q3, q4=q4)
q1, q2, q3, q4 = questions.q1, questions.q2, questions.q3, questions.q4
progress = questions.progress
