"""The homework grader (instructor-only; not part of the installed ``course_lib``).

``python -m grading ASSIGNMENT`` (or ``python3 course.py grade ASSIGNMENT``): see ``grading.cli``.
The references and hidden tests are in ``grading/references/``; the sandbox in
``grading.sandbox``; the kernel protocol in ``grading.protocol``; running and judging one
submission in ``grading.run``.
"""
