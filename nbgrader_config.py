"""nbgrader configuration for instructors: the repository root is the nbgrader course directory.

The homework sources live where nbgrader looks for them, ``source/<assignment>/<assignment>.ipynb``
(``source/lessons/`` holds the lessons and is not an assignment). From the repository root,
with the virtual environment's ``bin`` on PATH (nbgrader runs ``alembic``)::

    nbgrader generate_assignment hw1_losses      # -> release/hw1_losses/hw1_losses.ipynb
    # collect submissions into submitted/<student>/hw1_losses/hw1_losses.ipynb, then
    nbgrader autograde hw1_losses --create       # -> autograded/, scores in gradebook.db
    nbgrader generate_feedback hw1_losses        # -> feedback/

``homework/`` already holds the student versions (``python -m course_lib.exercises.generate``
writes them with the same nbgrader preprocessors, plus ``raises-exception`` tags so that
Run All goes on past unfinished exercises). release/, submitted/, autograded/, feedback/ and
gradebook.db are not committed (see .gitignore).
"""

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file

c.CourseDirectory.course_id = "descent"

# Homework 3 trains a small network; give every cell time even on a slow laptop.
c.ExecutePreprocessor.timeout = 300
