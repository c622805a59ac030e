"""nbgrader configuration for instructors: the repository root is the nbgrader course directory.

The homework sources live where nbgrader looks for them, ``source/<assignment>/<assignment>.ipynb``
(``source/lessons/`` holds the lessons and is not an assignment). From the repository root,
with the virtual environment's ``bin`` on PATH (nbgrader runs ``alembic``)::

    nbgrader generate_assignment hw1_losses      # release/hw1_losses/, and the assignment in gradebook.db
    # collect submissions into submitted/<student>/hw1_losses/hw1_losses.ipynb, then
    python3 course.py grade hw1_losses           # sandboxed; scores in gradebook.db, notebooks in autograded/
    nbgrader generate_feedback hw1_losses        # -> feedback/
    nbgrader export                              # -> grades.csv

Grade with ``python3 course.py grade`` (``python -m grading``), never with ``nbgrader autograde``:
the hidden tests are not in the notebooks any more (they are in ``grading/references/``), and
``nbgrader autograde`` would run every student's code with your rights, unsandboxed. This file
therefore stops ``nbgrader autograde`` with a message (see the README, "For homework graders").

``homework/`` already holds the student versions (``python -m course_lib.exercises.generate``
writes them with the same nbgrader preprocessors, plus ``raises-exception`` tags so that
Run All goes on past unfinished exercises). release/, submitted/, autograded/, feedback/ and
gradebook.db are not committed (see .gitignore).
"""

import sys

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file

c.CourseDirectory.course_id = "descent"

if len(sys.argv) > 1 and sys.argv[1] == "autograde" and "nbgrader" in sys.argv[0]:
    sys.exit("nbgrader autograde is switched off for this course: it would run the students' code "
             "unsandboxed, and the hidden tests live in grading/references/. Grade with\n"
             "    python3 course.py grade ASSIGNMENT\n(see README.md, 'For homework graders').")
