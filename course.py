#!/usr/bin/env python3
"""Set up the Descent course and run it, with nothing but Python 3.11 and pip.

For learners:
    python3 course.py lab        set up what the lessons need, check it, open lesson 0 in JupyterLab
                                 (--force: open JupyterLab even when the check fails)
    python3 course.py check      set up and run the pre-flight check only
    python3 course.py setup      set up, or repair, the learner's environment (.venv/)

For instructors and developers (they use a second environment, .venv-dev/, with numba, the test,
grading and JupyterHub tools on top of the learner's packages):
    python3 course.py test       run every test (unit, checkers, notebooks, nbgrader, browser)
    python3 course.py grade ASSIGNMENT [args]   grade homework: runs `python -m grading ASSIGNMENT`
    python3 course.py hub        run JupyterHub for a class on this machine (README: "Running a class
                                 on one server"; --help for its options)
    python3 course.py loadtest   N simulated learners log in to that hub at once and run lesson 7
    python3 course.py lab --instructor   JupyterLab with the instructor's tools (nbgrader)
    python3 course.py check --instructor / setup --instructor   the same for .venv-dev/
    python3 course.py bench      run the benchmarks
    python3 course.py generate   regenerate the student notebooks from source/
    python3 course.py screenshots  refresh the README's screenshots (needs chromium)

Every command first compares the installed packages with the pins (requirements.txt for .venv/,
requirements-dev.txt for .venv-dev/) and reinstalls what is missing, damaged or at another
version. Extra arguments after the command go to the tool it runs (jupyter lab / pytest / ...).
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
MINIMUM_PYTHON = (3, 11)


class Environment:
    """One virtual environment of the course: where it lives and what it must hold."""

    def __init__(self, kind, folder, requirements, editable, flag="", compile_bytecode=True):
        self.kind = kind  # "learner" or "instructor"
        self.venv = ROOT / folder
        self.requirements = ROOT / requirements
        self.editable = editable  # how course_lib itself is installed into it
        self.flag = flag  # what to add to course.py's commands for this environment
        # pip's bytecode for every module of every package: about a fifth of the install's size and
        # time. The learner's environment goes without (Python compiles what the lessons import, once,
        # on first use); the instructor's keeps it (a class server starts thirty servers at once).
        self.compile_bytecode = compile_bytecode

    @property
    def bin(self):
        return self.venv / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self):
        return self.bin / ("python.exe" if os.name == "nt" else "python")

    @property
    def mplconfig(self):
        """Matplotlib's config and font cache, inside the environment (not shared with the user's
        other programs, so a cache rebuilt by another matplotlib never shows in a lesson)."""
        return self.venv / "mplconfig"

    @property
    def learner_config(self):
        """The Jupyter config folder of the learner's route (course_lib/jupyterlab_settings.py)."""
        return self.venv / "etc" / "descent-learner"

    def command(self, name):
        return f"python3 course.py {name}{(' ' + self.flag) if self.flag else ''}"


LEARNER = Environment("learner", ".venv", "requirements.txt", ".", compile_bytecode=False)
INSTRUCTOR = Environment("instructor", ".venv-dev", "requirements-dev.txt", ".[fast]", flag="--instructor")


STARTED = time.monotonic()


def say(message):
    elapsed = f" {time.monotonic() - STARTED:6.1f}s" if os.environ.get("DESCENT_TIMING") else ""
    print(f"[descent{elapsed}] {message}", flush=True)


def run(command, **kwargs):
    say(" ".join(str(part) for part in command))
    return subprocess.call([str(part) for part in command], cwd=ROOT, **kwargs)


# ---------------------------------------------------------------------------------------------
# Setting up and repairing an environment
# ---------------------------------------------------------------------------------------------

def inspect(env):
    """What is wrong with the packages of `env`, compared with its pins: a list of problems.

    Runs course_lib/preflight.py's ``inspect_packages`` with the environment's Python (by file
    path, so it works even when course_lib is not installed): each problem is a dict with
    ``name``, ``pinned``, ``found`` and ``kind`` ("missing", "version", "damaged", "dependency",
    "course_lib"). None when the environment's Python itself does not run.
    """
    script = (
        "import json, runpy, sys; "
        f"module = runpy.run_path({str(ROOT / 'course_lib' / 'preflight.py')!r}); "
        f"print(json.dumps(module['inspect_packages']({str(env.requirements)!r}, {str(ROOT)!r})))"
    )
    try:
        completed = subprocess.run([str(env.python), "-I", "-c", script], cwd=ROOT, capture_output=True,
                                   text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr[-2000:])
        return None
    return json.loads(completed.stdout.strip().splitlines()[-1])


def describe(problem):
    name, found, pinned = problem["name"], problem["found"], problem["pinned"]
    return {
        "missing": f"{name}: not installed (pinned {pinned})",
        "version": f"{name}: {found} installed, but {pinned} is pinned",
        "damaged": f"{name}: {found} is registered but its files are missing",
        "dependency": f"{name}: needed by {pinned}, but {found}",
        "course_lib": f"course_lib: {found}",
    }.get(problem["kind"], f"{name}: {problem}")


def pip(env, *arguments):
    options = [] if env.compile_bytecode else ["--no-compile"]
    return run([env.python, "-m", "pip", "install", "--quiet", *options, *arguments], env=child_env(env))


def ensure(env):
    """Create `env` if needed, repair what does not match the pins; return the problems left."""
    if sys.version_info[:2] < MINIMUM_PYTHON:
        sys.exit(f"Descent needs Python 3.11 or newer; this is {sys.version.split()[0]}. "
                 "Run this script with python3.11 (e.g. python3.11 course.py lab).")
    works = env.python.exists() and subprocess.call([str(env.python), "-c", "pass"]) == 0
    problems = inspect(env) if works else None
    if works and problems is None:
        sys.exit(f"Could not compare {env.venv}'s packages with {env.requirements.name} (see the message "
                 f"above). If it persists, delete the folder {env.venv.name}{os.sep} and run "
                 f"{env.command('setup')}.")
    if problems is None:
        if env.venv.exists():
            say(f"{env.venv}'s Python does not run: creating the environment again")
            shutil.rmtree(env.venv)
        say(f"creating the {env.kind}'s environment {env.venv}")
        if run([sys.executable, "-m", "venv", env.venv]) != 0:
            sys.exit("Could not create a virtual environment. On Debian/Ubuntu: "
                     "apt-get install python3-venv, then run this command again.")
        problems = inspect(env)
        if problems is None:
            sys.exit(f"The new environment's Python ({env.python}) does not run; delete {env.venv} "
                     f"and run this command again.")
        say(f"installing the {env.kind}'s packages from {env.requirements.name} "
            f"({'about a minute' if env is LEARNER else 'about two minutes'} the first time)")
    elif problems:
        say(f"{len(problems)} package problem(s) in {env.venv}, repairing:")
        for problem in problems:
            say("  " + describe(problem))
    if problems:
        repair(env, problems)
        problems = inspect(env) or []
    settings(env)
    return problems


def repair(env, problems):
    damaged = [f"{p['name']}=={p['pinned']}" for p in problems if p["kind"] == "damaged"]
    damaged += [f"{p['name']}=={p['damaged_version']}" for p in problems if p.get("damaged_version")]
    if damaged:  # files gone while pip's record stays: pip would say "already satisfied"
        pip(env, "--force-reinstall", "--no-deps", *damaged)
    arguments = []  # one pip run (one resolver, one start-up) for the rest
    if any(p["kind"] != "course_lib" for p in problems):
        arguments += ["-r", env.requirements]
    if any(p["kind"] == "course_lib" for p in problems):
        arguments += ["-e", f"{ROOT}{env.editable[1:]}"]
    pip(env, *arguments)


def settings(env):
    """The course's JupyterLab settings and learner config, and matplotlib's font cache."""
    script = ("from course_lib import jupyterlab_settings as s; s.install(); "
              f"s.write_learner_config({str(env.learner_config)!r}, hide_globs=s.LEARNER_HIDDEN)")
    if subprocess.call([str(env.python), "-c", script], cwd=ROOT, env=child_env(env)) != 0:
        say("could not write JupyterLab's settings (see the message above)")
    if not any(env.mplconfig.glob("fontlist-*.json")):
        say("building matplotlib's font cache (once)")
        subprocess.call([str(env.python), "-c", "import matplotlib.font_manager"], cwd=ROOT,
                        env=child_env(env))


def child_env(env, learner_route=False):
    """The environment variables for the tools of `env`."""
    variables = dict(os.environ)
    variables["PATH"] = str(env.bin) + os.pathsep + variables.get("PATH", "")  # nbgrader needs it
    variables["VIRTUAL_ENV"] = str(env.venv)
    variables["MPLCONFIGDIR"] = str(env.mplconfig)
    variables.pop("PYTHONHOME", None)
    if learner_route:  # no instructor tooling in the learner's JupyterLab (nbgrader), lessons' solutions hidden
        variables["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            filter(None, [str(env.learner_config), variables.get("JUPYTER_CONFIG_PATH")]))
    return variables


def stop_if_broken(env, problems, force=False):
    """Print the problems left after a repair as the last lines, and stop (unless `force`)."""
    if not problems:
        return
    summary(env, [describe(p) for p in problems], force)


def summary(env, lines, force):
    count = sum(1 for line in lines if not line.startswith(" "))
    print()
    print(f"[descent] NOT READY: {count} problem(s) in the {env.kind}'s environment ({env.venv}):")
    for line in lines:
        print(f"[descent]   {line}")
    print(f"[descent] To repair: {env.command('setup')}  (it reinstalls from {env.requirements.name}), "
          f"then: {env.command('check')}")
    print(f"[descent] Still failing? Delete the folder {env.venv.name}{os.sep} and run "
          f"{env.command('setup')} again; or ask your instructor.")
    if force:
        print("[descent] --force: starting anyway.", flush=True)
        return
    sys.exit(1)


# ---------------------------------------------------------------------------------------------
# The commands
# ---------------------------------------------------------------------------------------------

def preflight(env, force=False):
    """Run the pre-flight check; on failure, its failing lines again as the last thing printed."""
    command = [env.python, "-m", "course_lib.preflight", "--requirements", env.requirements]
    say(" ".join(str(part) for part in command))
    completed = subprocess.run([str(part) for part in command], cwd=ROOT, env=child_env(env),
                               capture_output=True, text=True)
    sys.stdout.write(completed.stdout)
    sys.stderr.write(completed.stderr)
    if completed.returncode == 0:
        return 0
    failing, keep = [], False
    for line in completed.stdout.splitlines():
        stripped = line.strip()
        if stripped.startswith("FAIL"):
            failing.append(stripped[4:].strip())
            keep = True
        elif keep and line.startswith("      ") and stripped:
            failing.append("  " + stripped)
        else:
            keep = False
    summary(env, failing or ["the pre-flight check failed (see above)"], force)
    return 1


def lab_command(env, extra):
    # The repository's root, so that the lessons (notebooks/) and the homework (homework/) are both
    # in the file browser; lesson 0 opens first.
    command = [env.python, "-m", "jupyter", "lab", f"--ServerApp.root_dir={ROOT}",
               "--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # JupyterLab refuses to run as root without it
    return command + list(extra)


def take_flag(extra, flag):
    if flag in extra:
        extra.remove(flag)
        return True
    return False


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, extra = argv[0], list(argv[1:])
    known = {"lab", "check", "setup", "test", "grade", "hub", "loadtest", "bench", "generate", "screenshots"}
    if command not in known:
        print(f"Unknown command {command!r}; use one of: {', '.join(sorted(known))} "
              "(python3 course.py --help says what each does).")
        return 2
    instructor = take_flag(extra, "--instructor") or command not in {"lab", "check", "setup"}
    force = command == "lab" and take_flag(extra, "--force")
    env = INSTRUCTOR if instructor else LEARNER
    problems = ensure(env)

    if command == "setup":
        stop_if_broken(env, problems)
        say(f"the {env.kind}'s environment {env.venv} matches {env.requirements.name}")
        return 0
    if command == "check":
        stop_if_broken(env, problems)
        return preflight(env)
    if command == "lab":
        stop_if_broken(env, problems, force)
        preflight(env, force)
        return run(lab_command(env, extra), env=child_env(env, learner_route=not instructor))

    stop_if_broken(env, problems)
    variables = child_env(env)
    if command == "test":
        # Two pytest workers share the two cores. Each notebook's kernel would otherwise start
        # as many BLAS threads as there are cores, and OpenBLAS threads that spin-wait for a
        # busy core make a 1 s epoch take 20 s. One BLAS thread per worker keeps both cores busy.
        variables.setdefault("OPENBLAS_NUM_THREADS", "1")
        variables.setdefault("OMP_NUM_THREADS", "1")
        return run([env.python, "-m", "pytest", "-n", "2", "--dist", "loadfile", *extra], env=variables)
    if command == "grade":
        if not extra:
            print("Usage: python3 course.py grade ASSIGNMENT [arguments of the grading package]\n"
                  "       python3 course.py grade --help")
            return 2
        return run([env.python, "-m", "grading", *extra], env=variables)
    if command in ("hub", "loadtest"):
        # the learners' kernels run in the learner's environment: set it up (or repair it) too
        stop_if_broken(LEARNER, ensure(LEARNER))
        script = "run_hub.py" if command == "hub" else "loadtest.py"
        return run([env.python, ROOT / "hub" / script, *extra], env=variables)
    if command == "bench":
        status = 0
        for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
            status |= run([env.python, script, *extra], env=variables)
        return status
    if command == "generate":
        return run([env.python, "-m", "course_lib.exercises.generate", *extra], env=variables)
    if command == "screenshots":
        return run([env.python, "-m", "pytest", "tests/test_browser.py", "--update-screenshots", *extra],
                   env=variables)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
