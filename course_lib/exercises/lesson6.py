"""Lesson 6 exercises: momentum, RMSProp and Adam, one update at a time.

Every reference runs the real optimizer of ``course_lib.optim`` for one step
from the given state, so a learner's update is checked against the engine.

q1  momentum_step(param, grad, velocity, lr, momentum)      -> (param, velocity)
q2  rmsprop_step(param, grad, square_avg, lr, alpha, eps)   -> (param, square_avg)
q3  adam_step(param, grad, m, v, t, lr, betas, eps)         -> (param, m, v)
q4  first_step_uncorrected: how far Adam's first step goes without bias correction
"""

import numpy as np

from course_lib import nn, optim
from course_lib.exercises.core import FunctionQuestion, Mistake, QuestionSet, ValueQuestion


def _one_step(optimizer_class, param, grad, state, step_count, **hyperparameters):
    """Run ``optimizer_class`` for one step on a copy of ``param`` starting from ``state``.

    ``state`` maps the optimizer's state names (e.g. ``"exp_avg"``) to arrays;
    ``step_count`` is the number of steps already taken (the new step is t = step_count + 1).
    Returns ``(new_param, new_state)``.
    """
    theta = nn.Parameter(np.array(param, dtype=np.float64, copy=True))
    optimizer = optimizer_class([theta], **hyperparameters)
    saved = optimizer.state_dict()
    for name, value in state.items():
        saved["state"]["0"][name] = np.array(value, dtype=np.float64).reshape(theta.data.shape)
    saved["step"] = step_count
    optimizer.load_state_dict(saved)
    optimizer.zero_grad()
    theta.grad[...] = grad
    optimizer.step()
    after = optimizer.state_dict()["state"]["0"]
    return theta.data.copy(), {name: after[name] for name in state}


# ---------------------------------------------------------------------------
# q1: one step of SGD with momentum (torch's form)
# ---------------------------------------------------------------------------

def momentum_step_reference(param, grad, velocity, lr, momentum):
    """v ← μ v + g;  θ ← θ − η v  (``optim.SGD`` with momentum, after its first step)."""
    new_param, state = _one_step(optim.SGD, param, grad, {"momentum_buffer": velocity}, 1,
                                 lr=lr, momentum=momentum)
    return new_param, state["momentum_buffer"]


def _q1_cases():
    rng = np.random.default_rng(51)
    return [
        (rng.normal(size=3), rng.normal(size=3), rng.normal(size=3), 0.1, 0.9),
        (rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), 0.01, 0.5),
        (np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.zeros(2), 0.1, 0.9),
        (rng.normal(size=4), rng.normal(size=4), rng.normal(size=4), 0.05, 0.99),
    ]


q1 = FunctionQuestion(
    name="momentum_step",
    reference=momentum_step_reference,
    cases=_q1_cases,
    output_names=("new_param", "new_velocity"),
    mistakes=[
        Mistake("you used the exponential-average form v = μ v + (1 − μ) g; torch's and course_lib's "
                "SGD add the whole gradient: v = μ v + g.",
                lambda param, grad, velocity, lr, momentum: (
                    param - lr * (momentum * velocity + (1 - momentum) * grad),
                    momentum * velocity + (1 - momentum) * grad)),
        Mistake("you moved θ with the old velocity; update the velocity first (v = μ v + g), then "
                "θ = θ − η v with the new one.",
                lambda param, grad, velocity, lr, momentum: (
                    param - lr * velocity, momentum * velocity + grad)),
        Mistake("you stored the velocity in the other convention (v = μ v − η g, θ = θ + v): θ moves the "
                "same way, but the velocity this course (and torch) keeps is v = μ v + g, without η and "
                "with the gradient's sign.",
                lambda param, grad, velocity, lr, momentum: (
                    param - lr * (momentum * velocity + grad), -lr * (momentum * velocity + grad))),
        Mistake("θ moved by −η g only: the velocity must replace the gradient in the update "
                "(θ = θ − η v).",
                lambda param, grad, velocity, lr, momentum: (
                    param - lr * grad, momentum * velocity + grad)),
    ],
    hints=[
        "Two lines: first the new velocity from the old one and the gradient, then the parameter.",
        "velocity ← momentum · velocity + grad, then param ← param − lr · velocity.",
        "`new_velocity = momentum * velocity + grad` and `new_param = param - lr * new_velocity`; "
        "return both (don't change the inputs in place).",
    ],
    solution=(
        "def momentum_step(param, grad, velocity, lr, momentum):\n"
        "    new_velocity = momentum * velocity + grad\n"
        "    new_param = param - lr * new_velocity\n"
        "    return new_param, new_velocity"
    ),
)


# ---------------------------------------------------------------------------
# q2: one step of RMSProp
# ---------------------------------------------------------------------------

def rmsprop_step_reference(param, grad, square_avg, lr, alpha, eps=1e-8):
    """s ← α s + (1 − α) g²;  θ ← θ − η g / (√s + ε)  (``optim.RMSprop``)."""
    new_param, state = _one_step(optim.RMSprop, param, grad, {"square_avg": square_avg}, 3,
                                 lr=lr, alpha=alpha, eps=eps)
    return new_param, state["square_avg"]


def _q2_cases():
    rng = np.random.default_rng(52)
    return [
        (rng.normal(size=3), rng.normal(size=3), rng.uniform(0.1, 2, size=3), 0.01, 0.99, 1e-8),
        (rng.normal(size=(2, 2)), rng.normal(size=(2, 2)), rng.uniform(0, 1, size=(2, 2)), 0.1, 0.9, 1e-8),
        (np.array([1.0, 2.0]), np.array([1e-4, -3e-4]), np.array([1e-8, 4e-8]), 0.001, 0.9, 1e-6),
        (rng.normal(size=4), 5 * rng.normal(size=4), np.zeros(4), 0.01, 0.5, 1e-8),
    ]


q2 = FunctionQuestion(
    name="rmsprop_step",
    reference=rmsprop_step_reference,
    cases=_q2_cases,
    output_names=("new_param", "new_square_avg"),
    mistakes=[
        Mistake("α and 1 − α are swapped: the old average keeps the weight α (0.99 by default), the new "
                "g² gets 1 − α.",
                lambda param, grad, square_avg, lr, alpha, eps=1e-8: (
                    param - lr * grad / (np.sqrt(alpha * grad ** 2 + (1 - alpha) * square_avg) + eps),
                    alpha * grad ** 2 + (1 - alpha) * square_avg)),
        Mistake("the square root is missing: divide by √s + ε, the root-mean-square of the gradient, "
                "not by the mean square s itself.",
                lambda param, grad, square_avg, lr, alpha, eps=1e-8: (
                    param - lr * grad / (alpha * square_avg + (1 - alpha) * grad ** 2 + eps),
                    alpha * square_avg + (1 - alpha) * grad ** 2)),
        Mistake("ε is inside the square root; course_lib and torch add it outside: g / (√s + ε). "
                "It matters when the gradients are tiny.",
                lambda param, grad, square_avg, lr, alpha, eps=1e-8: (
                    param - lr * grad / np.sqrt(alpha * square_avg + (1 - alpha) * grad ** 2 + eps),
                    alpha * square_avg + (1 - alpha) * grad ** 2)),
        Mistake("you divided by the *old* average; update s first, then use the new s in the step.",
                lambda param, grad, square_avg, lr, alpha, eps=1e-8: (
                    param - lr * grad / (np.sqrt(square_avg) + eps),
                    alpha * square_avg + (1 - alpha) * grad ** 2)),
    ],
    hints=[
        "First update the running average of the squared gradient, then take the step.",
        "square_avg ← alpha · square_avg + (1 − alpha) · grad², then "
        "param ← param − lr · grad / (√square_avg + eps).",
        "`s = alpha * square_avg + (1 - alpha) * grad ** 2` and "
        "`return param - lr * grad / (np.sqrt(s) + eps), s`",
    ],
    solution=(
        "def rmsprop_step(param, grad, square_avg, lr, alpha, eps=1e-8):\n"
        "    new_square_avg = alpha * square_avg + (1 - alpha) * grad ** 2\n"
        "    new_param = param - lr * grad / (np.sqrt(new_square_avg) + eps)\n"
        "    return new_param, new_square_avg"
    ),
)


# ---------------------------------------------------------------------------
# q3: one step of Adam, checked against optim.Adam
# ---------------------------------------------------------------------------

def adam_step_reference(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    """One Adam step with t counted from 1 (``optim.Adam`` from state m, v after t − 1 steps)."""
    new_param, state = _one_step(optim.Adam, param, grad, {"exp_avg": m, "exp_avg_sq": v}, t - 1,
                                 lr=lr, betas=betas, eps=eps)
    return new_param, state["exp_avg"], state["exp_avg_sq"]


def _adam_by_hand(param, grad, m, v, t, lr, betas, eps, t_used=None, correct=True, sqrt=True,
                  eps_inside=False, no_one_minus=False):
    """Adam written out, with switches that reproduce the usual slips (for the Mistakes)."""
    beta1, beta2 = betas
    t_used = t if t_used is None else t_used
    m = beta1 * m + (1 if no_one_minus else 1 - beta1) * grad
    v = beta2 * v + (1 if no_one_minus else 1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t_used) if correct else m
    v_hat = v / (1 - beta2 ** t_used) if correct else v
    if eps_inside:
        denominator = np.sqrt(v_hat + eps)
    else:
        denominator = (np.sqrt(v_hat) if sqrt else v_hat) + eps
    return param - lr * m_hat / denominator, m, v


def _adam_returning_corrected_moments(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    """The slip the question warns about: the right step, but m̂ and v̂ returned instead of m and v."""
    beta1, beta2 = betas
    new_param, m, v = _adam_by_hand(param, grad, m, v, t, lr, betas, eps)
    return new_param, m / (1 - beta1 ** t), v / (1 - beta2 ** t)


def _q3_cases():
    rng = np.random.default_rng(53)
    return [
        (rng.normal(size=3), rng.normal(size=3), np.zeros(3), np.zeros(3), 1, 1e-3, (0.9, 0.999), 1e-8),
        (rng.normal(size=3), rng.normal(size=3), 0.1 * rng.normal(size=3), rng.uniform(0, 0.1, size=3),
         2, 1e-2, (0.9, 0.999), 1e-8),
        (rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), 0.1 * rng.normal(size=(2, 3)),
         rng.uniform(0, 0.5, size=(2, 3)), 5, 0.1, (0.8, 0.99), 1e-8),
        (np.array([0.5, -0.5]), np.array([2e-5, -1e-5]), np.array([1e-5, 0.0]), np.array([1e-10, 2e-10]),
         3, 1e-3, (0.9, 0.999), 1e-6),
        (rng.normal(size=4), rng.normal(size=4), 0.1 * rng.normal(size=4), rng.uniform(0, 0.1, size=4),
         1000, 1e-3, (0.9, 0.999), 1e-8),
    ]


q3 = FunctionQuestion(
    name="adam_step",
    reference=adam_step_reference,
    cases=_q3_cases,
    output_names=("new_param", "new_m", "new_v"),
    mistakes=[
        Mistake("you returned the bias-corrected moments m̂ and v̂; return the moments m and v themselves "
                "(the step uses m̂ and v̂, but the state kept for the next step is m and v: correcting "
                "them again next step would divide twice).",
                _adam_returning_corrected_moments),
        Mistake("the bias correction is off by one: t already counts from 1 (the first step has t = 1), "
                "so divide by 1 − β1**t and 1 − β2**t, not by 1 − β**(t + 1).",
                lambda param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8:
                _adam_by_hand(param, grad, m, v, t, lr, betas, eps, t_used=t + 1)),
        Mistake("there is no bias correction: divide m by 1 − β1**t and v by 1 − β2**t before the step "
                "(m and v start at 0, so early on they are too small).",
                lambda param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8:
                _adam_by_hand(param, grad, m, v, t, lr, betas, eps, correct=False)),
        Mistake("the square root of v̂ is missing: the step is η m̂ / (√v̂ + ε).",
                lambda param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8:
                _adam_by_hand(param, grad, m, v, t, lr, betas, eps, sqrt=False)),
        Mistake("ε is inside the square root; Adam adds it outside: m̂ / (√v̂ + ε). "
                "It matters when the gradients are tiny.",
                lambda param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8:
                _adam_by_hand(param, grad, m, v, t, lr, betas, eps, eps_inside=True)),
        Mistake("the moments need the weights (1 − β1) and (1 − β2) on the new gradient: "
                "m = β1 m + (1 − β1) g, v = β2 v + (1 − β2) g².",
                lambda param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8:
                _adam_by_hand(param, grad, m, v, t, lr, betas, eps, no_one_minus=True)),
    ],
    hints=[
        "Four lines: update m, update v, bias-correct both (with this step's t), take the step.",
        "m ← β1 m + (1 − β1) g;  v ← β2 v + (1 − β2) g²;  m̂ = m / (1 − β1ᵗ);  v̂ = v / (1 − β2ᵗ);  "
        "θ ← θ − η m̂ / (√v̂ + ε).  Return the new θ, m and v (not m̂ and v̂).",
        "`beta1, beta2 = betas` then `m = beta1 * m + (1 - beta1) * grad`, "
        "`v = beta2 * v + (1 - beta2) * grad ** 2`, `m_hat = m / (1 - beta1 ** t)`, "
        "`v_hat = v / (1 - beta2 ** t)`, `return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v`",
    ],
    solution=(
        "def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):\n"
        "    beta1, beta2 = betas\n"
        "    m = beta1 * m + (1 - beta1) * grad          # first moment\n"
        "    v = beta2 * v + (1 - beta2) * grad ** 2     # second moment\n"
        "    m_hat = m / (1 - beta1 ** t)                # bias correction, t counted from 1\n"
        "    v_hat = v / (1 - beta2 ** t)\n"
        "    new_param = param - lr * m_hat / (np.sqrt(v_hat) + eps)\n"
        "    return new_param, m, v"
    ),
)


# ---------------------------------------------------------------------------
# q4: the first step without bias correction
# ---------------------------------------------------------------------------

# θ moves by η · m / (√v + ε) with m = (1 − β1) g, v = (1 − β2) g²: 0.01 · 0.4 / √0.016
_FIRST_STEP = 0.01 * (0.1 * 4.0) / (np.sqrt(0.001 * 16.0) + 1e-8)

q4 = ValueQuestion(
    name="first_step_uncorrected",
    expected=_FIRST_STEP,
    rtol=1e-3,
    mistakes=[
        Mistake("0.01 is the first step *with* bias correction (m̂ = g and v̂ = g², so the step is η). "
                "Without it, m = (1 − β1) g and v = (1 − β2) g².", 0.01),
        Mistake("you left out the division by √v: the step is η · m / (√v + ε), "
                "with v = (1 − β2) g² = 0.016.", 0.01 * 0.4),
        Mistake("you divided by v instead of √v.", 0.01 * 0.4 / 0.016),
        Mistake("that is a step backwards in sign: the question asks how far θ moves (a positive distance).",
                -_FIRST_STEP),
    ],
    hints=[
        "At t = 1, m and v start at 0, so after the first update m = (1 − β1) g and v = (1 − β2) g².",
        "m = 0.1 · 4 = 0.4 and v = 0.001 · 16 = 0.016. Without bias correction the step is "
        "η · m / (√v + ε).",
        "`first_step_uncorrected = 0.01 * 0.4 / np.sqrt(0.016)`  (ε = 1e-8 is negligible here)",
    ],
    solution=(
        "m = (1 - 0.9) * 4.0            # 0.4\n"
        "v = (1 - 0.999) * 4.0 ** 2     # 0.016\n"
        "first_step_uncorrected = 0.01 * m / (np.sqrt(v) + 1e-8)   # ≈ 0.0316: 3.16 η, not η"
    ),
)


questions = QuestionSet("Lesson 6: momentum, RMSProp, Adam", q1=q1, q2=q2, q3=q3, q4=q4)
q1, q2, q3, q4 = questions.q1, questions.q2, questions.q3, questions.q4
progress = questions.progress
