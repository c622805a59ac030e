"""The two environments: the pip route and the conda route describe the same packages, the
learner's holds only what the lessons need, course.py sets them up and repairs them, and CI runs
the README's command."""

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import course_lib
from course_lib import preflight

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = "python3 course.py test"
LAB_COMMAND = "python3 course.py lab"
# Tools a learner never runs: they belong to the instructor's environment only.
INSTRUCTOR_ONLY = {"numba", "llvmlite", "pytest", "pytest-xdist", "hypothesis", "nbval", "nbgrader",
                   "playwright", "jupyterhub", "jupyterhub-idle-culler"}


def normal(name):
    return name.lower().replace("_", "-")


def pins(filename):
    return {normal(name): version for name, version in preflight.read_requirements(ROOT / filename).items()}


def yml_pins(filename):
    found, extras = {}, []
    in_pip = False
    for line in (ROOT / filename).read_text().splitlines():
        stripped = line.split("#")[0].strip()
        if stripped == "- pip:":
            in_pip = True
            continue
        if in_pip and stripped.startswith("- "):
            item = stripped[2:].strip()
            if "==" in item:
                name, version = item.split("==")
                found[normal(name)] = version
            else:
                extras.append(item)
    return found, extras


def load_course_py():
    spec = importlib.util.spec_from_file_location("course_script", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("yml, requirements, editable", [
    ("environment.yml", "requirements.txt", "-e ."),
    ("environment-instructor.yml", "requirements-dev.txt", "-e .[fast]"),
])
def test_each_conda_file_pins_the_same_packages_as_its_requirements(yml, requirements, editable):
    pip_pins = pins(requirements)
    conda_pins, extras = yml_pins(yml)
    assert pip_pins and all(pip_pins.values()), f"{requirements} must pin every package (name==version)"
    assert conda_pins == pip_pins, (
        f"{yml} and {requirements} have drifted apart:\n"
        f"only in {requirements}: {sorted(set(pip_pins.items()) - set(conda_pins.items()))}\n"
        f"only in {yml}: {sorted(set(conda_pins.items()) - set(pip_pins.items()))}"
    )
    assert editable in extras, f"{yml} must install course_lib itself ({editable})"
    assert re.search(r"^\s*-\s*python=3\.11\s*$", (ROOT / yml).read_text(), re.M)


def test_the_learner_installs_only_what_the_lessons_need():
    learner = pins("requirements.txt")
    assert INSTRUCTOR_ONLY.isdisjoint(learner), f"instructor tools in requirements.txt: {INSTRUCTOR_ONLY & set(learner)}"
    assert {"numpy", "matplotlib", "ipywidgets", "jupyterlab", "jupyterlab-widgets", "ipykernel"} <= set(learner)
    instructor = pins("requirements-dev.txt")
    assert set(learner.items()) <= set(instructor.items()), "requirements-dev.txt must include requirements.txt"
    assert INSTRUCTOR_ONLY - {"llvmlite"} <= set(instructor)


def test_numba_is_an_optional_extra_of_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(normal(d).startswith("numba") for d in project["dependencies"])
    assert any(normal(d).startswith("numba") for d in project["optional-dependencies"]["fast"])


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert LAB_COMMAND in readme
    assert TEST_COMMAND in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert TEST_COMMAND in ci


def test_version_matches_the_installed_package():
    from importlib.metadata import version

    assert version("course_lib") == course_lib.__version__


def test_help_lists_every_command():
    completed = subprocess.run([sys.executable, str(ROOT / "course.py"), "--help"], capture_output=True,
                               text=True, timeout=30)
    assert completed.returncode == 0
    for command in ["lab", "check", "setup", "test", "grade", "hub", "loadtest", "bench", "generate",
                    "screenshots", "--force", "--instructor"]:
        assert command in completed.stdout, command
    unknown = subprocess.run([sys.executable, str(ROOT / "course.py"), "nonsense"], capture_output=True,
                             text=True, timeout=30)
    assert unknown.returncode == 2 and "--help" in unknown.stdout


def test_git_ignores_the_environments_and_nbgrader_outputs():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    paths = [".venv/x", ".venv-dev/x", ".hub/home/learner01/x", "grades.csv", "gradebook.db",
             "autograded/x", "feedback/x", "release/x", "submitted/x", ".nbgrader.log", "test-artifacts/x"]
    completed = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=ROOT, capture_output=True,
                               text=True, timeout=30)
    assert sorted(completed.stdout.split()) == sorted(paths)


# -- course.py's repair, without touching a real environment --------------------------------------

@pytest.fixture
def course_py(monkeypatch, tmp_path):
    module = load_course_py()
    calls = []
    monkeypatch.setattr(module, "run", lambda command, **kwargs: calls.append([str(c) for c in command]) or 0)
    module.calls = calls
    return module


def problem(name, kind, pinned="1.0", found=None):
    return {"name": name, "kind": kind, "pinned": pinned, "found": found}


def test_repair_reinstalls_damaged_packages_and_installs_the_rest_in_one_pip_run(course_py):
    env = course_py.LEARNER
    dependency = dict(problem("pillow", "dependency", "matplotlib", "12.0 is registered but its files are missing"),
                      damaged_version="12.0")
    course_py.repair(env, [problem("numpy", "damaged", "2.4.6", "2.4.6"), problem("matplotlib", "missing"),
                           problem("course_lib", "course_lib", None, "not installed"), dependency])
    first, second = course_py.calls
    assert first[-4:] == ["--force-reinstall", "--no-deps", "numpy==2.4.6", "pillow==12.0"]
    assert "-r" in second and second[second.index("-r") + 1].endswith("requirements.txt")
    assert "-e" in second and second[second.index("-e") + 1] == str(course_py.ROOT)
    assert "--no-compile" in second  # the learner's environment goes without bytecode


def test_repair_of_the_instructor_environment_installs_the_fast_extra(course_py):
    course_py.repair(course_py.INSTRUCTOR, [problem("course_lib", "course_lib", None, "not installed")])
    (only,) = course_py.calls
    assert only[-2:] == ["-e", f"{course_py.ROOT}[fast]"] and "-r" not in only


def test_a_failed_check_ends_with_a_short_summary_and_stops(course_py, capsys):
    with pytest.raises(SystemExit) as stopped:
        course_py.stop_if_broken(course_py.LEARNER, [problem("numpy", "missing", "2.4.6")])
    assert stopped.value.code == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert "NOT READY: 1 problem(s)" in lines[-4]
    assert "numpy: not installed (pinned 2.4.6)" in lines[-3]
    assert "python3 course.py setup" in lines[-2] and "python3 course.py check" in lines[-2]
    assert not any(re.search(r"(^|\s)pip install", line) for line in lines), "a bare pip is not the course's"


def test_force_starts_anyway(course_py, capsys):
    course_py.stop_if_broken(course_py.INSTRUCTOR, [problem("numba", "version", "0.68.1", "0.60.0")], force=True)
    out = capsys.readouterr().out
    assert "numba: 0.60.0 installed, but 0.68.1 is pinned" in out
    assert "python3 course.py setup --instructor" in out and out.strip().endswith("--force: starting anyway.")


def test_lab_serves_the_repository_root_and_opens_lesson_0(course_py):
    command = [str(part) for part in course_py.lab_command(course_py.LEARNER, ["--no-browser"])]
    assert f"--ServerApp.root_dir={course_py.ROOT}" in command  # notebooks/ and homework/ both reachable
    assert "--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb" in command
    assert (course_py.ROOT / "notebooks" / "00_start_here.ipynb").exists()
    assert (course_py.ROOT / "homework").is_dir()
    assert command[-1] == "--no-browser"


def test_the_learner_route_puts_its_config_first_and_matplotlib_in_the_environment(course_py):
    variables = course_py.child_env(course_py.LEARNER, learner_route=True)
    assert variables["JUPYTER_CONFIG_PATH"].split(":")[0] == str(course_py.LEARNER.learner_config)
    assert variables["MPLCONFIGDIR"] == str(course_py.ROOT / ".venv" / "mplconfig")
    instructor = course_py.child_env(course_py.INSTRUCTOR)
    assert str(course_py.INSTRUCTOR.learner_config) not in instructor.get("JUPYTER_CONFIG_PATH", "")


def test_grade_dispatches_to_the_grading_package(course_py, monkeypatch):
    monkeypatch.setattr(course_py, "ensure", lambda env: [])
    assert course_py.main(["grade", "hw1_losses", "--dry-run"]) == 0
    (command,) = course_py.calls
    assert command[0].endswith(".venv-dev/bin/python") and command[1:] == ["-m", "grading", "hw1_losses", "--dry-run"]
    assert course_py.main(["grade"]) == 2  # usage


def test_inspect_runs_preflight_with_the_environment_python():
    """The real thing: course.py asks this environment's Python what does not match its pins."""
    module = load_course_py()
    env = module.Environment("this", Path(sys.prefix).name, "requirements.txt", ".")
    env.venv = Path(sys.prefix)
    problems = module.inspect(env)
    assert problems == [], problems
