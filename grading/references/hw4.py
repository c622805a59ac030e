"""Homework 4 (``hw4_backprop``): the references and hidden tests. Instructor-only."""

import numpy as np

from grading.references import Fail, Question, as_array, close, function_question, unpack

ASSIGNMENT = "hw4_backprop"
REQUIRED_ACCURACY = 0.75
TEST_SAMPLE = 3000
MAX_HIDDEN = 256


def linear_backward(X, W, grad_out):
    return grad_out @ W.T, X.T @ grad_out, grad_out.sum(axis=0)


def relu_backward(Z, grad_out):
    return grad_out * (Z > 0)


def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    grad = np.exp(log_probs)
    grad[np.arange(n), labels] -= 1
    return -log_probs[np.arange(n), labels].mean(), grad / n


def two_layer_gradients(params, X, labels):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = np.maximum(Z1, 0)
    S = A1 @ params["W2"] + params["b2"]
    loss, grad_S = softmax_cross_entropy(S, labels)
    grad_A1, grad_W2, grad_b2 = linear_backward(A1, params["W2"], grad_S)
    _, grad_W1, grad_b1 = linear_backward(X, params["W1"], relu_backward(Z1, grad_A1))
    return loss, {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2}


# Square shapes hide a missing transpose, a batch of 1 hides an unsummed bias: use neither only.
def linear_inputs(rng):
    return [(rng.normal(size=(n, d)), rng.normal(size=(d, h)), rng.normal(size=(n, h)))
            for n, d, h in [(5, 3, 2), (1, 4, 6), (7, 7, 7), (int(rng.integers(8, 20)), 9, 4)]]


def relu_inputs(rng):
    Z = rng.normal(size=(6, 5))
    Z[0, :2] = 0.0  # the kink: gradient 0 there
    return [(Z, rng.normal(size=(6, 5))), (rng.normal(size=10), rng.normal(size=10))]


def softmax_inputs(rng):
    return [(rng.normal(size=(7, 4)), rng.integers(0, 4, size=7)),
            (np.array([[1000.0, 1001.0, 999.0], [-1e4, 5.0, 5.0]]), np.array([1, 2])),
            (3 * rng.normal(size=(1, 10)), rng.integers(0, 10, size=1))]


def network_inputs(rng):
    cases = []
    for n, d, h, c in [(6, 5, 4, 3), (11, 8, 7, 10)]:
        params = {"W1": rng.normal(size=(d, h)), "b1": rng.normal(size=h),
                  "W2": rng.normal(size=(h, c)), "b2": rng.normal(size=c)}
        cases.append((params, rng.normal(size=(n, d)), rng.integers(0, c, size=n)))
    return cases


# Called twice on each case: the second call must give the same (nothing accumulates between calls).
NETWORK_SNIPPET = """
outputs = []
for params, X, labels in inputs:
    first = call(two_layer_gradients, params, X, labels)
    second = call(two_layer_gradients, params, X, labels)
    outputs.append([first, second])
"""


def judge_network(inputs, outputs):
    for index, ((params, X, labels), out) in enumerate(zip(inputs, outputs, strict=True)):
        loss, grads = two_layer_gradients(params, X, labels)
        for call_number, record in enumerate(out, 1):
            what = f"hidden network {index + 1}, call {call_number}"
            got, mutated = unpack(record, 2, what)
            got_loss, got_grads = unpack(got, 2, what)
            close(loss, got_loss, f"{what}: the loss")
            if not isinstance(got_grads, dict) or set(got_grads) != set(grads):
                raise Fail(f"{what}: grads should be a dict with the keys {sorted(grads)}")
            for name in grads:
                close(grads[name], got_grads[name], f"{what}: the gradient of {name}"
                      + (" (is something accumulated between calls?)" if call_number == 2 else ""))
            if mutated:
                raise Fail(f"{what}: two_layer_gradients changed the params or data it was given")
    return "loss and all four gradients right, twice in a row, on every hidden network"


_FASHION = {}


def fashion_test_set():
    if not _FASHION:
        from course_lib import data

        _, (X_test, y_test) = data.load_fashion_mnist()
        _FASHION.update(X=X_test.reshape(len(X_test), -1).astype(np.float64) / 255, y=y_test.astype(np.int64))
    return _FASHION["X"], _FASHION["y"]


def judge_training(inputs, outputs):
    params = outputs[0]
    if not isinstance(params, dict) or set(params) != {"W1", "b1", "W2", "b2"}:
        raise Fail('params should be a dict with the keys "W1", "b1", "W2", "b2"')
    W1, b1, W2, b2 = (as_array(params[k], k) for k in ("W1", "b1", "W2", "b2"))
    if W1.ndim != 2 or W1.shape[0] != 784 or not 1 <= W1.shape[1] <= MAX_HIDDEN:
        raise Fail(f"W1 should have shape (784, H) with H at most {MAX_HIDDEN}, not {W1.shape}")
    hidden = W1.shape[1]
    if b1.shape != (hidden,) or W2.shape != (hidden, 10) or b2.shape != (10,):
        raise Fail(f"the shapes should be b1 ({hidden},), W2 ({hidden}, 10), b2 (10,)")
    if not all(np.all(np.isfinite(a)) for a in (W1, b1, W2, b2)):
        raise Fail("the weights are not finite: the training diverged")
    X, y = fashion_test_set()
    rng = np.random.default_rng(inputs[0])
    rows = rng.choice(len(X), size=TEST_SAMPLE, replace=False)
    scores = np.maximum(X[rows] @ W1 + b1, 0) @ W2 + b2  # the grader's own forward pass
    accuracy = float(np.mean(scores.argmax(axis=1) == y[rows]))
    if accuracy < REQUIRED_ACCURACY:
        raise Fail(f"accuracy {accuracy:.1%} on {TEST_SAMPLE} hidden test images, below the "
                   f"{REQUIRED_ACCURACY:.0%} needed")
    return f"accuracy {accuracy:.1%} on {TEST_SAMPLE} hidden test images (needed: {REQUIRED_ACCURACY:.0%})"


QUESTIONS = {
    "test_linear_backward": function_question("test_linear_backward", "linear_backward", linear_backward,
                                              linear_inputs, output_count=3),
    "test_relu_backward": function_question("test_relu_backward", "relu_backward", relu_backward, relu_inputs),
    "test_softmax_cross_entropy": function_question("test_softmax_cross_entropy", "softmax_cross_entropy",
                                                    softmax_cross_entropy, softmax_inputs, output_count=2),
    "test_two_layer_gradients": Question("test_two_layer_gradients", network_inputs, NETWORK_SNIPPET,
                                         judge_network),
    # The seed of the hidden test sample is drawn by the grader and never sent to the kernel.
    "test_training": Question("test_training", lambda rng: [int(rng.integers(2 ** 31))],
                              "outputs = [value('params')]", judge_training, time_limit=120.0,
                              kernel_view=lambda inputs: []),
}
