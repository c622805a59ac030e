"""Lesson 3 exercises: stochastic gradient descent.

q1  sgd_step(x_i, y_i, w, b, lr)      one SGD update of a linear model on one example (squared error)
q2  unseen_fraction(n)                the expected share of n examples never drawn in n draws with replacement
q3  decayed_lr(lr0, t)                the step size lr0 / √t of update t (t = 1, 2, ...)
q4  hinge_subgradient(x_i, y_i, w, b) a subgradient of max(0, 1 − y (x·w + b)) for one example
q5  proper_seeding                    which line seeds NumPy's randomness properly
"""

import numpy as np

from course_lib.exercises.core import FunctionQuestion, Mistake, QuestionSet, ValueQuestion


# ---------------------------------------------------------------------------
# q1: one SGD update
# ---------------------------------------------------------------------------

def _sgd_step(x_i, y_i, w, b, lr):
    r = x_i @ w + b - y_i
    return w - lr * 2 * r * x_i, b - lr * 2 * r


def _q1_cases():
    return [
        (np.array([0.5, 0.2]), 6.0, np.array([0.0, 0.0]), 0.0, 0.1),
        (np.array([0.9, 0.1]), 5.0, np.array([2.0, -2.0]), 5.5, 0.05),
        (np.array([1.0, -1.0, 0.5]), -1.0, np.array([0.3, 0.2, 0.1]), 1.0, 0.2),
    ]


def _step_uphill(x_i, y_i, w, b, lr):
    r = x_i @ w + b - y_i
    return w + lr * 2 * r * x_i, b + lr * 2 * r


def _step_without_x(x_i, y_i, w, b, lr):
    r = x_i @ w + b - y_i
    return w - lr * 2 * r, b - lr * 2 * r


def _step_without_two(x_i, y_i, w, b, lr):
    r = x_i @ w + b - y_i
    return w - lr * r * x_i, b - lr * r


q1 = FunctionQuestion(
    name="sgd_step",
    reference=_sgd_step,
    cases=_q1_cases,
    output_names=("w", "b"),
    mistakes=[
        Mistake("you stepped uphill: subtract lr times the gradient.", _step_uphill),
        Mistake("the gradient with respect to w is 2·r·x_i: each weight moves in proportion to its own "
                "input; you left out x_i.", _step_without_x),
        Mistake("the derivative of r² is 2r: your step is half the right one.", _step_without_two),
    ],
    hints=[
        "For one example the loss is r² with r = x_i·w + b − y_i. Its gradient is 2r·x_i for w and 2r for b.",
        "`r = x_i @ w + b - y_i`, then move w and b against their gradients, scaled by lr.",
        "`r = x_i @ w + b - y_i` / `return w - lr * 2 * r * x_i, b - lr * 2 * r`",
    ],
    solution=("def sgd_step(x_i, y_i, w, b, lr):\n"
              "    r = x_i @ w + b - y_i            # the error on this one example\n"
              "    return w - lr * 2 * r * x_i, b - lr * 2 * r"),
)


# ---------------------------------------------------------------------------
# q2: how many examples does an epoch with replacement miss?
# ---------------------------------------------------------------------------

def _unseen_fraction(n):
    return (1 - 1 / n) ** n


q2 = FunctionQuestion(
    name="unseen_fraction",
    reference=_unseen_fraction,
    cases=[(1,), (2,), (3,), (10,), (1000,)],
    mistakes=[
        Mistake("1/e ≈ 0.368 is the limit for large n; for a given n the exact value is (1 − 1/n)ⁿ "
                "(for n = 2 it is 0.25).", lambda n: np.exp(-1.0)),
        Mistake("(1 − 1/n) is the chance of missing one example in ONE draw; an epoch makes n independent "
                "draws, so raise it to the power n.", lambda n: 1 - 1 / n),
        Mistake("that is the chance that an example IS drawn at least once; the question asks for the "
                "share never drawn.", lambda n: 1 - (1 - 1 / n) ** n),
    ],
    hints=[
        "Take one example. In one draw it is missed with probability 1 − 1/n.",
        "The n draws of an epoch are independent, so the probabilities multiply. On average that share of "
        "the examples is never drawn.",
        "`return (1 - 1 / n) ** n`",
    ],
    solution="def unseen_fraction(n):\n    return (1 - 1 / n) ** n",
)


# ---------------------------------------------------------------------------
# q3: a decaying step size
# ---------------------------------------------------------------------------

def _decayed_lr(lr0, t):
    return lr0 / np.sqrt(t)


q3 = FunctionQuestion(
    name="decayed_lr",
    reference=_decayed_lr,
    cases=[(0.1, 1), (0.1, 4), (0.5, 100), (1.0, np.arange(1, 6))],
    mistakes=[
        Mistake("that decays as 1/t; the lesson's schedule divides by the square root, √t.",
                lambda lr0, t: lr0 / t),
        Mistake("t already counts from 1 (the first update uses lr0 itself): don't add 1.",
                lambda lr0, t: lr0 / np.sqrt(t + 1)),
        Mistake("the step size must shrink as t grows: divide by √t, don't multiply.",
                lambda lr0, t: lr0 * np.sqrt(t)),
    ],
    hints=[
        "The step size of update t is lr0 divided by the square root of t.",
        "`np.sqrt` works on numbers and arrays alike.",
        "`return lr0 / np.sqrt(t)`",
    ],
    solution="def decayed_lr(lr0, t):\n    return lr0 / np.sqrt(t)",
)


# ---------------------------------------------------------------------------
# q4: the hinge loss subgradient of one example
# ---------------------------------------------------------------------------

def _hinge_subgradient(x_i, y_i, w, b):
    if y_i * (x_i @ w + b) < 1:
        return -y_i * x_i, -y_i
    return np.zeros_like(x_i), 0.0


def _q4_cases():
    w, b = np.array([2.0, -1.0]), -0.5
    return [
        (np.array([1.0, 0.0]), 1.0, w, b),    # margin 1.5: outside, no push
        (np.array([0.5, 0.5]), 1.0, w, b),    # margin 0: inside the margin
        (np.array([1.0, 0.2]), -1.0, w, b),   # margin -1.3: misclassified
        (np.array([0.6, 0.3]), 1.0, w, b),    # margin 0.4: right side but inside the margin
        (np.array([0.0, 1.0]), -1.0, w, b),   # margin 1.5: outside
    ]


def _perceptron(x_i, y_i, w, b):
    if y_i * (x_i @ w + b) < 0:
        return -y_i * x_i, -y_i
    return np.zeros_like(x_i), 0.0


def _hinge_flipped(x_i, y_i, w, b):
    if y_i * (x_i @ w + b) < 1:
        return y_i * x_i, y_i
    return np.zeros_like(x_i), 0.0


def _hinge_always(x_i, y_i, w, b):
    return -y_i * x_i, -y_i


q4 = FunctionQuestion(
    name="hinge_subgradient",
    reference=_hinge_subgradient,
    cases=_q4_cases,
    output_names=("dw", "db"),
    mistakes=[
        Mistake("you only push misclassified examples (margin < 0): that is the perceptron. The hinge loss "
                "is positive up to margin 1, so correct examples *inside the margin* push too.", _perceptron),
        Mistake("the sign is flipped: the loss 1 − y(x·w + b) has derivative −y·x with respect to w.",
                _hinge_flipped),
        Mistake("an example with margin ≥ 1 has loss 0 and a flat gradient: return zeros for it.",
                _hinge_always),
    ],
    hints=[
        "Compute the margin m = y_i · (x_i·w + b). The loss is max(0, 1 − m).",
        "Where m < 1 the loss is 1 − m, whose gradient is −y_i·x_i for w and −y_i for b; where m ≥ 1 it is 0.",
        "`if y_i * (x_i @ w + b) < 1: return -y_i * x_i, -y_i` / `return np.zeros_like(x_i), 0.0`",
    ],
    solution=("def hinge_subgradient(x_i, y_i, w, b):\n"
              "    if y_i * (x_i @ w + b) < 1:      # inside the margin, or on the wrong side\n"
              "        return -y_i * x_i, -y_i\n"
              "    return np.zeros_like(x_i), 0.0"),
)


# ---------------------------------------------------------------------------
# q5: seeding
# ---------------------------------------------------------------------------

q5 = ValueQuestion(
    name="proper_seeding",
    expected="b",
    mistakes=[
        Mistake("(a) is an assignment: it replaces the function np.random.seed with the number 2023 and "
                "seeds nothing.", "a"),
        Mistake("(c) seeds the hidden global generator: it works, but any other code that draws from it "
                "changes your numbers. Prefer a generator of your own.", "c"),
        Mistake("(d) replaces np.random.default_rng with a number, the same slip as (a).", "d"),
    ],
    hints=[
        "One of the lines has no parentheses: what does `name = value` do in Python?",
        "The course never uses the hidden global generator; it makes its own.",
        "`proper_seeding = \"b\"`",
    ],
    solution='proper_seeding = "b"   # rng = np.random.default_rng(2023), then rng.normal(...), rng.permutation(...)',
)


questions = QuestionSet("Lesson 3: stochastic gradient descent", q1=q1, q2=q2, q3=q3, q4=q4, q5=q5)
q1, q2, q3, q4, q5 = questions.q1, questions.q2, questions.q3, questions.q4, questions.q5
progress = questions.progress
