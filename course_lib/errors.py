"""The errors course_lib raises on purpose.

Each one is a subclass of a built-in error (so ``except ValueError`` still
works) and carries a message that names the problem *and* the fix.
"""


class CourseError(Exception):
    """Base class of every error course_lib raises on purpose."""


class UsageError(CourseError, TypeError, ValueError, RuntimeError):
    """The engine called in a way it cannot work (a wrong type, a call out of order, ...).

    It is also a TypeError, a ValueError and a RuntimeError, so code that
    catches one of those keeps working.
    """


class ShapeError(CourseError, ValueError):
    """Two arrays whose shapes don't fit together; the message names both shapes."""


class HyperparameterError(CourseError, ValueError):
    """A hyperparameter outside its valid range; the message names it and the range."""


class UnknownNameError(CourseError, KeyError):
    """``get("...")`` was given a name it doesn't know; the message lists the valid names."""

    def __str__(self):  # KeyError would otherwise print the message inside quotes
        return str(self.args[0]) if self.args else ""


class DivergenceError(CourseError, FloatingPointError):
    """Training produced a NaN or infinite loss; the message says where and what to try."""


class DataFileError(CourseError, OSError):
    """A data file is missing, truncated, corrupted or in the wrong format."""


class LabelError(CourseError, ValueError):
    """Class labels that a loss cannot use (not integers, or outside ``0 .. n_classes - 1``)."""


class ProbabilityError(CourseError, ValueError):
    """A loss that expects probabilities got values that are not (usually logits)."""


class StateDictError(CourseError, KeyError):
    """A state dict whose names don't match the model's; the message lists the differences."""

    def __str__(self):  # KeyError would otherwise print the message inside quotes
        return str(self.args[0]) if self.args else ""


# ---------------------------------------------------------------------------
# Short tracebacks: a CourseError shows the learner's lines and the message
# ---------------------------------------------------------------------------

def learner_frames(traceback):
    """``traceback`` without the frames inside ``course_lib`` (the learner's lines stay).

    The message of a CourseError already names the problem and the fix; the
    lines of our internals that led to it would only bury it.
    """
    import os
    import types
    package_folder = os.path.dirname(os.path.abspath(__file__)) + os.sep
    kept = []
    while traceback is not None:
        filename = os.path.abspath(traceback.tb_frame.f_code.co_filename)
        if not filename.startswith(package_folder):
            kept.append(traceback)
        traceback = traceback.tb_next
    shortened = None
    for entry in reversed(kept):
        shortened = types.TracebackType(shortened, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return shortened


# IPython keeps ONE custom handler for errors that reach a cell's top level; the course's
# handlers (this module's short tracebacks, the exercises' "not attempted" box) share it.
_CELL_ERROR_HANDLERS = {}   # exception class -> handler(shell, kind, error, traceback, tb_offset)


def handle_cell_errors(error_class, handler):
    """In IPython / Jupyter, show errors of ``error_class`` that reach a cell with ``handler``.

    Returns False (and does nothing) outside IPython, or when a handler that is not the
    course's is installed already.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    current = tuple(getattr(shell, "custom_exceptions", ()))
    if any(kind not in _CELL_ERROR_HANDLERS for kind in current):
        return False                                   # somebody else's handler: leave it alone
    _CELL_ERROR_HANDLERS[error_class] = handler
    shell.set_custom_exc(tuple(_CELL_ERROR_HANDLERS), _dispatch)
    return True


def _dispatch(shell, kind, error, traceback, tb_offset=None):
    for error_class, handler in _CELL_ERROR_HANDLERS.items():
        if isinstance(error, error_class):
            return handler(shell, kind, error, traceback, tb_offset)
    return shell.showtraceback((kind, error, traceback), tb_offset=tb_offset)


def _show_short(shell, kind, error, traceback, tb_offset=None):
    return shell.showtraceback((kind, error, learner_frames(traceback)), tb_offset=tb_offset)


def install_short_tracebacks():
    """In IPython / Jupyter, show CourseErrors with ``learner_frames`` only (done on import)."""
    return handle_cell_errors(CourseError, _show_short)
