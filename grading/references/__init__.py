"""The graded references and hidden tests, one module per homework (instructor-only).

Not part of the ``course_lib`` distribution (``pyproject.toml`` installs ``course_lib*`` only)
and never bound into the students' sandbox: nothing here can be imported by a student's kernel.

Each module ``hwN.py`` defines ``ASSIGNMENT`` (the nbgrader assignment name) and ``QUESTIONS``,
a dict from the ``grade_id`` of an autograded test cell to a ``Question``:

- ``make_inputs(rng)``: the hidden inputs (fixed edge cases plus random ones drawn from ``rng``,
  which the grader seeds afresh for every run);
- ``snippet``: Python run in the student's kernel by the recorder cell (see
  ``grading.protocol``); it sees ``inputs``, the student's names, ``call(f, *args)`` (which
  returns ``[output, changed_its_arguments]``) and ``value(name)``, and sets ``outputs``;
- ``kernel_view(inputs)``: the part of the inputs sent to the kernel (default: all of them);
- ``judge(inputs, outputs)``: run in the grader's process; returns a message, or raises ``Fail``.
"""

import importlib
import math

import numpy as np

from grading.protocol import Raised, Unsupported


class Question:
    def __init__(self, grade_id, make_inputs, snippet, judge, time_limit=20.0, kernel_view=None):
        self.grade_id = grade_id
        # What of the inputs the kernel sees (default: all); the judge always gets all of them.
        self.kernel_view = kernel_view or (lambda inputs: inputs)
        self.make_inputs = make_inputs
        self.snippet = snippet
        self.judge = judge
        self.time_limit = time_limit


def load(assignment):
    """The reference module of ``assignment`` (e.g. ``hw1_losses`` -> ``grading.references.hw1``)."""
    short = assignment.split("_", 1)[0]
    try:
        module = importlib.import_module(f"grading.references.{short}")
    except ModuleNotFoundError:
        raise SystemExit(f"No references for {assignment!r}: expected grading/references/{short}.py") from None
    if module.ASSIGNMENT != assignment:
        raise SystemExit(f"grading/references/{short}.py is for {module.ASSIGNMENT!r}, not {assignment!r}")
    return module


# ---------------------------------------------------------------------------
# Judging helpers (all run in the grader's process, on decoded outputs)
# ---------------------------------------------------------------------------


class Fail(Exception):
    """A failed check; the message is for the feedback."""


def as_array(got, what):
    """``got`` as a float array, or Fail with the reason (raised, unsupported, not numeric)."""
    if isinstance(got, Raised):
        raise Fail(f"{what}: your code raised {got.message}")
    if isinstance(got, Unsupported):
        raise Fail(f"{what}: returned a {got.what}, not numbers")
    if got is None:
        raise Fail(f"{what}: is None, not numbers (not done yet?)")
    try:
        array = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise Fail(f"{what}: returned {type(got).__name__}, not numbers") from None
    return array


def close(expected, got, what, rtol=1e-6, atol=1e-8):
    """Fail unless ``got`` has ``expected``'s shape and values (within rtol/atol, all finite)."""
    expected = np.asarray(expected, dtype=float)
    array = as_array(got, what)
    if array.shape != expected.shape and not (array.size == expected.size == 1):
        raise Fail(f"{what}: shape {array.shape}, expected {expected.shape}")
    array = array.reshape(expected.shape)
    if not np.all(np.isfinite(array)):
        raise Fail(f"{what}: not finite (nan or inf)")
    if not np.allclose(array, expected, rtol=rtol, atol=atol):
        raise Fail(f"{what}: wrong values")


def unpack(got, n, what):
    """A student's tuple of ``n`` outputs, or Fail."""
    if isinstance(got, Raised):
        raise Fail(f"{what}: your code raised {got.message}")
    if not isinstance(got, (tuple, list)) or len(got) != n:
        raise Fail(f"{what}: should return a tuple of {n} values")
    return got


def judge_calls(reference, output_count=1, rtol=1e-6, atol=1e-8, no_mutation=True):
    """A judge for snippets ``outputs = [call(f, *args) for args in inputs]``: compare with ``reference``."""
    def judge(inputs, outputs):
        if not isinstance(outputs, list) or len(outputs) != len(inputs):
            raise Fail("the record does not hold one output per hidden input")
        for index, (args, out) in enumerate(zip(inputs, outputs)):
            what = f"hidden input {index + 1} of {len(inputs)}"
            got, mutated = unpack(out, 2, what)
            expected = reference(*args)
            if output_count == 1:
                close(expected, got, what, rtol, atol)
            else:
                got = unpack(got, output_count, what)
                for k, (e, g) in enumerate(zip(expected, got)):
                    close(e, g, f"{what}, output {k + 1}", rtol, atol)
            if no_mutation and mutated:
                raise Fail(f"{what}: your function changed an array it was given")
        return f"all {len(inputs)} hidden inputs right"
    return judge


CALL_SNIPPET = "outputs = [call({name}, *args) for args in inputs]"


def function_question(grade_id, name, reference, make_inputs, output_count=1, rtol=1e-6, atol=1e-8,
                      time_limit=20.0, no_mutation=True):
    """The common case: the student's function ``name`` against ``reference`` on hidden inputs."""
    return Question(grade_id, make_inputs, CALL_SNIPPET.format(name=name),
                    judge_calls(reference, output_count, rtol, atol, no_mutation), time_limit)


def finite(x):
    return isinstance(x, (int, float)) and math.isfinite(x)
