"""Tests of the exercise framework itself (course_lib.exercises.core / compare / display)."""

import numpy as np
import pytest

from course_lib.exercises.core import (
    CustomQuestion,
    FunctionQuestion,
    Mistake,
    QuestionSet,
    Result,
    ValueQuestion,
)
from exercise_helpers import assert_question_behaves, assert_status


# ---------------------------------------------------------------------------
# Sample questions, like the ones a lesson defines
# ---------------------------------------------------------------------------


def _mse_cases():
    rng = np.random.default_rng(0)
    return [
        (rng.normal(size=5), rng.normal(size=5)),
        (np.zeros(3), np.ones(3)),
        (rng.normal(size=(4, 3)), rng.normal(size=(4, 3))),
    ]


def make_mse_question():
    return FunctionQuestion(
        name="mse",
        reference=lambda y_true, y_pred: np.mean((y_pred - y_true) ** 2),
        cases=_mse_cases,
        mistakes=[
            Mistake("you forgot to square the error", lambda y_true, y_pred: np.mean(y_pred - y_true)),
            Mistake("you took the absolute error (that is MAE)", lambda y_true, y_pred: np.mean(np.abs(y_pred - y_true))),
        ],
        hints=["The mean squared error is the average of `(y_pred - y_true)²`.", "np.mean averages.",
               "return np.mean((y_pred - y_true) ** 2)"],
        solution="def mse(y_true, y_pred):\n    return np.mean((y_pred - y_true) ** 2)",
    )


def _mse_with_grad(y_true, y_pred):
    diff = y_pred - y_true
    return np.mean(diff ** 2), 2 * diff / diff.size


def make_loss_and_grad_question():
    return FunctionQuestion("mse_and_grad", _mse_with_grad, _mse_cases, output_names=("loss", "grad"))


def _linear_cases():
    rng = np.random.default_rng(1)
    return [(rng.normal(size=(6, 3)), rng.normal(size=(3, 2))), (rng.normal(size=(4, 2)), rng.normal(size=(2, 5)))]


def make_matmul_question():
    return FunctionQuestion("linear", lambda X, W: X @ W, _linear_cases)


# ---------------------------------------------------------------------------
# The shared helper on sample questions
# ---------------------------------------------------------------------------


def test_helper_on_scalar_function_question():
    assert_question_behaves(make_mse_question(), wrong_answers={
        "forgot to square": lambda y_true, y_pred: np.mean(y_pred - y_true),
        "MAE": lambda y_true, y_pred: np.mean(np.abs(y_pred - y_true)),
        "sum where a mean is wanted": lambda y_true, y_pred: np.sum((y_pred - y_true) ** 2),
    })


def test_helper_on_tuple_output_question():
    assert_question_behaves(make_loss_and_grad_question(), wrong_answers={
        "sign is flipped": lambda t, p: (np.mean((p - t) ** 2), 2 * (t - p) / p.size),
        "factor of 2 is missing": lambda t, p: (np.mean((p - t) ** 2), (p - t) / p.size),
        "tuple of 2 values (loss, grad)": lambda t, p: np.mean((p - t) ** 2),
    })


def test_helper_on_value_questions():
    assert_question_behaves(
        ValueQuestion("iterations", 625, mistakes=[Mistake("that is one epoch", 125),
                                                   Mistake("round up", lambda x: x == 624)]),
        wrong_answers={"one epoch": 125, "round up": 624},
    )
    assert_question_behaves(
        ValueQuestion("weights", np.array([1.0, -2.0, 0.5])),
        wrong_answers={"sign is flipped": np.array([-1.0, 2.0, -0.5]), "shape": np.array([[1.0, -2.0, 0.5]])},
    )


def test_helper_fails_when_a_wrong_answer_is_accepted():
    with pytest.raises(AssertionError):
        assert_question_behaves(make_mse_question(), wrong_answers={
            "forgot to square": lambda y_true, y_pred: np.mean((y_pred - y_true) ** 2),  # actually right
            "MAE": lambda y_true, y_pred: np.mean(np.abs(y_pred - y_true)),
        })


# ---------------------------------------------------------------------------
# FunctionQuestion: statuses and diagnoses
# ---------------------------------------------------------------------------


def test_coercion_is_lenient_where_harmless():
    question = make_mse_question()
    assert_status(question, lambda t, p: float(np.mean((p - t) ** 2)), "correct")
    assert_status(question, lambda t, p: np.array([np.mean((p - t) ** 2)]), "correct")  # one-element array
    assert_status(question, lambda t, p: np.float32(np.mean((p - t) ** 2)), "correct")
    grad = FunctionQuestion("grad", lambda t, p: 2 * (p - t), _mse_cases)
    assert_status(grad, lambda t, p: (2 * (p - t)).tolist(), "correct")  # a list where an array is expected


def test_wrong_type_and_none_are_explained():
    question = make_mse_question()
    assert_status(question, lambda t, p: None, "incorrect", reason="wrong type", contains="forget the `return`")
    assert_status(question, lambda t, p: "0.5", "incorrect", reason="wrong type", contains="should be a number")
    assert_status(question, 3.0, "incorrect", reason="wrong type", contains="without parentheses")


def test_not_attempted_also_for_the_name_as_a_string():
    assert_status(make_mse_question(), "mse", "not attempted")


def test_factor_diagnoses_name_the_size():
    grad = FunctionQuestion("grad", lambda t, p: 2 * (p - t) / p.shape[0], _mse_cases)
    result = assert_status(grad, lambda t, p: 2 * (p - t), "incorrect", contains="5 times too large")
    assert "batch size" in result.diagnosis
    assert_status(grad, lambda t, p: 2 * (p - t) / p.shape[0] ** 2, "incorrect", contains="5 times too small")
    assert_status(grad, lambda t, p: 6 * (p - t) / p.shape[0], "incorrect", contains="times 3")


def test_transposed_and_broadcast_shapes_are_recognised():
    question = make_matmul_question()
    assert_status(question, lambda X, W: (X @ W).T, "incorrect", reason="wrong shape", contains="transpose")
    flat = FunctionQuestion("residual", lambda y, p: p - y, _mse_cases)
    result = assert_status(flat, lambda y, p: p.reshape(-1, 1) - y, "incorrect", reason="wrong shape")
    assert "broadcast" in result.message


def test_diagnostic_shows_input_expected_got_and_relative_error():
    result = make_mse_question().evaluate(lambda t, p: np.mean((p - t) ** 2) + 1.0)
    message = result.message
    assert "Input 1 of 3" in message and "y_true = array of shape (5,)" in message
    assert "Expected:" in message and "Got:" in message and "Relative error:" in message


def test_raised_exception_shows_the_learners_line(tmp_path):
    # A learner's function defined in a file of their own (as a notebook cell is).
    source = tmp_path / "learner_code.py"
    source.write_text("import numpy as np\n\ndef mse(y_true, y_pred):\n    d = y_true - y_pred[:2]\n    return d\n")
    namespace = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    result = assert_status(make_mse_question(), namespace["mse"], "incorrect", reason="raised")
    assert "ValueError: operands could not be broadcast" in result.message
    assert "line 4 of mse: d = y_true - y_pred[:2]" in result.message


def test_error_inside_numpy_points_to_the_learners_line_not_numpy():
    def mse(y_true, y_pred):
        return np.mean(np.reshape(y_pred, (7, 7)))

    result = make_mse_question().evaluate(mse)
    assert result.reason == "raised"
    assert "np.reshape(y_pred, (7, 7))" in result.message
    assert "numpy" not in result.message.split("In your code")[1].split(":")[0]


def test_mutation_is_reported_even_when_the_output_is_right():
    def mse(y_true, y_pred):
        y_pred -= y_true
        return np.mean(y_pred ** 2)

    assert_status(make_mse_question(), mse, "incorrect", reason="mutated", contains="`y_pred`")


def test_allow_mutation_compares_only_the_output():
    def sgd_step(w, g):
        w -= 0.1 * g
        return w

    question = FunctionQuestion("sgd_step", lambda w, g: w - 0.1 * g, [(np.ones(3), np.arange(3.0))],
                                allow_mutation=True)
    assert_status(question, sgd_step, "correct")


def test_inputs_of_the_cases_are_never_changed_by_the_learner():
    cases = [(np.ones(3), np.zeros(3))]
    question = FunctionQuestion("f", lambda a, b: a + b, cases)

    def vandal(a, b):
        a[:] = 99
        return a + b

    question.evaluate(vandal)
    assert np.array_equal(cases[0][0], np.ones(3))


def test_custom_compare():
    question = FunctionQuestion("ranks", lambda x: np.argsort(x), [(np.array([3.0, 1.0, 2.0]),)],
                                compare=lambda exp, got: (set(np.asarray(got).tolist()) == set(exp.tolist()),
                                                          "not a permutation"))
    assert_status(question, lambda x: np.array([2, 0, 1]), "correct")
    assert_status(question, lambda x: np.array([0, 0, 1]), "incorrect", contains="not a permutation")


def test_a_broken_reference_is_a_checker_error_not_a_crash():
    question = FunctionQuestion("f", lambda x: 1 / 0, [(1.0,)])
    result = question.evaluate(lambda x: x)
    assert result.status == "incorrect" and result.reason == "checker error"
    assert "not in your code" in result.message


def test_strange_answers_never_crash_the_checker():
    class Weird:
        def __eq__(self, other):
            raise RuntimeError("no comparing me")

        def __array__(self, *args, **kwargs):
            raise RuntimeError("no converting me")

    question = make_mse_question()
    for answer in (lambda t, p: Weird(), lambda t, p: (x for x in range(3)), lambda t, p: {"a": 1},
                   lambda t, p: [[1, 2], [3]], lambda t, p: 1 + 2j, lambda *a: np.inf):
        result = question.evaluate(answer)
        assert result.status == "incorrect", result.message
        assert result.reason != "checker error", result.message
    assert ValueQuestion("x", 1.0).evaluate(Weird()).status == "incorrect"


# ---------------------------------------------------------------------------
# ValueQuestion and CustomQuestion
# ---------------------------------------------------------------------------


def test_value_question_hides_the_expected_value_unless_asked():
    result = ValueQuestion("iterations", 625).evaluate(600)
    assert "625" not in result.message
    shown = ValueQuestion("iterations", 625, show_expected=True).evaluate(600)
    assert "Expected: 625" in shown.message


def test_value_question_with_strings_tuples_and_predicates():
    assert_status(ValueQuestion("answer", "Adam"), "  adam ", "correct")
    assert_status(ValueQuestion("answer", "Adam"), "SGD", "incorrect")
    pair = ValueQuestion("shape", (60000, 28, 28))
    assert_status(pair, (60000, 28, 28), "correct")
    assert_status(pair, (28, 28, 60000), "incorrect")
    lr = ValueQuestion("lr", lambda x: (0 < x < 0.5, "a learning rate between 0 and 0.5 converges here"),
                       mistakes=[Mistake("a learning rate must be positive", lambda x: x <= 0)])
    assert_status(lr, 0.1, "correct")
    assert_status(lr, -0.1, "incorrect", reason="mistake", contains="must be positive")
    assert_status(lr, 0.9, "incorrect", contains="converges here")
    assert_status(lr, "fast", "incorrect")


def test_custom_question():
    def accurate_enough(predictions):
        accuracy = float(np.mean(np.asarray(predictions) == np.array([0, 1, 1, 0])))
        return accuracy >= 0.75, f"accuracy {accuracy:.0%} (needed: 75 %)"

    question = CustomQuestion("predictions", accurate_enough)
    assert_status(question, [0, 1, 1, 0], "correct", contains="100%")
    assert_status(question, [1, 0, 0, 1], "incorrect", contains="needed: 75 %")
    assert_status(question, None, "not attempted")

    def train():
        raise NotImplementedError()

    assert_status(CustomQuestion("model", lambda make: make()), train, "not attempted")
    assert_status(CustomQuestion("model", lambda make: make()), lambda: 1 / 0, "incorrect", reason="raised",
                  contains="ZeroDivisionError")


# ---------------------------------------------------------------------------
# Display, hints, solutions, progress
# ---------------------------------------------------------------------------


def test_terminal_output_of_the_three_outcomes(capsys):
    question = make_mse_question()
    question.check(lambda t, p: np.mean((p - t) ** 2))
    question.check(lambda t, p: np.sum((p - t) ** 2))
    question.check(None)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("✓ Correct")
    assert any(line.startswith("✗ Incorrect") for line in lines)
    assert lines[-1].startswith("… Not attempted")


def test_html_boxes_are_coloured_and_worded():
    question = make_mse_question()
    correct = question.evaluate(lambda t, p: np.mean((p - t) ** 2))._repr_html_()
    wrong = question.evaluate(lambda t, p: np.sum((p - t) ** 2))._repr_html_()
    todo = question.evaluate(None)._repr_html_()
    assert "Correct" in correct and "#e6f4ea" in correct
    assert "Incorrect" in wrong and "#fdecea" in wrong and "Likely cause" in wrong
    assert "Not attempted" in todo and "#f1f3f5" in todo
    assert "<script" not in wrong


def test_html_escapes_the_learners_text():
    result = ValueQuestion("name", "Adam").evaluate("<b>x</b>")
    assert "<b>x</b>" not in result._repr_html_()


def test_hints_advance_and_can_be_chosen(capsys):
    question = QuestionSet("Lesson", q1=make_mse_question()).q1
    question.hint()
    question.hint()
    question.hint()
    question.hint()  # stays on the last one
    question.hint(1)
    question.hint(9)
    out = capsys.readouterr().out.splitlines()
    assert "Hint 1 of 3" in out[0] and "Hint 2 of 3" in out[1] and "Hint 3 of 3" in out[2]
    assert "Hint 3 of 3" in out[3] and "Hint 1 of 3" in out[4]
    assert "There are 3 hints" in out[5] and "ex.q1.hint(3)" in out[5]  # as the notebooks name it
    assert "No hints" in str(ValueQuestion("x", 1).hint_feedback())


def test_solution_is_shown_highlighted():
    feedback = make_mse_question().solution_feedback()
    assert "return np.mean((y_pred - y_true) ** 2)" in str(feedback)
    html = feedback._repr_html_()
    assert "<span" in html and "mean" in html  # Pygments markup


def test_question_set_and_progress(capsys):
    questions = QuestionSet("Lesson 1: loss functions", q1=make_mse_question(), q2=ValueQuestion("iterations", 625))
    assert questions.q1.key == "q1" and questions["q2"].name == "iterations"
    assert len(questions) == 2 and questions.keys() == ["q1", "q2"]
    with pytest.raises(AttributeError, match="q1, q2"):
        questions.q3
    questions.q1.check(None)
    questions.q2.check(625)
    assert questions.summary().summary() == "1 of 2 correct"
    questions.progress()
    out = capsys.readouterr().out
    assert "Lesson 1: loss functions: 1 of 2 correct" in out
    assert "✓ q2 (iterations): correct" in out and "… q1 (mse): not attempted" in out
    assert "1 of 2 correct" in questions.summary()._repr_html_()
    assert "q1.check(mse)" in questions.q1.evaluate(None).message


def test_question_set_rejects_non_questions():
    with pytest.raises(TypeError):
        QuestionSet("x", q1=42)


def test_result_validates_status():
    with pytest.raises(ValueError):
        Result("maybe", "")


def test_update_rules_get_a_step_diagnosis():
    cases = [(np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -0.4]))]
    step = FunctionQuestion("sgd_step", lambda w, g: w - 0.1 * g, cases)
    assert_status(step, lambda w, g: w + 0.1 * g, "incorrect", contains="stepped the opposite way")
    assert_status(step, lambda w, g: w - 0.2 * g, "incorrect", contains="2 times the expected size")


def test_plain_text_display_in_ipython_is_the_full_message():
    class Printer:
        def __init__(self):
            self.out = ""

        def text(self, value):
            self.out += value

    printer = Printer()
    result = make_mse_question().evaluate(lambda t, p: np.sum((p - t) ** 2))
    result._repr_pretty_(printer, cycle=False)
    assert printer.out.startswith("✗ Incorrect (mse)") and "Likely cause" in printer.out


def test_assert_correct_raises_with_the_message(capsys):
    question = make_mse_question()
    question.assert_correct(lambda t, p: np.mean((p - t) ** 2))
    with pytest.raises(AssertionError, match="not attempted"):
        question.assert_correct(None)
    with pytest.raises(AssertionError, match="times too large"):
        question.assert_correct(lambda t, p: np.sum((p - t) ** 2))
    assert "✓ Correct" in capsys.readouterr().out


# ---------------------------------------------------------------------------
# Issue 13: feedback that names what the learner actually did
# ---------------------------------------------------------------------------


def test_an_endless_loop_is_stopped_with_a_message_naming_the_loop():
    import time

    question = FunctionQuestion("double", reference=lambda x: 2 * x, cases=[(1.0,), (2.0,)])
    question.time_limit = 0.3

    def double(x):
        total = 0
        while x > 0:          # x never changes: the loop never ends
            total += 1
        return total

    started = time.perf_counter()
    result = assert_status(question, double, "incorrect", reason="timeout", contains="loop that never ends")
    assert time.perf_counter() - started < 3
    assert "kernel is fine" in result.message and "while x > 0" in result.message
    # an `except Exception` in the learner's code cannot swallow the stop
    def stubborn(x):
        while True:
            try:
                time.sleep(0.01)
            except Exception:
                pass
    assert_status(question, stubborn, "incorrect", reason="timeout")
    assert_status(question, lambda x: 2 * x, "correct")      # the alarm is disarmed afterwards
    time.sleep(0.4)


def test_what_the_learners_function_prints_is_capped(capsys):
    question = FunctionQuestion("double", reference=lambda x: 2 * x, cases=[(1.0,)])

    def chatty(x):
        for i in range(20_000):
            print("step", i)
        return 2 * x

    result = question.evaluate(chatty)
    assert result.status == "correct"
    assert capsys.readouterr().out == ""                   # evaluate() shows nothing itself
    lines = result.printed.splitlines()
    assert len(lines) <= 41 and lines[0] == "step 0"
    assert "19,960 more printed lines hidden" in lines[-1]
    question.check(chatty)
    shown = capsys.readouterr().out
    assert shown.count("step ") == 40 and "Correct" in shown


def test_true_where_a_number_is_expected_is_named():
    question = ValueQuestion("largest_stable_lr", expected=0.5)
    result = assert_status(question, True, "incorrect", reason="wrong type", contains="truth value True")
    assert "twice" not in result.message
    assert_status(ValueQuestion("flag", expected=True), True, "correct")


def test_decimal_and_fraction_answers_are_numbers():
    from decimal import Decimal
    from fractions import Fraction

    question = ValueQuestion("largest_stable_lr", expected=0.5)
    assert_status(question, Decimal("0.5"), "correct")
    assert_status(question, Fraction(1, 2), "correct")
    assert_status(question, Decimal("0.25"), "incorrect", reason="wrong values")


def test_a_percentage_where_a_fraction_is_wanted_is_named():
    question = FunctionQuestion("accuracy", reference=lambda p, y: float(np.mean(p == y)),
                                cases=[(np.arange(100) % 3, np.arange(100) % 2)])
    result = assert_status(question, lambda p, y: 100 * float(np.mean(p == y)), "incorrect", contains="percentage")
    assert "sum" not in result.diagnosis


def test_a_model_with_nan_weights_is_told_it_diverged_not_to_train_longer():
    from course_lib import nn

    model = nn.Sequential(nn.Linear(3, 2, seed=0))
    question = CustomQuestion("model", lambda m: (False, "test accuracy 10%: train longer"))
    model[0].weight.data[0, 0] = np.nan
    result = assert_status(question, model, "incorrect", reason="not finite", contains="diverged")
    assert "0.weight" in result.message and "train longer" not in result.summary


def test_also_accepted_answers_are_correct_with_a_note():
    question = ValueQuestion("term", expected="학습률", also_accepted=[("학습율", "The standard spelling is 학습률.")])
    result = assert_status(question, "학습율", "correct")
    assert "standard spelling" in result.summary


def test_a_top_level_not_implemented_error_shows_not_attempted_in_ipython():
    from IPython.testing.globalipapp import get_ipython as start_ipython
    from course_lib.exercises import core

    shell = start_ipython()
    assert core.install_not_attempted_handler()
    shown = []
    original_show = core.show
    core.show = shown.append
    try:
        result = shell.run_cell("x = None\nraise NotImplementedError()")
        assert isinstance(result.error_in_exec, NotImplementedError)     # the cell still fails (Run All stops)
        assert [f.kind for f in shown] == ["not attempted"]
        assert "raise NotImplementedError()" in shown[0].summary
        shell.run_cell("def f():\n    raise NotImplementedError('deep')\nf()")
        assert len(shown) == 1                                           # raised inside a function: a traceback
    finally:
        core.show = original_show
        shell.set_custom_exc((), None)


def test_not_attempted_and_short_tracebacks_share_ipythons_one_handler():
    """Old bug: the CourseError handler installed on import kept "not attempted" from installing."""
    from IPython.testing.globalipapp import get_ipython as start_ipython
    from course_lib import errors
    from course_lib.exercises import core

    shell = start_ipython()
    assert errors.install_short_tracebacks()
    assert core.install_not_attempted_handler()
    assert set(shell.custom_exceptions) == {errors.CourseError, NotImplementedError}
    shown = []
    original_show = core.show
    core.show = shown.append
    try:
        shell.run_cell("x = None\nraise NotImplementedError()")
        assert [f.kind for f in shown] == ["not attempted"]
        result = shell.run_cell("from course_lib import losses\nlosses.binary_crossentropy([1.0], [5.0])")
        assert type(result.error_in_exec).__name__ == "ProbabilityError"
        assert len(shown) == 1
    finally:
        core.show = original_show
        shell.set_custom_exc((), None)
