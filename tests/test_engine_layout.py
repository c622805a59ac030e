"""The engine a learner can read: the core's size, what it needs, and where Adam lives."""

import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import course_lib
from course_lib import fast_optim, optim

PACKAGE = Path(course_lib.__file__).resolve().parent
CORE = ["nn.py", "losses.py", "optim.py", "training.py"]


def test_the_four_core_modules_stay_within_1500_lines_docstrings_included():
    counts = {name: len((PACKAGE / name).read_text(encoding="utf-8").splitlines()) for name in CORE}
    assert sum(counts.values()) <= 1500, counts


def test_adam_is_written_with_the_lessons_names():
    source = inspect.getsource(optim.Adam.update)
    for name in ("m_hat", "v_hat", "beta1 ** t", "beta2 ** t", "np.sqrt(v_hat) + self.eps"):
        assert name in source, name
    assert "import numba" not in (PACKAGE / "optim.py").read_text(encoding="utf-8")


def run_python(code, **env_changes):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_course_lib_imports_and_trains_without_numba():
    code = (
        "import sys; sys.modules['numba'] = None\n"      # makes `import numba` fail
        "import numpy as np\n"
        "from course_lib import nn, optim, losses, training, fast_optim\n"
        "assert not fast_optim.available()\n"
        "model = nn.Sequential(nn.Linear(3, 4, seed=0), nn.ReLU(), nn.Linear(4, 2, seed=1))\n"
        "opt = optim.Adam(model, lr=0.1)\n"
        "assert opt.fast is None\n"
        "X = np.ones((5, 3), np.float32); y = np.array([0, 1, 0, 1, 0])\n"
        "logs = training.train_epoch(model, [(X, y)], 'cross_entropy', opt)\n"
        "print('trained', logs['loss'])\n")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert "trained" in result.stdout


@pytest.mark.skipif(not fast_optim.available(), reason="numba is not installed")
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap (apt-get install bubblewrap)")
def test_a_read_only_install_with_an_unwritable_home_still_uses_the_fast_path():
    """Old bug: 'cannot cache function ... no locator available' on import."""
    code = ("import numpy as np\n"
            "from course_lib import nn, optim\n"
            "p = nn.Parameter(np.ones(3, np.float32)); opt = optim.Adam([p], lr=0.1)\n"
            "p.grad[...] = 1.0; opt.step()\n"
            "print('fast' if opt.fast is not None else 'reference', p.data[0])\n")
    command = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
               "--setenv", "HOME", "/nonexistent", "--unsetenv", "NUMBA_CACHE_DIR",
               "--unshare-user", "--unshare-net",
               sys.executable, "-c", code]
    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-user", "true"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"bubblewrap cannot make a sandbox here: {probe.stderr.decode()[:200]}")
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["fast", "0.9"]
