"""The JupyterLab settings the course needs, and how to install them.

JupyterLab reads ``<prefix>/share/jupyter/lab/settings/overrides.json`` at
start-up (``<prefix>`` is the environment's ``sys.prefix``) and uses it as the
default for each setting. The course sets two things there:

- **Widget messages on the main kernel thread** (``commsOverSubshells:
  "disabled"``). JupyterLab 4.6 with ipykernel 7 otherwise runs each widget
  callback on its own kernel thread, at the same time as the cells; matplotlib
  is not thread-safe, so a slider moved while a lesson runs can break its plot
  or even crash the kernel.
- **No news pop-up** over the lesson.

``python3 course.py lab`` installs them on every start; with conda or Binder
run ``python -m course_lib.jupyterlab_settings`` once (Binder's ``postBuild``
does). The pre-flight check reports when they are missing.

**The learner's route.** :func:`write_learner_config` writes a Jupyter config folder that
``course.py lab``, the class server (``hub/``) and the browser test put first on
``JUPYTER_CONFIG_PATH``: it turns the instructor's tooling off (nbgrader's server extensions and
its JupyterLab menu and sidebars, present when JupyterLab runs from the instructor's environment)
and leaves out of the file browser what a learner does not open (``source/``, which holds the
solutions, the tests, the virtual environments).
"""

import json
import sys
from pathlib import Path

#: The instructor's tooling that learners do not see.
INSTRUCTOR_SERVER_EXTENSIONS = [
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
]
INSTRUCTOR_LAB_EXTENSIONS = ["@jupyter/nbgrader"]
#: Folders of the repository left out of the learner's file browser (not a lock: they stay on disk).
LEARNER_HIDDEN = ["source", "tests", "benchmarks", "hub", "test-artifacts", "build", "release",
                  "autograded", "submitted", "feedback", "course_lib.egg-info"]
#: jupyter_server's own default hide_globs, kept.
SERVER_HIDDEN = ["__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~"]

LAB_OVERRIDES = {
    "@jupyterlab/apputils-extension:kernels-settings": {"commsOverSubshells": "disabled"},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def overrides_path(prefix=None):
    """Where JupyterLab looks for ``overrides.json`` in the environment at ``prefix``."""
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def read_overrides(prefix=None):
    """The overrides installed now (an empty dict when there is no valid file)."""
    try:
        return json.loads(overrides_path(prefix).read_text())
    except (OSError, ValueError):
        return {}


def missing_settings(prefix=None):
    """The course's settings that ``overrides.json`` lacks, as ``"plugin: key"`` strings."""
    installed = read_overrides(prefix)
    return [f"{plugin}: {key}"
            for plugin, settings in LAB_OVERRIDES.items()
            for key, value in settings.items()
            if installed.get(plugin, {}).get(key) != value]


def install(prefix=None):
    """Merge the course's settings into ``overrides.json`` (keeping any others); return its path."""
    merged = read_overrides(prefix)
    for plugin, settings in LAB_OVERRIDES.items():
        merged.setdefault(plugin, {}).update(settings)
    path = overrides_path(prefix)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(merged, indent=2) + "\n")
    temporary.replace(path)
    return path


def learner_server_config(hide_globs=()):
    """The Jupyter server config of the learner's route (``jupyter_server_config.json``)."""
    config = {"ServerApp": {"jpserver_extensions": {name: False for name in INSTRUCTOR_SERVER_EXTENSIONS}}}
    if hide_globs:
        config["ContentsManager"] = {"hide_globs": SERVER_HIDDEN + list(hide_globs)}
    return config


def learner_page_config():
    """JupyterLab's page config of the learner's route (``labconfig/page_config.json``)."""
    return {"disabledExtensions": {name: True for name in INSTRUCTOR_LAB_EXTENSIONS}}


def write_learner_config(folder, hide_globs=()):
    """Write the learner's Jupyter config folder (put it first on ``JUPYTER_CONFIG_PATH``); return it."""
    folder = Path(folder)
    (folder / "labconfig").mkdir(parents=True, exist_ok=True)
    for path, content in [(folder / "jupyter_server_config.json", learner_server_config(hide_globs)),
                          (folder / "labconfig" / "page_config.json", learner_page_config())]:
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(content, indent=2) + "\n")
        temporary.replace(path)
    return folder


if __name__ == "__main__":
    print(f"JupyterLab settings for the course written to {install()}")
