"""The adversarial suite: submissions made the way students (and cheats) make them, from the
released notebooks, graded by the real command (``python -m grading``, which
``python3 course.py grade`` runs), with the outcome each must get.

Asserted: every submission gets exactly its expected score; no cheat gets more than the blank
submission; honest work keeps its points even when a later cell kills the kernel or loops; other
students' files and gradebook rows are byte-identical after the attackers are graded again; the
environment (the venv's site-packages listing and hashes of files a cheat would like to change)
is unchanged. The table is written to test-artifacts/grading/adversarial.md.

Needs bubblewrap (``apt-get install bubblewrap``): skipped without it, except in CI
(``DESCENT_REQUIRE_BROWSER=1``, set by .ci/run), where a missing sandbox is a failure.
"""

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from grading_helpers import (ROOT, environment_fingerprint, gradebook_rows, gradebook_scores, grade, make_course,
                             report, source_solutions, submit, tree_hashes)

sys.path.insert(0, str(ROOT))
from grading.sandbox import check_bwrap  # noqa: E402

NO_SANDBOX = check_bwrap()
if NO_SANDBOX and os.environ.get("DESCENT_REQUIRE_BROWSER") == "1":
    raise RuntimeError(f"CI needs the grading sandbox: {NO_SANDBOX}")
pytestmark = [pytest.mark.skipif(NO_SANDBOX is not None, reason=f"no sandbox: {NO_SANDBOX}"),
              pytest.mark.skipif(shutil.which("nbgrader", path=str(Path(sys.executable).parent)) is None,
                                 reason="nbgrader is not installed")]

HW1, HW2 = "hw1_losses", "hw2_sgd_minibatch"
TIME_LIMIT = "10"  # seconds per question here (the real limits are 20 s and more): keeps CI short
PWNED = Path.home() / ".descent_pwned"

WRONG_HW1 = {  # plausible-looking but wrong answers, for the cheats that need answers to "pass"
    "mse": "def mse(y_true, y_pred):\n    return 0.0",
    "mse_gradient": "def mse_gradient(y_true, y_pred):\n    return np.zeros_like(y_pred)",
    "binary_crossentropy": "def binary_crossentropy(y_true, p):\n    return 0.0",
    "binary_crossentropy_gradient": "def binary_crossentropy_gradient(y_true, p):\n    return np.zeros_like(p)",
    "softmax_cross_entropy": "def softmax_cross_entropy(labels, logits):\n    return 0.0, np.zeros_like(logits)",
    "numerical_gradient": "def numerical_gradient(f, x, eps=1e-6):\n    return np.zeros_like(x, dtype=float)",
}

IMPORT_CHEAT = {name: f"""\
try:
    from course_lib.exercises.hw1 import {name}          # where the references used to be
except ImportError:
    try:
        from grading.references.hw1 import {name}        # the grader's references
    except ImportError:
        import json                                      # the instructor's source notebook
        source = json.load(open({str(ROOT / 'source' / HW1 / (HW1 + '.ipynb'))!r}))
        for cell in source["cells"]:
            if cell["metadata"].get("nbgrader", {{}}).get("grade_id") == {name!r}:
                exec("".join(cell["source"]))
""" for name in WRONG_HW1}

MONKEYPATCH = """\
import builtins, numpy as np, numpy.testing
np.isclose = lambda *a, **k: True
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
builtins.AssertionError = type("Ignored", (Exception,), {})
"""

OVERWRITE = """\
import glob, os, sqlite3
for root in ({course!r}, {repo!r}, os.path.expanduser("~")):
    for path in glob.glob(root + "/submitted/*/*/*.ipynb") + glob.glob(root + "/autograded/*/*/*.ipynb"):
        try:
            open(path, "w").write("{{}}")
        except OSError as error:
            print("could not overwrite", path, error)
    try:
        connection = sqlite3.connect(root + "/gradebook.db")
        connection.execute("UPDATE grade SET auto_score = -687")
        connection.commit()
    except Exception as error:
        print("could not reach the gradebook:", error)
try:
    open({pwned!r}, "w").write("pwned")
except OSError as error:
    print("no home:", error)
"""

PTH = """\
import os, numpy, site
patch = "import numpy; numpy.isclose = lambda *a, **k: True; numpy.allclose = lambda *a, **k: True\\n"
for folder in [os.path.dirname(os.path.dirname(numpy.__file__))] + site.getsitepackages():
    try:
        with open(os.path.join(folder, "zz_descent_cheat.pth"), "w") as handle:
            handle.write(patch)
        print("wrote a .pth into", folder)
    except OSError as error:
        print("could not write into", folder, error)
try:
    import course_lib
    open(course_lib.__file__, "a").write("\\nimport numpy; numpy.allclose = lambda *a, **k: True\\n")
except OSError as error:
    print("course_lib is read-only:", error)
"""

FORGE = """\
import json, os
from IPython import get_ipython
MIME = "application/vnd.descent.record+json"
fake = {"nonce": "0" * 32, "outputs": [[1.0, False]] * 8}
for name in ("record.json", "hw1_losses.record.json", "results.json", "scores.json"):
    open(name, "w").write(json.dumps({"score": 13, "passed": True, **fake}))
get_ipython().display_pub.publish(data={MIME: json.dumps(fake)}, metadata={})
publish = get_ipython().display_pub.publish
def forged(data, metadata=None, **kwargs):
    if MIME in data:  # a second record with the grader's own nonce
        nonce = json.loads(data[MIME])["nonce"]
        publish(data={MIME: json.dumps({"nonce": nonce, "outputs": [[1.0, False]] * 8})}, metadata={})
    return publish(data=data, metadata=metadata, **kwargs)
get_ipython().display_pub.publish = forged
"""

ATTACKERS = ["a_import_cheat", "a_monkeypatch", "a_overwrite", "a_pth", "a_forged"]


def hw1_submissions(course):
    honest = source_solutions(HW1)
    exit_last = dict(honest, numerical_gradient=honest["numerical_gradient"] + "\n\nimport os\nos._exit(0)")
    looping = dict(honest, mse="def mse(y_true, y_pred):\n    while True:\n        pass")
    zero = dict(WRONG_HW1, numerical_gradient=honest["numerical_gradient"])
    partial = {k: honest[k] for k in ("mse", "mse_gradient", "binary_crossentropy")}
    blank_with = lambda code: [("mse", code)]  # noqa: E731 - a new cell after the first solution cell
    return {
        # student: (answers, extra cells, expected score, what it is)
        "z_honest": (honest, (), 13, "honest, every question"),
        "b_blank": (None, (), 0, "blank (the released notebook)"),
        "b_partial": (partial, (), 4, "partial: questions 1-3 only"),
        "a_import_cheat": (IMPORT_CHEAT, (), 0, "`mse = <reference>`: from course_lib.exercises / grading / source"),
        "a_monkeypatch": (WRONG_HW1, blank_with(MONKEYPATCH), 0, "wrong answers + numpy/assert patched"),
        "a_overwrite": (WRONG_HW1, blank_with(OVERWRITE.format(course=str(course), repo=str(ROOT), pwned=str(PWNED))),
                        0, "wrong answers + overwrite other students, gradebook, home"),
        "a_pth": (WRONG_HW1, blank_with(PTH), 0, "wrong answers + .pth into site-packages, patch course_lib"),
        "a_forged": (WRONG_HW1, blank_with(FORGE), 0, "wrong answers + forged record (files, fake nonce, duplicate)"),
        "c_exit_last": (exit_last, (), 9, "honest + os._exit(0) in the last solution cell"),
        "c_infinite_loop": (looping, (), 10, "honest except an infinite loop in mse"),
        "c_zero_gradients": (zero, (), 2, "all-zero gradients (constant losses), right numerical_gradient"),
    }


def hw2_submissions():
    honest = source_solutions(HW2)
    fixed = ("def minibatch_indices(n_examples, batch_size, rng):\n"
             "    order = np.random.default_rng(0).permutation(n_examples)  # ignores rng\n"
             "    return [order[s:s + batch_size] for s in range(0, n_examples, batch_size)]")
    return {"z_honest": (honest, (), 10, "honest, every question"),
            "c_ignored_rng": (dict(honest, minibatch_indices=fixed), (), 8, "minibatch_indices ignores its rng")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("adversarial") / "course", [HW1, HW2])
    hw1, hw2 = hw1_submissions(course), hw2_submissions()
    for assignment, table in ((HW1, hw1), (HW2, hw2)):
        for student, (answers, extra, _, _) in table.items():
            submit(course, assignment, student, answers, extra)
    before_files = tree_hashes(course / "submitted")
    before_env = environment_fingerprint()
    PWNED.unlink(missing_ok=True)
    started = time.monotonic()
    first = grade(course, HW1, "--time-limit", TIME_LIMIT)
    hw1_seconds = time.monotonic() - started
    assert first.returncode == 0, first.stdout + first.stderr
    second = grade(course, HW2, "--time-limit", TIME_LIMIT)
    assert second.returncode == 0, second.stdout + second.stderr
    return dict(course=course, tables={HW1: hw1, HW2: hw2}, before_files=before_files, before_env=before_env,
                output=first.stdout + second.stdout, hw1_seconds=hw1_seconds)


def test_every_submission_gets_its_expected_score(graded):
    course, lines, wrong = graded["course"], [], []
    for assignment, table in graded["tables"].items():
        rows, scores = report(course, assignment), gradebook_scores(course, assignment)
        for student, (_, _, expected, what) in table.items():
            got = rows[student]["score"]
            assert scores[student][0] == got  # the gradebook holds what the report says
            lines.append(f"| {assignment} | {student} | {what} | {expected} | {got:g} | {rows[student]['seconds']:.1f} |")
            if got != expected:
                wrong.append(f"{assignment}/{student}: expected {expected}, got {got}: {rows[student]['questions']}")
    table = ("| assignment | submission | what it does | expected | got | seconds |\n| --- | --- | --- | ---: | ---: | ---: |\n"
             + "\n".join(lines) + f"\n\nhw1, {len(graded['tables'][HW1])} submissions: {graded['hw1_seconds']:.0f} s\n")
    artifacts = ROOT / "test-artifacts" / "grading"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "adversarial.md").write_text(table)
    print(table)
    assert not wrong, "\n".join(wrong) + "\n" + graded["output"]


def test_no_cheat_scores_more_than_blank(graded):
    rows = report(graded["course"], HW1)
    blank = rows["b_blank"]["score"]
    for student in ATTACKERS:
        assert rows[student]["score"] <= blank, (student, rows[student])


def test_honest_work_keeps_its_points_when_a_later_cell_dies_or_loops(graded):
    rows = report(graded["course"], HW1)
    for student in ("c_exit_last", "c_infinite_loop"):
        questions = rows[student]["questions"]
        assert questions["test_softmax_cross_entropy"]["passed"], questions
    assert "time limit" in rows["c_infinite_loop"]["questions"]["test_mse"]["message"]
    assert not rows["c_zero_gradients"]["questions"]["test_gradients_agree"]["passed"]
    assert "rng" in report(graded["course"], HW2)["c_ignored_rng"]["questions"]["test_minibatch_indices"]["message"]


def test_attackers_change_nothing_outside_their_sandbox(graded):
    course = graded["course"]
    others = [s for s in graded["tables"][HW1] if s not in ATTACKERS]
    rows_before = {s: gradebook_rows(course, s) for s in others}
    autograded_before = {s: tree_hashes(course / "autograded" / s) for s in others}
    again = grade(course, HW1, "--time-limit", TIME_LIMIT, *[arg for s in ATTACKERS for arg in ("--student", s)])
    assert again.returncode == 0, again.stdout + again.stderr
    assert tree_hashes(course / "submitted") == graded["before_files"]
    assert {s: gradebook_rows(course, s) for s in others} == rows_before
    assert {s: tree_hashes(course / "autograded" / s) for s in others} == autograded_before
    assert environment_fingerprint() == graded["before_env"]
    assert not PWNED.exists()
    assert "checksum" not in graded["output"].lower()
    # The attacks did run, and met the sandbox's walls (their own cell outputs, in autograded/).
    pth = printed(course / "autograded" / "a_pth" / HW1 / f"{HW1}.ipynb")
    assert "could not write into" in pth and "Read-only file system" in pth and "wrote a .pth" not in pth, pth
    overwrite = printed(course / "autograded" / "a_overwrite" / HW1 / f"{HW1}.ipynb")
    assert "could not reach the gradebook" in overwrite, overwrite


def printed(path):
    """Everything the cells of a graded notebook printed (their outputs, not their code)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "".join("".join(output.get("text", "")) for cell in nb["cells"] for output in cell.get("outputs", []))


def test_refuses_without_a_sandbox_unless_unsafe(graded, monkeypatch):
    course = graded["course"]
    monkeypatch.setenv("DESCENT_BWRAP", "/nonexistent/bwrap")
    refused = grade(course, HW1, "--student", "z_honest")
    assert refused.returncode == 2 and "Refusing to grade" in refused.stderr and "bubblewrap" in refused.stderr
    unsafe = grade(course, HW1, "--student", "z_honest", "--unsafe")
    assert unsafe.returncode == 0 and "UNSANDBOXED" in unsafe.stdout, unsafe.stdout + unsafe.stderr
    assert report(course, HW1)["z_honest"]["score"] == 13
