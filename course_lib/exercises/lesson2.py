"""Lesson 2 exercises: gradient descent.

q1  cubic_gradient(x)                          f'(x) for f(x) = x³ − 2x² + 2
q2  gradient_descent(gradient, x0, lr, steps)  the final point after ``steps`` updates
q3  largest_stable_lr                          the largest learning rate that still settles at x = 4/3
q4  mse_gradient(X, y, w, b)                   the gradient (dL/dw, dL/db) of the MSE of a linear model
"""

import numpy as np

from course_lib import functions
from course_lib.demos.gradient_descent import mse_gradient as _mse_gradient
from course_lib.exercises.core import FunctionQuestion, Mistake, QuestionSet, ValueQuestion

_CUBIC = functions.cubic()


# ---------------------------------------------------------------------------
# q1: the derivative of the cubic
# ---------------------------------------------------------------------------

def _q1_cases():
    return [np.array([2.0]), np.array([-1.0, 0.0, 0.5, 4 / 3, 3.0]), np.linspace(-2, 2, 9)]


q1 = FunctionQuestion(
    name="cubic_gradient",
    reference=lambda x: _CUBIC.gradient(x),
    cases=_q1_cases,
    mistakes=[
        Mistake("the derivative of 2x² is 4x (bring the power down: 2·2x), not 2x.",
                lambda x: 3 * x**2 - 2 * x),
        Mistake("that is f(x) itself; the gradient is its derivative f'(x).",
                lambda x: x**3 - 2 * x**2 + 2),
        Mistake("the constant 2 disappears when you differentiate: its slope is 0.",
                lambda x: 3 * x**2 - 4 * x + 2),
        Mistake("the derivative of x³ is 3x², not 3x.",
                lambda x: 3 * x - 4 * x),
    ],
    hints=[
        "Differentiate term by term with the power rule: d/dx xⁿ = n·xⁿ⁻¹. A constant has derivative 0.",
        "d/dx x³ = 3x², d/dx 2x² = 4x, d/dx 2 = 0.",
        "`return 3 * x**2 - 4 * x`",
    ],
    solution="def cubic_gradient(x):\n    return 3 * x**2 - 4 * x",
)


# ---------------------------------------------------------------------------
# q2: the gradient descent loop
# ---------------------------------------------------------------------------

def _gradient_descent(gradient, x0, lr, steps):
    x = x0
    for _ in range(steps):
        x = x - lr * gradient(x)
    return x


def _cubic_gradient(x):
    return 3 * x**2 - 4 * x


def _bowl_gradient(x):
    return 2 * (x - 3)


def _q2_cases():
    return [
        (_cubic_gradient, 2.0, 0.1, 1),
        (_cubic_gradient, 2.0, 0.1, 5),
        (_cubic_gradient, 0.5, 0.05, 30),
        (_bowl_gradient, -2.0, 0.3, 7),
        (_bowl_gradient, np.array([0.0, 10.0]), 0.1, 4),
    ]


q2 = FunctionQuestion(
    name="gradient_descent",
    reference=_gradient_descent,
    cases=_q2_cases,
    mistakes=[
        Mistake("you stepped uphill: x − lr · gradient(x), with a minus.",
                lambda gradient, x0, lr, steps: _gradient_descent(lambda x: -gradient(x), x0, lr, steps)),
        Mistake("you took one step too many: `for _ in range(steps)` runs exactly `steps` times.",
                lambda gradient, x0, lr, steps: _gradient_descent(gradient, x0, lr, steps + 1)),
        Mistake("you took one step too few: `for _ in range(steps)` runs exactly `steps` times.",
                lambda gradient, x0, lr, steps: _gradient_descent(gradient, x0, lr, max(steps - 1, 0))),
        Mistake("you computed the gradient once, at x0, and reused it: call gradient(x) at the *current* x "
                "in every step.",
                lambda gradient, x0, lr, steps: x0 - steps * lr * gradient(x0)),
    ],
    hints=[
        "Start with x = x0. Then, `steps` times: replace x by x − lr · gradient(x). Return the last x.",
        "A `for _ in range(steps):` loop; inside it, one line that updates x. Evaluate the gradient at the "
        "current x each time.",
        "`x = x0` / `for _ in range(steps):` / `    x = x - lr * gradient(x)` / `return x`",
    ],
    solution=("def gradient_descent(gradient, x0, lr, steps):\n"
              "    x = x0\n"
              "    for _ in range(steps):\n"
              "        x = x - lr * gradient(x)\n"
              "    return x"),
)


# ---------------------------------------------------------------------------
# q3: the largest stable learning rate at the minimum
# ---------------------------------------------------------------------------

q3 = ValueQuestion(
    name="largest_stable_lr",
    expected=0.5,
    rtol=1e-3,
    mistakes=[
        Mistake("1/f''(4/3) = 0.25 is the learning rate that jumps to the minimum in one step (for a parabola); "
                "GD still settles, with zig-zags, up to 2/f''.", 0.25),
        Mistake("that is f''(4/3) itself; the limit is 2 divided by it.", 4.0),
        Mistake("you used the curvature at the maximum x = 0 (f''(0) = −4); a negative learning rate climbs "
                "uphill. Use f''(x) = 6x − 4 at the minimum x = 4/3.", -0.5),
    ],
    hints=[
        "Near the minimum, f looks like a parabola with curvature f''(4/3). For a parabola with curvature c, "
        "each step multiplies the distance to the minimum by (1 − lr·c).",
        "The distance shrinks as long as |1 − lr·c| < 1, i.e. 0 < lr < 2/c. Here f''(x) = 6x − 4.",
        "f''(4/3) = 6·4/3 − 4 = 4, so `largest_stable_lr = 2 / 4`.",
    ],
    solution="largest_stable_lr = 2 / (6 * 4/3 - 4)   # 2 / f''(4/3) = 0.5",
)


# ---------------------------------------------------------------------------
# q4: the gradient of the MSE of a linear model
# ---------------------------------------------------------------------------

def _q4_cases():
    rng = np.random.default_rng(2)
    X = rng.uniform(0, 1, size=(6, 2))
    y = rng.normal(5, 1, size=6)
    return [
        (X, y, np.array([0.0, 0.0]), 0.0),
        (X, y, np.array([2.0, -2.0]), 5.5),
        (rng.uniform(0, 1, size=(10, 2)), rng.normal(size=10), np.array([0.3, 1.0]), -0.2),
    ]


def _gradient_without_two(X, y, w, b):
    dw, db = _mse_gradient(X, y, w, b)
    return dw / 2, db / 2


def _gradient_summed(X, y, w, b):
    dw, db = _mse_gradient(X, y, w, b)
    return dw * len(X), db * len(X)


def _gradient_flipped(X, y, w, b):
    dw, db = _mse_gradient(X, y, w, b)
    return -dw, -db


q4 = FunctionQuestion(
    name="mse_gradient",
    reference=_mse_gradient,
    cases=_q4_cases,
    output_names=("dw", "db"),
    mistakes=[
        Mistake("the derivative of r² is 2r: your gradient is half the right one.", _gradient_without_two),
        Mistake("you summed over the examples; the loss is a mean, so its gradient is a mean too (divide by N).",
                _gradient_summed),
        Mistake("the sign is flipped: with r = X @ w + b − y (prediction minus target) the gradient is "
                "+2/N · Xᵀr.", _gradient_flipped),
    ],
    hints=[
        "With the residuals r = X @ w + b − y (shape (N,)), L = mean(r²). The chain rule gives "
        "dL/dw = 2/N · Xᵀ r and dL/db = 2/N · Σ r.",
        "`r = X @ w + b - y`; `X.T @ r` has shape (2,), like w; `r.sum()` or `np.mean(r)` for b.",
        "`r = X @ w + b - y` / `return 2 * X.T @ r / len(y), 2 * np.mean(r)`",
    ],
    solution=("def mse_gradient(X, y, w, b):\n"
              "    r = X @ w + b - y                   # residuals, shape (N,)\n"
              "    return 2 * X.T @ r / len(y), 2 * np.mean(r)"),
)


questions = QuestionSet("Lesson 2: gradient descent", q1=q1, q2=q2, q3=q3, q4=q4)
q1, q2, q3, q4 = questions.q1, questions.q2, questions.q3, questions.q4
progress = questions.progress
