"""A reusable test for exercise questions: ``assert_question_behaves``.

Every question must: accept its reference answer; say "not attempted" for
``None`` and for a stub that raises ``NotImplementedError``; report a raising
function, a wrong shape, a NaN and a mutated input in one clean message (no
traceback, none of the checker's internals); and recognise the realistic
wrong answers its author lists. In a test module::

    from exercise_helpers import assert_question_behaves
    from course_lib.exercises import lesson1 as ex

    def test_q1_mse():
        assert_question_behaves(ex.q1, wrong_answers={
            "summed instead of averaging": lambda y_true, y_pred: np.sum((y_pred - y_true) ** 2),
            "square": lambda y_true, y_pred: np.mean(y_pred - y_true),
        })

Each key of ``wrong_answers`` is a piece of text the diagnosis must contain
(case-insensitive); each value is the wrong answer (a function for a
``FunctionQuestion``, a value for a ``ValueQuestion`` / ``CustomQuestion``).
"""

import numpy as np

from course_lib.exercises.core import FunctionQuestion, ValueQuestion

# Text that must never reach a learner: it would mean the checker leaked its own internals.
_INTERNAL_MARKERS = ("Traceback", "course_lib/exercises", "core.py", "compare.py", "_quietly")


def assert_clean(result):
    """The result's message is one friendly message, free of the checker's internals."""
    for marker in _INTERNAL_MARKERS:
        assert marker not in result.message, f"checker internals leaked ({marker!r}) into:\n{result.message}"
    assert result.reason != "checker error", f"the checker itself failed:\n{result.message}"


def assert_status(question, answer, status, reason=None, contains=None, what="answer"):
    """Evaluate ``answer``; assert its status (and reason / text); return the ``Result``."""
    result = question.evaluate(answer)
    assert_clean(result)
    assert result.status == status, f"{question.name}: {what} should be {status!r}, got:\n{result.message}"
    if reason is not None:
        assert result.reason == reason, (
            f"{question.name}: {what} should be reported as {reason!r}, got {result.reason!r}:\n{result.message}"
        )
    if contains is not None:
        assert contains.lower() in result.message.lower(), (
            f"{question.name}: the message for {what} should mention {contains!r}:\n{result.message}"
        )
    return result


def _numeric(value):
    return isinstance(value, (int, float, np.integer, np.floating, np.ndarray)) and not isinstance(value, bool)


def _with_wrong_shape(output):
    """``output`` changed so that its (first numeric) shape is wrong."""
    if isinstance(output, tuple):
        for i, item in enumerate(output):
            if _numeric(item):
                return output[:i] + (_with_wrong_shape(item),) + output[i + 1:]
        return None
    if not _numeric(output):
        return None
    array = np.asarray(output, dtype=float)
    if array.ndim == 0:
        return np.full(3, float(array))
    return np.concatenate([array.ravel(), [0.0]])


def _with_nan(output):
    """``output`` with NaN in its (first numeric) part."""
    if isinstance(output, tuple):
        for i, item in enumerate(output):
            if _numeric(item):
                return output[:i] + (_with_nan(item),) + output[i + 1:]
        return None
    if not _numeric(output):
        return None
    return np.asarray(output, dtype=float) * np.nan


def assert_question_behaves(question, wrong_answers=None, reference=None, min_wrong=2):
    """Check the standard behaviour of ``question``; return the results of the wrong answers.

    Args:
        question: a FunctionQuestion, ValueQuestion or CustomQuestion.
        wrong_answers: ``{text the diagnosis must contain: wrong answer}``,
            at least ``min_wrong`` of them.
        reference: the correct answer (default: the question's ``reference``
            function or ``expected`` value; needed for a CustomQuestion or a
            ValueQuestion whose ``expected`` is a predicate).
    """
    wrong_answers = dict(wrong_answers or {})
    assert len(wrong_answers) >= min_wrong, (
        f"{question.name}: list at least {min_wrong} realistic wrong answers with their diagnoses"
    )
    if reference is None:
        if isinstance(question, FunctionQuestion):
            reference = question.reference
        elif isinstance(question, ValueQuestion) and not callable(question.expected):
            reference = question.expected
        else:
            raise AssertionError(f"{question.name}: pass reference=<a correct answer>")

    # 1. The reference is correct, and evaluating it is pure (twice gives the same).
    assert_status(question, reference, "correct", what="the reference")
    assert_status(question, reference, "correct", what="the reference, a second time")

    # 2. Not attempted.
    assert_status(question, None, "not attempted", what="None")
    assert_status(question, ..., "not attempted", what="Ellipsis")

    if isinstance(question, FunctionQuestion):
        _check_function_question(question, reference)
    elif isinstance(question, ValueQuestion):
        _check_value_question(question, reference)

    # 3. The realistic wrong answers, each with its diagnosis.
    results = {}
    for text, answer in wrong_answers.items():
        results[text] = assert_status(question, answer, "incorrect", contains=text, what=f"the wrong answer {text!r}")
    return results


def _check_function_question(question, reference):
    def stub(*args, **kwargs):
        # YOUR CODE HERE
        raise NotImplementedError()

    assert_status(question, stub, "not attempted", what="a NotImplementedError stub")

    def raising(*args, **kwargs):
        raise ValueError("something went wrong in the learner's code")

    result = assert_status(question, raising, "incorrect", reason="raised", contains="ValueError", what="a raising function")
    assert "something went wrong" in result.message
    assert "line" in result.message, f"the learner's line should be shown:\n{result.message}"

    sample = question.get_cases()[0]
    output = reference(*sample)

    wrong_shape = _with_wrong_shape(output)
    if wrong_shape is not None and question.compare is None:
        assert_status(question, lambda *args, **kwargs: _with_wrong_shape(reference(*args, **kwargs)),
                      "incorrect", reason="wrong shape", contains="shape", what="a wrong shape")

    with_nan = _with_nan(output)
    if with_nan is not None and question.compare is None:
        assert_status(question, lambda *args, **kwargs: _with_nan(reference(*args, **kwargs)),
                      "incorrect", reason="not finite", contains="NaN", what="a NaN")

    assert_status(question, lambda *args, **kwargs: None, "incorrect", what="a function returning None")

    array_positions = [i for i, value in enumerate(sample) if isinstance(value, np.ndarray) and value.size]
    if array_positions and not question.allow_mutation:
        position = array_positions[0]

        def mutating(*args, **kwargs):
            result = reference(*args, **kwargs)
            target = args[position]
            if target.dtype.kind == "b":
                target[...] = ~target
            elif target.dtype.kind in "iu":
                target += 1
            else:
                target[...] = np.nan
            return result

        assert_status(question, mutating, "incorrect", reason="mutated", contains="in place", what="a mutating function")


def _check_value_question(question, reference):
    if isinstance(reference, str):
        assert_status(question, 12345, "incorrect", reason="wrong type", what="a number instead of text")
        return
    assert_status(question, "some text", "incorrect", what="text instead of a number")
    wrong_shape = _with_wrong_shape(reference)
    if wrong_shape is not None:
        assert_status(question, wrong_shape, "incorrect", reason="wrong shape", contains="shape", what="a wrong shape")
    with_nan = _with_nan(reference)
    if with_nan is not None:
        assert_status(question, with_nan, "incorrect", reason="not finite", contains="NaN", what="a NaN")
