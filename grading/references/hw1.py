"""Homework 1 (``hw1_losses``): the references and hidden tests. Instructor-only."""

import numpy as np

from grading.references import Fail, Question, close, function_question, unpack

ASSIGNMENT = "hw1_losses"
EPSILON = 1e-7


def mse(y_true, y_pred):
    return np.mean((y_pred - y_true) ** 2)


def mse_gradient(y_true, y_pred):
    return 2 * (y_pred - y_true) / y_pred.size


def binary_crossentropy(y_true, p):
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))


def binary_crossentropy_gradient(y_true, p):
    return (p - y_true) / (p * (1 - p)) / p.size


def softmax_cross_entropy(labels, logits):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    grad = np.exp(log_probs)
    grad[np.arange(n), labels] -= 1
    return -np.mean(log_probs[np.arange(n), labels]), grad / n


# The functions numerical_gradient is tried on: (name, f, its exact gradient). The kernel gets
# the same functions by name (NUMERICAL_SNIPPET); the grader compares with the exact gradient.
TEST_FUNCTIONS = {
    "cubic": (lambda x: np.sum(x ** 3 - 2 * x ** 2), lambda x: 3 * x ** 2 - 4 * x),
    "sin": (lambda x: np.sum(np.sin(x)), np.cos),
    "softplus": (lambda x: np.sum(np.log1p(np.exp(3 * x))), lambda x: 3 / (1 + np.exp(-3 * x))),
}


# ---------------------------------------------------------------------------
# Hidden inputs: fixed edge cases, then random ones from the grader's fresh rng
# ---------------------------------------------------------------------------


def regression_inputs(rng):
    return [(np.zeros((4, 5)), np.ones((4, 5))), (np.array([2.0]), np.array([-1.0])),
            (rng.normal(size=7), rng.normal(size=7)), (rng.normal(size=(6, 3)), rng.normal(size=(6, 3)))]


def probability_inputs(rng, extremes=True):
    cases = [(rng.integers(0, 2, size=9).astype(float), rng.uniform(0.05, 0.95, size=9)),
             (rng.integers(0, 2, size=(4, 3)).astype(float), rng.uniform(0.05, 0.95, size=(4, 3))),
             (np.array([0.0, 1.0, 1.0, 0.0]), np.array([0.3, 0.8, 0.1, 0.6]))]
    if extremes:
        cases += [(np.array([1.0]), np.array([0.0])), (np.array([1.0, 1.0]), np.array([1.0, 1.0])),
                  (np.array([1.0, 0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0, 1.0]))]
    return cases


def classification_inputs(rng):
    return [(rng.integers(0, 5, size=7), rng.normal(size=(7, 5))),
            (np.array([2, 0]), np.array([[1e4, 0.0, 1e4], [-1e4, 5.0, 5.0]])),
            (np.array([1, 0, 2]), np.array([[1000.0, 1001.0, 999.0], [-5.0, 800.0, 2.0], [0.0, 0.0, 0.0]])),
            (rng.integers(0, 3, size=1), 3 * rng.normal(size=(1, 3)))]


def numerical_inputs(rng):
    return [("cubic", rng.normal(size=5) + 2.0), ("sin", rng.normal(size=(2, 2))),
            ("softplus", rng.normal(size=(3, 2)))]


NUMERICAL_SNIPPET = """
FUNCTIONS = {"cubic": lambda x: np.sum(x ** 3 - 2 * x ** 2), "sin": lambda x: np.sum(np.sin(x)),
             "softplus": lambda x: np.sum(np.log1p(np.exp(3 * x)))}
outputs = [call(numerical_gradient, FUNCTIONS[name], x) for name, x in inputs]
"""


def judge_numerical(inputs, outputs):
    for index, ((name, x), out) in enumerate(zip(inputs, outputs, strict=True)):
        what = f"hidden input {index + 1} of {len(inputs)}"
        got, mutated = unpack(out, 2, what)
        close(TEST_FUNCTIONS[name][1](x), got, what, rtol=1e-6, atol=1e-7)  # a forward difference is off by ~1e-6
        if mutated:
            raise Fail(f"{what}: numerical_gradient changed the x it was given")
    return f"all {len(inputs)} hidden functions right"


# Question 7: the three analytic gradients at random points, and the student's own
# numerical_gradient of the student's own losses there. Both must agree with the exact gradient
# (so an all-zero gradient of a loss that is also wrong no longer passes) and with each other.
AGREE_SNIPPET = """
outputs = []
for (y_true, y_pred), (y01, p), (labels, logits) in inputs:
    sce = lambda z: softmax_cross_entropy(labels, z)
    outputs.append([
        call(mse_gradient, y_true, y_pred)[0],
        call(numerical_gradient, lambda q: mse(y_true, q), y_pred)[0],
        call(binary_crossentropy_gradient, y01, p)[0],
        call(numerical_gradient, lambda q: binary_crossentropy(y01, q), p)[0],
        call(lambda z: sce(z)[1], logits)[0],
        call(numerical_gradient, lambda z: sce(z)[0], logits)[0],
    ])
"""


def agree_inputs(rng):
    return [((rng.normal(size=(4, 3)), rng.normal(size=(4, 3))),
             (rng.integers(0, 2, size=6).astype(float), rng.uniform(0.1, 0.9, size=6)),
             (rng.integers(0, 5, size=4), rng.normal(size=(4, 5)))) for _ in range(2)]


def relative_error(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-12))


def judge_agree(inputs, outputs):
    names = ["MSE", "binary cross-entropy", "softmax cross-entropy"]
    for index, (((y_true, y_pred), (y01, p), (labels, logits)), out) in enumerate(zip(inputs, outputs, strict=True)):
        exact = [mse_gradient(y_true, y_pred), binary_crossentropy_gradient(y01, p),
                 softmax_cross_entropy(labels, logits)[1]]
        for k, name in enumerate(names):
            analytic, numeric = out[2 * k], out[2 * k + 1]
            close(exact[k], analytic, f"point {index + 1}: your {name} gradient")
            close(exact[k], numeric, f"point {index + 1}: your finite differences of your {name}",
                  rtol=1e-5, atol=1e-6)
            if relative_error(np.asarray(analytic, float), np.asarray(numeric, float)) > 1e-6:
                raise Fail(f"point {index + 1}: your {name} gradient and your finite differences disagree")
    return "your three gradients agree with your finite differences and with the exact gradients"


QUESTIONS = {
    "test_mse": function_question("test_mse", "mse", mse, regression_inputs),
    "test_mse_gradient": function_question("test_mse_gradient", "mse_gradient", mse_gradient, regression_inputs),
    "test_binary_crossentropy": function_question("test_binary_crossentropy", "binary_crossentropy",
                                                  binary_crossentropy, probability_inputs),
    "test_binary_crossentropy_gradient": function_question(
        "test_binary_crossentropy_gradient", "binary_crossentropy_gradient", binary_crossentropy_gradient,
        lambda rng: probability_inputs(rng, extremes=False)),
    "test_softmax_cross_entropy": function_question("test_softmax_cross_entropy", "softmax_cross_entropy",
                                                    softmax_cross_entropy, classification_inputs, output_count=2),
    "test_numerical_gradient": Question("test_numerical_gradient", numerical_inputs, NUMERICAL_SNIPPET,
                                        judge_numerical),
    "test_gradients_agree": Question("test_gradients_agree", agree_inputs, AGREE_SNIPPET, judge_agree),
}
