"""nbgrader on every homework: generate, then autograde the solution (full marks) and the untouched
student version (zero, no crash); and the committed student version is what nbgrader generates.

Each homework runs in its own temporary nbgrader course directory, so the tests are independent
(safe under ``pytest -n 2 --dist loadfile``). nbgrader is run through its command line, as an
instructor would; its ``bin`` directory must be on PATH (nbgrader calls ``alembic``).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.exercises.generate import RAISES_TAG, find_sources, is_homework

ROOT = Path(__file__).resolve().parents[1]
HOMEWORK = [source.parent.name for source in find_sources(ROOT) if is_homework(source, ROOT)]

pytestmark = pytest.mark.skipif(shutil.which("nbgrader", path=str(Path(sys.executable).parent)) is None,
                                reason="nbgrader is not installed in this environment")

CONFIG = """\
c = get_config()
c.CourseDirectory.course_id = "descent-test"
c.CourseDirectory.root = {root!r}
c.ExecutePreprocessor.timeout = 300
"""


def run_nbgrader(course, *args):
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "nbgrader"), *args],
        cwd=course, env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def without_our_tags(nb):
    """The notebook JSON with the raises-exception tags the generator adds removed."""
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags")
        if tags is not None and RAISES_TAG in tags:
            tags.remove(RAISES_TAG)
            if not tags:
                del cell["metadata"]["tags"]
    return nb


def scores(course, assignment, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "descent-test") as gradebook:
        submission = gradebook.find_submission(assignment, student)
        return submission.score, submission.max_score


def test_there_are_at_least_three_homeworks():
    assert len(HOMEWORK) >= 3, HOMEWORK


@pytest.mark.parametrize("assignment", HOMEWORK)
def test_nbgrader_generate_and_autograde(assignment, tmp_path):
    course = tmp_path / "course"
    notebook = f"{assignment}.ipynb"
    shutil.copytree(ROOT / "source" / assignment, course / "source" / assignment)
    (course / "nbgrader_config.py").write_text(CONFIG.format(root=str(course)))

    run_nbgrader(course, "generate_assignment", assignment, "--force")
    released = json.loads((course / "release" / assignment / notebook).read_text(encoding="utf-8"))
    committed_path = ROOT / "homework" / assignment / notebook
    committed = json.loads(committed_path.read_text(encoding="utf-8"))
    assert without_our_tags(committed) == released, (
        f"{committed_path.relative_to(ROOT)} is not what `nbgrader generate_assignment` gives "
        "(plus the raises-exception tags): run python -m course_lib.exercises.generate"
    )

    for student, version in [("solution", ROOT / "source" / assignment / notebook), ("untouched", committed_path)]:
        target = course / "submitted" / student / assignment / notebook
        target.parent.mkdir(parents=True)
        shutil.copy(version, target)
    run_nbgrader(course, "autograde", assignment, "--force", "--create")

    points = sum(cell["metadata"]["nbgrader"].get("points", 0) for cell in released["cells"]
                 if cell["metadata"].get("nbgrader", {}).get("grade"))
    score, max_score = scores(course, assignment, "solution")
    assert max_score == points > 0
    assert score == max_score, f"the solution of {assignment} scored {score} of {max_score}"
    score, max_score = scores(course, assignment, "untouched")
    assert score == 0, f"the untouched student version of {assignment} scored {score} of {max_score}"
