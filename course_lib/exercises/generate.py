"""Generate the student notebooks from the single sources in ``source/``.

    python -m course_lib.exercises.generate           write every student version
    python -m course_lib.exercises.generate --check   change nothing; exit 1 and list what is out of date
    python -m course_lib.exercises.generate FILE ...  only these source notebooks
    (also: python3 course.py generate [--check])

Sources and what they become:

    source/lessons/NN_name.ipynb      ->  notebooks/NN_name.ipynb
    source/hwN_name/hwN_name.ipynb    ->  homework/hwN_name/hwN_name.ipynb

A source notebook holds the solutions between nbgrader's markers. In the
student version:

- every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region becomes
  ``# YOUR CODE HERE`` / ``raise NotImplementedError()``, indented like the
  region (in Markdown cells: ``YOUR ANSWER HERE``);
- every ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region is removed;
- outputs and execution counts are cleared;
- a code cell whose region sits at the top level of the cell (so the cell
  itself raises when run untouched) is tagged ``raises-exception``, and so is
  every autograded test cell of a homework (it fails until the exercise is
  done). nbval, ``jupyter nbconvert --execute`` and JupyterLab's Run All then
  go on past these cells. The tag does not change nbgrader's grading.

Why nbgrader's own preprocessors, and not a hand-written replacement
--------------------------------------------------------------------
The transformation is done by nbgrader's ``ClearSolutions``,
``ClearHiddenTests`` and ``ClearOutput`` preprocessors (for homework also
``LockCells``, ``ComputeChecksums``, ``ClearMarkScheme`` and
``CheckCellMetadata``, in the order ``nbgrader generate_assignment`` runs
them). Reasons:

1. The homework student versions must be exactly what an instructor gets from
   ``nbgrader generate_assignment`` (locked cells, checksums, the same stub
   text); running the same preprocessors in the same order gives that by
   construction, and ``tests/test_homework_nbgrader.py`` checks it against a
   real ``nbgrader generate_assignment`` run.
2. Lessons and homework then share one definition of what a marker means
   (nbgrader's), so a lesson's solution region can never be cut differently
   from a homework's.
3. What nbgrader does not do, we add in a few lines below: lessons carry no
   nbgrader cell metadata, so ``ClearSolutions`` / ``ClearHiddenTests`` run with
   ``enforce_metadata=False`` for them; the ``raises-exception`` tags; stable
   cell ids (kept from the source) and stable JSON formatting.

What we give up: a ``nbgrader generate_assignment`` run needs a course
directory and a database; we skip those (the ``SaveCells`` step only writes
the database), so generating every notebook takes a second or two.
"""

import argparse
import copy
import hashlib
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]  # the repository: course_lib/exercises/generate.py -> ../../
RAISES_TAG = "raises-exception"
BEGIN_SOLUTION = "BEGIN SOLUTION"
END_SOLUTION = "END SOLUTION"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


class GenerateError(Exception):
    """A source notebook that cannot be turned into a student version; the message says why."""


# ---------------------------------------------------------------------------
# Where things are
# ---------------------------------------------------------------------------


def target_for(source, root=ROOT):
    """The student version's path for a source notebook path."""
    source = Path(source).resolve()
    relative = source.relative_to(Path(root).resolve() / "source")
    if relative.parts[0] == "lessons":
        return Path(root) / "notebooks" / Path(*relative.parts[1:])
    return Path(root) / "homework" / relative


def is_homework(source, root=ROOT):
    """Homework sources are every notebook under ``source/`` except ``source/lessons/``."""
    relative = Path(source).resolve().relative_to(Path(root).resolve() / "source")
    return relative.parts[0] != "lessons"


def find_sources(root=ROOT):
    """Every source notebook (lessons first, then homework), sorted."""
    source_dir = Path(root) / "source"
    found = [p for p in source_dir.glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts]
    return sorted(found, key=lambda p: (is_homework(p, root), str(p)))


def student_notebook_paths(root=ROOT):
    """Every committed student notebook (to spot ones whose source is gone)."""
    root = Path(root)
    paths = list((root / "notebooks").glob("*.ipynb")) + list((root / "homework").glob("*/*.ipynb"))
    return sorted(p for p in paths if ".ipynb_checkpoints" not in p.parts)


# ---------------------------------------------------------------------------
# The transformation
# ---------------------------------------------------------------------------


def _has_top_level_solution(source):
    """True when a ``BEGIN SOLUTION`` line of this code is not indented (the stub raises at once)."""
    return any(BEGIN_SOLUTION in line and not re.match(r"\s", line) for line in source.split("\n"))


def _nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _is_autograded_test(cell):
    meta = _nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def _is_whole_cell_solution(cell):
    """An nbgrader solution cell without markers: nbgrader replaces all of it by the stub."""
    return (cell.cell_type == "code" and _nbgrader_meta(cell).get("solution", False)
            and BEGIN_SOLUTION not in cell.source)


def _add_tag(cell, tag):
    tags = cell.metadata.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


def _ensure_ids(nb, name):
    """nbformat 4.5 with a cell id on every cell; missing ids are derived from the name and position."""
    nb.nbformat, nb.nbformat_minor = 4, max(nb.get("nbformat_minor", 0), 5)
    seen = set()
    for index, cell in enumerate(nb.cells):
        cell_id = cell.get("id")
        if not cell_id or cell_id in seen:
            cell_id = hashlib.sha1(f"{name}:{index}".encode()).hexdigest()[:8]
            cell["id"] = cell_id
        seen.add(cell_id)


def _run_nbgrader(nb, homework):
    """Apply nbgrader's preprocessors (see the module docstring for why these)."""
    # Imported here: nbgrader is only needed to generate, not to take the course.
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    if homework:
        # The order of `nbgrader generate_assignment` (minus header/footer, AUTOTEST and the
        # database step SaveCells, which do not change the notebook).
        steps = [LockCells(), ClearSolutions(), ClearOutput(), CheckCellMetadata(), ComputeChecksums(),
                 ClearHiddenTests(), ClearMarkScheme(), ComputeChecksums(), CheckCellMetadata()]
    else:
        steps = [ClearSolutions(enforce_metadata=False), ClearOutput(), ClearHiddenTests(enforce_metadata=False)]
    resources = {}
    for step in steps:
        nb, resources = step.preprocess(nb, resources)
    return nb


def student_version(source_nb, name="notebook", homework=False):
    """The student version of a source notebook (a new notebook; the source is not changed)."""
    nb = copy.deepcopy(source_nb)
    if not nb.metadata.get("kernelspec"):
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
    needs_tag = [
        cell.cell_type == "code" and (
            _has_top_level_solution(cell.source)
            or (homework and (_is_autograded_test(cell) or _is_whole_cell_solution(cell)))
        )
        for cell in nb.cells
    ]
    try:
        nb = _run_nbgrader(nb, homework)
    except Exception as error:  # nbgrader's RuntimeError / ValidationError: say which notebook
        raise GenerateError(f"{name}: {error}") from error
    for cell, tag in zip(nb.cells, needs_tag):
        if tag:
            _add_tag(cell, RAISES_TAG)
    _ensure_ids(nb, name)
    nbformat.validate(nb)
    return nb


def render(nb):
    """The notebook as text: nbformat's stable JSON (sorted keys, indent 1) and a final newline."""
    return nbformat.writes(nb) + "\n"


def generate_text(source, root=ROOT):
    """The student version of the source notebook at ``source``, as text."""
    source = Path(source)
    nb = nbformat.read(source, as_version=4)
    return render(student_version(nb, name=str(source.relative_to(root)), homework=is_homework(source, root)))


# ---------------------------------------------------------------------------
# Checks on the sources
# ---------------------------------------------------------------------------


def source_problems(source):
    """A list of sentences about what is wrong with a source notebook as committed (empty if fine)."""
    nb = nbformat.read(source, as_version=4)
    problems = []
    with_outputs = [i for i, c in enumerate(nb.cells, 1) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    if with_outputs:
        problems.append(f"cells {', '.join(map(str, with_outputs))} have outputs or execution counts: "
                        "clear them before committing (Edit > Clear Outputs of All Cells)")
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        problems.append('metadata.kernelspec should be {"name": "python3", ...}')
    return problems


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def run(paths=None, check=False, root=ROOT, out=print):
    """Generate (or with ``check=True`` only compare) the student versions; return the exit code."""
    root = Path(root).resolve()
    sources = [Path(p).resolve() for p in paths] if paths else find_sources(root)
    stale, written, broken = [], [], []
    for source in sources:
        if not source.is_relative_to(root / "source") or source.suffix != ".ipynb":
            broken.append(f"{source}: not a notebook under {root / 'source'}")
            continue
        target = target_for(source, root)
        try:
            text = generate_text(source, root)
        except GenerateError as error:
            broken.append(str(error))
            continue
        problems = source_problems(source)
        if problems:
            broken += [f"{source.relative_to(root)}: {problem}" for problem in problems]
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if check:
            stale.append(f"{target.relative_to(root)} ({'missing' if current is None else 'differs from its source'})")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            written.append(str(target.relative_to(root)))
    if not paths:
        expected = {target_for(s, root).resolve() for s in sources}
        orphans = [p for p in student_notebook_paths(root) if p.resolve() not in expected]
        stale += [f"{p.relative_to(root)} (no source in source/)" for p in orphans]
    for name in written:
        out(f"wrote {name}")
    if broken:
        out("Problems in the sources:")
        for line in broken:
            out(f"  {line}")
    if stale:
        out("Student notebooks out of date with source/ (run: python -m course_lib.exercises.generate):")
        for line in stale:
            out(f"  {line}")
    if not (written or broken or stale):
        out(f"All {len(sources)} student notebooks are up to date.")
    return 1 if (broken or stale) else 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.exercises.generate",
        description="Generate the student notebooks (notebooks/, homework/) from source/.",
    )
    parser.add_argument("paths", nargs="*", help="source notebooks (default: all of source/)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 listing student notebooks that differ from their source")
    parser.add_argument("--root", default=str(ROOT), help="the repository root (default: %(default)s)")
    options = parser.parse_args(argv)
    return run(options.paths, check=options.check, root=Path(options.root))


if __name__ == "__main__":
    sys.exit(main())
