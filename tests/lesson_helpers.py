"""Checks shared by the lesson tests (tests/test_lessonN.py)."""

import json
from pathlib import Path

LESSONS = Path(__file__).resolve().parent.parent / "source" / "lessons"
WIDGET_BUILDERS = ("explorer(", "fit_by_hand(", "lr_teaser(")


def assert_source_notebook_structure(filename, min_exercises, min_widgets=2):
    """A lesson source is committed without outputs, has the python3 kernelspec, at least
    ``min_widgets`` widget cells tagged ``nbval-ignore-output``, and at least
    ``min_exercises`` checked exercises with solution regions. Returns the code cells' sources."""
    notebook = json.loads((LESSONS / filename).read_text(encoding="utf-8"))
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert all(not cell.get("outputs") and cell.get("execution_count") is None for cell in code)
    sources = ["".join(cell["source"]) for cell in code]
    widget_cells = [cell for cell, source in zip(code, sources)
                    if source.strip().startswith("demo.") and any(w in source for w in WIDGET_BUILDERS)]
    assert len(widget_cells) >= min_widgets
    assert all("nbval-ignore-output" in cell["metadata"].get("tags", []) for cell in widget_cells)
    assert sum(".check(" in source for source in sources) >= min_exercises
    assert sum("### BEGIN SOLUTION" in source for source in sources) >= min_exercises
    return sources
