"""Homework 3 (``hw3_optimizers_fashion``): the references and hidden tests. Instructor-only."""

import numpy as np

from grading.references import Fail, Question, as_array, function_question

ASSIGNMENT = "hw3_optimizers_fashion"
REQUIRED_ACCURACY = 0.80
TEST_SAMPLE = 2000


def momentum_update(param, grad, velocity, lr, momentum):
    velocity = momentum * velocity + grad
    return param - lr * velocity, velocity


def adam_update(param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def momentum_inputs(rng):
    return [(rng.normal(size=4), rng.normal(size=4), np.zeros(4), 0.1, 0.9),
            (rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), 0.05, 0.8),
            (np.array([1.0, -1.0]), np.array([0.5, 0.5]), np.array([0.2, -0.2]), 0.5, 0.0)]


def adam_inputs(rng):
    return [(rng.normal(size=5), rng.normal(size=5), np.zeros(5), np.zeros(5), 1),
            (rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), 0.1 * rng.normal(size=(3, 2)),
             0.01 * rng.uniform(size=(3, 2)), int(rng.integers(2, 9))),
            (rng.normal(size=4), rng.normal(size=4), 0.1 * rng.normal(size=4), 0.01 * rng.uniform(size=4), 10, 0.01),
            (rng.normal(size=3), 1e-6 * rng.normal(size=3), np.zeros(3), np.zeros(3), 1),
            (rng.normal(size=3), rng.normal(size=3), np.zeros(3), np.zeros(3), 1, 0.05, 0.8, 0.99)]


def judge_first_step(inputs, outputs):
    got = as_array(outputs[0], "first_step")
    if got.size != 1 or not np.isclose(float(got.ravel()[0]), 0.01, rtol=1e-3):
        raise Fail("first_step is not right")
    return "right"


# The classifier is judged on a random sample of the test images with a little noise (fresh for
# every run): a real model barely notices, a table of the test set's answers does not work.
MODEL_SNIPPET = """
X_hidden = inputs[0]
def predict(X):
    if hasattr(model, "eval"):
        model.eval()
    return np.concatenate([np.asarray(model(X[s:s + 500])).argmax(axis=1) for s in range(0, len(X), 500)])
outputs = [call(predict, X_hidden)[0]]
"""

_FASHION = {}


def fashion_test_set():
    if not _FASHION:
        from course_lib import data

        _, (X_test, y_test) = data.load_fashion_mnist()
        _FASHION.update(X=X_test.reshape(len(X_test), -1).astype(np.float32) / 255, y=y_test.astype(np.int64))
    return _FASHION["X"], _FASHION["y"]


def model_inputs(rng):
    X, y = fashion_test_set()
    rows = rng.choice(len(X), size=TEST_SAMPLE, replace=False)
    noisy = np.clip(X[rows] + rng.normal(0, 0.01, size=(TEST_SAMPLE, X.shape[1])).astype(np.float32), 0, 1)
    return [noisy.astype(np.float32), rows]


def judge_model(inputs, outputs):
    _, rows = inputs
    predictions = as_array(outputs[0], "your model's predictions")
    if predictions.shape != (TEST_SAMPLE,):
        raise Fail("the model should map (N, 784) images to (N, 10) class scores")
    accuracy = float(np.mean(predictions == fashion_test_set()[1][rows]))
    if accuracy < REQUIRED_ACCURACY:
        raise Fail(f"accuracy {accuracy:.1%} on {TEST_SAMPLE} hidden test images, below the {REQUIRED_ACCURACY:.0%} needed")
    return f"accuracy {accuracy:.1%} on {TEST_SAMPLE} hidden test images (needed: {REQUIRED_ACCURACY:.0%})"


QUESTIONS = {
    "test_momentum_update": function_question("test_momentum_update", "momentum_update", momentum_update,
                                              momentum_inputs, output_count=2),
    "test_adam_update": function_question("test_adam_update", "adam_update", adam_update, adam_inputs,
                                          output_count=3),
    "test_first_step": Question("test_first_step", lambda rng: [], "outputs = [value('first_step')]",
                                judge_first_step),
    # Only the images go to the kernel; which test images they are stays with the grader.
    "test_model": Question("test_model", model_inputs, MODEL_SNIPPET, judge_model, time_limit=180.0,
                           kernel_view=lambda inputs: [inputs[0]]),
}
