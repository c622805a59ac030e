"""Homework 3: optimizers and a Fashion-MNIST classifier (the questions behind ``hw3_optimizers_fashion.ipynb``).

The update rules follow ``torch.optim`` (and ``course_lib.optim``): the step
counter ``t`` starts at 1, momentum keeps ``v = μ v + g`` and subtracts
``lr * v``.
"""

import numpy as np

from course_lib.exercises.core import CustomQuestion, FunctionQuestion, Mistake, QuestionSet, ValueQuestion

# ---------------------------------------------------------------------------
# Reference solutions
# ---------------------------------------------------------------------------


def momentum_update(param, grad, velocity, lr, momentum):
    """SGD with momentum (PyTorch's form): v = μ v + g; θ = θ - lr v. Returns ``(new_param, new_velocity)``."""
    velocity = momentum * velocity + grad
    return param - lr * velocity, velocity


def adam_update(param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step at step number ``t`` (counted from 1). Returns ``(new_param, new_m, new_v)``."""
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


# ---------------------------------------------------------------------------
# Q1: momentum
# ---------------------------------------------------------------------------


def _momentum_cases():
    rng = np.random.default_rng(41)
    return [
        (rng.normal(size=4), rng.normal(size=4), np.zeros(4), 0.1, 0.9),
        (rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), 0.05, 0.8),
        (np.array([1.0, -1.0]), np.array([0.5, 0.5]), np.array([0.2, -0.2]), 0.5, 0.0),
    ]


def _momentum_sutskever(param, grad, velocity, lr, momentum):
    velocity = momentum * velocity - lr * grad
    return param + velocity, velocity


def _momentum_old_velocity(param, grad, velocity, lr, momentum):
    return param - lr * (momentum * velocity), momentum * velocity + grad


q1 = FunctionQuestion(
    name="momentum_update",
    reference=momentum_update,
    cases=_momentum_cases,
    output_names=("param", "velocity"),
    mistakes=[
        Mistake("that is the other common form (v = μv - lr·g; θ = θ + v). This course, like PyTorch, keeps "
                "v = μv + g and steps θ = θ - lr·v", _momentum_sutskever),
        Mistake("update the velocity first, then step with the *new* velocity", _momentum_old_velocity),
    ],
    hints=[
        "Two lines: first the new velocity, then the step.",
        "velocity = momentum * velocity + grad; then param - lr * velocity.",
        "`velocity = momentum * velocity + grad` then `return param - lr * velocity, velocity`",
    ],
    solution=(
        "def momentum_update(param, grad, velocity, lr, momentum):\n"
        "    velocity = momentum * velocity + grad\n"
        "    return param - lr * velocity, velocity"
    ),
)


# ---------------------------------------------------------------------------
# Q2: Adam
# ---------------------------------------------------------------------------


def _adam_cases():
    rng = np.random.default_rng(42)
    return [
        (rng.normal(size=5), rng.normal(size=5), np.zeros(5), np.zeros(5), 1),
        (rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), 0.1 * rng.normal(size=(3, 2)),
         0.01 * rng.uniform(size=(3, 2)), 3),
        (rng.normal(size=4), rng.normal(size=4), 0.1 * rng.normal(size=4), 0.01 * rng.uniform(size=4), 10, 0.01),
        # tiny gradients: here it matters where eps goes
        (rng.normal(size=3), 1e-6 * rng.normal(size=3), np.zeros(3), np.zeros(3), 1),
    ]


def _adam_no_bias_correction(param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    return param - lr * m / (np.sqrt(v) + eps), m, v


def _adam_t_plus_one(param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    return adam_update(param, grad, m, v, t + 1, lr, beta1, beta2, eps)


def _adam_t_minus_one(param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    return adam_update(param, grad, m, v, t - 1, lr, beta1, beta2, eps)


def _adam_eps_inside(param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return param - lr * m_hat / np.sqrt(v_hat + eps), m, v


def _adam_v_without_square(param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * np.abs(grad)
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


q2 = FunctionQuestion(
    name="adam_update",
    reference=adam_update,
    cases=_adam_cases,
    output_names=("param", "m", "v"),
    mistakes=[
        Mistake("the bias correction is missing: divide m by (1 - beta1**t) and v by (1 - beta2**t) "
                "before the step", _adam_no_bias_correction),
        Mistake("off by one in the bias correction: t already counts from 1 (the first step has t = 1), "
                "so use beta1**t, not beta1**(t + 1)", _adam_t_plus_one),
        Mistake("off by one in the bias correction: t counts from 1, so use beta1**t, not beta1**(t - 1)",
                _adam_t_minus_one),
        Mistake("eps goes outside the square root: sqrt(v_hat) + eps", _adam_eps_inside),
        Mistake("v is the running mean of the *squared* gradient: grad ** 2", _adam_v_without_square),
    ],
    hints=[
        "Four lines before the step: update m, update v, then the bias-corrected m_hat and v_hat.",
        "m = β₁ m + (1 - β₁) g;  v = β₂ v + (1 - β₂) g²;  m̂ = m / (1 - β₁ᵗ);  v̂ = v / (1 - β₂ᵗ).",
        "`return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v`",
    ],
    solution=(
        "def adam_update(param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):\n"
        "    m = beta1 * m + (1 - beta1) * grad\n"
        "    v = beta2 * v + (1 - beta2) * grad ** 2\n"
        "    m_hat = m / (1 - beta1 ** t)\n"
        "    v_hat = v / (1 - beta2 ** t)\n"
        "    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v"
    ),
)


# ---------------------------------------------------------------------------
# Q3: Adam's first step
# ---------------------------------------------------------------------------

q3 = ValueQuestion(
    name="first_step",
    expected=0.01,
    rtol=1e-3,
    mistakes=[
        Mistake("that is the step *without* bias correction: m = 0.1 g and v = 0.001 g² after one step, so "
                "m / sqrt(v) = 0.1 / sqrt(0.001) ≈ 3.16", lambda x: np.isclose(x, 0.01 * 0.1 / np.sqrt(0.001), rtol=1e-2)),
        Mistake("that is (1 - β₁) lr, the size of m's update, not of the step", lambda x: np.isclose(x, 0.001)),
        Mistake("a step size is a distance: give its absolute value", lambda x: np.isclose(x, -0.01, rtol=1e-3)),
    ],
    hints=[
        "At t = 1, starting from m = v = 0: m = (1 - β₁) g and v = (1 - β₂) g².",
        "After bias correction m̂ = g and v̂ = g², so m̂ / sqrt(v̂) = ±1 (ignoring eps).",
        "The size of the first step is lr, whatever the gradient's size: 0.01.",
    ],
    solution="first_step = 0.01   # m_hat = g, v_hat = g**2 at t = 1, so |step| = lr * |g| / |g| = lr",
)


# ---------------------------------------------------------------------------
# Q4: the Fashion-MNIST classifier
# ---------------------------------------------------------------------------

REQUIRED_ACCURACY = 0.80
_FASHION = {}


def fashion_test_set():
    """The 10,000 test images as the homework feeds them to a model: (10000, 784) float32 in [0, 1], and labels."""
    if not _FASHION:
        from course_lib import data

        _, (X_test, y_test) = data.load_fashion_mnist()
        _FASHION.update(X=X_test.reshape(len(X_test), -1).astype(np.float32) / 255, y=y_test.astype(np.int64))
    return _FASHION["X"], _FASHION["y"]


def test_accuracy(model):
    """The accuracy of ``model`` (a course_lib model mapping (N, 784) images to (N, 10) scores) on the test set."""
    X, y = fashion_test_set()
    if hasattr(model, "eval"):
        model.eval()
    scores = np.concatenate([np.asarray(model(X[start:start + 1000])) for start in range(0, len(X), 1000)])
    if scores.shape != (len(X), 10):
        raise ValueError(f"the model should map (N, 784) images to (N, 10) class scores; it gave shape {scores.shape}")
    return float(np.mean(scores.argmax(axis=1) == y))


def _check_model(model):
    if not callable(model):
        return False, f"pass your trained model (a course_lib model such as nn.Sequential), not {type(model).__name__}"
    accuracy = test_accuracy(model)
    if accuracy >= REQUIRED_ACCURACY:
        return True, f"test accuracy {accuracy:.1%} (needed: {REQUIRED_ACCURACY:.0%})"
    return False, (f"test accuracy {accuracy:.1%}, below the {REQUIRED_ACCURACY:.0%} needed: train longer, check "
                   "the learning rate, and that the images are scaled to [0, 1]")


q4 = CustomQuestion(
    name="model",
    check_answer=_check_model,
    hints=[
        "Softmax regression (one `nn.Linear(784, 10)`) trained with Adam for two epochs already reaches about 83 %.",
        "`model.compile(optimizer=optim.Adam(model.parameters(), lr=1e-3), loss=\"cross_entropy\")` then "
        "`model.fit(X_train, y_train, batch_size=64, epochs=2, seed=0)`.",
        "See `ex.q4.solution()`.",
    ],
    solution=(
        "model = nn.Sequential(nn.Linear(784, 64, seed=0), nn.ReLU(), nn.Linear(64, 10, seed=1))\n"
        "model.compile(optimizer=optim.Adam(model.parameters(), lr=1e-3), loss=\"cross_entropy\",\n"
        "              metrics=[\"accuracy\"])\n"
        "history = model.fit(X_train, y_train, batch_size=64, epochs=2, seed=0, verbose=2)"
    ),
)

questions = QuestionSet("Homework 3: optimizers and the Fashion-MNIST classifier", q1=q1, q2=q2, q3=q3, q4=q4)
progress = questions.progress
