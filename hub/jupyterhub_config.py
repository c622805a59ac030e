"""JupyterHub configuration for a Descent class on one machine.

Started by ``python3 course.py hub`` (hub/run_hub.py), which sets the DESCENT_HUB_* variables
read here. What it sets up:

* **Login**: JupyterHub's built-in "dummy" authenticator with one shared workshop password
  (``DummyAuthenticator.password``), restricted to the accounts learner01..learnerNN and
  instructor (the admin). A participant takes a seat number at the door and logs in as that
  learner with the password on the board. Anyone with the password can log in as any of these
  accounts: right for a workshop on a room's network, wrong for a course with grades (use
  a real authenticator there, e.g. your institution's OAuth).
* **Servers**: JupyterHub's built-in "simple" local-process spawner. Each learner's JupyterLab
  runs as a process of the hub's own system user, in ``STATE/home/<account>/``, which gets a
  copy of the lessons (``notebooks/``) and the homework (``homework/``) at its first start
  (a learner's work is never overwritten). Learners' servers are not isolated from each other
  by the operating system (same user): a workshop's trust level, not an exam's.
* **The learner's route**: the same JupyterLab settings and learner config as
  ``python3 course.py lab`` (no nbgrader), opening on lesson 0, with kernels from the learner's
  environment (``.venv/``) with one BLAS thread each.
* **Timeouts and limits from measurements** (hub/loadtest.py; the README's "Running a class on
  one server" has the figures): at most ``CONCURRENT_SPAWNS`` servers start at once (a login
  beyond that sees "too many users trying to log in right now, try again in a moment") and each
  start may take up to ``HTTP_TIMEOUT`` seconds (JupyterHub's default of 30 s made half of ten
  simultaneous starts give up on 2 cores).
* **Idle servers culled** by the jupyterhub-idle-culler service after DESCENT_HUB_IDLE_TIMEOUT
  seconds without activity (default an hour); the learner's files stay.
"""

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("DESCENT_HUB_STATE", ROOT / ".hub"))
LEARNERS = int(os.environ.get("DESCENT_HUB_LEARNERS", "30"))
# Measured (hub/loadtest.py, 2 cores): see the README's capacity table.
CONCURRENT_SPAWNS = int(os.environ.get("DESCENT_HUB_CONCURRENT_SPAWNS", "20"))
HTTP_TIMEOUT = 180  # seconds for a started server to answer (JupyterHub's default, 30 s, is far too short)
START_TIMEOUT = 180  # seconds for the spawner's start() itself
COURSE_FOLDERS = ["notebooks", "homework"]
LESSON_0 = "/lab/tree/notebooks/00_start_here.ipynb"

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

# -- where and how the hub listens ----------------------------------------------------------------
c.JupyterHub.ip = os.environ.get("DESCENT_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("DESCENT_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"  # the hub's own API: this machine only
if os.environ.get("DESCENT_HUB_SSL_CERT"):
    c.JupyterHub.ssl_cert = os.environ["DESCENT_HUB_SSL_CERT"]
    c.JupyterHub.ssl_key = os.environ["DESCENT_HUB_SSL_KEY"]
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.ConfigurableHTTPProxy.command = [os.environ.get("DESCENT_HUB_PROXY", "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops the learners' servers
c.JupyterHub.concurrent_spawn_limit = max(1, min(CONCURRENT_SPAWNS, LEARNERS))
c.JupyterHub.active_server_limit = LEARNERS + 1

# -- who logs in -------------------------------------------------------------------------------------
ACCOUNTS = [f"learner{number:02d}" for number in range(1, LEARNERS + 1)]
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = os.environ.get("DESCENT_HUB_PASSWORD") or None
if not c.DummyAuthenticator.password:
    sys.exit("No workshop password: start the hub with python3 course.py hub (it sets one).")
c.Authenticator.allowed_users = set(ACCOUNTS) | {"instructor"}
c.Authenticator.admin_users = {"instructor"}

# -- each learner's server ------------------------------------------------------------------------
c.JupyterHub.spawner_class = "simple"
c.Spawner.cmd = [str(Path(sys.prefix) / "bin" / "jupyterhub-singleuser")]
c.LocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
c.Spawner.notebook_dir = str(STATE / "home" / "{username}")
c.Spawner.default_url = LESSON_0
c.Spawner.http_timeout = HTTP_TIMEOUT
c.Spawner.start_timeout = START_TIMEOUT
if hasattr(os, "geteuid") and os.geteuid() == 0:
    c.Spawner.args = ["--allow-root"]
learner_environment = {
    # the learner's route: no nbgrader, the learner's kernels (run_hub.py writes both)
    "JUPYTER_CONFIG_PATH": os.environ.get("DESCENT_HUB_LEARNER_CONFIG", ""),
    "JUPYTER_PATH": os.environ.get("DESCENT_HUB_JUPYTER_PATH", ""),
    "MPLCONFIGDIR": os.environ.get("DESCENT_HUB_LEARNER_MPLCONFIG", ""),
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
}
c.Spawner.environment = {name: value for name, value in learner_environment.items() if value}


def give_the_course(spawner):
    """Before a learner's server starts: their folder, with the course in it the first time."""
    home = STATE / "home" / spawner.user.name
    home.mkdir(parents=True, exist_ok=True)
    for folder in COURSE_FOLDERS:
        if not (home / folder).exists():
            shutil.copytree(ROOT / folder, home / folder,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))


c.Spawner.pre_spawn_hook = give_the_course

# -- idle servers are stopped ----------------------------------------------------------------------
idle_timeout = int(os.environ.get("DESCENT_HUB_IDLE_TIMEOUT", "3600"))
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={idle_timeout}",
                "--cull-every=60"],
}]
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}]

# -- the load test (hub/loadtest.py) talks to the hub's API with a token of its own ----------------
if os.environ.get("DESCENT_HUB_LOADTEST_TOKEN"):
    c.JupyterHub.services.append({"name": "loadtest", "api_token": os.environ["DESCENT_HUB_LOADTEST_TOKEN"]})
    c.JupyterHub.load_roles.append({
        "name": "loadtest",
        "scopes": ["admin:users", "admin:servers", "tokens", "access:servers", "read:users:activity"],
        "services": ["loadtest"],
    })
