"""The pip route and the conda route describe the same environment, and CI runs the README's command."""

import re
from pathlib import Path

import course_lib

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = "python3 course.py test"
LAB_COMMAND = "python3 course.py lab"


def pinned_requirements():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def environment_yml_pins():
    pins, extras = {}, []
    in_pip = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.split("#")[0].strip()
        if stripped == "- pip:":
            in_pip = True
            continue
        if in_pip and stripped.startswith("- "):
            item = stripped[2:].strip()
            if "==" in item:
                name, version = item.split("==")
                pins[name.lower().replace("_", "-")] = version
            else:
                extras.append(item)
    return pins, extras


def test_environment_yml_pins_the_same_packages_as_requirements():
    pip_pins = pinned_requirements()
    conda_pins, extras = environment_yml_pins()
    assert pip_pins, "requirements.txt pins nothing"
    assert conda_pins == pip_pins, (
        "environment.yml and requirements.txt have drifted apart:\n"
        f"only in requirements.txt: {sorted(set(pip_pins.items()) - set(conda_pins.items()))}\n"
        f"only in environment.yml: {sorted(set(conda_pins.items()) - set(pip_pins.items()))}"
    )
    assert "-e ." in extras, "environment.yml must install course_lib itself (- -e .)"


def test_environment_yml_uses_python_311():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*-\s*python=3\.11\s*$", text, re.M)


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert LAB_COMMAND in readme
    assert TEST_COMMAND in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert TEST_COMMAND in ci


def test_version_matches_the_installed_package():
    from importlib.metadata import version

    assert version("course_lib") == course_lib.__version__
