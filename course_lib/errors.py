"""The errors course_lib raises on purpose.

Each one is a subclass of a built-in error (so ``except ValueError`` still
works) and carries a message that names the problem *and* the fix.
"""


class CourseError(Exception):
    """Base class of every error course_lib raises on purpose."""


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
