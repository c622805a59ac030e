"""Lesson 5 exercises: backpropagation, written by the learner, layer by layer.

Every reference runs course_lib's own layers and losses in float64 (``nn.Linear``,
``nn.ReLU``, ``losses.cross_entropy``, ``losses.mse``), whose gradients the tests
check against finite differences; the mistakes are the classic slips of a
hand-written backward pass.

q1  dL_dz: ∂L/∂z of the tiny 2-3-1 network, by hand                       (a value)
q2  linear_backward(x, W, grad_output)      -> (grad_x, grad_W, grad_b)
q3  relu_backward(grad_output, z)           -> grad_z
q4  softmax_cross_entropy(logits, y)        -> (loss, grad_logits)
q5  MyLinear: a layer class whose backward *accumulates* into grad_W, grad_b  (a class)
q6  two_layer_backward(X, y, W1, b1, W2, b2) -> (loss, {"W1": ..., "b1": ..., "W2": ..., "b2": ...})
"""

import numpy as np

from course_lib import losses, nn
from course_lib.demos import backprop
from course_lib.exercises.core import (
    CORRECT,
    INCORRECT,
    CustomQuestion,
    FunctionQuestion,
    Mistake,
    QuestionSet,
    Result,
    ValueQuestion,
)

_TRANSPOSE_ADVICE = ("the shapes of a matrix product do not fit, so a transpose is probably missing. "
                     "With x (N, in), W (in, out) and G = dL/d(output) (N, out): "
                     "grad_x = G @ W.T is (N, in) and grad_W = x.T @ G is (in, out).")
_SHAPE_ADVICE = ("two arrays' shapes do not fit: a transpose or a sum over the batch is probably missing, "
                 "or an array of another layer was used. Every gradient has the shape of its variable: with "
                 "x (N, in), W (in, out) and G = dL/d(output) (N, out), grad_x = G @ W.T is (N, in), "
                 "grad_W = x.T @ G is (in, out) and grad_b = G.sum(axis=0) is (out,).")


def _with_shape_advice(result):
    """Add a diagnosis to a Result whose learner code raised on mismatched shapes.

    NumPy raises before any number can be compared, so mistake matching never sees these slips.
    """
    text = result.summary.lower()
    if result.reason != "raised" or result.diagnosis:
        return result
    if "matmul" in text or "not aligned" in text or "core dimension" in text:
        advice = _TRANSPOSE_ADVICE
    elif "could not be broadcast" in text:
        advice = _SHAPE_ADVICE
    else:
        return result
    result.diagnosis = advice[0].upper() + advice[1:]
    result.details = (result.details + "\n" if result.details else "") + f"Likely cause: {result.diagnosis}"
    return result


class BackwardQuestion(FunctionQuestion):
    """A ``FunctionQuestion`` that also explains an error raised on shapes that do not fit
    (``G @ W`` instead of ``G @ W.T``, a gradient of the wrong shape added to another)."""

    def _evaluate(self, answer):
        return _with_shape_advice(super()._evaluate(answer))


class LayerQuestion(CustomQuestion):
    """A ``CustomQuestion`` (a class to check) with the same explanation of shape errors."""

    def _evaluate(self, answer):
        return _with_shape_advice(super()._evaluate(answer))


# ---------------------------------------------------------------------------
# q1: ∂L/∂z of the tiny network, by hand
# ---------------------------------------------------------------------------

_TINY = backprop.tiny_pass()
_DL_DZ = _TINY.grad["z"].ravel().copy()          # [-1.26, 0.9, 0.0]
_DL_DH = _TINY.grad["h"].ravel().copy()          # [-1.26, 0.9, -1.62]

q1 = ValueQuestion(
    name="dL_dz",
    expected=_DL_DZ,
    mistakes=[
        Mistake("that is ∂L/∂h. The third unit is off (z3 = −1.25 < 0), so its ReLU passes no gradient: "
                "∂L/∂z_j = ∂L/∂h_j · 1[z_j > 0].", _DL_DH),
        Mistake("you multiplied ∂L/∂ŷ by h_j: that is ∂L/∂W2. The local derivative ∂ŷ/∂h_j is the weight W2[j].",
                _TINY.param_grad["W2"].ravel()),
        Mistake("the factor 2 of the square is missing: ∂L/∂ŷ = 2(ŷ − y) = −1.8.", _DL_DZ / 2),
        Mistake("the sign is flipped: ∂L/∂ŷ = 2(ŷ − y), prediction minus target (= −1.8 here).", -_DL_DZ),
    ],
    hints=[
        "Walk backward: ∂L/∂ŷ first, then ∂L/∂h_j = ∂L/∂ŷ · W2[j], then through each ReLU.",
        "∂L/∂ŷ = 2(0.6 − 1.5) = −1.8; ∂L/∂h = −1.8 · [0.7, −0.5, 0.9]; a ReLU passes the gradient only "
        "where its input z_j is positive (z = [1.0, 0.6, −1.25]).",
        "`dL_dz = np.array([-1.8 * 0.7, -1.8 * -0.5, 0.0])`",
    ],
    solution=(
        "dL_dyhat = 2 * (0.6 - 1.5)                       # -1.8\n"
        "dL_dh = dL_dyhat * np.array([0.7, -0.5, 0.9])    # through W2\n"
        "dL_dz = dL_dh * (np.array([1.0, 0.6, -1.25]) > 0) # through the ReLUs: the third is off"
    ),
)


# ---------------------------------------------------------------------------
# q2: the backward pass of a Linear layer
# ---------------------------------------------------------------------------

def linear_backward_reference(x, W, grad_output):
    """``nn.Linear``'s backward (float64): returns (G Wᵀ, xᵀ G, G summed over the batch)."""
    layer = nn.Linear(W.shape[0], W.shape[1], dtype=np.float64)
    layer.weight.data[...] = W
    layer.zero_grad()
    layer.forward(x)
    grad_x = layer.backward(grad_output)
    return grad_x, layer.weight.grad.copy(), layer.bias.grad.copy()


def _q2_cases():
    rng = np.random.default_rng(52)
    return [
        (rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(4, 2))),
        (rng.normal(size=(5, 2)), rng.normal(size=(2, 4)), rng.normal(size=(5, 4))),
        (rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), rng.normal(size=(3, 3))),
        (rng.normal(size=(1, 4)), rng.normal(size=(4, 2)), rng.normal(size=(1, 2))),
    ]


q2 = BackwardQuestion(
    name="linear_backward",
    reference=linear_backward_reference,
    cases=_q2_cases,
    output_names=("grad_x", "grad_W", "grad_b"),
    mistakes=[
        Mistake("grad_W is Gᵀ x, of shape (out, in): the transpose is on the wrong factor. The weight is "
                "(in, out), so grad_W = x.T @ G.",
                lambda x, W, g: (g @ W.T, g.T @ x, g.sum(axis=0))),
        Mistake("grad_b was not summed over the batch: it has shape (N, out). The bias is added to every "
                "example, so its gradient is the sum of G over the batch axis: G.sum(axis=0).",
                lambda x, W, g: (g @ W.T, x.T @ g, g)),
        Mistake("grad_b was summed over the wrong axis (axis=1 gives one number per example): sum over "
                "the batch, axis=0.",
                lambda x, W, g: (g @ W.T, x.T @ g, g.sum(axis=1))),
        Mistake("grad_b is averaged over the batch; G already carries the loss's 1/N, so the bias "
                "gradient is the plain sum over the batch.",
                lambda x, W, g: (g @ W.T, x.T @ g, g.mean(axis=0))),
        Mistake("grad_W is divided by N; G already carries the loss's 1/N, so grad_W = x.T @ G, no "
                "second division.",
                lambda x, W, g: (g @ W.T, x.T @ g / len(x), g.sum(axis=0))),
    ],
    hints=[
        "Three products, one per gradient. Check each by its shape: grad_x like x (N, in), grad_W like W "
        "(in, out), grad_b like the bias (out,).",
        "y = x W + b, so ∂L/∂x = G Wᵀ, ∂L/∂W = xᵀ G, and ∂L/∂b = the sum of G's rows (the bias is added "
        "to every example).",
        "`return grad_output @ W.T, x.T @ grad_output, grad_output.sum(axis=0)`",
    ],
    solution=(
        "def linear_backward(x, W, grad_output):\n"
        "    grad_x = grad_output @ W.T             # (N, out) @ (out, in) -> (N, in)\n"
        "    grad_W = x.T @ grad_output             # (in, N) @ (N, out)  -> (in, out)\n"
        "    grad_b = grad_output.sum(axis=0)       # summed over the batch -> (out,)\n"
        "    return grad_x, grad_W, grad_b"
    ),
)


# ---------------------------------------------------------------------------
# q3: the backward pass of ReLU
# ---------------------------------------------------------------------------

def relu_backward_reference(grad_output, z):
    """``nn.ReLU``'s backward: the gradient where the ReLU's input z > 0, else 0."""
    relu = nn.ReLU()
    relu.forward(z)
    return relu.backward(grad_output).astype(np.float64)


def _q3_cases():
    rng = np.random.default_rng(53)
    return [
        (rng.normal(size=(4, 3)), rng.normal(size=(4, 3))),
        (rng.normal(size=(2, 5)), np.array([[0.0, 1.5, -2.0, 0.0, 0.3], [-0.1, 0.0, 2.2, -3.0, 0.0]])),
        (np.array([[2.0, -1.0, 0.5]]), np.array([[0.4, 0.9, -0.7]])),
    ]


q3 = FunctionQuestion(
    name="relu_backward",
    reference=relu_backward_reference,
    cases=_q3_cases,
    mistakes=[
        Mistake("the gradient passed everywhere: a unit whose input z ≤ 0 outputs the constant 0, so no "
                "gradient flows back through it. Multiply by the mask (z > 0).",
                lambda g, z: g.copy()),
        Mistake("at z = 0 exactly your mask lets the gradient through (z >= 0); course_lib, like PyTorch, "
                "takes the gradient of ReLU at 0 as 0: use z > 0.",
                lambda g, z: g * (z >= 0)),
        Mistake("you multiplied by ReLU(z), the unit's output; the local derivative of ReLU is 1 where "
                "z > 0 and 0 elsewhere: multiply by the mask (z > 0), not by the values.",
                lambda g, z: g * np.maximum(z, 0)),
        Mistake("you multiplied by z itself; the local derivative of ReLU is the 0/1 mask (z > 0).",
                lambda g, z: g * z),
    ],
    hints=[
        "ReLU(z) = max(z, 0): its derivative is 1 where z > 0 and 0 where z < 0 (take 0 at z = 0).",
        "Multiply the incoming gradient elementwise by that 0/1 mask.",
        "`return grad_output * (z > 0)`",
    ],
    solution=(
        "def relu_backward(grad_output, z):\n"
        "    return grad_output * (z > 0)     # the mask of the ReLU's own input"
    ),
)


# ---------------------------------------------------------------------------
# q4: softmax cross-entropy from logits
# ---------------------------------------------------------------------------

def softmax_cross_entropy_reference(logits, y):
    """``losses.cross_entropy``: (mean loss, (softmax(z) − onehot(y)) / N)."""
    loss, grad = losses.cross_entropy.value_and_gradient(y, logits)
    return float(loss), grad


def _softmax_ce(logits, y, scale=True, onehot=True, shift=True, mean=True, log_of_p=False):
    """Softmax cross-entropy with switches that reproduce the usual slips."""
    z = logits - logits.max(axis=1, keepdims=True) if shift else logits
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))     # log-softmax
    p = np.exp(log_p)
    rows = np.arange(len(y))
    per_example = -np.log(p[rows, y]) if log_of_p else -log_p[rows, y]
    loss = per_example.mean() if mean else per_example.sum()
    grad = p.copy()
    if onehot:
        grad[rows, y] -= 1
    return loss, grad / len(y) if scale else grad


_OVERFLOW = ("exp overflows for large logits (here 1000): subtract each row's maximum before exp. "
             "The softmax does not change, and exp never sees a number above 0.")
_UNDERFLOW = ("the loss is inf where the true class's probability underflows to 0 (here exp(−799)): "
              "take −log p from the log-softmax, log p = z − log Σ exp z (after subtracting the max), "
              "instead of the log of p.")


class SoftmaxQuestion(FunctionQuestion):
    """q4's question: a non-finite answer is explained by two probes, whatever form the code takes.

    Probe 1, logits (1000, 0, −1000) with label 0: only an overflowing exp (no max subtracted)
    can fail here. Probe 2, logits (2, 1, 800) with label 1: the shifted softmax is fine, but
    p of the true class is e^−799 = 0, so only log(p) instead of the log-softmax fails.
    """

    def _evaluate(self, answer):
        result = super()._evaluate(answer)
        if result.reason != "not finite" or result.diagnosis in (_OVERFLOW, _UNDERFLOW):
            return result
        for logits, label, diagnosis in [([[1000.0, 0.0, -1000.0]], 0, _OVERFLOW),
                                         ([[2.0, 1.0, 800.0]], 1, _UNDERFLOW)]:
            try:
                with np.errstate(all="ignore"):
                    loss, grad = answer(np.array(logits), np.array([label]))
                finite = bool(np.all(np.isfinite(loss)) and np.all(np.isfinite(grad)))
            except Exception:  # noqa: BLE001 - the learner's code; the main check already reported it
                return result
            if not finite:
                result.diagnosis = diagnosis[0].upper() + diagnosis[1:]
                result.details += f"\nLikely cause: {result.diagnosis}"
                return result
        return result


def _q4_cases():
    rng = np.random.default_rng(54)
    return [
        (rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])),
        (3 * rng.normal(size=(6, 5)), rng.integers(0, 5, size=6)),
        (np.array([[1000.0, 0.0, -1000.0], [2.0, 1.0, 800.0]]), np.array([0, 1])),
    ]


q4 = SoftmaxQuestion(
    name="softmax_cross_entropy",
    reference=softmax_cross_entropy_reference,
    cases=_q4_cases,
    output_names=("loss", "grad_logits"),
    mistakes=[
        Mistake("the gradient is missing the 1/N: the loss is the *mean* over the N examples, so its "
                "gradient is (p − onehot) / N.",
                lambda logits, y: _softmax_ce(logits, y, scale=False)),
        Mistake("the gradient is p / N: subtract 1 at each example's true class, (p − onehot(y)) / N.",
                lambda logits, y: _softmax_ce(logits, y, onehot=False)),
        Mistake("the loss is summed over the batch; take the mean (and keep the 1/N in the gradient).",
                lambda logits, y: _softmax_ce(logits, y, mean=False)),
        Mistake(_OVERFLOW, lambda logits, y: _softmax_ce(logits, y, shift=False)),
        Mistake(_UNDERFLOW, lambda logits, y: _softmax_ce(logits, y, log_of_p=True)),
    ],
    hints=[
        "Subtract each row's max, take the log-softmax log p = z − log Σ exp z, average −log p[true class]; "
        "the gradient is (p − onehot) / N with p = exp(log p).",
        "`log_p[np.arange(N), y]` picks each example's log-probability of its true class; for the gradient, "
        "copy p and subtract 1 at those same places, then divide by N.",
        "`z = logits - logits.max(axis=1, keepdims=True)`, `log_p = z - np.log(np.exp(z).sum(axis=1, "
        "keepdims=True))`, `loss = -log_p[rows, y].mean()`, `grad = np.exp(log_p); grad[rows, y] -= 1; "
        "return loss, grad / N`",
    ],
    solution=(
        "def softmax_cross_entropy(logits, y):\n"
        "    N = len(y)\n"
        "    rows = np.arange(N)\n"
        "    z = logits - logits.max(axis=1, keepdims=True)   # no overflow: exp(z) <= 1\n"
        "    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))   # log-softmax\n"
        "    loss = -log_p[rows, y].mean()                      # no log(0), even if p underflows\n"
        "    grad = np.exp(log_p)                               # p\n"
        "    grad[rows, y] -= 1                                 # p - onehot(y)\n"
        "    return loss, grad / N                              # the 1/N of the mean"
    ),
)


# ---------------------------------------------------------------------------
# q5: a Linear layer class whose backward accumulates
# ---------------------------------------------------------------------------

class MyLinearReference:
    """What q5 asks for: ``y = x W + b``; backward *adds* into grad_W and grad_b, as nn.Linear does."""

    def __init__(self, W, b):
        self.W, self.b = W, b
        self.grad_W, self.grad_b = np.zeros_like(W), np.zeros_like(b)
        self.x = None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad_output):
        self.grad_W += self.x.T @ grad_output
        self.grad_b += grad_output.sum(axis=0)
        return grad_output @ self.W.T

    def zero_grad(self):
        self.grad_W[...] = 0
        self.grad_b[...] = 0


def _close(a, b):
    try:
        return a is not None and np.shape(a) == np.shape(b) and bool(np.allclose(a, b, rtol=1e-8, atol=1e-10))
    except (TypeError, ValueError):
        return False


def _check_my_linear(cls):
    """Build the learner's class, run forward/backward twice, zero_grad, once more; explain the first slip."""
    if not callable(cls):
        return False, f"`ex.q5.check` expects your class `MyLinear` itself (no parentheses), not {type(cls).__name__}."
    rng = np.random.default_rng(55)
    W, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    X1, G1 = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    X2, G2 = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    layer = cls(W.copy(), b.copy())
    for name in ("grad_W", "grad_b"):
        if not hasattr(layer, name):
            return False, f"`MyLinear(W, b)` has no attribute `{name}`: create it in __init__ (zeros, like the parameter)."
    if not (_close(layer.grad_W, np.zeros_like(W)) and _close(layer.grad_b, np.zeros_like(b))):
        return False, "A new layer's grad_W and grad_b must start as zeros of the parameters' shapes (np.zeros_like)."
    out = layer.forward(X1.copy())
    if not _close(out, X1 @ W + b):
        return False, "forward(x) does not return x @ W + b."
    grad_x = layer.backward(G1.copy())
    if grad_x is None:
        return False, "backward(grad_output) returned None: it must return dL/dx = grad_output @ W.T."
    if not _close(grad_x, G1 @ W.T):
        return False, "backward returned the wrong dL/dx; " + _TRANSPOSE_ADVICE
    if _close(layer.grad_W, G1.T @ X1):
        return False, "grad_W is Gᵀ x, of shape (out, in); the weight is (in, out): grad_W = x.T @ G."
    if not _close(layer.grad_W, X1.T @ G1):
        return False, "after one backward, grad_W is not x.T @ grad_output (use the x that forward remembered)."
    if np.shape(layer.grad_b) == G1.shape:
        return False, "grad_b has shape (N, out): sum grad_output over the batch axis (axis=0)."
    if not _close(layer.grad_b, G1.sum(axis=0)):
        return False, "after one backward, grad_b is not grad_output summed over the batch (axis=0)."
    layer.forward(X2.copy())
    layer.backward(G2.copy())
    if _close(layer.grad_W, X2.T @ G2):
        return False, ("After a second backward, grad_W holds only the second gradient: backward overwrote "
                       "it. It must *add* (`self.grad_W += ...`), as nn.Linear does: a weight used twice "
                       "receives the sum of its gradients.")
    if not (_close(layer.grad_W, X1.T @ G1 + X2.T @ G2) and _close(layer.grad_b, G1.sum(0) + G2.sum(0))):
        return False, "After two backward calls, grad_W and grad_b should be the sums of the two gradients."
    layer.zero_grad()
    if not (_close(layer.grad_W, np.zeros_like(W)) and _close(layer.grad_b, np.zeros_like(b))):
        return False, "zero_grad() must fill grad_W and grad_b with zeros."
    layer.forward(X1.copy())
    layer.backward(G1.copy())
    if not _close(layer.grad_W, X1.T @ G1):
        return False, "After zero_grad(), one backward should give exactly one gradient again."
    return True, "`MyLinear` computes the right gradients, accumulates them, and zero_grad() resets them."


def _q5_evaluate(cls):
    """Wrap the check so that a Result (with reason "mistake" for recognised slips) comes back."""
    verdict, message = _check_my_linear(cls)
    if verdict:
        return Result(CORRECT, message, reason="ok")
    return Result(INCORRECT, f"`MyLinear`: {message}", reason="mistake", diagnosis=message)


q5 = LayerQuestion(
    name="MyLinear",
    check_answer=_q5_evaluate,
    hints=[
        "__init__ keeps W and b and creates grad_W, grad_b = zeros; forward remembers x; backward uses "
        "the remembered x.",
        "backward adds: `self.grad_W += self.x.T @ grad_output`, `self.grad_b += grad_output.sum(axis=0)`, "
        "and returns `grad_output @ self.W.T`.",
        "zero_grad: `self.grad_W[...] = 0` and `self.grad_b[...] = 0` (or new zero arrays).",
    ],
    solution=(
        "class MyLinear:\n"
        "    def __init__(self, W, b):\n"
        "        self.W, self.b = W, b\n"
        "        self.grad_W, self.grad_b = np.zeros_like(W), np.zeros_like(b)\n"
        "\n"
        "    def forward(self, x):\n"
        "        self.x = x                                   # remembered for backward\n"
        "        return x @ self.W + self.b\n"
        "\n"
        "    def backward(self, grad_output):\n"
        "        self.grad_W += self.x.T @ grad_output        # += : accumulate, never overwrite\n"
        "        self.grad_b += grad_output.sum(axis=0)\n"
        "        return grad_output @ self.W.T\n"
        "\n"
        "    def zero_grad(self):\n"
        "        self.grad_W[...] = 0\n"
        "        self.grad_b[...] = 0"
    ),
)


# ---------------------------------------------------------------------------
# q6: a two-layer network, forward and backward (Linear -> ReLU -> Linear, MSE)
# ---------------------------------------------------------------------------

def two_layer_backward_reference(X, y, W1, b1, W2, b2):
    """course_lib's ``Sequential(Linear, ReLU, Linear)`` and ``losses.mse`` (float64):
    returns (loss, {"W1": ∂L/∂W1, "b1": ..., "W2": ..., "b2": ...})."""
    model = nn.Sequential(nn.Linear(*W1.shape, dtype=np.float64), nn.ReLU(),
                          nn.Linear(*W2.shape, dtype=np.float64))
    model.load_state_dict({"0.weight": W1, "0.bias": b1, "2.weight": W2, "2.bias": b2})
    model.zero_grad()
    loss, grad = losses.mse.value_and_gradient(y, model.forward(X))
    model.backward(grad)
    state = {name: p.grad.copy() for name, p in model.named_parameters()}
    return float(loss), {"W1": state["0.weight"], "b1": state["0.bias"],
                         "W2": state["2.weight"], "b2": state["2.bias"]}


def _two_layer(X, y, W1, b1, W2, b2, mask="z", mean=True, two=True, sum_bias=True):
    """The two-layer backward with switches that reproduce the usual slips."""
    z = X @ W1 + b1
    h = np.maximum(z, 0)
    y_hat = h @ W2 + b2
    N = len(X)
    loss = np.mean((y_hat - y) ** 2)
    d_y_hat = (2 if two else 1) * (y_hat - y) / (N if mean else 1)
    d_W2 = h.T @ d_y_hat
    d_h = d_y_hat @ W2.T
    if mask == "z":
        d_z = d_h * (z > 0)
    elif mask == "y_hat":
        d_z = d_h * (y_hat > 0)       # (N, 1) broadcast over (N, hidden): no error, wrong numbers
    else:
        d_z = d_h
    d_W1 = X.T @ d_z
    reduce = (lambda g: g.sum(axis=0)) if sum_bias else (lambda g: g)
    return loss, {"W1": d_W1, "b1": reduce(d_z), "W2": d_W2, "b2": reduce(d_y_hat)}


def _q6_cases():
    rng = np.random.default_rng(56)
    cases = []
    for N, D, H in [(6, 3, 4), (8, 2, 5), (5, 4, 3)]:
        cases.append((rng.normal(size=(N, D)), rng.normal(size=(N, 1)), rng.normal(size=(D, H)),
                      rng.normal(size=H), rng.normal(size=(H, 1)), rng.normal(size=1)))
    return cases


q6 = BackwardQuestion(
    name="two_layer_backward",
    reference=two_layer_backward_reference,
    cases=_q6_cases,
    output_names=("loss", "grads"),
    mistakes=[
        Mistake("the ReLU mask is taken from the wrong layer: from ŷ, the output of the last Linear "
                "(N, 1), which NumPy silently broadcast over the hidden units. The mask belongs to the "
                "ReLU's own input, z = X @ W1 + b1 (N, hidden): d_z = d_h * (z > 0).",
                lambda X, y, W1, b1, W2, b2: _two_layer(X, y, W1, b1, W2, b2, mask="y_hat")),
        Mistake("the ReLU is missing from the backward pass: d_z = d_h * (z > 0).",
                lambda X, y, W1, b1, W2, b2: _two_layer(X, y, W1, b1, W2, b2, mask=None)),
        Mistake("every gradient is N times too large: the 1/N of the mean squared error is missing, "
                "dL/dŷ = 2 (ŷ − y) / N.",
                lambda X, y, W1, b1, W2, b2: _two_layer(X, y, W1, b1, W2, b2, mean=False)),
        Mistake("every gradient is half the right one: the 2 from differentiating the square is "
                "missing, dL/dŷ = 2 (ŷ − y) / N.",
                lambda X, y, W1, b1, W2, b2: _two_layer(X, y, W1, b1, W2, b2, two=False)),
        Mistake("the bias gradients were not summed over the batch (shape (N, ...)): sum over axis 0.",
                lambda X, y, W1, b1, W2, b2: _two_layer(X, y, W1, b1, W2, b2, sum_bias=False)),
    ],
    hints=[
        "Forward: z = X W1 + b1, h = ReLU(z), ŷ = h W2 + b2, L = mean((ŷ − y)²). Then backward in "
        "reverse order, reusing your linear_backward and relu_backward.",
        "dL/dŷ = 2 (ŷ − y) / N; the second Linear gives d_h, dW2, db2; the ReLU's mask comes from z; "
        "the first Linear gives dW1, db1.",
        "`d_yhat = 2 * (y_hat - y) / len(X)`, `d_h, dW2, db2 = linear_backward(h, W2, d_yhat)`, "
        "`d_z = relu_backward(d_h, z)`, `_, dW1, db1 = linear_backward(X, W1, d_z)`",
    ],
    solution=(
        "def two_layer_backward(X, y, W1, b1, W2, b2):\n"
        "    z = X @ W1 + b1                      # forward\n"
        "    h = np.maximum(z, 0)\n"
        "    y_hat = h @ W2 + b2\n"
        "    loss = np.mean((y_hat - y) ** 2)\n"
        "    d_yhat = 2 * (y_hat - y) / len(X)     # backward, in reverse order\n"
        "    d_h, dW2, db2 = linear_backward(h, W2, d_yhat)\n"
        "    d_z = relu_backward(d_h, z)           # the mask of this ReLU's own input z\n"
        "    _, dW1, db1 = linear_backward(X, W1, d_z)\n"
        "    return loss, {\"W1\": dW1, \"b1\": db1, \"W2\": dW2, \"b2\": db2}"
    ),
)


questions = QuestionSet("Lesson 5: backpropagation", q1=q1, q2=q2, q3=q3, q4=q4, q5=q5, q6=q6)
q1, q2, q3, q4, q5, q6 = (questions[key] for key in questions.keys())
progress = questions.progress
