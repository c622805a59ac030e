"""Homework 1: loss functions and their gradients (the questions behind ``hw1_losses.ipynb``).

The reference solutions are written out here in plain NumPy, the way the
homework asks for them; ``tests/test_hw_questions.py`` checks that they agree
with ``course_lib.losses``.
"""

import numpy as np

from course_lib.exercises.core import FunctionQuestion, Mistake, QuestionSet

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON], as in course_lib.losses


# ---------------------------------------------------------------------------
# Reference solutions
# ---------------------------------------------------------------------------


def mse(y_true, y_pred):
    """Mean squared error over all elements."""
    return np.mean((y_pred - y_true) ** 2)


def mse_gradient(y_true, y_pred):
    """d mse / d y_pred = 2 (y_pred - y_true) / n, n = the number of elements."""
    return 2 * (y_pred - y_true) / y_pred.size


def binary_crossentropy(y_true, p):
    """Mean of -(y log p + (1 - y) log(1 - p)), with p clipped to [EPSILON, 1 - EPSILON]."""
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))


def binary_crossentropy_gradient(y_true, p):
    """d bce / d p = (p - y) / (p (1 - p)) / n  (for p inside the clipping range)."""
    return (p - y_true) / (p * (1 - p)) / p.size


def softmax_cross_entropy(labels, logits):
    """Mean cross-entropy of integer ``labels`` (N,) under softmax(``logits``) (N, C), and its gradient."""
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    loss = -np.mean(log_probs[np.arange(n), labels])
    grad = np.exp(log_probs)
    grad[np.arange(n), labels] -= 1
    return loss, grad / n


def numerical_gradient(f, x, eps=1e-6):
    """Central differences: entry i is (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)."""
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x, dtype=float)
        step[i] = eps
        grad[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


# ---------------------------------------------------------------------------
# Test inputs (fresh arrays at every check)
# ---------------------------------------------------------------------------


def _regression_cases():
    rng = np.random.default_rng(11)
    return [
        (rng.normal(size=6), rng.normal(size=6)),
        (np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.0])),
        (rng.normal(size=(8, 3)), rng.normal(size=(8, 3))),
    ]


def _probability_cases(with_extremes=True):
    rng = np.random.default_rng(12)
    cases = [
        (rng.integers(0, 2, size=8).astype(float), rng.uniform(0.05, 0.95, size=8)),
        (np.array([1.0, 0.0, 1.0, 0.0]), np.array([0.9, 0.2, 0.6, 0.4])),
        (rng.integers(0, 2, size=(5, 2)).astype(float), rng.uniform(0.05, 0.95, size=(5, 2))),
    ]
    if with_extremes:  # a confident, exactly-right and a confident, exactly-wrong prediction
        cases.append((np.array([1.0, 0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0, 1.0])))
    return cases


def _classification_cases():
    rng = np.random.default_rng(13)
    return [
        (rng.integers(0, 4, size=6), rng.normal(size=(6, 4))),
        (np.array([0, 2]), np.array([[2.0, 1.0, 0.1], [0.5, 0.5, 3.0]])),
        (np.array([1, 0, 2]), np.array([[1000.0, 1001.0, 999.0], [-5.0, 800.0, 2.0], [0.0, 0.0, 0.0]])),
    ]


def _cubic(x):
    return np.sum(x ** 3 - 2 * x ** 2)


def _softplus_sum(x):
    return np.sum(np.log1p(np.exp(3 * x)))


def _gradient_cases():
    rng = np.random.default_rng(14)
    return [
        (_cubic, rng.normal(size=5) + 2.0),
        (_softplus_sum, rng.normal(size=(3, 2))),
    ]


# ---------------------------------------------------------------------------
# Wrong answers we recognise
# ---------------------------------------------------------------------------


def _bce_unclipped(y_true, p):
    return np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))


def _bce_only_positive_term(y_true, p):
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return np.mean(-y_true * np.log(p))


def _ce_without_max_shift(labels, logits):
    n = logits.shape[0]
    probs = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)
    grad = probs.copy()
    grad[np.arange(n), labels] -= 1
    return -np.mean(np.log(probs[np.arange(n), labels])), grad / n


def _ce_grad_not_averaged(labels, logits):
    loss, grad = softmax_cross_entropy(labels, logits)
    return loss, grad * logits.shape[0]


def _ce_grad_without_onehot(labels, logits):
    loss, grad = softmax_cross_entropy(labels, logits)
    grad = grad * logits.shape[0]
    grad[np.arange(logits.shape[0]), labels] += 1
    return loss, grad / logits.shape[0]


def _forward_difference(f, x, eps=1e-6):
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x, dtype=float)
        step[i] = eps
        grad[i] = (f(x + step) - f(x)) / eps
    return grad


# ---------------------------------------------------------------------------
# The questions
# ---------------------------------------------------------------------------

q1 = FunctionQuestion(
    name="mse",
    reference=mse,
    cases=_regression_cases,
    mistakes=[
        Mistake("you forgot to square the error", lambda y_true, y_pred: np.mean(y_pred - y_true)),
        Mistake("that is the mean *absolute* error: square the difference instead of taking its absolute value",
                lambda y_true, y_pred: np.mean(np.abs(y_pred - y_true))),
        Mistake("you took the square root (that is the RMSE, not the MSE)",
                lambda y_true, y_pred: np.sqrt(np.mean((y_pred - y_true) ** 2))),
    ],
    hints=[
        "Subtract, square every element, then average over all elements.",
        "`np.mean` averages over every element of an array, whatever its shape.",
        "`return np.mean((y_pred - y_true) ** 2)`",
    ],
    solution="def mse(y_true, y_pred):\n    return np.mean((y_pred - y_true) ** 2)",
)

q2 = FunctionQuestion(
    name="mse_gradient",
    reference=mse_gradient,
    cases=_regression_cases,
    mistakes=[
        Mistake("you divided by the number of rows, but the mean runs over *all* elements: divide by `y_pred.size`",
                lambda y_true, y_pred: 2 * (y_pred - y_true) / len(y_pred)),
    ],
    hints=[
        "Differentiate mean((y_pred - y_true)²) with respect to one element y_pred[i]: only one term of the sum "
        "depends on it.",
        "The derivative of (y_pred[i] - y_true[i])² is 2 (y_pred[i] - y_true[i]); the mean divides it by n.",
        "`return 2 * (y_pred - y_true) / y_pred.size`",
    ],
    solution="def mse_gradient(y_true, y_pred):\n    return 2 * (y_pred - y_true) / y_pred.size",
)

q3 = FunctionQuestion(
    name="binary_crossentropy",
    reference=binary_crossentropy,
    cases=_probability_cases,
    mistakes=[
        Mistake("clip p to [1e-7, 1 - 1e-7] first: log(0) is -inf when a prediction is exactly 0 or 1",
                _bce_unclipped),
        Mistake("the loss has two terms: add (1 - y) log(1 - p) for the negative examples",
                _bce_only_positive_term),
    ],
    hints=[
        "For one example: -(y log p + (1 - y) log(1 - p)); then the mean over all examples.",
        "A prediction of exactly 0 or 1 makes a log infinite: `np.clip(p, 1e-7, 1 - 1e-7)` first.",
        "`p = np.clip(p, EPSILON, 1 - EPSILON)` then "
        "`return np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))`",
    ],
    solution=(
        "def binary_crossentropy(y_true, p):\n"
        "    p = np.clip(p, EPSILON, 1 - EPSILON)\n"
        "    return np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))"
    ),
)

q4 = FunctionQuestion(
    name="binary_crossentropy_gradient",
    reference=binary_crossentropy_gradient,
    cases=lambda: _probability_cases(with_extremes=False),
    mistakes=[
        Mistake("that is the gradient with respect to the *logit* z (p - y), not to the probability p: "
                "divide by p (1 - p) as well", lambda y_true, p: (p - y_true) / p.size),
    ],
    hints=[
        "d/dp of -(y log p + (1 - y) log(1 - p)) is -y/p + (1 - y)/(1 - p).",
        "Over a common denominator that is (p - y) / (p (1 - p)); the mean divides by n = p.size.",
        "`return (p - y_true) / (p * (1 - p)) / p.size`",
    ],
    solution="def binary_crossentropy_gradient(y_true, p):\n    return (p - y_true) / (p * (1 - p)) / p.size",
)

q5 = FunctionQuestion(
    name="softmax_cross_entropy",
    reference=softmax_cross_entropy,
    cases=_classification_cases,
    output_names=("loss", "grad"),
    mistakes=[
        Mistake("np.exp(1000) overflows to inf: subtract each row's maximum from the logits before exp "
                "(softmax does not change when you shift a row)", _ce_without_max_shift),
        Mistake("the loss is a mean over the N examples, so its gradient needs a 1/N too",
                _ce_grad_not_averaged),
        Mistake("the gradient is softmax(z) - onehot(y): subtract 1 at each example's true class",
                _ce_grad_without_onehot),
    ],
    hints=[
        "Work with log-probabilities: log_softmax(z) = z - log(sum(exp(z))) row by row.",
        "Subtract the row maximum first (`logits - logits.max(axis=1, keepdims=True)`); pick each row's true-class "
        "entry with `log_probs[np.arange(n), labels]`.",
        "The gradient: `grad = np.exp(log_probs)`; `grad[np.arange(n), labels] -= 1`; `grad / n`.",
    ],
    solution=(
        "def softmax_cross_entropy(labels, logits):\n"
        "    n = logits.shape[0]\n"
        "    shifted = logits - logits.max(axis=1, keepdims=True)\n"
        "    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))\n"
        "    loss = -np.mean(log_probs[np.arange(n), labels])\n"
        "    grad = np.exp(log_probs)\n"
        "    grad[np.arange(n), labels] -= 1\n"
        "    return loss, grad / n"
    ),
)

q6 = FunctionQuestion(
    name="numerical_gradient",
    reference=numerical_gradient,
    cases=_gradient_cases,
    rtol=1e-7,
    atol=1e-7,
    mistakes=[
        Mistake("that is a forward difference (f(x + eps) - f(x)) / eps; the central difference "
                "(f(x + eps) - f(x - eps)) / (2 eps) is far more accurate", _forward_difference),
    ],
    hints=[
        "Loop over every index i of x (`np.ndindex(x.shape)` works for any shape); nudge only entry i.",
        "Build a step array of zeros with `eps` at index i; evaluate f at x + step and x - step.",
        "`grad[i] = (f(x + step) - f(x - step)) / (2 * eps)`",
    ],
    solution=(
        "def numerical_gradient(f, x, eps=1e-6):\n"
        "    grad = np.zeros_like(x, dtype=float)\n"
        "    for i in np.ndindex(x.shape):\n"
        "        step = np.zeros_like(x, dtype=float)\n"
        "        step[i] = eps\n"
        "        grad[i] = (f(x + step) - f(x - step)) / (2 * eps)\n"
        "    return grad"
    ),
)

questions = QuestionSet("Homework 1: losses and their gradients", q1=q1, q2=q2, q3=q3, q4=q4, q5=q5, q6=q6)
progress = questions.progress
