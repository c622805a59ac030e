"""The class server (hub/): its configuration, and a small load test of it on loopback.

The full load test (20 learners running lesson 7, ``python3 course.py loadtest``) is run by hand at a
quiet moment; its figures are in the README. Here two learners log in at once through the login
form, get their own copy of the course, and run lesson 0 in the learner's kernel: about a minute.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "hub" / "jupyterhub_config.py"


def load_config(monkeypatch, tmp_path, **variables):
    monkeypatch.setenv("DESCENT_HUB_STATE", str(tmp_path))
    monkeypatch.setenv("DESCENT_HUB_PASSWORD", "board-password")
    for name, value in variables.items():
        monkeypatch.setenv(name, str(value))
    config = Config()
    namespace = {"get_config": lambda: config, "__file__": str(CONFIG)}
    exec(compile(CONFIG.read_text(), str(CONFIG), "exec"), namespace)
    return config, namespace


def test_config_accounts_password_timeouts_and_culler(monkeypatch, tmp_path):
    c, namespace = load_config(monkeypatch, tmp_path, DESCENT_HUB_LEARNERS=12, DESCENT_HUB_IDLE_TIMEOUT=900)
    assert c.Authenticator.allowed_users == {f"learner{n:02d}" for n in range(1, 13)} | {"instructor"}
    assert c.Authenticator.admin_users == {"instructor"}
    assert c.DummyAuthenticator.password == "board-password"
    assert c.Spawner.http_timeout >= 120 and c.Spawner.start_timeout >= 120  # 30 s was too short
    assert 1 <= c.JupyterHub.concurrent_spawn_limit <= 12
    (culler,) = [s for s in c.JupyterHub.services if s["name"] == "idle-culler"]
    assert "--timeout=900" in culler["command"] and "jupyterhub_idle_culler" in culler["command"]
    assert c.Spawner.default_url == "/lab/tree/notebooks/00_start_here.ipynb"
    assert c.JupyterHub.ip == "127.0.0.1"  # the room's network only when asked (--ip 0.0.0.0)
    assert not any(s["name"] == "loadtest" for s in c.JupyterHub.services)


def test_no_password_no_hub(monkeypatch, tmp_path):
    monkeypatch.delenv("DESCENT_HUB_PASSWORD", raising=False)
    config = Config()
    namespace = {"get_config": lambda: config, "__file__": str(CONFIG)}
    with pytest.raises(SystemExit, match="password"):
        exec(compile(CONFIG.read_text(), str(CONFIG), "exec"), namespace)


def test_each_learner_gets_the_course_in_their_own_folder_once(monkeypatch, tmp_path):
    c, namespace = load_config(monkeypatch, tmp_path)

    class Spawner:
        class user:
            name = "learner07"

    c.Spawner.pre_spawn_hook(Spawner)
    home = tmp_path / "home" / "learner07"
    assert (home / "notebooks" / "00_start_here.ipynb").exists() and (home / "homework").is_dir()
    (home / "notebooks" / "00_start_here.ipynb").write_text("my work")
    c.Spawner.pre_spawn_hook(Spawner)  # a second start keeps the learner's work
    assert (home / "notebooks" / "00_start_here.ipynb").read_text() == "my work"


@pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None,
                    reason="JupyterHub's proxy needs node and npm (apt-get install nodejs npm)")
def test_two_learners_log_in_at_once_and_run_lesson_0(tmp_path):
    out = tmp_path / "loadtest.json"
    completed = subprocess.run(
        [sys.executable, str(ROOT / "hub" / "loadtest.py"), "--learners", "2",
         "--notebook", "notebooks/00_start_here.ipynb", "--time-limit", "400", "--out", str(out),
         "--learner-python", sys.executable],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1"))
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["completed"] == 2
    for learner in figures["learners_detail"]:
        assert learner["spawn_seconds"] > 0 and learner["errors"] == [] and learner["cells_run"] >= 5
        assert 50 < learner["peak_memory_mib"] < 2000 and learner["cpu_seconds"] > 0
    assert "| spawn (login to server ready), s |" in completed.stdout
