"""Homework 2 (``hw2_sgd_minibatch``): the references and hidden tests. Instructor-only."""

import math

import numpy as np

from grading.references import Fail, Question, as_array, close, function_question, judge_calls, unpack

ASSIGNMENT = "hw2_sgd_minibatch"


def minibatch_indices(n_examples, batch_size, rng):
    order = rng.permutation(n_examples)
    return [order[start:start + batch_size] for start in range(0, n_examples, batch_size)]


def linear_regression_gradient(X, y, w, b):
    residual = X @ w + b - y
    return 2 * X.T @ residual / len(y), 2 * np.mean(residual)


def sgd_epoch(X, y, w, b, lr, batches):
    for rows in batches:
        grad_w, grad_b = linear_regression_gradient(X[rows], y[rows], w, b)
        w, b = w - lr * grad_w, b - lr * grad_b
    return w, b


# ---------------------------------------------------------------------------
# Q1: three calls per case: two epochs from one rng (they must differ: the rng is used), and a
# fresh rng with the same seed (it must repeat the first: only the rng is used).
# ---------------------------------------------------------------------------

BATCH_SNIPPET = """
outputs = []
for n, size, seed in inputs:
    rng = np.random.default_rng(seed)
    first = call(minibatch_indices, n, size, rng)[0]
    second = call(minibatch_indices, n, size, rng)[0]
    outputs.append([first, second, call(minibatch_indices, n, size, np.random.default_rng(seed))[0]])
"""


def batch_inputs(rng):
    seeds = rng.integers(0, 2 ** 31, size=5).tolist()
    sizes = [(10, 3), (100, 7), (1599, 32), (4, 10), (int(rng.integers(40, 90)), int(rng.integers(5, 12)))]
    return [(n, size, seed) for (n, size), seed in zip(sizes, seeds)]


def _epoch(got, n, size, what):
    if not isinstance(got, list):
        raise Fail(f"{what}: return a list of index arrays, one per batch")
    batches = [as_array(batch, what) for batch in got]
    expected_sizes = [min(size, n - start) for start in range(0, n, size)]
    if [b.size for b in batches] != expected_sizes:
        raise Fail(f"{what}: batch sizes {[b.size for b in batches][:6]}..., expected {expected_sizes[:6]}...")
    order = np.concatenate([b.ravel() for b in batches])
    if not np.array_equal(order, np.round(order)) or sorted(order.astype(int).tolist()) != list(range(n)):
        raise Fail(f"{what}: every example must appear exactly once")
    return order


def judge_batches(inputs, outputs):
    for index, ((n, size, seed), out) in enumerate(zip(inputs, outputs, strict=True)):
        what = f"hidden case {index + 1} ({n} examples, batches of {size})"
        first, second, again = (_epoch(got, n, size, what) for got in out)
        if n >= 10 and np.array_equal(first, np.arange(n)):
            raise Fail(f"{what}: the indices are not shuffled")
        if n >= 10 and np.array_equal(first, second):
            raise Fail(f"{what}: two epochs drawn from the same rng came out in the same order: "
                       "shuffle with the rng you are given")
        if not np.array_equal(first, again):
            raise Fail(f"{what}: the same seed gave a different order: draw the shuffle from `rng` only")
    return "every case: each example once, right batch sizes, a new order per epoch from the given rng"


def gradient_inputs(rng):
    cases = [(rng.normal(size=(n, d)), rng.normal(size=n), rng.normal(size=d), float(rng.normal()))
             for n, d in [(9, 3), (4, 1), (40, 11)]]
    X = rng.normal(size=(12, 2))
    w, b = np.array([0.5, -1.0]), 0.25
    cases.append((X, X @ w + b, w, b))  # at the optimum: both gradients zero
    return cases


def epoch_inputs(rng):
    cases = []
    for n, d, size in [(12, 2, 4), (30, 3, 7), (9, 1, 9), (25, 4, 5)]:
        X, y = rng.normal(size=(n, d)), rng.normal(size=n)
        batches = minibatch_indices(n, size, rng)
        cases.append((X, y, rng.normal(size=d), float(rng.normal()), 0.1, batches))
    return cases


# ---------------------------------------------------------------------------
# Q4 and Q5: values in the student's namespace
# ---------------------------------------------------------------------------


def judge_iterations(inputs, outputs):
    got = as_array(outputs[0], "iterations")
    if got.size != 1 or float(got.ravel()[0]) != math.ceil(1599 / 32) * 10:
        raise Fail("iterations is not right")
    return "right"


_WINE = {}


def wine_problem():
    if not _WINE:
        from course_lib import data

        X_raw, y, _ = data.load_red_wine()
        X, _ = data.standardize(X_raw)
        A = np.column_stack([X, np.ones(len(X))])
        solution, *_ = np.linalg.lstsq(A, y, rcond=None)
        _WINE.update(X=X, y=y, best=float(np.mean((A @ solution - y) ** 2)))
    return _WINE["X"], _WINE["y"], _WINE["best"]


def judge_training(inputs, outputs):
    w, b, history = outputs
    X, y, best = wine_problem()
    w = as_array(w, "w")
    if w.shape != (X.shape[1],):
        raise Fail(f"w should have shape ({X.shape[1]},), not {w.shape}")
    b = as_array(b, "b")
    if b.size != 1:
        raise Fail("b should be a number")
    history = as_array(history, "history").ravel()
    train_mse = float(np.mean((X @ w + float(b.ravel()[0]) - y) ** 2))
    if not np.isfinite(train_mse):
        raise Fail("the training diverged (the MSE is not finite)")
    if train_mse > 1.02 * best:
        raise Fail(f"training MSE {train_mse:.4f} is more than 2 % above the least-squares {best:.4f}")
    if len(history) < 2 or not history[-1] < history[0]:
        raise Fail("history should hold the MSE after each epoch (at least 2), and go down")
    if not np.isclose(history[-1], train_mse, rtol=1e-6):
        raise Fail("the last entry of history is not the MSE of your final w and b")
    return f"training MSE {train_mse:.4f} (least squares: {best:.4f})"


QUESTIONS = {
    "test_minibatch_indices": Question("test_minibatch_indices", batch_inputs, BATCH_SNIPPET, judge_batches),
    "test_linear_regression_gradient": function_question(
        "test_linear_regression_gradient", "linear_regression_gradient", linear_regression_gradient,
        gradient_inputs, output_count=2, atol=1e-8),
    "test_sgd_epoch": function_question("test_sgd_epoch", "sgd_epoch", sgd_epoch, epoch_inputs, output_count=2),
    "test_iterations": Question("test_iterations", lambda rng: [], "outputs = [value('iterations')]",
                                judge_iterations),
    "test_training": Question("test_training", lambda rng: [],
                              "outputs = [value('w'), value('b'), value('history')]", judge_training),
}
