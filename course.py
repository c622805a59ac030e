#!/usr/bin/env python3
"""Set up the Descent course and run it, with nothing but Python 3.11 and pip.

    python3 course.py lab        set everything up, check it, open the lessons in JupyterLab
    python3 course.py test       set everything up and run every test
    python3 course.py check      set everything up and run the pre-flight check only
    python3 course.py bench      set everything up and run the benchmarks
    python3 course.py generate   regenerate the student notebooks from source/
    python3 course.py screenshots  refresh the README's screenshots (needs chromium)

The first run creates a virtual environment in .venv/ and installs the pinned
packages of requirements.txt plus course_lib itself; later runs reuse it and
only reinstall when requirements.txt or pyproject.toml change.
Extra arguments after the command go to the tool it runs (jupyter lab / pytest).
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".descent-installed"

def say(message):
    print(f"[descent] {message}", flush=True)


def run(command, **kwargs):
    say(" ".join(str(part) for part in command))
    return subprocess.call([str(part) for part in command], cwd=ROOT, **kwargs)


def wanted_stamp():
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def setup():
    """Create .venv and install what the course needs (skipped when up to date)."""
    if sys.version_info[:2] < (3, 11):
        sys.exit(f"Descent needs Python 3.11 or newer; this is {sys.version.split()[0]}. "
                 "Run this script with python3.11.")
    if not PYTHON.exists():
        say(f"creating the virtual environment {VENV}")
        if run([sys.executable, "-m", "venv", VENV]) != 0:
            sys.exit("Could not create a virtual environment. On Debian/Ubuntu: "
                     "apt-get install python3-venv, then run this command again.")
    if not (STAMP.exists() and STAMP.read_text() == wanted_stamp()):
        install_packages()
    # The JupyterLab settings the lessons need (widget callbacks on the kernel's main thread,
    # no news pop-up): see course_lib/jupyterlab_settings.py. Written on every start.
    if run([PYTHON, "-m", "course_lib.jupyterlab_settings"]) != 0:
        sys.exit("Could not write JupyterLab's settings (see the message above).")


def install_packages():
    say("installing the course's packages (about a minute the first time)")
    steps = [
        [PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [PYTHON, "-m", "pip", "install", "--quiet", "-r", ROOT / "requirements.txt"],
        [PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", "-e", ROOT],
    ]
    for step in steps:
        if run(step) != 0:
            sys.exit("Installing the packages failed (see pip's message above). "
                     "Check your network connection to the package index and run this command again.")
    STAMP.write_text(wanted_stamp())


def venv_env():
    env = dict(os.environ)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")  # nbgrader needs the venv's bin on PATH
    env["VIRTUAL_ENV"] = str(VENV)
    return env


def lab_command(extra):
    command = [PYTHON, "-m", "jupyter", "lab", "notebooks/00_start_here.ipynb"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # JupyterLab refuses to run as root without it
    return command + list(extra)


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, extra = argv[0], argv[1:]
    known = {"lab", "test", "check", "bench", "generate", "screenshots", "setup"}
    if command not in known:
        print(f"Unknown command {command!r}; use one of: {', '.join(sorted(known))}.")
        return 2
    setup()
    env = venv_env()
    if command == "setup":
        return 0
    if command == "check":
        return run([PYTHON, "-m", "course_lib.preflight"], env=env)
    if command == "lab":
        run([PYTHON, "-m", "course_lib.preflight"], env=env)
        return run(lab_command(extra), env=env)
    if command == "test":
        # Two pytest workers share the two cores. Each notebook's kernel would otherwise start
        # as many BLAS threads as there are cores, and OpenBLAS threads that spin-wait for a
        # busy core make a 1 s epoch take 20 s. One BLAS thread per worker keeps both cores busy.
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        env.setdefault("OMP_NUM_THREADS", "1")
        return run([PYTHON, "-m", "pytest", "-n", "2", "--dist", "loadfile", *extra], env=env)
    if command == "bench":
        status = 0
        for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
            status |= run([PYTHON, script, *extra], env=env)
        return status
    if command == "generate":
        return run([PYTHON, "-m", "course_lib.exercises.generate", *extra], env=env)
    if command == "screenshots":
        return run([PYTHON, "-m", "pytest", "tests/test_browser.py", "--update-screenshots", *extra], env=env)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
