"""Grade one submission: run its cells in a sandboxed kernel, record, judge outside.

The cells run are the student's notebook with every *locked* cell (setup, data, tests) put back
as the instructor's source has it, so editing a locked cell changes nothing (and there is no
checksum to warn about). Each autograded test cell is replaced by the grader's recorder cell for
that question (``grading.protocol``); the student's own cells run as they are.

Fair scoring:

- every cell runs under the time limit of the question it belongs to (the question whose test
  cell comes next); a cell that runs over, or kills the kernel (``os._exit``, a segfault, the
  memory limit), is *poisoned*: the kernel is restarted, the cells that ran before are replayed
  without it, and grading resumes with the next cell. A question whose recorder runs over or
  dies scores 0; the others keep what they earn;
- a question is judged only from the record of its own recorder cell.
"""

import copy
import secrets
import time

import nbformat
import numpy as np

from grading.protocol import BadRecord, read_record, recorder_cell
from grading.references import Fail
from grading.sandbox import Sandbox

DEFAULT_TIME_LIMIT = 20.0
MAX_OUTPUT_CHARS = 20000


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell):
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution")


def points_of(source_nb):
    """{grade_id: points} of the autograded test cells of the instructor's source notebook."""
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c).get("points", 0))
            for c in source_nb.cells if is_test_cell(c)}


def graded_notebook(source_nb, submitted_nb):
    """The notebook that is run and stored in autograded/: the submission, locked cells restored.

    A cell of the submission whose grade_id names a locked cell of the source gets the source's
    cell (source, metadata); solution cells keep the student's code; cells the student added stay.
    Locked cells missing from the submission are put back at the position they had in the source.
    """
    locked = {nbgrader_meta(c)["grade_id"]: c for c in source_nb.cells
              if nbgrader_meta(c).get("locked") and nbgrader_meta(c).get("grade_id")}
    solution_ids = {nbgrader_meta(c)["grade_id"] for c in source_nb.cells if nbgrader_meta(c).get("solution")}
    cells, seen = [], set()
    for cell in submitted_nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in seen:
            continue  # a duplicated nbgrader cell: the first one counts
        if grade_id in locked:
            restored = copy.deepcopy(locked[grade_id])
            if "id" in cell:
                restored["id"] = cell["id"]
            cells.append(restored)
        elif grade_id in solution_ids or grade_id is None:
            new = copy.deepcopy(cell)
            if grade_id is None:
                new.get("metadata", {}).pop("nbgrader", None)  # a student cannot declare a cell graded
            cells.append(new)
        else:
            continue  # an nbgrader id the source does not have
        if grade_id:
            seen.add(grade_id)
    missing = [c for c in source_nb.cells if nbgrader_meta(c).get("grade_id") in set(locked) - seen]
    for cell in missing:  # put back after the cell that precedes it in the source
        index = source_nb.cells.index(cell)
        before = {nbgrader_meta(c).get("grade_id") for c in source_nb.cells[:index]}
        position = max([i + 1 for i, c in enumerate(cells) if nbgrader_meta(c).get("grade_id") in before] or [0])
        cells.insert(position, copy.deepcopy(cell))
    nb = copy.deepcopy(source_nb)
    nb.cells = cells
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def _outputs(messages):
    outputs, total = [], 0
    for message in messages:
        if message["msg_type"] not in ("stream", "display_data", "execute_result", "error"):
            continue
        try:
            output = nbformat.v4.output_from_msg(message)
        except Exception:
            continue
        if "data" in output:  # keep plain text and PNG pictures only: no HTML or scripts of the
            # student's in the feedback you open in a browser, and never our record's MIME type
            output["data"] = {k: v for k, v in output["data"].items() if k in ("text/plain", "image/png")}
            if not output["data"]:
                continue
        size = len(str(output))
        if total + size > MAX_OUTPUT_CHARS:
            outputs.append(nbformat.v4.new_output("stream", name="stderr", text="[more output cut by the grader]\n"))
            break
        total += size
        outputs.append(output)
    return outputs


def grade_submission(source_nb, submitted_nb, references, work, course_root, venv, unsafe=False,
                     memory_mb=3072, log=lambda text: None):
    """Run and judge one submission. Returns ``(notebook, results, problems)``.

    ``results[grade_id] = (passed, message)`` for every question of ``references.QUESTIONS``;
    ``problems`` are sentences for the instructor (a cell of the course's own that would not finish).
    """
    nb = graded_notebook(source_nb, submitted_nb)
    questions = references.QUESTIONS
    steps, pending = [], None  # (cell index, grade_id of a recorder or None)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        grade_id = nbgrader_meta(cell).get("grade_id") if is_test_cell(cell) else None
        steps.append((index, grade_id if grade_id in questions else None, grade_id))
    recorded = {grade_id for _, grade_id, _ in steps if grade_id}
    steps += [(None, grade_id, grade_id) for grade_id in questions if grade_id not in recorded]

    def limit_for(position):
        for _, grade_id, _ in steps[position:]:
            if grade_id:
                return questions[grade_id].time_limit
        return DEFAULT_TIME_LIMIT

    results, history, counter, problems = {}, [], 0, []
    sandbox = None
    restarts = 0

    def fresh_kernel():
        """A new kernel with the cells that ran so far replayed; None when that cannot be had."""
        nonlocal sandbox, restarts
        while True:
            if sandbox is not None:
                sandbox.kill()
                sandbox = None
            if restarts >= 3 * len(steps) + 3:
                log("  giving up: too many kernel restarts")
                return None
            restarts += 1
            try:
                sandbox = Sandbox(work, course_root, venv, unsafe=unsafe, memory_mb=memory_mb).start()
            except RuntimeError as error:
                log(f"  {error}")
                continue
            for position in list(history):  # replay what ran before, in order
                status, _ = sandbox.execute(nb.cells[steps[position][0]].source, limit_for(position))
                if status in ("timeout", "died"):
                    history.remove(position)  # it ran once, but not again: left out from now on
                    log(f"  cell {steps[position][0]}: {status} when replayed; left out")
                    break
            else:
                return sandbox

    try:
        fresh_kernel()
        for position, (index, grade_id, cell_id) in enumerate(steps):
            if sandbox is None:
                break
            limit = limit_for(position)
            if grade_id is None:  # an ordinary cell (or a test cell this grader does not judge)
                if cell_id is not None:
                    continue  # test cells of other kinds are not run
                cell = nb.cells[index]
                locked = bool(nbgrader_meta(cell).get("locked"))
                for attempt in range(2 if locked else 1):  # the course's own cells get a second try
                    started = time.monotonic()
                    status, messages = sandbox.execute(cell.source, limit)
                    if status not in ("timeout", "died"):
                        break
                    reason = (f"stopped after {limit:g} s (the time limit)" if status == "timeout"
                              else "the kernel died while running this cell")
                    log(f"  cell {index}: {reason} ({time.monotonic() - started:.1f} s)")
                    if fresh_kernel() is None:
                        break
                counter += 1
                cell.outputs, cell.execution_count = _outputs(messages), counter
                if status in ("timeout", "died"):
                    cell.outputs.append(nbformat.v4.new_output("stream", name="stderr",
                                                               text=f"[grader] {reason}; left out, grading goes on\n"))
                    if locked:  # not the student's cell: the questions after it may have failed for nothing
                        problems.append(f"the course's own cell {index} did not finish in {attempt + 1} "
                                        f"tries ({reason}; a machine too busy, or the student's earlier "
                                        "code?): grade this submission again")
                else:
                    history.append(position)
                continue
            question = questions[grade_id]
            nonce = secrets.token_hex(16)
            rng = np.random.default_rng(int.from_bytes(secrets.token_bytes(8), "little"))
            inputs = question.make_inputs(rng)
            status, messages = sandbox.execute(recorder_cell(question.snippet, question.kernel_view(inputs), nonce), limit)
            if status == "timeout":
                results[grade_id] = (False, f"your code ran over the time limit of {limit:g} s")
                fresh_kernel()
            elif status == "died":
                results[grade_id] = (False, "the kernel died while your code ran on the hidden inputs")
                fresh_kernel()
            else:
                try:
                    outputs = read_record(messages, nonce)
                    results[grade_id] = (True, question.judge(inputs, outputs))
                except Fail as failure:
                    results[grade_id] = (False, str(failure))
                except BadRecord as error:
                    results[grade_id] = (False, f"no valid record of your outputs ({error})")
                except Exception as error:  # a record of the wrong structure
                    results[grade_id] = (False, f"your outputs could not be judged ({type(error).__name__})")
    finally:
        if sandbox is not None:
            sandbox.kill()
    for grade_id in questions:
        results.setdefault(grade_id, (False, "not graded: the kernel could not be restarted"))
    return nb, results, problems
