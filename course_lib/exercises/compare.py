"""Comparing a learner's answer with the expected one, and explaining the difference.

Used by the questions in ``core.py``. Three jobs:

1. ``compare(expected, got, rtol, atol)`` walks the expected answer (a number,
   an array, a string, or a tuple / list / dict of those) and returns ``None``
   when ``got`` matches, or a ``Mismatch`` saying where and how it differs
   (wrong type, wrong shape, NaN, wrong values).
2. ``generic_diagnosis(mismatch, args)`` recognises common slips that need no
   question-specific knowledge: a flipped sign, a constant factor (mean vs sum,
   a forgotten 1/N or 2), a transposed result, right numbers in the wrong shape.
3. Small helpers that describe values briefly (``describe``), measure the
   ``relative_error`` and find the learner's own line in a traceback.

Numbers match when ``|got - expected| <= atol + rtol * |expected|`` elementwise
(NumPy's ``allclose``).
"""

import numbers
import os
import sysconfig
import traceback

import numpy as np

from .. import gradcheck

# ---------------------------------------------------------------------------
# Describing values briefly
# ---------------------------------------------------------------------------


def _format_number(x):
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if x == 0 or (1e-4 <= abs(x) < 1e5):
        return f"{x:.6g}"
    return f"{x:.4e}"


def describe(value, max_items=4):
    """A short description of ``value``: its type, its shape and a few of its numbers."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _format_number(value.item()) if value.dtype.kind in "biuf" else repr(value.item())
        flat = value.ravel()
        if value.dtype.kind in "biuf":
            shown = ", ".join(_format_number(v) for v in flat[:max_items])
        else:
            shown = ", ".join(repr(v) for v in flat[:max_items])
        more = ", …" if flat.size > max_items else ""
        return f"array of shape {value.shape} ({value.dtype}) [{shown}{more}]"
    if isinstance(value, (bool, np.bool_, int, float, np.integer, np.floating)):
        return _format_number(value)
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, (list, tuple)):
        kind = type(value).__name__
        if len(value) <= 3:
            inner = ", ".join(describe(v, max_items=3) for v in value)
            return f"{kind} ({inner})" if kind == "tuple" else f"list [{inner}]"
        return f"{kind} of {len(value)} items"
    if isinstance(value, dict):
        keys = ", ".join(repr(k) for k in list(value)[:4])
        return f"dict with keys {keys}{', …' if len(value) > 4 else ''}"
    if value is None:
        return "None"
    if isinstance(value, np.random.Generator):
        return "a random generator (np.random.Generator)"
    if callable(value) and hasattr(value, "__name__"):
        return f"function {value.__name__}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def relative_error(expected, got):
    """``gradcheck.relative_error`` (the course's one formula), or ``nan`` when the two
    cannot be compared (different sizes, not numbers). A ``got`` with the same number of
    values in another shape is reshaped first, so the size of the error is still shown."""
    try:
        expected = np.asarray(expected, dtype=float)
        got = np.asarray(got, dtype=float)
        if got.size != expected.size:
            return float("nan")
        return gradcheck.relative_error(expected, got.reshape(expected.shape))
    except (TypeError, ValueError):
        return float("nan")


# ---------------------------------------------------------------------------
# Structural comparison
# ---------------------------------------------------------------------------


class Mismatch:
    """Where and how an answer differs from the expected one.

    ``kind`` is one of ``"wrong type"``, ``"wrong length"``, ``"wrong keys"``,
    ``"wrong shape"``, ``"not finite"``, ``"wrong values"``; ``where`` names the
    part of the answer (``""`` for the whole answer, ``"the 2nd returned value"``,
    ...); ``expected`` / ``got`` are the differing parts (arrays for numbers);
    ``message`` says it in a sentence.
    """

    def __init__(self, kind, where, expected, got, message):
        self.kind = kind
        self.where = where
        self.expected = expected
        self.got = got
        self.message = message

    def __repr__(self):
        return f"Mismatch({self.kind!r}, {self.where!r}: {self.message})"


def _ordinal(i):
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(i, f"{i}th")


def is_number_like(value):
    """True for Python / NumPy numbers and numeric arrays (what we compare numerically)."""
    if isinstance(value, (bool, np.bool_, int, float, np.integer, np.floating)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind in "biuf"


def _as_numeric_array(value):
    """``np.asarray(value, float)``, or ``None`` if ``value`` is not numeric (str, ragged list, object)."""
    if value is None or isinstance(value, (str, bytes, dict)):
        return None
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - ragged lists, objects whose __array__ fails, ...
        return None
    if array.dtype.kind == "O" and array.size and all(
            isinstance(item, numbers.Number) and not isinstance(item, complex) for item in array.ravel()):
        try:  # decimal.Decimal, fractions.Fraction, ...: numbers NumPy stores as objects
            return array.astype(float)
        except (TypeError, ValueError, OverflowError):
            return None
    if array.dtype.kind not in "biuf":
        return None
    return array.astype(float)


def compare(expected, got, rtol=1e-6, atol=1e-8, where="", names=None):
    """Return ``None`` if ``got`` matches ``expected``, else a ``Mismatch``.

    Coercion is lenient where it is harmless: array-likes (lists, NumPy scalars,
    0-d arrays, Python floats) are accepted wherever numbers are expected, and a
    single-element array is accepted where one number is expected. ``names``
    optionally names the parts of a tuple answer (``("loss", "grad")``).
    """
    if isinstance(expected, (tuple, list)) and not is_number_like(expected):
        if isinstance(expected, list) and _as_numeric_array(expected) is not None:
            return _compare_numbers(np.asarray(expected, dtype=float), got, rtol, atol, where)
        return _compare_sequence(expected, got, rtol, atol, where, names)
    if isinstance(expected, dict):
        return _compare_dict(expected, got, rtol, atol, where)
    if isinstance(expected, str):
        if not isinstance(got, str):
            return Mismatch("wrong type", where, expected, got,
                            f"{_the(where)} should be a string (text), not {describe(got)}.")
        if got.strip().lower() != expected.strip().lower():
            return Mismatch("wrong values", where, expected, got, f"{_the(where)} is not the expected text.")
        return None
    if is_number_like(expected):
        return _compare_numbers(expected, got, rtol, atol, where)
    # Anything else (None, objects): plain equality.
    try:
        same = bool(got == expected)
    except Exception:  # noqa: BLE001 - a strange object's __eq__ must not crash the checker
        same = False
    if not same:
        return Mismatch("wrong values", where, expected, got, f"{_the(where)} is not the expected value.")
    return None


def _the(where):
    return where[0].upper() + where[1:] if where else "Your answer"


def _compare_sequence(expected, got, rtol, atol, where, names):
    if isinstance(got, np.ndarray) or not isinstance(got, (tuple, list)):
        what = f"{len(expected)} values" + (f" ({', '.join(names)})" if names else "")
        return Mismatch("wrong type", where, expected, got,
                        f"{_the(where)} should be a tuple of {what}, e.g. `return {', '.join(names or ['a', 'b'])}`; "
                        f"got {describe(got)}.")
    if len(got) != len(expected):
        return Mismatch("wrong length", where, expected, got,
                        f"{_the(where)} should have {len(expected)} items, but has {len(got)}.")
    for i, (exp_item, got_item) in enumerate(zip(expected, got), start=1):
        if names and i <= len(names):
            part = f"the {_ordinal(i)} returned value ({names[i - 1]})"
        else:
            part = f"item {i} of {where or 'your answer'}" if where else f"the {_ordinal(i)} returned value"
        mismatch = compare(exp_item, got_item, rtol, atol, part)
        if mismatch is not None:
            return mismatch
    return None


def _compare_dict(expected, got, rtol, atol, where):
    if not isinstance(got, dict):
        return Mismatch("wrong type", where, expected, got, f"{_the(where)} should be a dict, got {describe(got)}.")
    if set(got) != set(expected):
        missing = sorted(map(str, set(expected) - set(got)))
        extra = sorted(map(str, set(got) - set(expected)))
        message = f"{_the(where)} has the wrong keys"
        if missing:
            message += f"; missing: {', '.join(missing)}"
        if extra:
            message += f"; unexpected: {', '.join(extra)}"
        return Mismatch("wrong keys", where, expected, got, message + ".")
    for key in expected:
        mismatch = compare(expected[key], got[key], rtol, atol, f"the value for key {key!r}")
        if mismatch is not None:
            return mismatch
    return None


def _compare_numbers(expected, got, rtol, atol, where):
    expected_array = np.asarray(expected, dtype=float)
    if got is None:
        return Mismatch("wrong type", where, expected, got,
                        f"{_the(where)} is None: did you forget the `return` statement?")
    if isinstance(got, (bool, np.bool_)) and not isinstance(expected, (bool, np.bool_)):
        return Mismatch("wrong type", where, expected, got,
                        f"{_the(where)} is the truth value {bool(got)}, where a number is expected: did you "
                        "assign a comparison (such as `lr < 2 / curvature`) instead of computing the number itself? "
                        f"(Python counts {bool(got)} as {int(got)}.)")
    got_array = _as_numeric_array(got)
    if got_array is None:
        wanted = "a number" if expected_array.ndim == 0 else f"an array of shape {expected_array.shape}"
        return Mismatch("wrong type", where, expected, got, f"{_the(where)} should be {wanted}, not {describe(got)}.")
    if expected_array.ndim == 0:
        if got_array.size != 1:
            return Mismatch("wrong shape", where, expected_array, got_array,
                            f"{_the(where)} should be a single number, but is an array of shape {got_array.shape}.")
        got_array = got_array.reshape(())
    elif got_array.shape != expected_array.shape:
        return Mismatch("wrong shape", where, expected_array, got_array,
                        f"{_the(where)} should have shape {expected_array.shape}, but has shape {got_array.shape}.")
    if np.allclose(got_array, expected_array, rtol=rtol, atol=atol, equal_nan=True):
        return None
    bad = ~np.isfinite(got_array) & np.isfinite(expected_array)
    if bad.any():
        count = int(bad.sum())
        kinds = []
        if np.isnan(got_array[bad]).any():
            kinds.append("NaN")
        if np.isinf(got_array[bad]).any():
            kinds.append("inf")
        place = "" if got_array.ndim == 0 else f" at {count} of {got_array.size} positions"
        return Mismatch("not finite", where, expected_array, got_array,
                        f"{_the(where)} contains {' and '.join(kinds)}{place}, where finite numbers are expected "
                        "(a log of 0, a division by 0, or an overflowing exp?).")
    return Mismatch("wrong values", where, expected_array, got_array, f"{_the(where)} has the wrong value"
                    + ("." if got_array.ndim == 0 else "s."))


# ---------------------------------------------------------------------------
# Generic diagnoses
# ---------------------------------------------------------------------------


def _sizes_in(args):
    """Candidate "N"s from the arguments: (size, what it is) for each array argument."""
    sizes = []
    for name, value in args:
        array = np.asarray(value) if isinstance(value, (np.ndarray, list)) else None
        if array is None or array.ndim == 0:
            continue
        sizes.append((array.shape[0], f"the length of the first axis of `{name}` (the batch size)"))
        if array.ndim > 1:
            sizes.append((array.size, f"the number of elements of `{name}`"))
            sizes.append((array.shape[-1], f"the length of the last axis of `{name}`"))
    return [(n, what) for n, what in sizes if n > 1]


def generic_diagnosis(mismatch, args=(), rtol=1e-6, atol=1e-8):
    """A sentence explaining a common slip that fits ``mismatch``, or ``None``.

    ``args`` is a list of ``(name, value)`` pairs (the inputs), used to name
    the size when the answer is off by a factor such as the batch size.
    """
    if mismatch.kind == "wrong shape":
        return _shape_diagnosis(mismatch.expected, mismatch.got, rtol, atol)
    if mismatch.kind != "wrong values" or not is_number_like(mismatch.got):
        return None
    expected = np.asarray(mismatch.expected, dtype=float)
    got = np.asarray(mismatch.got, dtype=float)
    tolerance = dict(rtol=max(rtol, 1e-5), atol=atol)
    if np.allclose(expected, 0, atol=atol):
        return None
    if np.allclose(got, -expected, **tolerance):
        return ("The sign is flipped: you get minus the expected result. Check the order of a subtraction "
                "(y_pred − y_true vs y_true − y_pred) or whether you step along the gradient instead of against it.")
    factor = float(np.sum(got * expected) / np.sum(expected * expected))
    if factor == 0 or not np.allclose(got, factor * expected, **tolerance):
        return _step_diagnosis(expected, got, args, tolerance)
    if np.isclose(factor, 100, rtol=1e-6) and np.all((expected >= 0) & (expected <= 1)):
        return ("Your result is exactly 100 times the expected one, and the expected value is a fraction "
                "between 0 and 1: did you return a percentage? Leave out the `* 100`.")
    for n, what in _sizes_in(args):
        if np.isclose(factor, n, rtol=1e-6):
            return (f"Your result is {n} times too large, and {n} is {what}: did you sum where a mean is wanted, "
                    "or forget to divide by the batch size?")
        if np.isclose(factor, 1 / n, rtol=1e-6):
            return (f"Your result is {n} times too small, and {n} is {what}: did you divide by it where a sum "
                    "is wanted, or divide by the batch size twice?")
    if np.isclose(factor, 2, rtol=1e-6):
        return "Your result is exactly twice the expected one: check for a factor of 2 (from differentiating a square?)."
    if np.isclose(factor, 0.5, rtol=1e-6):
        return "Your result is exactly half the expected one: a factor of 2 is missing (from differentiating a square?)."
    if np.count_nonzero(expected) < 2:
        return None  # one number is always "a constant factor" off: nothing learned from saying so
    return (f"Your result is the expected one times {factor:.4g}: a constant factor is off "
            "(a scale such as 1/N, a learning rate, or a factor of 2).")


def _step_diagnosis(expected, got, args, tolerance):
    """For update rules (new θ from old θ): a step taken the wrong way, or of the wrong size."""
    for name, value in args:
        if not (isinstance(value, np.ndarray) and value.shape == expected.shape and value.dtype.kind == "f"):
            continue
        wanted, taken = expected - value, got - value
        if np.allclose(wanted, 0, atol=tolerance["atol"]):
            continue
        if np.allclose(taken, -wanted, **tolerance):
            return (f"Starting from `{name}`, you stepped the opposite way: the change should be minus what you "
                    "added (step *against* the gradient: subtract lr times it).")
        ratio = float(np.sum(taken * wanted) / np.sum(wanted * wanted))
        if ratio != 0 and not np.isclose(ratio, 1) and np.allclose(taken, ratio * wanted, **tolerance):
            return (f"Starting from `{name}`, your step has the right direction but is {ratio:.4g} times the "
                    "expected size: check the learning rate and the scaling of the step.")
    return None


def _shape_diagnosis(expected, got, rtol, atol):
    expected = np.asarray(expected, dtype=float)
    got = np.asarray(got, dtype=float)
    if expected.ndim == 2 and got.shape == expected.T.shape and np.allclose(got, expected.T, rtol=rtol, atol=atol):
        return "Your result is the transpose of the expected one: swap the order of the matrix product, or add `.T`."
    if got.size == expected.size and np.allclose(got.ravel(), expected.ravel(), rtol=rtol, atol=atol):
        hint = ""
        if got.ndim == expected.ndim + 1 and got.shape[-1] == 1:
            hint = " (a `keepdims=True` too many, or a column vector where a flat array is wanted?)"
        return f"The numbers are right but the shape is wrong: reshape to {expected.shape}{hint}."
    if expected.ndim == 1 and got.ndim == 2 and expected.shape[0] in got.shape and 1 not in got.shape:
        return ("Two arrays of shapes (n,) and (n, 1) were probably combined and broadcast into a matrix: "
                "make both the same shape first (e.g. `y.reshape(-1)`).")
    return None


# ---------------------------------------------------------------------------
# Tracebacks: the learner's own line
# ---------------------------------------------------------------------------

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # course_lib/
_LIBRARY_DIRS = tuple(
    os.path.abspath(path)
    for path in {sysconfig.get_paths().get(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    if path
)


def _is_library_file(filename):
    path = os.path.abspath(filename)
    if path.startswith(os.path.dirname(_PACKAGE_DIR) + os.sep + "course_lib" + os.sep):
        return True
    return any(path.startswith(directory + os.sep) for directory in _LIBRARY_DIRS)


def learner_line(exception):
    """``"line 3: return np.mean(d)"`` for the deepest frame of the learner's own code, or ``None``.

    Frames inside course_lib, the standard library and installed packages are
    skipped, so the learner sees where *their* code went wrong, not ours.
    """
    frames = traceback.extract_tb(exception.__traceback__)
    own = [frame for frame in frames if not _is_library_file(frame.filename)]
    if not own:
        return None
    frame = own[-1]
    location = f"line {frame.lineno}"
    if frame.name not in ("<module>", "<lambda>"):
        location += f" of {frame.name}"
    if frame.line:
        return f"{location}: {frame.line.strip()}"
    return location


def exception_summary(exception):
    """``"ValueError: operands could not be broadcast ..."`` (one line, trimmed)."""
    text = str(exception).strip().splitlines()
    message = text[0] if text else ""
    if len(message) > 200:
        message = message[:197] + "..."
    name = type(exception).__name__
    return f"{name}: {message}" if message else name
