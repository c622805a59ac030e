"""Exercises with immediate feedback: question objects, one module per lesson and homework.

In a notebook::

    from course_lib.exercises import lesson1 as ex
    ex.q1.check(mse)      # correct / incorrect (with a diagnosis) / not attempted
    ex.q1.hint()          # the next hint; ex.q1.hint(2) a given one
    ex.q1.solution()      # the reference solution
    ex.progress()         # where you are in this lesson

Modules:

- ``core``      the question classes (FunctionQuestion, ValueQuestion, CustomQuestion),
                ``Mistake``, ``Result`` and ``QuestionSet``
- ``compare``   comparing answers and recognising common slips (sign, factor, shape)
- ``display``   the coloured boxes (JupyterLab) and plain text (terminal)
- ``generate``  builds the student notebooks from ``source/`` (``python -m course_lib.exercises.generate``)
- ``lesson0`` ... ``lesson7``: the questions themselves (graded homework has no checker here:
  its references and hidden tests are instructor-only, in the repository's ``grading/``)
"""

from course_lib.exercises.core import (
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    CustomQuestion,
    FunctionQuestion,
    Mistake,
    QuestionSet,
    Result,
    ValueQuestion,
)

__all__ = [
    "CORRECT",
    "INCORRECT",
    "NOT_ATTEMPTED",
    "CustomQuestion",
    "FunctionQuestion",
    "Mistake",
    "QuestionSet",
    "Result",
    "ValueQuestion",
]
