"""The exercise checkers: question objects with ``check``, ``hint`` and ``solution``.

A lesson module builds a few questions and the notebook calls them::

    q1 = FunctionQuestion("mse", reference=my_reference_mse, cases=[(y_true, y_pred), ...],
                          mistakes=[Mistake("you summed instead of averaging", wrong_mse)],
                          hints=["...", "..."], solution="def mse(...): ...")
    q1.check(mse)      # correct / incorrect (with a diagnosis) / not attempted
    q1.hint()          # the next hint ("Hint 1 of 2"); q1.hint(2) a given one
    q1.solution()      # the reference code

The three kinds of question:

- ``FunctionQuestion``: the learner writes a function; we call it on a few
  inputs (``cases``) and compare with a reference implementation.
- ``ValueQuestion``: the learner computes a value (a number, an array, a
  string, ...); ``expected`` may also be a predicate, for "any answer with
  property X".
- ``CustomQuestion``: anything else (e.g. "a trained model that reaches 80 %
  accuracy"): a check function decides.

``question.evaluate(answer)`` is the pure part: it returns a ``Result`` and
never raises, whatever the learner's code does. ``check`` shows that result:
a coloured box in JupyterLab, plain text in a terminal (see ``display.py``).
Comparing answers and recognising common slips is in ``compare.py``.
"""

import contextlib
import copy
import inspect
import io
import signal
import sys
import threading
import traceback
import warnings

import numpy as np

from course_lib.exercises import compare as cmp
from course_lib.exercises.display import Feedback, ProgressTable, show

CORRECT = "correct"
INCORRECT = "incorrect"
NOT_ATTEMPTED = "not attempted"
STATUSES = (CORRECT, INCORRECT, NOT_ATTEMPTED)

#: Seconds one call of the learner's code may run before the check stops it (a loop that never ends
#: must not hang the kernel). Stopping needs POSIX signals and the main thread (JupyterLab's kernel on
#: Linux and macOS); elsewhere the call runs without a limit.
TIME_LIMIT = 10.0
#: What a check shows of the text the learner's code prints: the first lines, then a count of the rest.
MAX_PRINTED_LINES = 40
MAX_PRINTED_CHARS = 4000


# ---------------------------------------------------------------------------
# Results and mistakes
# ---------------------------------------------------------------------------


class Result:
    """The outcome of checking one answer.

    Attributes:
        status:    ``"correct"``, ``"incorrect"`` or ``"not attempted"``.
        summary:   one sentence.
        details:   the diagnostic lines (input, expected, got, relative error,
                   likely cause), possibly empty.
        message:   ``summary`` and ``details`` together, as plain text.
        reason:    a short code for tests and tools: ``"ok"``, ``"not attempted"``,
                   ``"mistake"``, ``"raised"``, ``"mutated"``, ``"wrong type"``,
                   ``"wrong shape"``, ``"wrong length"``, ``"wrong keys"``,
                   ``"not finite"``, ``"wrong values"``, ``"timeout"``, ``"checker error"``.
        diagnosis: the recognised likely cause (a sentence), or ``None``.
        question:  the question's name.
        printed:   what the learner's code printed while being checked, cut to
                   ``MAX_PRINTED_LINES`` lines (``check`` shows it above the result).
    """

    def __init__(self, status, summary, details="", reason="", diagnosis=None, question=""):
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        self.status = status
        self.summary = summary
        self.details = details
        self.reason = reason or status
        self.diagnosis = diagnosis
        self.question = question
        self.printed = ""  # what the learner's code printed during the check (capped), shown before the result

    @property
    def correct(self):
        """True when the answer is correct."""
        return self.status == CORRECT

    @property
    def message(self):
        return self.summary + ("\n" + self.details if self.details else "")

    def feedback(self):
        """The ``display.Feedback`` that shows this result."""
        word = {CORRECT: "Correct", INCORRECT: "Incorrect", NOT_ATTEMPTED: "Not attempted"}[self.status]
        title = f"{word} ({self.question})" if self.question else word
        return Feedback(self.status, title, self.summary, self.details)

    def __str__(self):
        return str(self.feedback())

    def __repr__(self):
        return f"<Result {self.status} ({self.reason}): {self.summary}>"

    def _repr_pretty_(self, printer, cycle):  # IPython's plain-text display: the full text
        printer.text(str(self))

    def _repr_html_(self):
        return self.feedback()._repr_html_()


class Mistake:
    """A recognised wrong answer and what to tell the learner who gives it.

    ``wrong`` is, for a ``FunctionQuestion``, a wrong implementation with the
    same signature as the reference (the learner's output matches it on every
    case -> ``message`` is shown); for a ``ValueQuestion``, a wrong value, or a
    predicate ``wrong(answer) -> bool`` that recognises a family of wrong values.
    """

    def __init__(self, message, wrong):
        self.message = message
        self.wrong = wrong

    def __repr__(self):
        return f"Mistake({self.message!r})"


# ---------------------------------------------------------------------------
# Running the learner's code safely
# ---------------------------------------------------------------------------


def _is_not_attempted(answer):
    return answer is None or answer is Ellipsis


def _safe_copy(value):
    """A deep copy of ``value`` (the value itself if it cannot be copied)."""
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - e.g. a generator; then we cannot protect it
        return value


class TimeLimitExceeded(BaseException):
    """Raised inside the learner's code when a call runs longer than ``TIME_LIMIT``.

    A ``BaseException``, so that a learner's ``except Exception:`` cannot swallow it.
    """


def _can_time_limit():
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _time_limit(seconds):
    """Raise ``TimeLimitExceeded`` in the running code after ``seconds`` (no limit if None or unsupported)."""
    if not seconds or not _can_time_limit():
        yield
        return

    def _stop(signum, frame):
        raise TimeLimitExceeded(seconds)

    previous = signal.signal(signal.SIGALRM, _stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _CappedOutput(io.TextIOBase):
    """A stand-in for ``sys.stdout`` that keeps the first lines written to it and counts the rest."""

    def __init__(self, max_lines=MAX_PRINTED_LINES, max_chars=MAX_PRINTED_CHARS):
        super().__init__()
        self.max_lines, self.max_chars = max_lines, max_chars
        self.kept, self.kept_chars, self.lines_seen, self.hidden_lines = [], 0, 0, 0
        self._partial = ""

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        pieces = (self._partial + text).split("\n")
        self._partial = pieces.pop()
        for line in pieces:
            self._keep(line)
        return len(text)

    def _keep(self, line):
        self.lines_seen += 1
        if len(self.kept) < self.max_lines and self.kept_chars + len(line) <= self.max_chars:
            self.kept.append(line)
            self.kept_chars += len(line) + 1
        else:
            self.hidden_lines += 1

    def text(self):
        """The kept lines, and a note on how many were hidden."""
        if self._partial:
            self._keep(self._partial)
            self._partial = ""
        if not self.kept and not self.hidden_lines:
            return ""
        lines = list(self.kept)
        if self.hidden_lines:
            lines.append(f"... ({self.hidden_lines:,} more printed line{'s' * (self.hidden_lines != 1)} hidden: "
                         f"the check shows only the first {len(self.kept)}. Remove the print inside a loop, or "
                         "print only what you need.)")
        return "\n".join(lines)


@contextlib.contextmanager
def _captured_output():
    """Send ``print`` output (stdout and stderr) to one ``_CappedOutput`` while the check runs."""
    output = _CappedOutput()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        yield output


def _quietly(function, *args, time_limit=None, **kwargs):
    """Call ``function`` with NumPy warnings silenced; return ``(output, exception)``.

    With ``time_limit`` (seconds), a call still running then is stopped and
    ``TimeLimitExceeded`` is returned as the exception.
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with _time_limit(time_limit):
                return function(*args, **kwargs), None
        except TimeLimitExceeded as error:
            return None, error
        except Exception as error:  # noqa: BLE001 - reported to the learner, never re-raised
            return None, error


def _timeout_message(function_name, error, case_text=""):
    """The message for learner code stopped by the time limit: the likely loop, and that the kernel is fine."""
    seconds = error.args[0] if error.args else TIME_LIMIT
    summary = (f"`{function_name}` was still running after {seconds:g} s, so the check stopped it "
               "(your kernel is fine).")
    details = [case_text] if case_text else []
    line = cmp.learner_line(error)
    if line:
        details.append(f"It was running {line}")
    details.append("Likely cause: a loop that never ends, e.g. a `while` whose condition never becomes False "
                   "(is the variable it tests updated inside the loop?), or a loop over a list that grows.")
    return summary, "\n".join(details)


def _same(a, b, depth=0):
    """True when ``a`` and ``b`` hold the same data (used to detect mutated inputs)."""
    if depth > 4:
        return True
    if isinstance(a, (np.random.Generator, np.random.RandomState, np.random.BitGenerator)):
        return True  # drawing random numbers is *meant* to advance a generator
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        try:
            return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        except TypeError:
            return bool(np.array_equal(a, b))
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y, depth + 1) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k], depth + 1) for k in a)
    if hasattr(a, "__dict__") and not inspect.isroutine(a) and not inspect.isclass(a) and not inspect.ismodule(a):
        return type(a) is type(b) and _same(vars(a), vars(b), depth + 1)
    try:
        return bool(a == b) or bool(a != a and b != b)  # (NaN != NaN, yet an unchanged NaN is the same)
    except Exception:  # noqa: BLE001
        return True


def _parameter_names(function, n_args):
    """The names of the first ``n_args`` parameters of ``function`` (``arg1``... if unknown)."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [names[i] if i < len(names) else f"arg{i + 1}" for i in range(n_args)]


def _lower_first(text):
    return text[:1].lower() + text[1:]


def _raised_message(function_name, error, case_text):
    """The one friendly message for a learner's function that raised."""
    summary = f"`{function_name}` raised {cmp.exception_summary(error)}"
    details = [case_text]
    line = cmp.learner_line(error)
    if line:
        details.append(f"In your code, {line}")
    return summary, "\n".join(details)


# ---------------------------------------------------------------------------
# Questions
# ---------------------------------------------------------------------------


class Question:
    """What every question has: a name, hints, a solution, and ``check``.

    Subclasses implement ``_evaluate(answer) -> Result``.
    """

    def __init__(self, name, hints=(), solution=""):
        self.name = name
        self.hints = list(hints)
        self.solution_code = solution
        self.key = name  # the attribute name in its QuestionSet (q1, q2, ...), set by QuestionSet
        self.call_name = name  # how the learner reaches it in a notebook (ex.q1), set by QuestionSet
        self.last_status = None  # the status of the latest check(), for progress()
        self.time_limit = TIME_LIMIT  # seconds per call of the learner's code (None: no limit)
        self._hints_shown = 0

    # -- the pure part ------------------------------------------------------
    def evaluate(self, answer):
        """Check ``answer`` and return a ``Result``. Never raises, never displays.

        What the learner's code prints meanwhile is captured (capped) in ``result.printed``.
        """
        with _captured_output() as printed:
            try:
                result = self._evaluate(answer)
            except Exception as error:  # noqa: BLE001 - a bug in a question must not look like the learner's
                result = Result(
                    INCORRECT,
                    "The checker could not check this answer (this is a problem in the course, not in your code).",
                    f"{type(error).__name__}: {error}",
                    reason="checker error",
                )
        result.question = self.name
        result.printed = printed.text()
        return result

    def _evaluate(self, answer):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- what the notebook calls -------------------------------------------
    def check(self, answer=...):
        """Check ``answer`` and show the result (correct / incorrect / not attempted)."""
        result = self.evaluate(answer)
        self.last_status = result.status
        if result.printed:
            print(result.printed)
        show(result)

    def assert_correct(self, answer=...):
        """Show the result like ``check``, then raise ``AssertionError`` (with the message) unless correct.

        For graded test cells (nbgrader counts a cell that raises as failed).
        """
        result = self.evaluate(answer)
        self.last_status = result.status
        if result.printed:
            print(result.printed)
        show(result)
        if not result.correct:
            raise AssertionError(f"{self.name} is {result.status}: {result.message}")

    def hint_feedback(self, level=None):
        """The ``Feedback`` that ``hint(level)`` shows (advances the hint counter when ``level`` is None)."""
        count = len(self.hints)
        if count == 0:
            return Feedback("hint", f"No hints for {self.name}", f"`{self.call_name}.solution()` shows the answer.")
        if level is None:
            level = min(self._hints_shown + 1, count)
        if not isinstance(level, (int, np.integer)) or not 1 <= level <= count:
            return Feedback("hint", f"Hints for {self.name}",
                            f"There {'is' if count == 1 else 'are'} {count} hint{'s' * (count != 1)}: "
                            f"ask for one with `{self.call_name}.hint(1)` ... `{self.call_name}.hint({count})`.")
        self._hints_shown = max(self._hints_shown, int(level))
        more = "" if level == count else f"  (`{self.call_name}.hint()` for the next one)"
        return Feedback("hint", f"Hint {level} of {count} ({self.name})", self.hints[level - 1] + more)

    def hint(self, level=None):
        """Show a hint: the next one when ``level`` is None, else hint number ``level`` (from 1)."""
        show(self.hint_feedback(level))

    def solution_feedback(self):
        """The ``Feedback`` that ``solution()`` shows."""
        code = self.solution_code.strip("\n")
        if not code:
            return Feedback("solution", f"Solution ({self.name})", "No written solution for this question.")
        return Feedback("solution", f"Solution ({self.name})", code=code)

    def solution(self):
        """Show the reference solution."""
        show(self.solution_feedback())

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}>"


class FunctionQuestion(Question):
    """The learner writes a function; it is compared with ``reference`` on each case.

    Args:
        name: the function's name as the learner writes it (``"mse"``).
        reference: the correct implementation.
        cases: a list of argument tuples, or a function returning such a list
            (called at each check, so inputs are always fresh). A case that is
            not a tuple is one single argument.
        mistakes: ``Mistake(message, wrong_function)`` objects; when the
            learner's outputs match ``wrong_function``'s on every case, the
            message is the diagnosis.
        hints: hint texts, from gentle to almost-the-answer. `backticks` show as code.
        solution: the reference solution's source code, shown by ``solution()``.
        rtol, atol: tolerances for numbers (NumPy ``allclose``).
        compare: optional ``compare(expected, got) -> bool`` or ``-> (bool, message)``
            replacing the default comparison (e.g. "equal up to a permutation").
        output_names: names of the parts of a tuple output, e.g. ``("loss", "grad")``.
        allow_mutation: set True for a function that is *meant* to change its
            inputs in place (then only its return value is compared).
    """

    def __init__(self, name, reference, cases, mistakes=(), hints=(), solution="", rtol=1e-6, atol=1e-8,
                 compare=None, output_names=None, allow_mutation=False):
        super().__init__(name, hints, solution)
        self.reference = reference
        self.cases = cases
        self.mistakes = list(mistakes)
        self.rtol = rtol
        self.atol = atol
        self.compare = compare
        self.output_names = output_names
        self.allow_mutation = allow_mutation

    # -- helpers -------------------------------------------------------------
    def get_cases(self):
        """The list of argument tuples (calls ``cases`` if it is a function)."""
        cases = self.cases() if callable(self.cases) else self.cases
        return [case if isinstance(case, tuple) else (case,) for case in cases]

    def _describe_case(self, index, count, args):
        names = _parameter_names(self.reference, len(args))
        parts = [f"{name} = {cmp.describe(value)}" for name, value in zip(names, args)]
        return f"Input {index} of {count}: " + ("; ".join(parts) if parts else "(no arguments)")

    def _mismatch(self, expected, got):
        """``None`` if ``got`` is right, else a ``compare.Mismatch``."""
        if self.compare is None:
            return cmp.compare(expected, got, self.rtol, self.atol, names=self.output_names)
        verdict, _ = _quietly(self.compare, expected, got)
        message = "Your result is not what was expected."
        if isinstance(verdict, tuple):
            verdict, message = verdict
        return None if verdict else cmp.Mismatch("wrong values", "", expected, got, message)

    def _matching_mistake(self, cases, outputs):
        """The first ``Mistake`` whose outputs equal the learner's on every case, or None."""
        for mistake in self.mistakes:
            if not callable(mistake.wrong):
                continue
            for args, got in zip(cases, outputs):
                wrong_output, error = _quietly(mistake.wrong, *_safe_copy(args))
                if error is not None or self._mismatch(wrong_output, got) is not None:
                    break
            else:
                return mistake
        return None

    # -- the check -----------------------------------------------------------
    def _evaluate(self, answer):
        if isinstance(answer, str) and answer.strip() == self.name:
            answer = None  # q.check("mse") by mistake: treat like no answer, with a tip below
        if _is_not_attempted(answer):
            return Result(NOT_ATTEMPTED, f"Write `{self.name}`, then check it with `{self.call_name}.check({self.name})`.")
        if not callable(answer):
            return Result(INCORRECT, f"`{self.call_name}.check` expects your function `{self.name}` itself "
                          f"(without parentheses), not {cmp.describe(answer)}.", reason="wrong type")
        cases = self.get_cases()
        for index, args in enumerate(cases, start=1):
            case_text = self._describe_case(index, len(cases), args)
            expected, error = _quietly(self.reference, *_safe_copy(args))
            if error is not None:
                raise RuntimeError(f"the reference solution raised {cmp.exception_summary(error)} on input {index}")
            got, problem = self._run_learner(answer, args, case_text)
            if problem is not None:
                return problem
            mismatch = self._mismatch(expected, got)
            if mismatch is not None:
                return self._explain(answer, cases, args, case_text, mismatch)
        inputs = "its test input" if len(cases) == 1 else f"all {len(cases)} test inputs"
        return Result(CORRECT, f"`{self.name}` gives the right result on {inputs}.", reason="ok")

    def _run_learner(self, answer, args, case_text):
        """Call the learner's function on a copy of ``args``: ``(output, None)``, or ``(None, Result)`` if it
        is unfinished (NotImplementedError), raised, or changed its inputs."""
        given = _safe_copy(args)
        got, error = _quietly(answer, *given, time_limit=self.time_limit)
        if isinstance(error, TimeLimitExceeded):
            summary, details = _timeout_message(self.name, error, case_text)
            return None, Result(INCORRECT, summary, details, reason="timeout")
        if isinstance(error, NotImplementedError):
            return None, Result(NOT_ATTEMPTED, f"`{self.name}` still raises NotImplementedError: replace "
                                "`raise NotImplementedError()` with your code.", reason="not attempted")
        if error is not None:
            summary, details = _raised_message(self.name, error, case_text)
            return None, Result(INCORRECT, summary, details, reason="raised")
        if not self.allow_mutation:
            names = _parameter_names(self.reference, len(args))
            for name, before, after in zip(names, args, given):
                if not _same(before, after):
                    return None, Result(
                        INCORRECT,
                        f"`{self.name}` changed its input `{name}` in place; a function like this must leave "
                        "its inputs as they were.",
                        case_text + f"\nWork on a copy (`{name} = {name}.copy()`) or build a new array "
                        f"instead of `{name} -= ...` / `{name}[...] = ...`.",
                        reason="mutated",
                    )
        return got, None

    def _explain(self, answer, cases, args, case_text, mismatch):
        """The Result for a wrong output: a recognised Mistake (matching on *every* case) or a generic slip."""
        outputs = []
        for case in cases:
            output, error = _quietly(answer, *_safe_copy(case), time_limit=self.time_limit)
            if error is not None:
                break
            outputs.append(output)
        mistake = self._matching_mistake(cases, outputs) if len(outputs) == len(cases) else None
        diagnosis = mistake.message if mistake else None
        if mistake is None and self.compare is None and mismatch.kind in ("wrong values", "wrong shape"):
            named_args = list(zip(_parameter_names(self.reference, len(args)), args))
            diagnosis, _ = _quietly(cmp.generic_diagnosis, mismatch, named_args, self.rtol, self.atol)
        return self._incorrect(mismatch, case_text, diagnosis, "mistake" if mistake else mismatch.kind)

    def _incorrect(self, mismatch, case_text, diagnosis, reason):
        lines = [case_text]
        if self.compare is not None:
            lines.append(f"Got:      {cmp.describe(mismatch.got)}")
        elif mismatch.kind in ("wrong values", "not finite", "wrong shape"):
            lines.append(f"Expected: {cmp.describe(mismatch.expected)}")
            lines.append(f"Got:      {cmp.describe(mismatch.got)}")
            error = cmp.relative_error(mismatch.expected, mismatch.got)
            if mismatch.kind == "wrong values" and np.isfinite(error):
                lines.append(f"Relative error: {error:.2e}")
        if diagnosis:
            lines.append(f"Likely cause: {diagnosis}")
        message = mismatch.message
        if message.startswith("Your answer"):
            message = "the result" + message[len("Your answer"):]
        summary = f"`{self.name}`: {_lower_first(message)}"
        return Result(INCORRECT, summary, "\n".join(lines), reason=reason, diagnosis=diagnosis)


class ValueQuestion(Question):
    """The learner computes a value; it is compared with ``expected``.

    Args:
        name: what the value is (``"iterations"``).
        expected: the right answer: a number, an array, a tuple, a string
            (compared ignoring case and surrounding spaces), or a predicate
            ``expected(answer) -> bool`` (or ``-> (bool, message)``) for "any
            answer with property X".
        mistakes: ``Mistake(message, wrong_value_or_predicate)`` objects.
        show_expected: show the expected value when the answer is wrong (off by
            default: for a value question, it *is* the answer).
        also_accepted: ``[(answer, note), ...]``: other answers that count as
            correct (a variant spelling), each with a note shown with the verdict.
    """

    def __init__(self, name, expected, mistakes=(), hints=(), solution="", rtol=1e-6, atol=1e-8,
                 show_expected=False, also_accepted=()):
        super().__init__(name, hints, solution)
        self.expected = expected
        self.also_accepted = list(also_accepted)
        self.mistakes = list(mistakes)
        self.rtol = rtol
        self.atol = atol
        self.show_expected = show_expected

    def _evaluate(self, answer):
        if _is_not_attempted(answer):
            return Result(NOT_ATTEMPTED, f"Compute `{self.name}`, then check it with `{self.call_name}.check({self.name})`.")
        if callable(self.expected) and not isinstance(self.expected, type):
            return self._evaluate_predicate(answer)
        with np.errstate(all="ignore"):
            mismatch = cmp.compare(self.expected, answer, self.rtol, self.atol)
        if mismatch is None:
            return Result(CORRECT, f"`{self.name}` is right.", reason="ok")
        for accepted, note in self.also_accepted:
            if cmp.compare(accepted, answer, self.rtol, self.atol) is None:
                return Result(CORRECT, f"`{self.name}` is right. {note}", reason="ok")
        mistake = self._matching_mistake(answer)
        diagnosis = mistake.message if mistake else _quietly(cmp.generic_diagnosis, mismatch, (), self.rtol,
                                                             self.atol)[0]
        lines = []
        if self.show_expected:
            lines.append(f"Expected: {cmp.describe(mismatch.expected)}")
        lines.append(f"Got:      {cmp.describe(answer)}")
        if mismatch.kind == "wrong values":
            error = cmp.relative_error(mismatch.expected, mismatch.got)
            if np.isfinite(error):
                lines.append(f"Relative error: {error:.2e}")
        if diagnosis:
            lines.append(f"Likely cause: {diagnosis}")
        summary = f"`{self.name}`: {_lower_first(mismatch.message)}"
        return Result(INCORRECT, summary, "\n".join(lines), reason="mistake" if mistake else mismatch.kind,
                      diagnosis=diagnosis)

    def _evaluate_predicate(self, answer):
        verdict, error = _quietly(self.expected, answer)
        message = ""
        if isinstance(verdict, tuple):
            verdict, message = verdict
        if error is None:
            verdict, error = _quietly(bool, verdict)  # e.g. an array's truth value is an error
        if error is not None:
            return Result(INCORRECT, f"`{self.name}` could not be checked: {cmp.exception_summary(error)}",
                          f"Got: {cmp.describe(answer)}", reason="wrong type")
        if verdict:
            return Result(CORRECT, message or f"`{self.name}` is right.", reason="ok")
        mistake = self._matching_mistake(answer)
        details = [f"Got: {cmp.describe(answer)}"]
        if mistake:
            details.append(f"Likely cause: {mistake.message}")
        return Result(INCORRECT, message or f"`{self.name}` does not have the required property.",
                      "\n".join(details), reason="mistake" if mistake else "wrong values",
                      diagnosis=mistake.message if mistake else None)

    def _matching_mistake(self, answer):
        for mistake in self.mistakes:
            if callable(mistake.wrong):
                matched, error = _quietly(lambda: bool(mistake.wrong(answer)))
                if error is None and matched:
                    return mistake
            elif cmp.compare(mistake.wrong, answer, self.rtol, self.atol) is None:
                return mistake
        return None


def _non_finite_model(answer):
    """For a model with ``named_parameters()`` (a course_lib model): a sentence naming its non-finite
    parameters, or ``""`` (also for anything that is not such a model)."""
    named = getattr(answer, "named_parameters", None)
    if not callable(named):
        return ""
    try:
        bad = [name for name, p in named() if not np.all(np.isfinite(np.asarray(p.data)))]
    except Exception:  # noqa: BLE001 - not a model after all
        return ""
    if not bad:
        return ""
    shown = ", ".join(bad[:4]) + (", …" if len(bad) > 4 else "")
    return f"Parameters with NaN or inf: {shown}."


class CustomQuestion(Question):
    """A question decided by a check function, for answers that have no single right value.

    ``check_answer(answer)`` returns ``True`` / ``False``, or ``(bool, message)``,
    or a ``Result``. It may raise ``NotImplementedError`` (-> not attempted);
    any other exception is reported to the learner in one friendly message.

    Example: "a model that reaches at least 80 % test accuracy"::

        def _good_model(model):
            accuracy = (model.predict(X_test).argmax(1) == y_test).mean()
            return accuracy >= 0.8, f"test accuracy {accuracy:.1%} (needed: 80 %)"
        q5 = CustomQuestion("model", _good_model, hints=[...])
    """

    def __init__(self, name, check_answer, hints=(), solution=""):
        super().__init__(name, hints, solution)
        self.check_answer = check_answer

    def _evaluate(self, answer):
        if _is_not_attempted(answer):
            return Result(NOT_ATTEMPTED, f"Build `{self.name}`, then check it with `{self.call_name}.check({self.name})`.")
        broken = _non_finite_model(answer)
        if broken:
            return Result(INCORRECT, f"`{self.name}` has NaN or infinite weights, so it cannot predict anything: "
                          "its training diverged.", broken + "\nLikely cause: a learning rate too large for this "
                          "model (or inputs not scaled to [0, 1]). Training longer cannot help: NaN weights stay "
                          "NaN. Build a fresh model and train it with a smaller learning rate.", reason="not finite")
        verdict, error = _quietly(self.check_answer, answer, time_limit=self.time_limit)
        if isinstance(error, TimeLimitExceeded):
            summary, details = _timeout_message(self.name, error)
            return Result(INCORRECT, summary, details, reason="timeout")
        if isinstance(error, NotImplementedError):
            return Result(NOT_ATTEMPTED, f"Your code still raises NotImplementedError: replace "
                          "`raise NotImplementedError()` with your code.", reason="not attempted")
        if error is not None:
            summary = f"Checking `{self.name}` raised {cmp.exception_summary(error)}"
            line = cmp.learner_line(error)
            return Result(INCORRECT, summary, f"In your code, {line}" if line else "", reason="raised")
        if isinstance(verdict, Result):
            return verdict
        message = ""
        if isinstance(verdict, tuple):
            verdict, message = verdict
        if verdict:
            return Result(CORRECT, message or f"`{self.name}` passes.", reason="ok")
        return Result(INCORRECT, message or f"`{self.name}` does not pass yet.", reason="wrong values")


# ---------------------------------------------------------------------------
# An unfinished value exercise: "not attempted" instead of a red traceback
# ---------------------------------------------------------------------------


def not_attempted_cell_feedback():
    """The ``Feedback`` shown for a cell that still runs ``raise NotImplementedError()`` at its top level."""
    return Feedback(NOT_ATTEMPTED, "Not attempted",
                    "This cell still contains `raise NotImplementedError()`: replace that line (and "
                    "`# YOUR CODE HERE`) with your code, then run the cell again.",
                    "The other cells of the notebook still run: they use the course's own code.")


def _is_raised_at_top_level(tb):
    """True when the innermost frame of traceback ``tb`` is a notebook cell's own top level."""
    frames = traceback.extract_tb(tb)
    return bool(frames) and frames[-1].name == "<module>" and not cmp._is_library_file(frames[-1].filename)


def _not_attempted_handler(shell, etype, value, tb, tb_offset=None):
    """IPython custom exception handler for NotImplementedError (see ``install_not_attempted_handler``)."""
    if _is_raised_at_top_level(tb):
        show(not_attempted_cell_feedback())
        return None
    # raised deeper (inside a function): the usual traceback
    stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    shell._showtraceback(etype, value, stb)
    return None


def install_not_attempted_handler():
    """In a Jupyter kernel, show a cell-level ``raise NotImplementedError()`` as "not attempted".

    The generated student notebooks put ``raise NotImplementedError()`` where a value exercise's
    solution goes (at the top level of the cell, tagged ``raises-exception``). Instead of a red
    traceback, the learner then sees the same grey "not attempted" box as for a function exercise.
    The cell still counts as failed for the kernel (*Run All* continues only past cells tagged
    ``raises-exception``, as before). Does nothing outside IPython, or if another custom handler is set.
    """
    from ..errors import handle_cell_errors   # one IPython handler serves the course's errors

    return handle_cell_errors(NotImplementedError, _not_attempted_handler)


# ---------------------------------------------------------------------------
# A lesson's questions
# ---------------------------------------------------------------------------


class QuestionSet:
    """The questions of one lesson, by name: ``questions.q1``, ``questions["q1"]``, ``progress()``.

    ``QuestionSet("Lesson 1: loss functions", q1=q1, q2=q2)``; each question's
    ``key`` becomes its name here. The notebooks import a lesson's questions as
    ``from course_lib.exercises import lesson1 as ex``, so messages say
    ``ex.q1.hint()``; pass ``prefix=""`` for another convention.
    """

    def __init__(self, title, prefix="ex.", **questions):
        self.title = title
        self._questions = dict(questions)
        for key, question in self._questions.items():
            if not isinstance(question, Question):
                raise TypeError(f"{key} must be a question (FunctionQuestion, ...), not {type(question).__name__}")
            question.key = key
            question.call_name = prefix + key
        install_not_attempted_handler()

    def __getattr__(self, key):
        questions = self.__dict__.get("_questions", {})
        if key in questions:
            return questions[key]
        raise AttributeError(f"{self.__dict__.get('title', 'this lesson')!r} has no question {key!r}; "
                             f"its questions are {', '.join(questions)}")

    def __getitem__(self, key):
        return self._questions[key]

    def __iter__(self):
        return iter(self._questions.values())

    def __len__(self):
        return len(self._questions)

    def keys(self):
        return list(self._questions)

    def summary(self):
        """A ``display.ProgressTable``: each question's latest status and the count correct."""
        rows = [(key, q.name, q.last_status or NOT_ATTEMPTED) for key, q in self._questions.items()]
        return ProgressTable(self.title, rows)

    def progress(self):
        """Show which questions are correct, incorrect or not attempted yet."""
        show(self.summary())

    def __repr__(self):
        return f"<QuestionSet {self.title!r}: {', '.join(self._questions)}>"
