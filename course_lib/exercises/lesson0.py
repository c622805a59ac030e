"""Lesson 0 exercises: a warm-up to learn how checking, hints and solutions work.

q1  predict(w, b, x)          the prediction of a line, ŷ = w·x + b
q2  gd_step(x, gradient, lr)  one step of gradient descent
q3  learning_rate_korean      the Korean term for "learning rate" (from the glossary)
"""

import numpy as np

from course_lib.exercises.core import FunctionQuestion, Mistake, QuestionSet, ValueQuestion


# ---------------------------------------------------------------------------
# q1: the prediction of a line
# ---------------------------------------------------------------------------

def _predict(w, b, x):
    return w * x + b


def _q1_cases():
    return [
        (2.0, 1.0, 3.0),
        (-2.4, 59.7, np.array([0.0, 3.0, 6.0, 12.0])),
        (0.5, -1.0, np.array([1.0, -2.0, 4.0])),
    ]


q1 = FunctionQuestion(
    name="predict",
    reference=_predict,
    cases=_q1_cases,
    mistakes=[
        Mistake("you swapped the roles of w and b: the slope w multiplies x, the intercept b is added.",
                lambda w, b, x: b * x + w),
        Mistake("you forgot the intercept: add b after multiplying.",
                lambda w, b, x: w * x),
        Mistake("you added b before multiplying; the line is w·x + b, i.e. (w * x) + b.",
                lambda w, b, x: w * (x + b)),
    ],
    hints=[
        "A line has a slope w and an intercept b: its prediction for x is w times x, plus b.",
        "NumPy arrays work with `*` and `+` elementwise, so the same line of code works for one x or many.",
        "`return w * x + b`",
    ],
    solution="def predict(w, b, x):\n    return w * x + b",
)


# ---------------------------------------------------------------------------
# q2: one step of gradient descent
# ---------------------------------------------------------------------------

def _gd_step(x, gradient, lr):
    return x - lr * gradient


def _q2_cases():
    return [
        (np.array([2.0]), np.array([4.0]), 0.1),
        (np.array([1.0, -3.0, 0.5]), np.array([0.2, -6.0, 1.0]), 0.05),
        (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[-1.0, 0.0], [2.0, 8.0]]), 0.5),
    ]


q2 = FunctionQuestion(
    name="gd_step",
    reference=_gd_step,
    cases=_q2_cases,
    mistakes=[
        Mistake("you stepped uphill: the gradient points to where the loss *grows*, so subtract it "
                "(x − lr · gradient).",
                lambda x, gradient, lr: x + lr * gradient),
        Mistake("you forgot the learning rate: the step is lr times the gradient.",
                lambda x, gradient, lr: x - gradient),
        Mistake("you returned the step itself; return the new position x − lr · gradient.",
                lambda x, gradient, lr: -lr * gradient),
    ],
    hints=[
        "The gradient points uphill. To go down, move against it.",
        "The size of the move is the learning rate times the gradient.",
        "`return x - lr * gradient`",
    ],
    solution="def gd_step(x, gradient, lr):\n    return x - lr * gradient",
)


# ---------------------------------------------------------------------------
# q3: a glossary term
# ---------------------------------------------------------------------------

q3 = ValueQuestion(
    name="learning_rate_korean",
    expected="학습률",
    also_accepted=[("학습율", "You wrote 학습율; the standard spelling is 학습률: the suffix is written 률 after a "
                               "consonant (학 ends in ㄱ) and 율 only after a vowel or ㄴ (비율, 환율).")],
    mistakes=[
        Mistake("경사 하강법 is gradient descent, the method; look for the step size.", "경사 하강법"),
        Mistake("손실 함수 is the loss function; look for the step size.", "손실 함수"),
        Mistake("기울기 is the gradient, the direction; the learning rate is how far to move.", "기울기"),
        Mistake("that is the English term; the question asks for the Korean one (see the glossary table).",
                lambda answer: isinstance(answer, str) and "learning" in answer.lower()),
    ],
    hints=[
        "Look it up in the glossary table above.",
        "학습 means learning; the second syllable means rate or ratio.",
        "`learning_rate_korean = \"학습률\"`",
    ],
    solution='learning_rate_korean = "학습률"',
)


questions = QuestionSet("Lesson 0: start here", q1=q1, q2=q2, q3=q3)
q1, q2, q3 = questions.q1, questions.q2, questions.q3
progress = questions.progress
