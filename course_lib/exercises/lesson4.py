"""Lesson 4 exercises: mini-batch gradient descent.

q1  iterations         how many updates: 1,000 examples, batch size 8, 5 epochs
q2  iterations_per_epoch(n_examples, batch_size, drop_last)
q3  minibatch_gradient(x, y, w, b, batch)   the MSE gradient of a line on one batch
"""

import math

import numpy as np

from course_lib.demos.minibatch import iterations_per_epoch, line_mse_gradient
from course_lib.exercises.core import FunctionQuestion, Mistake, QuestionSet, ValueQuestion

# ---------------------------------------------------------------------------
# q1: the arithmetic of epochs, iterations and batch size
# ---------------------------------------------------------------------------

q1 = ValueQuestion(
    name="iterations",
    expected=625,
    mistakes=[
        Mistake("125 is one epoch (1000 / 8 batches); the training runs 5 epochs, so multiply by 5.", 125),
        Mistake("5000 is the number of examples processed (1000 × 5); an iteration processes a whole "
                "batch of 8 examples at once.", 5000),
        Mistake("40 is batch size × epochs; the number of iterations per epoch is examples / batch size.", 40),
        Mistake("200 is 1000 / 5: divide the examples by the batch size, then multiply by the epochs.", 200),
        Mistake("that is 1000 / (8 × 5); the epochs multiply the iterations, they don't divide them.", 25),
    ],
    hints=[
        "One epoch is one pass over all 1,000 examples. How many batches of 8 does that take?",
        "Iterations per epoch = ceil(examples / batch size) = ceil(1000 / 8) = 125. "
        "Then count the epochs.",
        "`iterations = 5 * math.ceil(1000 / 8)`",
    ],
    solution="iterations = 5 * math.ceil(1000 / 8)   # 125 updates per epoch, 5 epochs -> 625",
)


# ---------------------------------------------------------------------------
# q2: iterations per epoch, with or without the last partial batch
# ---------------------------------------------------------------------------

def _q2_cases():
    return [(1000, 8, False), (1000, 7, False), (1000, 7, True), (60000, 128, False),
            (60000, 128, True), (10, 32, False), (10, 32, True), (1, 1, False)]


q2 = FunctionQuestion(
    name="iterations_per_epoch",
    reference=iterations_per_epoch,
    cases=_q2_cases,
    mistakes=[
        Mistake("you always drop the last, smaller batch (n_examples // batch_size); without "
                "drop_last it is still a batch, and an iteration: round *up*.",
                lambda n_examples, batch_size, drop_last=False: n_examples // batch_size),
        Mistake("you always round up; with drop_last=True the last, smaller batch is skipped, "
                "so round *down* (n_examples // batch_size).",
                lambda n_examples, batch_size, drop_last=False: math.ceil(n_examples / batch_size)),
        Mistake("n_examples / batch_size is not a whole number in general; an epoch has a whole number "
                "of batches: round up (math.ceil), or down with drop_last.",
                lambda n_examples, batch_size, drop_last=False: n_examples / batch_size),
        Mistake("you swapped the two cases: drop_last=True means rounding *down*, False rounding up.",
                lambda n_examples, batch_size, drop_last=False:
                math.ceil(n_examples / batch_size) if drop_last else n_examples // batch_size),
    ],
    hints=[
        "With 1,000 examples and batches of 7 you get 142 full batches and 6 examples left over.",
        "Those 6 examples make one more (smaller) batch, unless drop_last is True.",
        "`math.ceil(n_examples / batch_size)` when drop_last is False, `n_examples // batch_size` when True.",
    ],
    solution=(
        "def iterations_per_epoch(n_examples, batch_size, drop_last=False):\n"
        "    if drop_last:\n"
        "        return n_examples // batch_size\n"
        "    return math.ceil(n_examples / batch_size)"
    ),
)


# ---------------------------------------------------------------------------
# q3: the gradient on one mini-batch
# ---------------------------------------------------------------------------

def _q3_reference(x, y, w, b, batch):
    return line_mse_gradient(x[batch], y[batch], w, b)


def _q3_cases():
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, size=40)
    y = 2 * x - 1 + 0.3 * rng.normal(size=40)
    return [
        (x, y, 0.5, 0.2, np.array([3, 17, 25, 8])),
        (x, y, -1.0, 1.5, rng.permutation(40)[:10]),
        (x, y, 2.0, -1.0, np.array([0])),
        (x[:6], y[:6], 1.0, 0.0, np.array([5, 0, 2])),
    ]


def _full_data(x, y, w, b, batch):
    return line_mse_gradient(x, y, w, b)


def _divide_by_n(x, y, w, b, batch):
    r = w * x[batch] + b - y[batch]
    return 2 * np.sum(r * x[batch]) / len(x), 2 * np.sum(r) / len(x)


def _no_two(x, y, w, b, batch):
    r = w * x[batch] + b - y[batch]
    return np.mean(r * x[batch]), np.mean(r)


def _sign_flipped(x, y, w, b, batch):
    r = y[batch] - (w * x[batch] + b)
    return 2 * np.mean(r * x[batch]), 2 * np.mean(r)


q3 = FunctionQuestion(
    name="minibatch_gradient",
    reference=_q3_reference,
    cases=_q3_cases,
    output_names=("dL_dw", "dL_db"),
    mistakes=[
        Mistake("you used every example, not only the batch: take x[batch] and y[batch] first.", _full_data),
        Mistake("you divided by len(x), the size of the whole data set; the loss is the mean over the "
                "batch, so divide by len(batch).", _divide_by_n),
        Mistake("the factor 2 from differentiating the square is missing: d/dw (r²) = 2 r · dr/dw.", _no_two),
        Mistake("the sign is flipped: with r = w·x + b − y (prediction minus target) the gradient "
                "is 2·mean(r·x); you used y − (w·x + b).", _sign_flipped),
    ],
    hints=[
        "Select the batch first: `xb, yb = x[batch], y[batch]`. Then it is the full-batch "
        "gradient of lesson 2, on xb and yb.",
        "With the residual r = w·xb + b − yb: dL/dw = 2·mean(r·xb) and dL/db = 2·mean(r).",
        "`r = w * xb + b - yb` then `return 2 * np.mean(r * xb), 2 * np.mean(r)`",
    ],
    solution=(
        "def minibatch_gradient(x, y, w, b, batch):\n"
        "    xb, yb = x[batch], y[batch]\n"
        "    r = w * xb + b - yb              # residuals on the batch, shape (len(batch),)\n"
        "    return 2 * np.mean(r * xb), 2 * np.mean(r)"
    ),
)


questions = QuestionSet("Lesson 4: mini-batch gradient descent", q1=q1, q2=q2, q3=q3)
q1, q2, q3 = questions.q1, questions.q2, questions.q3
progress = questions.progress
