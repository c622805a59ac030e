"""Lesson 7 exercises: the Fashion-MNIST classifier.

q1  count_parameters(layer_sizes)            weights and biases of a stack of Linear layers
q2  accuracy(logits, labels)                 the fraction of correct predictions
q3  confusion_matrix(y_true, y_pred, n_classes)
"""

import numpy as np

from course_lib.demos.fashion import confusion_matrix as _confusion_matrix
from course_lib.exercises.core import FunctionQuestion, Mistake, QuestionSet

# ---------------------------------------------------------------------------
# q1: counting parameters
# ---------------------------------------------------------------------------


def count_parameters_reference(layer_sizes):
    """Linear layers between consecutive sizes: in·out weights plus out biases each."""
    return int(sum(n_in * n_out + n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])))


def _q1_cases():
    return [([784, 10],), ([784, 256, 10],), ([784, 512, 256, 10],), ([11, 512, 512, 512, 1],), ([3, 1],)]


q1 = FunctionQuestion(
    name="count_parameters",
    reference=count_parameters_reference,
    cases=_q1_cases,
    mistakes=[
        Mistake("you counted only the weights: every output unit of a Linear layer also has a bias "
                "(784 × 10 weights + 10 biases = 7,850).",
                lambda layer_sizes: sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))),
        Mistake("you gave each *input* a bias; the biases belong to the outputs: a layer from n_in to "
                "n_out has n_in · n_out + n_out parameters.",
                lambda layer_sizes: sum(a * b + a for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))),
        Mistake("you multiplied all the sizes together; each Linear layer connects only two "
                "consecutive sizes: add up n_in · n_out + n_out over consecutive pairs.",
                lambda layer_sizes: int(np.prod(layer_sizes)) + int(sum(layer_sizes[1:]))),
        Mistake("you counted one bias per layer; a layer has one bias per output unit.",
                lambda layer_sizes: sum(a * b + 1 for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))),
    ],
    hints=[
        "A Linear layer from n_in to n_out features has a weight matrix of shape (n_in, n_out) "
        "and a bias vector of shape (n_out,).",
        "Go over consecutive pairs: `zip(layer_sizes[:-1], layer_sizes[1:])`, and add "
        "n_in * n_out + n_out for each pair.",
        "`return sum(n_in * n_out + n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))`",
    ],
    solution=(
        "def count_parameters(layer_sizes):\n"
        "    total = 0\n"
        "    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):\n"
        "        total += n_in * n_out + n_out     # weights + biases of one Linear layer\n"
        "    return total"
    ),
)


# ---------------------------------------------------------------------------
# q2: accuracy from logits
# ---------------------------------------------------------------------------


def accuracy_reference(logits, labels):
    """The fraction of rows whose largest logit is at the true label's position."""
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def _q2_cases():
    rng = np.random.default_rng(61)
    # as many examples as classes in each case, so that a wrong axis gives wrong numbers
    # (a diagnosis) rather than a shape error
    logits = rng.normal(size=(10, 10))
    labels = rng.integers(0, 10, size=10)
    labels[:5] = np.argmax(logits[:5], axis=1)        # at least 5 right
    other = rng.normal(size=(10, 10))
    other_labels = np.argmax(other, axis=1)
    other_labels[::3] = (other_labels[::3] + 1) % 10  # 4 wrong, 6 right
    return [(logits, labels), (other, other_labels),
            (np.array([[2.0, 1.0, 0.1], [0.1, 0.2, 3.0], [5.0, 0.0, -1.0]]), np.array([0, 2, 1]))]


q2 = FunctionQuestion(
    name="accuracy",
    reference=accuracy_reference,
    cases=_q2_cases,
    mistakes=[
        Mistake("you took the argmax over axis 0 (down the columns, across examples); each *row* is "
                "one example, so use `np.argmax(logits, axis=1)`.",
                lambda logits, labels: float(np.mean(np.argmax(logits, axis=0) == labels))),
        Mistake("you returned the number of correct predictions; the accuracy is the *fraction*: "
                "divide by the number of examples (or use np.mean).",
                lambda logits, labels: int(np.sum(np.argmax(logits, axis=1) == labels))),
        Mistake("you returned a percentage (0 to 100); the accuracy here is a fraction between 0 and 1: "
                "leave out the `* 100`.",
                lambda logits, labels: 100 * float(np.mean(np.argmax(logits, axis=1) == labels))),
        Mistake("that is the error rate (the fraction of wrong predictions); the accuracy is 1 minus it.",
                lambda logits, labels: float(np.mean(np.argmax(logits, axis=1) != labels))),
        Mistake("you compared the largest *value* with the label; compare the *position* of the largest "
                "logit (np.argmax) with the label.",
                lambda logits, labels: float(np.mean(np.max(logits, axis=1) == labels))),
    ],
    hints=[
        "The predicted class of an example is the position of its largest logit (no softmax needed: "
        "softmax keeps the order).",
        "`np.argmax(logits, axis=1)` gives one predicted class per row; compare it with `labels`.",
        "`return np.mean(np.argmax(logits, axis=1) == labels)`",
    ],
    solution=(
        "def accuracy(logits, labels):\n"
        "    predicted = np.argmax(logits, axis=1)     # one class per example (row)\n"
        "    return np.mean(predicted == labels)"
    ),
)


# ---------------------------------------------------------------------------
# q3: the confusion matrix
# ---------------------------------------------------------------------------


def confusion_matrix_reference(y_true, y_pred, n_classes):
    """``cm[i, j]``: how many examples of true class i were predicted as class j."""
    return _confusion_matrix(y_true, y_pred, n_classes)


def _q3_cases():
    rng = np.random.default_rng(63)
    y_true = rng.integers(0, 4, size=30)
    y_pred = np.where(rng.random(30) < 0.6, y_true, rng.integers(0, 4, size=30))
    return [
        (np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3),
        (y_true, y_pred, 4),
        (np.array([0, 1, 1]), np.array([1, 1, 0]), 5),          # classes 2..4 never appear
        (np.array([2, 2, 0]), np.array([0, 0, 2]), 3),
    ]


q3 = FunctionQuestion(
    name="confusion_matrix",
    reference=confusion_matrix_reference,
    cases=_q3_cases,
    mistakes=[
        Mistake("rows and columns are swapped: the row is the *true* class and the column the "
                "*predicted* one, cm[y_true[k], y_pred[k]] += 1.",
                lambda y_true, y_pred, n_classes: _confusion_matrix(y_true, y_pred, n_classes).T),
        Mistake("you normalised the rows; this function should count (integers), normalising is "
                "a separate step.",
                lambda y_true, y_pred, n_classes: (lambda cm: cm / np.maximum(cm.sum(axis=1, keepdims=True), 1))(
                    _confusion_matrix(y_true, y_pred, n_classes))),
        Mistake("the matrix must be n_classes × n_classes even when some classes never occur; "
                "size it from n_classes, not from the largest label seen.",
                lambda y_true, y_pred, n_classes: _confusion_matrix(
                    y_true, y_pred, int(max(np.max(y_true), np.max(y_pred))) + 1)),
        Mistake("`cm[y_true, y_pred] += 1` with index arrays adds 1 only once per distinct pair "
                "(NumPy's buffered indexing); loop over the examples, or use "
                "np.add.at(cm, (y_true, y_pred), 1).",
                lambda y_true, y_pred, n_classes: (lambda cm: (cm.__setitem__(
                    (y_true, y_pred), cm[y_true, y_pred] + 1), cm)[1])(
                    np.zeros((n_classes, n_classes), dtype=int))),
    ],
    hints=[
        "Start from `np.zeros((n_classes, n_classes), dtype=int)`; each example adds 1 to one cell.",
        "The cell of example k is row y_true[k] (the truth), column y_pred[k] (the prediction).",
        "`for t, p in zip(y_true, y_pred): cm[t, p] += 1` — or in one call, "
        "`np.add.at(cm, (y_true, y_pred), 1)`.",
    ],
    solution=(
        "def confusion_matrix(y_true, y_pred, n_classes):\n"
        "    cm = np.zeros((n_classes, n_classes), dtype=int)\n"
        "    for t, p in zip(y_true, y_pred):\n"
        "        cm[t, p] += 1          # row: true class, column: predicted class\n"
        "    return cm"
    ),
)


questions = QuestionSet("Lesson 7: the Fashion-MNIST classifier", q1=q1, q2=q2, q3=q3)
q1, q2, q3 = questions.q1, questions.q2, questions.q3
progress = questions.progress
