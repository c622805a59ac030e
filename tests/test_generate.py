"""Tests of the student-notebook generator (course_lib.exercises.generate).

The first two tests guard the repository: the committed student versions are what the generator
gives, and the sources are committed without outputs. The rest run the generator on tiny
synthetic notebooks.
"""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_lib.exercises import generate
from course_lib.exercises.generate import GenerateError, find_sources, render, run, source_problems, student_version

ROOT = Path(__file__).resolve().parents[1]
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


# ---------------------------------------------------------------------------
# The repository
# ---------------------------------------------------------------------------


def test_committed_student_notebooks_match_their_sources():
    messages = []
    status = run(check=True, root=ROOT, out=messages.append)
    assert status == 0, "\n".join(messages)


@pytest.mark.parametrize("source", find_sources(ROOT), ids=lambda p: p.name)
def test_sources_are_committed_without_outputs(source):
    assert source_problems(source) == []


# ---------------------------------------------------------------------------
# Tiny synthetic notebooks
# ---------------------------------------------------------------------------


def notebook(*cells):
    nb = new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.cells = list(cells)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index}"
    return nb


def nbgrader(grade_id, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


FUNCTION_CELL = """def mse(y_true, y_pred):
    \"\"\"Mean squared error.\"\"\"
    ### BEGIN SOLUTION
    return ((y_pred - y_true) ** 2).mean()
    ### END SOLUTION"""


def test_region_inside_a_function_becomes_an_indented_stub():
    nb = student_version(notebook(new_code_cell(FUNCTION_CELL)))
    assert nb.cells[0].source == (
        'def mse(y_true, y_pred):\n    """Mean squared error."""\n'
        "    # YOUR CODE HERE\n    raise NotImplementedError()"
    )
    assert "raises-exception" not in nb.cells[0].metadata.get("tags", [])


def test_top_level_region_tags_the_cell_and_keeps_the_rest():
    source = "answer = None\n### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION\nprint(answer)"
    cell = new_code_cell(source, metadata={"tags": ["nbval-ignore-output"]})
    nb = student_version(notebook(cell))
    assert nb.cells[0].source == "answer = None\n# YOUR CODE HERE\nraise NotImplementedError()\nprint(answer)"
    assert nb.cells[0].metadata["tags"] == ["nbval-ignore-output", "raises-exception"]


def test_existing_raises_exception_tag_is_not_duplicated():
    cell = new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", metadata={"tags": ["raises-exception"]})
    assert student_version(notebook(cell)).cells[0].metadata["tags"] == ["raises-exception"]


def test_hidden_tests_are_removed_and_visible_ones_kept():
    source = "assert mse(0, 1) == 1\n### BEGIN HIDDEN TESTS\nassert mse(0, 2) == 4\n### END HIDDEN TESTS\nprint('ok')"
    nb = student_version(notebook(new_code_cell(source)))
    assert nb.cells[0].source == "assert mse(0, 1) == 1\nprint('ok')"


def test_markdown_region_becomes_your_answer_here():
    cell = new_markdown_cell("Why?\n\n### BEGIN SOLUTION\nBecause the gradient points uphill.\n### END SOLUTION")
    assert student_version(notebook(cell)).cells[0].source == "Why?\n\nYOUR ANSWER HERE"


def test_outputs_and_execution_counts_are_cleared_and_ids_kept():
    cell = new_code_cell("print(1)", execution_count=3, outputs=[new_output("stream", name="stdout", text="1\n")])
    source_nb = notebook(new_markdown_cell("# Title"), cell)
    nb = student_version(source_nb)
    assert nb.cells[1].outputs == [] and nb.cells[1].execution_count is None
    assert [c.id for c in nb.cells] == ["cell-0", "cell-1"]
    assert source_nb.cells[1].outputs  # the source itself is not changed


def test_missing_ids_are_derived_deterministically():
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("y = 2")])
    nb.nbformat_minor = 4
    for cell in nb.cells:
        del cell["id"]
    first = render(student_version(nb, name="lesson.ipynb"))
    second = render(student_version(nb, name="lesson.ipynb"))
    assert first == second
    parsed = json.loads(first)
    assert parsed["nbformat_minor"] == 5
    ids = [cell["id"] for cell in parsed["cells"]]
    assert len(set(ids)) == 2 and all(ids)


def test_rendering_is_stable_json():
    text = render(student_version(notebook(new_code_cell(FUNCTION_CELL))))
    assert text.endswith("}\n")
    parsed = json.loads(text)
    assert text == json.dumps(parsed, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert parsed["metadata"]["kernelspec"]["name"] == "python3"


def test_unterminated_region_is_reported_with_the_notebook_name():
    with pytest.raises(GenerateError, match="lesson.ipynb"):
        student_version(notebook(new_code_cell("### BEGIN SOLUTION\nx = 1")), name="lesson.ipynb")


def homework_notebook():
    return notebook(
        new_markdown_cell("# Homework", metadata=nbgrader("intro", locked=True)),
        new_code_cell(FUNCTION_CELL, metadata=nbgrader("mse", solution=True)),
        new_code_cell("assert mse(0, 1) == 1\n### BEGIN HIDDEN TESTS\nassert mse(0, 2) == 4\n### END HIDDEN TESTS",
                      metadata=nbgrader("test_mse", grade=True, locked=True, points=2)),
        new_code_cell("print('done')"),
    )


def test_homework_gets_nbgraders_locks_checksums_and_test_tags():
    nb = student_version(homework_notebook(), name="hw", homework=True)
    intro, solution, test, plain = nb.cells
    assert intro.metadata["editable"] is False and "checksum" in intro.metadata["nbgrader"]
    assert solution.source.endswith("    # YOUR CODE HERE\n    raise NotImplementedError()")
    assert "tags" not in solution.metadata  # the def still runs
    assert test.source == "assert mse(0, 1) == 1"
    assert test.metadata["tags"] == ["raises-exception"]  # fails until the exercise is done
    assert "tags" not in plain.metadata


def test_homework_region_outside_a_solution_cell_is_an_error():
    nb = notebook(new_code_cell(FUNCTION_CELL))
    with pytest.raises(GenerateError, match="hw.ipynb"):
        student_version(nb, name="hw.ipynb", homework=True)


# ---------------------------------------------------------------------------
# The command: a synthetic repository
# ---------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "source" / "lessons").mkdir(parents=True)
    (tmp_path / "source" / "hw1_demo").mkdir(parents=True)
    nbformat.write(notebook(new_code_cell(FUNCTION_CELL)), tmp_path / "source" / "lessons" / "01_demo.ipynb")
    nbformat.write(homework_notebook(), tmp_path / "source" / "hw1_demo" / "hw1_demo.ipynb")
    return tmp_path


def test_generate_then_check(repo):
    messages = []
    assert run(check=True, root=repo, out=messages.append) == 1
    assert any("notebooks/01_demo.ipynb (missing)" in m for m in messages)
    assert run(root=repo, out=messages.append) == 0
    assert (repo / "notebooks" / "01_demo.ipynb").exists()
    assert (repo / "homework" / "hw1_demo" / "hw1_demo.ipynb").exists()
    messages.clear()
    assert run(check=True, root=repo, out=messages.append) == 0
    assert "up to date" in messages[-1]


def test_check_lists_stale_and_orphaned_student_notebooks(repo):
    run(root=repo, out=lambda m: None)
    student = repo / "notebooks" / "01_demo.ipynb"
    student.write_text(student.read_text().replace("YOUR CODE HERE", "my edit"))
    (repo / "notebooks" / "99_old.ipynb").write_text(student.read_text())
    messages = []
    assert run(check=True, root=repo, out=messages.append) == 1
    text = "\n".join(messages)
    assert "notebooks/01_demo.ipynb (differs from its source)" in text
    assert "notebooks/99_old.ipynb (no source in source/)" in text
    assert "my edit" in student.read_text()  # --check writes nothing


def test_check_reports_sources_with_outputs(repo):
    path = repo / "source" / "lessons" / "01_demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].execution_count = 1
    nbformat.write(nb, path)
    run(root=repo, out=lambda m: None)
    messages = []
    assert run(check=True, root=repo, out=messages.append) == 1
    assert any("outputs or execution counts" in m for m in messages)


def test_command_line(repo):
    command = [sys.executable, "-m", "course_lib.exercises.generate", "--root", str(repo)]
    check = subprocess.run(command + ["--check"], capture_output=True, text=True)
    assert check.returncode == 1 and "missing" in check.stdout
    assert subprocess.run(command, capture_output=True, text=True).returncode == 0
    assert run(check=True, root=repo, out=lambda m: None) == 0


def test_target_paths():
    assert generate.target_for(ROOT / "source/lessons/03_sgd.ipynb", ROOT) == ROOT / "notebooks/03_sgd.ipynb"
    assert (generate.target_for(ROOT / "source/hw2_sgd/hw2_sgd.ipynb", ROOT)
            == ROOT / "homework/hw2_sgd/hw2_sgd.ipynb")
