"""Shared by the grading tests: a throw-away nbgrader course directory, submissions made from the
released notebooks, and the real grading command (``python -m grading``) run on them."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

CONFIG = """\
c = get_config()
c.CourseDirectory.course_id = "descent-test"
c.CourseDirectory.root = {root!r}
"""


def env():
    environment = dict(os.environ)
    environment["PATH"] = str(BIN) + os.pathsep + environment.get("PATH", "")  # nbgrader runs alembic
    environment.setdefault("OPENBLAS_NUM_THREADS", "1")
    environment.setdefault("OMP_NUM_THREADS", "1")
    return environment


def make_course(course, assignments):
    """An nbgrader course directory with ``assignments`` released (``nbgrader generate_assignment``)."""
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(CONFIG.format(root=str(course)))
    for assignment in assignments:
        shutil.copytree(ROOT / "source" / assignment, course / "source" / assignment)
        result = subprocess.run([str(BIN / "nbgrader"), "generate_assignment", assignment, "--force"],
                                cwd=course, env=env(), capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
    return course


def released(course, assignment):
    return nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)


def source_solutions(assignment):
    """{grade_id: the source's solution cell code} (the honest answers)."""
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in nb.cells
            if cell.metadata.get("nbgrader", {}).get("solution")}


def submit(course, assignment, student, answers=None, extra_cells=()):
    """Write submitted/<student>/<assignment>/<assignment>.ipynb: the released notebook with
    ``answers`` ({grade_id: code}) in its solution cells and ``extra_cells`` ((after_grade_id, code))
    inserted as new cells, the way a student adds them."""
    nb = released(course, assignment)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if answers and grade_id in answers:
            cell.source = answers[grade_id]
    for after, code in extra_cells:
        index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == after)
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(code))
    target = course / "submitted" / student / assignment
    target.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target / f"{assignment}.ipynb")
    (target / "timestamp.txt").write_text("2026-12-02 10:00:00.000000 UTC")
    return target


def grade(course, assignment, *extra, timeout=1800):
    """The real grading command, as ``python3 course.py grade`` runs it (from the repository root)."""
    result = subprocess.run([sys.executable, "-m", "grading", assignment, "--root", str(course), *extra],
                            cwd=ROOT, env=env(), capture_output=True, text=True, timeout=timeout)
    return result


def report(course, assignment):
    text = (course / "autograded" / f"{assignment}-grading-report.json").read_text(encoding="utf-8")
    return {row["student"]: row for row in json.loads(text)}


def gradebook_scores(course, assignment):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "descent-test") as gradebook:
        return {s.student_id: (s.score, s.max_score) for s in gradebook.assignment_submissions(assignment)}


def gradebook_rows(course, student):
    """Every row of the gradebook that belongs to ``student`` (the raw SQLite rows)."""
    connection = sqlite3.connect(course / "gradebook.db")
    try:
        rows = connection.execute(
            "SELECT grade.id, grade.auto_score, grade.manual_score, grade.extra_credit, submitted_assignment.timestamp "
            "FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
            "WHERE submitted_assignment.student_id = ? ORDER BY grade.id", (student,)).fetchall()
        student_row = connection.execute("SELECT * FROM student WHERE id = ?", (student,)).fetchall()
    finally:
        connection.close()
    return student_row + rows


def tree_hashes(folder):
    """{relative path: sha256} of every file under ``folder``."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def environment_fingerprint():
    """The venv's site-packages listing, and hashes of files a cheat would like to change."""
    import numpy

    site = Path(numpy.__file__).resolve().parents[1]
    files = [Path(numpy.__file__), ROOT / "course_lib" / "__init__.py", ROOT / "grading" / "references" / "hw1.py",
             ROOT / "nbgrader_config.py", Path(sys.executable).resolve()]
    return (sorted(p.name for p in site.iterdir()),
            {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files})
