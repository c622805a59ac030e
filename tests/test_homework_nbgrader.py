"""nbgrader on every homework, the way the README's "For homework graders" flow runs it:
``nbgrader generate_assignment`` (the committed student version is exactly what it releases),
then ``python -m grading`` (what ``python3 course.py grade`` runs) on the solution (full marks)
and the untouched student version (zero); for hw4 also ``nbgrader generate_feedback`` and
``nbgrader export``. And ``nbgrader autograde`` is refused by the course's nbgrader_config.py.

Each homework runs in its own temporary nbgrader course directory (safe under
``pytest -n 2 --dist loadfile``).
"""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.exercises.generate import RAISES_TAG, find_sources, is_homework
from grading_helpers import BIN, ROOT, env, grade, gradebook_scores, make_course, report, submit

sys.path.insert(0, str(ROOT))
from grading.sandbox import check_bwrap  # noqa: E402

HOMEWORK = [source.parent.name for source in find_sources(ROOT) if is_homework(source, ROOT)]
FLOW = "hw4_backprop"  # the homework also taken through feedback and export
SANDBOX = [] if check_bwrap() is None else ["--unsafe"]  # only our own solutions run here

pytestmark = pytest.mark.skipif(shutil.which("nbgrader", path=str(BIN)) is None,
                                reason="nbgrader is not installed in this environment")


def nbgrader(course, *args):
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env(), capture_output=True, text=True,
                          timeout=600)


def without_our_tags(nb):
    """The notebook JSON with the raises-exception tags the generator adds removed."""
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags")
        if tags is not None and RAISES_TAG in tags:
            tags.remove(RAISES_TAG)
            if not tags:
                del cell["metadata"]["tags"]
    return nb


def test_there_are_four_homeworks_with_backpropagation():
    assert len(HOMEWORK) >= 4 and "hw4_backprop" in HOMEWORK, HOMEWORK


@pytest.mark.parametrize("assignment", HOMEWORK)
def test_release_grade_feedback_export(assignment, tmp_path):
    course = make_course(tmp_path / "course", [assignment])
    notebook = f"{assignment}.ipynb"
    released = json.loads((course / "release" / assignment / notebook).read_text(encoding="utf-8"))
    committed_path = ROOT / "homework" / assignment / notebook
    committed = json.loads(committed_path.read_text(encoding="utf-8"))
    assert without_our_tags(committed) == released, (
        f"{committed_path.relative_to(ROOT)} is not what `nbgrader generate_assignment` gives "
        "(plus the raises-exception tags): run python -m course_lib.exercises.generate")

    source = json.loads((ROOT / "source" / assignment / notebook).read_text(encoding="utf-8"))
    answers = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]) for c in source["cells"]
               if c["metadata"].get("nbgrader", {}).get("solution")}
    submit(course, assignment, "solution", answers)
    submit(course, assignment, "untouched")
    result = grade(course, assignment, *SANDBOX)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checksum" not in (result.stdout + result.stderr).lower()

    points = sum(c["metadata"]["nbgrader"].get("points", 0) for c in released["cells"]
                 if c["metadata"].get("nbgrader", {}).get("grade"))
    scores = gradebook_scores(course, assignment)
    rows = report(course, assignment)
    assert scores["solution"] == (points, points), rows["solution"]["questions"]
    assert scores["untouched"] == (0, points), rows["untouched"]["questions"]

    if assignment != FLOW:
        return  # feedback and export once (each nbgrader command takes seconds to start)
    feedback = nbgrader(course, "generate_feedback", assignment)
    assert feedback.returncode == 0, feedback.stdout + feedback.stderr
    html = (course / "feedback" / "untouched" / assignment / f"{assignment}.html").read_text(encoding="utf-8")
    assert "judged by the grader" in html and "NotImplementedError" in html
    exported = nbgrader(course, "export")
    assert exported.returncode == 0, exported.stdout + exported.stderr
    with open(course / "grades.csv", newline="") as handle:
        grades = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert grades == {"solution": points, "untouched": 0}


def test_nbgrader_autograde_is_refused_with_the_way_to_grade(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "source" / "hw1_losses", course / "source" / "hw1_losses")
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    result = nbgrader(course, "autograde", "hw1_losses")
    assert result.returncode != 0
    assert "python3 course.py grade ASSIGNMENT" in result.stdout + result.stderr
    assert not (course / "autograded").exists()
