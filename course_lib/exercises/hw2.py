"""Homework 2: stochastic and mini-batch gradient descent (the questions behind ``hw2_sgd_minibatch.ipynb``).

Linear regression ``y ≈ X @ w + b`` with the loss ``L = mean((X @ w + b - y)²)``,
trained by mini-batch SGD on the red-wine data.
"""

import math

import numpy as np

from course_lib.exercises.core import CustomQuestion, FunctionQuestion, Mistake, QuestionSet, ValueQuestion

# ---------------------------------------------------------------------------
# Reference solutions
# ---------------------------------------------------------------------------


def minibatch_indices(n_examples, batch_size, rng):
    """One shuffled pass: a list of index arrays, each ``batch_size`` long except maybe the last."""
    order = rng.permutation(n_examples)
    return [order[start:start + batch_size] for start in range(0, n_examples, batch_size)]


def linear_regression_gradient(X, y, w, b):
    """Gradients of L = mean((X @ w + b - y)²): ``(dL/dw, dL/db)`` of shapes (D,) and ()."""
    residual = X @ w + b - y
    return 2 * X.T @ residual / len(y), 2 * np.mean(residual)


def sgd_epoch(X, y, w, b, lr, batches):
    """One epoch of mini-batch SGD over the given ``batches`` (lists of row indices); returns new ``(w, b)``."""
    for rows in batches:
        grad_w, grad_b = linear_regression_gradient(X[rows], y[rows], w, b)
        w = w - lr * grad_w
        b = b - lr * grad_b
    return w, b


# ---------------------------------------------------------------------------
# Q1: a shuffled pass, checked by its properties (any correct shuffle is fine)
# ---------------------------------------------------------------------------


def _check_batches(expected, got):
    """``compare`` for minibatch_indices: same batch sizes, every index once, shuffled."""
    sizes = [len(batch) for batch in expected]
    n = sum(sizes)
    if not isinstance(got, (list, tuple)):
        return False, f"return a list of index arrays (one per batch), not {type(got).__name__}"
    try:
        got_sizes = [len(batch) for batch in got]
        everything = np.concatenate([np.asarray(batch).ravel() for batch in got]) if got else np.array([])
    except TypeError:
        return False, "each batch should be an array of row indices"
    if got_sizes[:-1] and min(got_sizes[:-1]) == max(got_sizes[:-1]) == sizes[0] and sum(got_sizes) < n:
        return False, (f"your batches hold only {sum(got_sizes)} of the {n} examples: "
                       "keep the last, smaller batch with the examples that are left")
    if got_sizes != sizes:
        return False, f"the batch sizes should be {sizes}, but are {got_sizes}"
    if everything.dtype.kind not in "iu":
        return False, f"the indices should be integers, not {everything.dtype}"
    if sorted(everything.tolist()) != list(range(n)):
        missing = n - len(set(everything.tolist()))
        return False, (f"{missing} of the {n} examples never appear and others appear twice: sample *without* "
                       "replacement, e.g. one `rng.permutation(n_examples)` cut into batches")
    if n > 3 and np.array_equal(everything, np.arange(n)):
        return False, "the indices come in their stored order 0, 1, 2, ...: shuffle them with the `rng` you are given"
    return True, ""


def _batch_cases():
    return [(10, 3, np.random.default_rng(0)), (64, 16, np.random.default_rng(1)),
            (1599, 32, np.random.default_rng(2)), (5, 8, np.random.default_rng(3))]


q1 = FunctionQuestion(
    name="minibatch_indices",
    reference=minibatch_indices,
    cases=_batch_cases,
    compare=_check_batches,
    hints=[
        "Shuffle the numbers 0 .. n_examples-1 once, then cut the shuffled order into consecutive pieces.",
        "`order = rng.permutation(n_examples)`; the pieces are `order[start:start + batch_size]` for "
        "`start` in `range(0, n_examples, batch_size)`.",
        "`return [order[start:start + batch_size] for start in range(0, n_examples, batch_size)]`",
    ],
    solution=(
        "def minibatch_indices(n_examples, batch_size, rng):\n"
        "    order = rng.permutation(n_examples)\n"
        "    return [order[start:start + batch_size] for start in range(0, n_examples, batch_size)]"
    ),
)


# ---------------------------------------------------------------------------
# Q2: the gradient of the mean squared error of a linear model
# ---------------------------------------------------------------------------


def _gradient_cases():
    rng = np.random.default_rng(21)
    cases = []
    for n, d in [(8, 3), (5, 1), (32, 11)]:
        cases.append((rng.normal(size=(n, d)), rng.normal(size=n), rng.normal(size=d), float(rng.normal())))
    return cases


def _gradient_wrong_variable(X, y, w, b):
    residual = X @ w + b - y
    return 2 * residual / len(y), 2 * np.mean(residual)


q2 = FunctionQuestion(
    name="linear_regression_gradient",
    reference=linear_regression_gradient,
    cases=_gradient_cases,
    output_names=("grad_w", "grad_b"),
    mistakes=[
        Mistake("that is dL/d(prediction), the gradient with respect to the predictions; for the weights, "
                "multiply by X.T: `2 * X.T @ residual / n`", _gradient_wrong_variable),
    ],
    hints=[
        "Write the residual r = X @ w + b - y (shape (N,)). L = mean(r²).",
        "dL/dw = (2/N) X.T @ r  (shape (D,)) and dL/db = (2/N) sum(r) = 2 mean(r) (a number).",
        "`residual = X @ w + b - y` then `return 2 * X.T @ residual / len(y), 2 * np.mean(residual)`",
    ],
    solution=(
        "def linear_regression_gradient(X, y, w, b):\n"
        "    residual = X @ w + b - y\n"
        "    return 2 * X.T @ residual / len(y), 2 * np.mean(residual)"
    ),
)


# ---------------------------------------------------------------------------
# Q3: one epoch of mini-batch SGD over given batches
# ---------------------------------------------------------------------------


def _epoch_cases():
    rng = np.random.default_rng(31)
    cases = []
    for n, d, batch_size in [(12, 2, 4), (30, 3, 7), (9, 1, 9)]:
        X, y = rng.normal(size=(n, d)), rng.normal(size=n)
        batches = minibatch_indices(n, batch_size, np.random.default_rng(n))
        cases.append((X, y, np.zeros(d), 0.0, 0.1, batches))
    return cases


def _epoch_full_batch(X, y, w, b, lr, batches):
    for _ in batches:
        grad_w, grad_b = linear_regression_gradient(X, y, w, b)
        w, b = w - lr * grad_w, b - lr * grad_b
    return w, b


def _epoch_one_step(X, y, w, b, lr, batches):
    grad_w, grad_b = linear_regression_gradient(X[batches[0]], y[batches[0]], w, b)
    return w - lr * grad_w, b - lr * grad_b


def _epoch_ascent(X, y, w, b, lr, batches):
    for rows in batches:
        grad_w, grad_b = linear_regression_gradient(X[rows], y[rows], w, b)
        w, b = w + lr * grad_w, b + lr * grad_b
    return w, b


q3 = FunctionQuestion(
    name="sgd_epoch",
    reference=sgd_epoch,
    cases=_epoch_cases,
    output_names=("w", "b"),
    mistakes=[
        Mistake("each step must use only its batch's rows, `X[rows]` and `y[rows]`, not the whole data set",
                _epoch_full_batch),
        Mistake("only the first batch was used: take one step per batch, looping over all of them",
                _epoch_one_step),
        Mistake("you stepped *up* the gradient: subtract lr times the gradient", _epoch_ascent),
    ],
    hints=[
        "Loop over `batches`; each is an array of row indices.",
        "For each batch: the gradient on `X[rows], y[rows]` (your `linear_regression_gradient`), then "
        "`w = w - lr * grad_w` and `b = b - lr * grad_b` (new arrays: don't change the inputs in place).",
        "`for rows in batches: grad_w, grad_b = linear_regression_gradient(X[rows], y[rows], w, b); "
        "w = w - lr * grad_w; b = b - lr * grad_b` then `return w, b`",
    ],
    solution=(
        "def sgd_epoch(X, y, w, b, lr, batches):\n"
        "    for rows in batches:\n"
        "        grad_w, grad_b = linear_regression_gradient(X[rows], y[rows], w, b)\n"
        "        w = w - lr * grad_w\n"
        "        b = b - lr * grad_b\n"
        "    return w, b"
    ),
)


# ---------------------------------------------------------------------------
# Q4: counting iterations
# ---------------------------------------------------------------------------

q4 = ValueQuestion(
    name="iterations",
    expected=math.ceil(1599 / 32) * 10,
    mistakes=[
        Mistake("that is one epoch; the question asks for all 10", math.ceil(1599 / 32)),
        Mistake("the last, smaller batch counts as an iteration too: round *up* (math.ceil)", (1599 // 32) * 10),
        Mistake("the number of iterations is a whole number: batches per epoch, rounded up, times the epochs",
                lambda x: isinstance(x, (float, np.floating)) and np.isfinite(x) and not float(x).is_integer()),
    ],
    hints=[
        "An iteration is one update, on one batch.",
        "Batches per epoch: 1599 / 32 rounded up (the last batch is smaller). Then times the number of epochs.",
        "`iterations = math.ceil(1599 / 32) * 10`",
    ],
    solution="iterations = math.ceil(1599 / 32) * 10",
)


# ---------------------------------------------------------------------------
# Q5: training on the red-wine data
# ---------------------------------------------------------------------------

_WINE = {}


def wine_problem():
    """The standardized red-wine features ``X`` (1599, 11), the quality ``y``, and the least-squares MSE."""
    if not _WINE:
        from course_lib import data

        X_raw, y, _ = data.load_red_wine()
        X, _ = data.standardize(X_raw)
        A = np.column_stack([X, np.ones(len(X))])
        solution, *_ = np.linalg.lstsq(A, y, rcond=None)
        _WINE.update(X=X, y=y, best_mse=float(np.mean((A @ solution - y) ** 2)))
    return _WINE["X"], _WINE["y"], _WINE["best_mse"]


def _check_training(answer):
    """``answer = (w, b, history)``: close to the least-squares optimum, and the loss went down."""
    try:
        w, b, history = answer
    except (TypeError, ValueError):
        return False, "pass the tuple `(w, b, history)`"
    if w is None:
        raise NotImplementedError("w is still None")  # -> "not attempted"
    X, y, best = wine_problem()
    w = np.asarray(w, dtype=float)
    if w.shape != (X.shape[1],):
        return False, f"w should have shape ({X.shape[1]},), one weight per feature; it has shape {w.shape}"
    history = [float(h) for h in history]
    train_mse = float(np.mean((X @ w + float(b) - y) ** 2))
    if not np.isfinite(train_mse):
        return False, "the training diverged (the MSE is not finite): try a smaller learning rate"
    if len(history) < 2 or not history[-1] < history[0]:
        return False, "`history` should hold the training MSE after each epoch, and it should go down"
    if train_mse > 1.02 * best:
        return False, (f"your training MSE is {train_mse:.4f}, more than 2 % above the best possible "
                       f"{best:.4f}: train for more epochs or adjust the learning rate")
    return True, f"training MSE {train_mse:.4f} (the least-squares optimum: {best:.4f})"


q5 = CustomQuestion(
    name="training",
    check_answer=_check_training,
    hints=[
        "Start from w = zeros(11), b = 0; each epoch: new batches from `minibatch_indices`, then `sgd_epoch`.",
        "Record `np.mean((X @ w + b - y) ** 2)` after each epoch in `history`. A learning rate around 0.01 "
        "and 20 epochs work on the standardized data.",
        "See `ex.q5.solution()`.",
    ],
    solution=(
        "rng = np.random.default_rng(0)\n"
        "w, b = np.zeros(X.shape[1]), 0.0\n"
        "history = []\n"
        "for epoch in range(20):\n"
        "    batches = minibatch_indices(len(X), 32, rng)\n"
        "    w, b = sgd_epoch(X, y, w, b, lr=0.01, batches=batches)\n"
        "    history.append(np.mean((X @ w + b - y) ** 2))"
    ),
)

questions = QuestionSet("Homework 2: SGD and mini-batch gradient descent", q1=q1, q2=q2, q3=q3, q4=q4, q5=q5)
progress = questions.progress
