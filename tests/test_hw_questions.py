"""Every homework question: the reference passes, realistic wrong answers get their diagnosis,
and raising / wrong-shape / NaN / not-attempted answers are reported cleanly (see exercise_helpers).
Also: the homework references agree with course_lib's own losses and optimizers."""

import math

import numpy as np
import pytest

from course_lib.exercises import hw1, hw2, hw3
from exercise_helpers import assert_question_behaves, assert_status

# ---------------------------------------------------------------------------
# Homework 1: losses
# ---------------------------------------------------------------------------


def test_hw1_mse():
    assert_question_behaves(hw1.q1, wrong_answers={
        "sum where a mean is wanted": lambda y_true, y_pred: np.sum((y_pred - y_true) ** 2),
        "forgot to square": lambda y_true, y_pred: np.mean(y_pred - y_true),
        "mean *absolute* error": lambda y_true, y_pred: np.mean(np.abs(y_pred - y_true)),
        "RMSE": lambda y_true, y_pred: np.sqrt(np.mean((y_pred - y_true) ** 2)),
    })


def test_hw1_mse_gradient():
    assert_question_behaves(hw1.q2, wrong_answers={
        "sign is flipped": lambda y_true, y_pred: 2 * (y_true - y_pred) / y_pred.size,
        "factor of 2 is missing": lambda y_true, y_pred: (y_pred - y_true) / y_pred.size,
        "times too large": lambda y_true, y_pred: 2 * (y_pred - y_true),
        "divided by the number of rows": lambda y_true, y_pred: 2 * (y_pred - y_true) / len(y_pred),
    })


def test_hw1_binary_crossentropy():
    assert_question_behaves(hw1.q3, wrong_answers={
        "clip p": hw1._bce_unclipped,
        "two terms": hw1._bce_only_positive_term,
        "sign is flipped": lambda y, p: -hw1.binary_crossentropy(y, p),
    })


def test_hw1_binary_crossentropy_gradient():
    assert_question_behaves(hw1.q4, wrong_answers={
        "logit": lambda y, p: (p - y) / p.size,
        "sign is flipped": lambda y, p: (y - p) / (p * (1 - p)) / p.size,
        "times too large": lambda y, p: (p - y) / (p * (1 - p)),
    })


def test_hw1_softmax_cross_entropy():
    assert_question_behaves(hw1.q5, wrong_answers={
        "overflows": hw1._ce_without_max_shift,
        "needs a 1/N too": hw1._ce_grad_not_averaged,
        "onehot": hw1._ce_grad_without_onehot,
        "tuple of 2 values (loss, grad)": lambda labels, logits: hw1.softmax_cross_entropy(labels, logits)[0],
    })


def test_hw1_numerical_gradient():
    assert_question_behaves(hw1.q6, wrong_answers={
        "forward difference": hw1._forward_difference,
        "twice the expected": lambda f, x, eps=1e-6: 2 * hw1.numerical_gradient(f, x, eps),
    })


def test_hw1_references_agree_with_course_lib_losses():
    from course_lib import losses

    for y_true, y_pred in hw1._regression_cases():
        assert np.isclose(hw1.mse(y_true, y_pred), losses.mse(y_true, y_pred))
        assert np.allclose(hw1.mse_gradient(y_true, y_pred), losses.mse.gradient(y_true, y_pred))
    for y, p in hw1._probability_cases():
        assert np.isclose(hw1.binary_crossentropy(y, p), losses.binary_crossentropy(y, p))
    for y, p in hw1._probability_cases(with_extremes=False):
        assert np.allclose(hw1.binary_crossentropy_gradient(y, p), losses.binary_crossentropy.gradient(y, p))
    for labels, logits in hw1._classification_cases():
        loss, grad = hw1.softmax_cross_entropy(labels, logits)
        assert np.isclose(loss, losses.cross_entropy(labels, logits))
        assert np.allclose(grad, losses.cross_entropy.gradient(labels, logits))


# ---------------------------------------------------------------------------
# Homework 2: SGD and mini-batches
# ---------------------------------------------------------------------------


def test_hw2_minibatch_indices():
    assert_question_behaves(hw2.q1, wrong_answers={
        "stored order": lambda n, size, rng: [np.arange(n)[s:s + size] for s in range(0, n, size)],
        "without* replacement": lambda n, size, rng: [rng.integers(0, n, size=min(size, n - s))
                                                      for s in range(0, n, size)],
        "last, smaller batch": lambda n, size, rng: [rng.permutation(n)[s:s + size]
                                                     for s in range(0, n - n % size or n, size)],
        "batch sizes should be": lambda n, size, rng: np.array_split(rng.permutation(n), math.ceil(n / size)),
    })
    assert_status(hw2.q1, lambda n, size, rng: rng.permutation(n), "incorrect", contains="list of index arrays")


def test_hw2_linear_regression_gradient():
    assert_question_behaves(hw2.q2, wrong_answers={
        "gradient with respect to the predictions": hw2._gradient_wrong_variable,
        "sign is flipped": lambda X, y, w, b: tuple(-g for g in hw2.linear_regression_gradient(X, y, w, b)),
        "factor of 2 is missing": lambda X, y, w, b: tuple(g / 2 for g in hw2.linear_regression_gradient(X, y, w, b)),
        "times too large": lambda X, y, w, b: tuple(g * len(y) for g in hw2.linear_regression_gradient(X, y, w, b)),
    })


def test_hw2_gradient_matches_finite_differences():
    for X, y, w, b in hw2._gradient_cases():
        grad_w, grad_b = hw2.linear_regression_gradient(X, y, w, b)
        numeric_w = hw1.numerical_gradient(lambda v: np.mean((X @ v + b - y) ** 2), w)
        numeric_b = hw1.numerical_gradient(lambda v: np.mean((X @ w + v[0] - y) ** 2), np.array([b]))
        assert np.allclose(grad_w, numeric_w, atol=1e-6) and np.isclose(grad_b, numeric_b[0], atol=1e-6)


def test_hw2_sgd_epoch():
    assert_question_behaves(hw2.q3, wrong_answers={
        "not the whole data set": hw2._epoch_full_batch,
        "only the first batch": hw2._epoch_one_step,
        "stepped *up*": hw2._epoch_ascent,
    })

    def in_place(X, y, w, b, lr, batches):
        for rows in batches:
            grad_w, grad_b = hw2.linear_regression_gradient(X[rows], y[rows], w, b)
            w -= lr * grad_w
            b = b - lr * grad_b
        return w, b

    assert_status(hw2.q3, in_place, "incorrect", reason="mutated", contains="`w`")


def test_hw2_iterations():
    assert_question_behaves(hw2.q4, wrong_answers={
        "one epoch": 50,
        "round *up*": 490,
        "whole number": 1599 / 32 * 10,
    })


def _train(lr, epochs, seed=0):
    X, y, _ = hw2.wine_problem()
    rng = np.random.default_rng(seed)
    w, b, history = np.zeros(X.shape[1]), 0.0, []
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            w, b = hw2.sgd_epoch(X, y, w, b, lr, hw2.minibatch_indices(len(X), 32, rng))
            history.append(np.mean((X @ w + b - y) ** 2))
    return w, b, history


def test_hw2_training():
    question = hw2.q5
    assert_status(question, _train(0.01, 20), "correct", contains="least-squares optimum")
    assert_status(question, (None, None, []), "not attempted")
    assert_status(question, _train(0.001, 2), "incorrect", contains="more than 2 %")
    assert_status(question, _train(5.0, 3), "incorrect", contains="diverged")
    w, b, history = _train(0.01, 20)
    assert_status(question, (w, b, history[::-1]), "incorrect", contains="go down")
    assert_status(question, (w[:5], b, history), "incorrect", contains="shape (11,)")
    assert_status(question, (w, b), "incorrect", contains="(w, b, history)")


# ---------------------------------------------------------------------------
# Homework 3: optimizers and the classifier
# ---------------------------------------------------------------------------


def test_hw3_momentum_update():
    assert_question_behaves(hw3.q1, wrong_answers={
        "other common form": hw3._momentum_sutskever,
        "*new* velocity": hw3._momentum_old_velocity,
        "stepped the opposite way": lambda p, g, v, lr, mu: (p + lr * (mu * v + g), mu * v + g),
        "times the expected size": lambda p, g, v, lr, mu: (p - 2 * lr * (mu * v + g), mu * v + g),
    })


def test_hw3_adam_update():
    assert_question_behaves(hw3.q2, wrong_answers={
        "bias correction is missing": hw3._adam_no_bias_correction,
        "beta1**(t + 1)": hw3._adam_t_plus_one,
        "beta1**(t - 1)": hw3._adam_t_minus_one,
        "eps goes outside": hw3._adam_eps_inside,
        "*squared* gradient": hw3._adam_v_without_square,
    })


def test_hw3_adam_matches_course_lib_optim():
    from course_lib import nn, optim

    theta = nn.Parameter(np.array([1.0, -2.0, 0.5]))
    reference = optim.Adam([theta], lr=0.05, betas=(0.8, 0.99))
    p, m, v = theta.data.copy(), np.zeros(3), np.zeros(3)
    for t in range(1, 8):
        theta.grad[...] = np.sin(theta.data)
        reference.step()
        p, m, v = hw3.adam_update(p, np.sin(p), m, v, t, lr=0.05, beta1=0.8, beta2=0.99)
    assert np.allclose(p, theta.data)


def test_hw3_first_step():
    assert_question_behaves(hw3.q3, wrong_answers={
        "without* bias correction": 0.01 * 0.1 / np.sqrt(0.001),
        "size of m's update": 0.001,
        "absolute value": -0.01,
    })


class LookupModel:
    """A stand-in for a trained network: scores looked up from the test images (no training needed)."""

    def __init__(self, accuracy, n_classes=10):
        X, y = hw3.fashion_test_set()
        rng = np.random.default_rng(0)
        labels = np.where(rng.uniform(size=len(y)) < accuracy, y, (y + 1) % 10)
        self.table = {row.tobytes(): label for row, label in zip(X, labels)}
        self.n_classes = n_classes

    def __call__(self, X):
        scores = np.zeros((len(X), self.n_classes), dtype=np.float32)
        for i, row in enumerate(X):
            scores[i, self.table[row.tobytes()] % self.n_classes] = 1
        return scores


@pytest.fixture(scope="module")
def good_model():
    return LookupModel(accuracy=0.9)


def test_hw3_model(good_model):
    question = hw3.q4
    assert_status(question, good_model, "correct", contains="needed: 80%")
    assert_status(question, None, "not attempted")
    assert_status(question, LookupModel(accuracy=0.5), "incorrect", contains="below the 80%")
    assert_status(question, LookupModel(accuracy=0.9, n_classes=5), "incorrect", reason="raised",
                  contains="(N, 10)")
    assert_status(question, "model", "incorrect", contains="not str")

    def broken(X):
        raise RuntimeError("forgot to build the layers")

    assert_status(question, broken, "incorrect", reason="raised", contains="forgot to build the layers")
    assert_status(question, lambda X: np.full((len(X), 10), np.nan), "incorrect", contains="below the 80%")


def test_every_homework_question_is_tested():
    tested = {"hw1": 6, "hw2": 5, "hw3": 4}
    for module in (hw1, hw2, hw3):
        assert len(module.questions) == tested[module.__name__.rsplit(".", 1)[1]]
