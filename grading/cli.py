"""``python -m grading ASSIGNMENT [--unsafe]`` (also ``python3 course.py grade ASSIGNMENT``).

Grades every submission in ``submitted/<student>/<ASSIGNMENT>/<ASSIGNMENT>.ipynb`` of the nbgrader
course directory (the repository root, or ``--root``): each in its own sandboxed kernel
(``grading.sandbox``), judged against ``grading/references/`` in this process
(``grading.run``). It writes

- the scores into nbgrader's ``gradebook.db`` (one ``auto_score`` per autograded cell, so
  ``nbgrader generate_feedback``, ``nbgrader export`` and the formgrader work as usual);
- the graded notebook to ``autograded/<student>/<ASSIGNMENT>/`` (the run's outputs, and under each
  test cell what the hidden tests found);

and prints one line per student. It refuses to run student code outside a sandbox unless
``--unsafe`` is given.
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from grading.references import load
from grading.run import grade_submission, nbgrader_meta, points_of
from grading.sandbox import check_bwrap

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MAX_NOTEBOOK_BYTES = 20 * 2 ** 20
FLAG_PATTERNS = [  # things a person should look at; they do not change the score
    (re.compile(r"\bcourse_lib\.(losses|optim|nn|gradcheck|functions)\b|from course_lib import (losses|gradcheck)"),
     "a solution cell uses course_lib's own implementation"),
    (re.compile(r"\bos\._exit\b|\bsubprocess\b|\bctypes\b|\bsys\.modules\b|\bbuiltins\b|\bsetattr\(np\b|\bnp\.\w+\s*=(?!=)"),
     "a solution cell does something unusual for homework (process, ctypes, patching)"),
]


def course_id(root):
    from traitlets.config.loader import PyFileConfigLoader

    config_file = root / "nbgrader_config.py"
    if not config_file.exists():
        raise SystemExit(f"{config_file} not found: run this from the nbgrader course directory (the repository root)")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    return config.CourseDirectory.get("course_id", "default_course")


def flags_of(nb):
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code" or not nbgrader_meta(cell).get("solution") and nbgrader_meta(cell).get("locked"):
            continue
        for pattern, text in FLAG_PATTERNS:
            if pattern.search(cell.source) and text not in found:
                found.append(text)
    return found


def submissions(root, assignment, only=()):
    base = root / "submitted"
    found = []
    for student_dir in sorted(base.glob("*")) if base.is_dir() else []:
        if student_dir.is_symlink() or not student_dir.is_dir():
            continue
        folder = student_dir / assignment
        if only and student_dir.name not in only:
            continue
        if folder.is_dir() and not folder.is_symlink():
            found.append((student_dir.name, folder))
    return found


def read_submission(folder, assignment):
    path = folder / f"{assignment}.ipynb"
    if path.is_symlink() or not path.is_file():
        return None, f"{path.name} is missing"
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return None, f"{path.name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MB"
    try:
        return nbformat.reads(path.read_text(encoding="utf-8"), as_version=4), None
    except Exception as error:
        return None, f"{path.name} is not a readable notebook ({type(error).__name__})"


def private_copy(folder, target):
    """Copy the submission's regular files (symbolic links are not followed) into ``target``."""
    shutil.copytree(folder, target, symlinks=True, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))


def timestamp_of(folder):
    stamp = folder / "timestamp.txt"
    if stamp.is_file() and not stamp.is_symlink() and stamp.stat().st_size < 200:
        return stamp.read_text().strip() or None
    return None


def record_scores(root, course, assignment, student, timestamp, scores):
    import warnings

    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own add_submission warns on every call
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(f"The gradebook has no assignment {assignment!r}: release it first with "
                             f"`nbgrader generate_assignment {assignment}`") from None
        gradebook.update_or_create_student(student)
        extra = {"timestamp": timestamp} if timestamp else {}
        gradebook.update_or_create_submission(assignment, student, **extra)
        for grade_id, score in scores.items():
            grade = gradebook.find_grade(grade_id, assignment, assignment, student)
            grade.auto_score = score
            grade.manual_score = None
        gradebook.db.commit()


def verdict_output(passed, message, points):
    mark = "✓" if passed else "✗"
    text = f"[hidden tests, judged by the grader] {mark} {points if passed else 0:g} of {points:g} points: {message}\n"
    return nbformat.v4.new_output("stream", name="stdout" if passed else "stderr", text=text)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grading", description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", help="e.g. hw1_losses")
    parser.add_argument("--unsafe", action="store_true",
                        help="run the kernels without a sandbox when none can be made (only for code you trust)")
    parser.add_argument("--student", action="append", default=[], help="grade only this student (repeatable)")
    parser.add_argument("--root", default=".", help="the nbgrader course directory (default: the current one)")
    parser.add_argument("--memory-mb", type=int, default=3072, help="address-space limit per kernel (default 3072)")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds per question for every question (default: each question's own, 20 s "
                             "for most, longer for the training questions)")
    options = parser.parse_args(argv)

    root = Path(options.root).resolve()
    assignment = options.assignment
    if not re.match(r"^[A-Za-z0-9_-]+$", assignment):
        raise SystemExit(f"not an assignment name: {assignment!r}")
    references = load(assignment)
    if options.time_limit:
        for question in references.QUESTIONS.values():
            question.time_limit = options.time_limit
    course = course_id(root)
    source_path = root / "source" / assignment / f"{assignment}.ipynb"
    source_nb = nbformat.read(source_path, as_version=4)
    points = points_of(source_nb)
    unknown = set(points) - set(references.QUESTIONS)
    if unknown:
        raise SystemExit(f"{source_path}: test cells {sorted(unknown)} have no hidden tests in "
                         f"grading/references (every graded cell needs one)")
    venv = Path(sys.prefix)
    import importlib.util

    spec = importlib.util.find_spec("course_lib")  # found, not imported (that would start numba)
    if spec is None or not spec.origin:
        raise SystemExit("course_lib is not installed in this environment: run python3 course.py setup")
    code_root = Path(spec.origin).resolve().parent.parent  # course_lib/ and data/ live here
    reason = check_bwrap()
    if reason and not options.unsafe:
        print(f"Refusing to grade: no sandbox can be made here: {reason}.\n"
              "Fix that, or pass --unsafe to run the students' code with your own rights "
              "(only on a throw-away machine).", file=sys.stderr)
        return 2
    if reason:
        print(f"WARNING: --unsafe: the students' code runs without a sandbox ({reason}).", file=sys.stderr)
    found = submissions(root, assignment, options.student)
    if not found:
        print(f"No submissions in {root / 'submitted'}/*/{assignment}/ (collect them first: nbgrader collect "
              f"{assignment}, or copy them there).")
        return 1
    total = sum(points.values())
    print(f"Grading {len(found)} submission(s) of {assignment} ({total:g} points), "
          f"{'UNSANDBOXED' if reason else 'each kernel in a bubblewrap sandbox'}")
    summary = []
    for student, folder in found:
        if not STUDENT_ID.match(student):
            print(f"  skipped {student!r}: not a student id nbgrader accepts")
            continue
        started = time.monotonic()
        submitted_nb, problem = read_submission(folder, assignment)
        with tempfile.TemporaryDirectory(prefix="descent-grade-") as scratch:
            results, problems = {}, []
            if submitted_nb is None:
                results = {grade_id: (False, problem) for grade_id in references.QUESTIONS}
                graded = None
            else:
                work = Path(scratch) / "submission"
                private_copy(folder, work)
                graded, results, problems = grade_submission(
                    source_nb, submitted_nb, references, work, code_root, venv, unsafe=bool(reason),
                    memory_mb=options.memory_mb, log=lambda text: print(text, flush=True))
        scores = {grade_id: (points[grade_id] if results[grade_id][0] else 0.0) for grade_id in points}
        if graded is not None:
            for cell in graded.cells:
                grade_id = nbgrader_meta(cell).get("grade_id")
                if grade_id in points and cell.cell_type == "code":
                    cell.outputs = [verdict_output(*results[grade_id], points[grade_id])]
            target = root / "autograded" / student / assignment
            target.mkdir(parents=True, exist_ok=True)
            nbformat.write(graded, target / f"{assignment}.ipynb")
            stamp = timestamp_of(folder)
            if stamp:
                (target / "timestamp.txt").write_text(stamp)
        record_scores(root, course, assignment, student, timestamp_of(folder), scores)
        seconds = time.monotonic() - started
        score = sum(scores.values())
        flags = (flags_of(submitted_nb) if submitted_nb is not None else [problem]) + problems
        marks = " ".join(f"{'+' if results[g][0] else '-'}{g.removeprefix('test_')}" for g in points)
        print(f"  {student}: {score:g}/{total:g} in {seconds:.1f} s  [{marks}]"
              + (f"  REVIEW: {'; '.join(flags)}" if flags else ""), flush=True)
        summary.append({"student": student, "score": score, "max_score": total, "seconds": round(seconds, 2),
                        "questions": {g: {"passed": results[g][0], "message": results[g][1]} for g in points},
                        "flags": flags})
    report = root / "autograded" / f"{assignment}-grading-report.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    rows = {}
    if report.is_file():  # a run for some students (--student) updates their rows and keeps the others
        try:
            rows = {row["student"]: row for row in json.loads(report.read_text(encoding="utf-8"))}
        except (ValueError, KeyError, TypeError):
            rows = {}
    rows.update({row["student"]: row for row in summary})
    report.write_text(json.dumps([rows[s] for s in sorted(rows)], indent=1, ensure_ascii=False))
    print(f"Scores are in {root / 'gradebook.db'}; graded notebooks and {report.name} in {root / 'autograded'}")
    return 0
