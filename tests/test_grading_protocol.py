"""The grader's parts on their own: the record protocol (what the grader accepts from a kernel),
the notebook it runs (locked cells restored), and the sandbox's walls (tried from inside a
real sandboxed kernel)."""

import json
import os
import queue
import sys
import time
from types import SimpleNamespace
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grading.protocol import RECORD_MIME, BadRecord, Raised, Unsupported, decode, encode, read_record  # noqa: E402
from grading.references import Fail, Question  # noqa: E402
from grading.run import grade_submission, graded_notebook  # noqa: E402
from grading.sandbox import Sandbox, check_bwrap  # noqa: E402


def record(nonce, outputs, parent="p"):
    return {"msg_type": "display_data", "parent_header": {"msg_id": parent},
            "content": {"data": {RECORD_MIME: json.dumps({"nonce": nonce, "outputs": outputs})}}}


def test_round_trip_keeps_values_shapes_and_dtypes():
    value = [np.arange(6.0).reshape(2, 3), np.float64(2.5), np.int64(3), (1, "a", None), {"k": np.zeros(2, bool)},
             float("nan"), [np.array(1.5)]]
    back = decode(json.loads(json.dumps(encode(value))))
    assert np.array_equal(back[0], value[0]) and back[0].dtype == np.float64
    assert back[1].shape == () and back[1] == 2.5 and back[2] == 3
    assert back[3] == (1, "a", None) and back[4]["k"].dtype == bool and np.isnan(back[5])
    assert back[6][0].shape == ()


def test_objects_never_cross_as_objects():
    assert isinstance(decode(encode(lambda: 1)), Unsupported)
    assert isinstance(decode(encode(np.array([object()]))), Unsupported)
    assert isinstance(decode({"__raised__": "ValueError: no"}), Raised)
    for bad in ({"__ndarray__": "AAAA", "dtype": "|O", "shape": [1]},  # object arrays (pickle) refused
                {"__ndarray__": "AAAA", "dtype": "<f8", "shape": [5]},  # size does not match
                {"__class__": "numpy.ndarray"}, {"__dict__": 5}):
        with pytest.raises(Exception):
            decode(bad)


def test_only_one_record_with_the_right_nonce_is_accepted():
    assert read_record([record("n1", [1.0])], "n1") == [1.0]
    with pytest.raises(BadRecord, match="no record"):
        read_record([record("guessed", [1.0])], "n1")
    with pytest.raises(BadRecord, match="2 records"):
        read_record([record("n1", [1.0]), record("n1", [2.0])], "n1")
    stream = {"msg_type": "stream", "content": {"text": json.dumps({"nonce": "n1", "outputs": [1.0]})}}
    with pytest.raises(BadRecord):
        read_record([stream], "n1")


def _cell(kind, source, **nbgrader):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = dict(schema_version=3, **nbgrader)
    return cell


def test_graded_notebook_restores_locked_cells_and_keeps_student_cells():
    source = nbformat.v4.new_notebook(cells=[
        _cell("code", "import numpy as np", grade_id="setup", locked=True, grade=False, solution=False),
        _cell("code", "def f(): return 1", grade_id="f", locked=False, grade=False, solution=True),
        _cell("code", "assert f() == 1", grade_id="test_f", locked=True, grade=True, solution=False, points=1),
    ])
    student = nbformat.v4.new_notebook(cells=[
        _cell("code", "import numpy as np; np.isclose = None", grade_id="setup", locked=True, grade=False,
              solution=False),
        _cell("code", "def helper(): return 1"),
        _cell("code", "def f(): return helper()", grade_id="f", locked=False, grade=False, solution=True),
        _cell("code", "pass  # test removed", grade_id="test_f", locked=True, grade=True, solution=False, points=5),
        _cell("code", "x = 1", grade_id="made_up", locked=False, grade=True, solution=False, points=100),
    ])
    nb = graded_notebook(source, student)
    sources = [c.source for c in nb.cells]
    assert sources == ["import numpy as np", "def helper(): return 1", "def f(): return helper()", "assert f() == 1"]
    assert nb.cells[3].metadata["nbgrader"]["points"] == 1
    deleted = nbformat.v4.new_notebook(cells=[student.cells[2]])  # setup and test cells deleted
    assert [c.source for c in graded_notebook(source, deleted).cells] == [
        "import numpy as np", "def f(): return helper()", "assert f() == 1"]


needs_bwrap = pytest.mark.skipif(check_bwrap() is not None, reason=f"no sandbox: {check_bwrap()}")


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:                               # it exited while we looked
        return b""


@needs_bwrap
def test_the_sandbox_walls(tmp_path):
    work = tmp_path / "submission"
    work.mkdir()
    (tmp_path / "secret.txt").write_text("other student")
    sandbox = Sandbox(work, ROOT, Path(sys.prefix), memory_mb=1024).start()
    try:
        def run(code, timeout=20):
            status, messages = sandbox.execute(code, timeout)
            text = "".join(m["content"].get("text", "") for m in messages if m["msg_type"] == "stream")
            errors = [m["content"]["ename"] for m in messages if m["msg_type"] == "error"]
            return status, text, errors

        status, text, _ = run("import os, numpy, course_lib.data as d\n"
                              f"print(os.getcwd(), sorted(os.listdir({str(ROOT)!r})))\n"
                              f"print(os.path.exists({str(tmp_path / 'secret.txt')!r}), d.load_red_wine()[0].shape)")
        assert status == "ok"
        venv = Path(sys.prefix).name                            # .venv-dev (or .venv)
        assert text.split("\n")[0] == f"/work/submission {sorted([venv, 'course_lib', 'data'])}"  # no grading/, source/
        assert "False (1599, 11)" in text
        assert run(f"open({str(ROOT / 'course_lib' / 'x.py')!r}, 'w')")[2] == ["OSError"]
        assert run(f"open({str(Path(sys.prefix) / 'x.pth')!r}, 'w')")[2] == ["OSError"]
        assert run("import socket; socket.create_connection(('127.0.0.1', 22), timeout=2)")[2]
        assert run("x = bytearray(2 * 2**30)")[2] == ["MemoryError"]
        assert run("open('/work/submission/mine.txt', 'w').write('ok')")[0] == "ok"
        assert (work / "mine.txt").read_text() == "ok"  # the private copy is writable ...
        assert "HOME" not in os.environ or run("import os; print(os.environ['HOME'])")[1].strip() == "/tmp"
        # A child that leaves the process group still dies with the sandbox (its own PID namespace).
        run("import subprocess; subprocess.Popen(['sleep', '300'], start_new_session=True)")
        pid = sandbox.process.pid
        status, _, _ = run("while True: pass", timeout=2)
        assert status == "timeout" and not sandbox.alive()
        deadline = time.monotonic() + 10          # the namespace's processes die asynchronously
        while True:
            leftover = [p for p in os.listdir("/proc") if p.isdigit()
                        and b"sleep\x00300" in _cmdline(p)]
            if not leftover or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert not leftover, f"processes left behind by kernel {pid}: {leftover}"
    finally:
        sandbox.kill()


class _LateIopubClient:
    """A kernel client whose iopub subscription connects only at the third ``kernel_info`` request:
    what the kernel published before that is lost, as ZeroMQ loses it."""

    def __init__(self):
        self.requests, self.shell, self.iopub = 0, [], []

    def kernel_info(self):
        self.requests += 1
        msg_id = f"info-{self.requests}"
        self.shell.append({"msg_type": "kernel_info_reply", "parent_header": {"msg_id": msg_id}})
        if self.requests >= 3:
            self.iopub += [{"msg_type": "status", "parent_header": {"msg_id": msg_id},
                            "content": {"execution_state": state}} for state in ("busy", "idle")]
        return msg_id

    def get_shell_msg(self, timeout):
        if not self.shell:
            raise queue.Empty
        return self.shell.pop(0)

    def get_iopub_msg(self, timeout):
        if not self.iopub:
            raise queue.Empty
        return self.iopub.pop(0)


def test_a_kernel_is_ready_only_once_its_iopub_messages_reach_the_grader():
    sandbox = Sandbox(ROOT, ROOT, Path(sys.prefix))
    sandbox.client, sandbox.alive = _LateIopubClient(), lambda: True
    sandbox._wait_until_ready(timeout=10)
    assert sandbox.client.requests == 3        # the shell answered twice before iopub was connected
    assert sandbox.client.iopub == []          # and the status messages of our requests are gone


@needs_bwrap
def test_every_fresh_kernel_reports_its_first_cell(tmp_path):
    """Before the grader waited for iopub, 9 of 40 kernel starts lost their first cell's messages
    and timed that cell out (an honest submission lost its points)."""
    for attempt in range(15):
        sandbox = Sandbox(tmp_path, ROOT, Path(sys.prefix), memory_mb=1024).start()
        try:
            status, messages = sandbox.execute("x = 1", 10)
        finally:
            sandbox.kill()
        states = [m["content"]["execution_state"] for m in messages if m["msg_type"] == "status"]
        assert (status, states) == ("ok", ["busy"]), f"kernel {attempt + 1}: {status}, {states}"


def _grade_one_question(tmp_path, setup_source):
    """Grade a three-cell homework (the course's setup cell, ``f``, the test of ``f``)."""
    def judge(inputs, outputs):
        if outputs != 1:
            raise Fail(f"f() returned {outputs!r}")
        return "right"
    references = SimpleNamespace(QUESTIONS={"test_f": Question("test_f", lambda rng: [], "outputs = f()",
                                                               judge, time_limit=3)})
    source = nbformat.v4.new_notebook(cells=[
        _cell("code", setup_source, grade_id="setup", locked=True, grade=False, solution=False),
        _cell("code", "def f(): return 1", grade_id="f", locked=False, grade=False, solution=True),
        _cell("code", "assert f() == 1", grade_id="test_f", locked=True, grade=True, solution=False, points=1),
    ])
    work = tmp_path / "submission"
    work.mkdir()
    _, results, problems = grade_submission(source, source, references, work, ROOT, Path(sys.prefix),
                                            unsafe=check_bwrap() is not None, memory_mb=1024)
    return results, problems


def test_a_course_cell_that_runs_over_once_is_tried_again(tmp_path):
    results, problems = _grade_one_question(
        tmp_path, "import os\nfirst_try = not os.path.exists('tried')\nopen('tried', 'w').close()\n"
                  "while first_try:\n    pass")
    assert results == {"test_f": (True, "right")} and problems == []


def test_a_course_cell_that_never_finishes_is_reported_for_a_regrade(tmp_path):
    results, problems = _grade_one_question(tmp_path, "while True:\n    pass")
    assert results == {"test_f": (True, "right")}   # the student's answer still counts
    assert len(problems) == 1 and "cell 0 did not finish in 2 tries" in problems[0], problems
    assert "grade this submission again" in problems[0]
