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
"""

import json
import sys
from pathlib import Path

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


if __name__ == "__main__":
    print(f"JupyterLab settings for the course written to {install()}")
