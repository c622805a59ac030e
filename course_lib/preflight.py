"""The pre-flight check: is this computer ready for the course?

Run it in a terminal:

    python -m course_lib.preflight        (or: descent-preflight, or: python3 course.py check)

or as the first cell of lesson 0:

    from course_lib.preflight import run_preflight
    run_preflight()

It checks, in a few seconds, and prints one PASS / FAIL line per item with
the fix for each failure:

1. Python is 3.11 or newer;
2. each package pinned in ``requirements.txt`` (the learner's environment; an instructor's
   ``requirements-dev.txt`` with ``--requirements``) is installed at that version, with its
   files present (without a requirements.txt: the course's main packages are installed);
3. the ipywidgets front-end extension of JupyterLab
   (``@jupyter-widgets/jupyterlab-manager``) is installed, so sliders show;
4. every data file is present and matches its checksum in ``data/SHA256SUMS``;
5. ``course_lib`` is importable, installed at the version of its source.

``run_preflight()`` never raises: a check that crashes is reported as FAIL.
The command's exit code is 0 when every check passes and 1 otherwise.
"""

import importlib
import importlib.metadata
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

MINIMUM_PYTHON = (3, 11)
REPOSITORY = Path(__file__).resolve().parent.parent
SETUP_FIX = (
    "run: python3 course.py setup   "
    "(conda / Binder: conda env update -f environment.yml)"
)
INSTRUCTOR_SETUP_FIX = (
    "run: python3 course.py setup --instructor   "
    "(conda: conda env update -f environment-instructor.yml)"
)
# Checked when there is no requirements.txt to read (e.g. course_lib installed without the repository).
MAIN_PACKAGES = ["numpy", "matplotlib", "ipywidgets", "jupyterlab", "jupyterlab_widgets", "ipykernel"]
WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"


@dataclass
class CheckResult:
    """The outcome of one check.

    name    : what was checked, e.g. "numpy"
    passed  : True or False
    detail  : what was found, e.g. "2.4.6" or "2.3.0, but requirements.txt pins 2.4.6"
    fix     : what to do when it failed ("" when it passed)
    """

    name: str
    passed: bool
    detail: str
    fix: str = ""

    def lines(self):
        """The text shown for this result: one PASS/FAIL line, then the fix, if any."""
        status = "PASS" if self.passed else "FAIL"
        text = [f"{status}  {self.name}: {self.detail}"]
        if self.fix:
            fix_lines = self.fix.splitlines()
            text.append(f"      fix: {fix_lines[0]}")
            text += [f"           {line}" for line in fix_lines[1:]]
        return text


# ---------------------------------------------------------------------------
# The checks, one function each; each returns a list of CheckResult
# ---------------------------------------------------------------------------

def check_python(version_info=None, executable=None):
    """Python 3.11 or newer."""
    version = tuple(version_info or sys.version_info)[:3]
    executable = executable or sys.executable
    shown = ".".join(str(part) for part in version)
    if version[:2] >= MINIMUM_PYTHON:
        return [CheckResult("Python", True, f"{shown} ({executable})")]
    return [CheckResult(
        "Python", False,
        f"{shown} ({executable}), but the course needs {MINIMUM_PYTHON[0]}.{MINIMUM_PYTHON[1]} or newer",
        "install Python 3.11 (python.org or your package manager), then: python3.11 course.py setup\n"
        "in JupyterLab, pick the kernel of the course's environment (.venv)",
    )]


def read_requirements(path):
    """``{package name: pinned version or None}`` from a requirements file (``name==version`` lines;
    ``-r other.txt`` includes another file)."""
    path = Path(path)
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r"):
            pins.update(read_requirements(path.parent / line[2:].strip()))
            continue
        if not line or line.startswith("-"):
            continue
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip()] = version.strip()
        else:
            pins[line] = None
    return pins


def installed_version(package):
    """The installed version of ``package`` (a distribution name), or None if it is not installed."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def missing_files(package):
    """The package's own ``__init__.py`` files that pip's record lists but that are gone from disk
    (a package folder deleted by hand: pip still calls it installed). Empty when all are there."""
    try:
        files = importlib.metadata.distribution(package).files or []
    except importlib.metadata.PackageNotFoundError:
        return []
    return [str(f) for f in files
            if f.name == "__init__.py" and len(f.parts) == 2 and not f.locate().exists()]


def package_state(package, pinned):
    """``(kind, found)`` for one pinned package: kind is None when it is fine, else "missing",
    "version" (another version is installed) or "damaged" (files missing)."""
    version = installed_version(package)
    if version is None:
        return "missing", None
    if pinned is not None and version != pinned:
        return "version", version
    if missing_files(package):
        return "damaged", version
    return None, version


def _dependency_problems(pins):
    """The dependencies (direct and indirect) of the pinned packages that are not installed, or
    installed at a version their dependent does not accept, or damaged. Needs ``packaging``
    (JupyterLab brings it); without it, none are looked at."""
    try:
        from packaging.requirements import Requirement
        from packaging.utils import canonicalize_name
    except ImportError:
        return []
    seen = {canonicalize_name(name) for name in pins}
    queue = [name for name in pins if installed_version(name)]
    problems = []
    while queue:
        parent = queue.pop()
        for text in importlib.metadata.requires(parent) or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            key = canonicalize_name(requirement.name)
            if key in seen:
                continue
            seen.add(key)
            version = installed_version(requirement.name)
            if version is None:
                found = "not installed"
            elif not requirement.specifier.contains(version, prereleases=True):
                found = f"{version} is installed (it needs {requirement.specifier})"
            elif missing_files(requirement.name):
                found = f"{version} is registered but its files are missing"
            else:
                queue.append(requirement.name)
                continue
            problem = {"name": requirement.name, "pinned": parent, "found": found, "kind": "dependency"}
            if version is not None and found.endswith("missing"):
                problem["damaged_version"] = version  # to reinstall as it is (pip calls it satisfied)
            problems.append(problem)
    return problems


def inspect_packages(requirements_path, repository=None):
    """Everything that does not match the pins in ``requirements_path``, as a list of dicts
    ``{"name", "pinned", "found", "kind"}`` (kind: "missing", "version", "damaged", "dependency",
    "course_lib"); ``[]`` when all is well. ``course.py`` calls it (with the environment's Python)
    before every command and reinstalls what it lists.
    """
    pins = read_requirements(requirements_path)
    problems = []
    for name, pinned in pins.items():
        kind, found = package_state(name, pinned)
        if kind:
            problems.append({"name": name, "pinned": pinned, "found": found, "kind": kind})
    problems += _dependency_problems(pins)
    import importlib.util

    repository = Path(repository or REPOSITORY).resolve()
    spec = importlib.util.find_spec("course_lib")
    if installed_version("course_lib") is None or spec is None:
        found = "not installed"
    elif Path(spec.origin).resolve().parent != repository / "course_lib":
        found = f"imports from {Path(spec.origin).parent}, not from {repository / 'course_lib'}"
    else:
        found = None
    if found:
        problems.append({"name": "course_lib", "pinned": None, "found": found, "kind": "course_lib"})
    return problems


def check_packages(requirements_path=None):
    """Each package pinned in requirements.txt is installed at exactly that version, files present."""
    if requirements_path is None:
        requirements_path = REPOSITORY / "requirements.txt"
    requirements_path = Path(requirements_path)
    fix = INSTRUCTOR_SETUP_FIX if requirements_path.name == "requirements-dev.txt" else SETUP_FIX
    if requirements_path.is_file():
        pins = read_requirements(requirements_path)
        source = requirements_path.name
    else:
        pins = {name: None for name in MAIN_PACKAGES}
        source = None
    results = []
    for package, pinned in pins.items():
        kind, version = package_state(package, pinned)
        if kind == "missing":
            results.append(CheckResult(package, False, "not installed", fix))
        elif kind == "version":
            results.append(CheckResult(package, False, f"{version}, but {source} pins {pinned}", fix))
        elif kind == "damaged":
            results.append(CheckResult(package, False, f"{version} is registered, but its files are missing "
                                                       f"({', '.join(missing_files(package)[:2])})", fix))
        elif source is None:
            results.append(CheckResult(package, True, f"{version} (no requirements.txt found to compare with)"))
        else:
            results.append(CheckResult(package, True, version))
    return results


def labextension_folders():
    """The folders where JupyterLab looks for installed (prebuilt) extensions."""
    try:
        from jupyter_core.paths import jupyter_path
        folders = jupyter_path("labextensions")
    except ImportError:
        folders = []
    folders.append(os.path.join(sys.prefix, "share", "jupyter", "labextensions"))
    return [Path(folder) for folder in dict.fromkeys(folders)]  # without duplicates, in order


def check_widgets_extension(folders=None, ipywidgets_version=None):
    """The ipywidgets front-end (JupyterLab extension @jupyter-widgets/jupyterlab-manager) is installed."""
    if folders is None:
        folders = labextension_folders()
    if ipywidgets_version is None:
        ipywidgets_version = installed_version("ipywidgets")
    name = "ipywidgets front-end extension"
    fix = SETUP_FIX + "\nthen restart JupyterLab and reload the browser tab"
    for folder in folders:
        package_json = Path(folder) / WIDGETS_EXTENSION / "package.json"
        if not package_json.is_file():
            continue
        try:
            version = json.loads(package_json.read_text(encoding="utf-8"))["version"]
        except (OSError, ValueError, KeyError) as error:
            return [CheckResult(name, False, f"{package_json} cannot be read ({error})", fix)]
        # ipywidgets 8 talks to jupyterlab-manager 5, ipywidgets 7 to jupyterlab-manager 3.
        expected_major = {"8": "5", "7": "3"}.get((ipywidgets_version or "").split(".")[0])
        if expected_major and version.split(".")[0] != expected_major:
            return [CheckResult(
                name, False,
                f"{WIDGETS_EXTENSION} {version} does not match ipywidgets {ipywidgets_version} "
                f"(it needs {expected_major}.x); sliders would not show", fix,
            )]
        return [CheckResult(name, True, f"{WIDGETS_EXTENSION} {version} ({package_json.parent})")]
    searched = ", ".join(str(folder) for folder in folders)
    return [CheckResult(
        name, False,
        f"{WIDGETS_EXTENSION} not found (searched {searched}); sliders and buttons would not show",
        fix,
    )]


def check_data(data_dir=None):
    """Every data file listed in data/SHA256SUMS is present and intact."""
    from course_lib import data

    folder = data.get_data_dir(data_dir)
    problems = data.verify_data_files(folder)
    if not problems:
        try:
            count = len(data._read_manifest(folder))
        except Exception:  # noqa: BLE001 - verify_data_files already read it; this is only for the count
            count = "all"
        return [CheckResult("data files", True, f"{count} files match {folder / data.MANIFEST_NAME}")]
    results = []
    for problem in problems:
        # Each message is "Data file <path> <what is wrong>\n<how to restore it>".
        what, _, how = problem.partition("\n")
        how = how.removeprefix("To restore it, ")
        results.append(CheckResult("data files", False, what.removeprefix("Data file "), how))
    return results


def check_course_lib(expected_version=None):
    """course_lib imports, from this repository, and its installed version is the source's version."""
    try:
        course_lib = importlib.import_module("course_lib")
    except Exception as error:  # noqa: BLE001 - any import failure is what we report
        return [CheckResult("course_lib", False, f"cannot be imported ({type(error).__name__}: {error})", SETUP_FIX)]
    version = getattr(course_lib, "__version__", None)
    installed = installed_version("course_lib")
    expected = expected_version or installed
    location = Path(course_lib.__file__).resolve().parent
    if installed is None:
        return [CheckResult(
            "course_lib", False, f"{version} imported from {location}, but not installed",
            "run: python3 course.py setup   (it installs course_lib from this folder)\nthen restart the kernel",
        )]
    if version != expected:
        return [CheckResult(
            "course_lib", False,
            f"{version} imported from {location}, but {expected} is expected",
            "run: python3 course.py setup   (it reinstalls course_lib from this folder)\n"
            "then restart the kernel",
        )]
    return [CheckResult("course_lib", True, f"{version} ({location})")]


def check_engine(optimizer_name="Adam"):
    """The engine trains: one optimizer step, for real.

    With numba installed (the instructor's environment, or ``pip install -e .[fast]``) the step
    runs the compiled fast path: the first run on a computer compiles it (about half a second)
    and keeps it on disk, and a broken numba or llvmlite shows up here rather than in lesson 7.
    Without numba (the learner's environment) it runs the NumPy reference path.
    """
    import time

    numba = installed_version("numba")
    path = "the engine did not start"
    try:
        import numpy as np

        from course_lib import fast_optim, nn, optim

        started = time.perf_counter()
        param = nn.Parameter(np.array([1.0, -1.0], dtype=np.float32))
        optimizer = getattr(optim, optimizer_name)([param])
        param.grad[...] = (0.5, -0.5)
        optimizer.step()
        seconds = time.perf_counter() - started
        if optimizer.fast is not None:
            path = f"compiled fast path, numba {numba}"
        elif numba and not fast_optim.available():
            path = f"NumPy reference path: numba {numba} is installed but {fast_optim.NUMBA_PROBLEM}"
        else:
            path = "NumPy reference path" + ("" if numba else "; numba, optional, is not installed")
    except Exception as error:  # noqa: BLE001 - any failure is what we report
        return [CheckResult(
            "engine", False, f"an optimizer step failed ({path}; {type(error).__name__}: {error})",
            "run: python3 course.py setup   (it reinstalls damaged packages at the pinned versions)\n"
            "then restart the kernel",
        )]
    if not np.all(np.isfinite(param.data)) or not np.all(param.data != (1.0, -1.0)):
        return [CheckResult("engine", False, f"an optimizer step gave {param.data}, not an update",
                            "please report this to your instructor")]
    return [CheckResult("engine", True, f"an {optimizer_name} step ran ({path}; {seconds:.2f} s"
                                        f"{', compiling included on a first run' if optimizer.fast is not None else ''})")]


def check_jupyterlab_settings(prefix=None):
    """The course's JupyterLab settings (widget callbacks on the kernel's main thread) are installed."""
    from course_lib import jupyterlab_settings

    missing = jupyterlab_settings.missing_settings(prefix)
    where = jupyterlab_settings.overrides_path(prefix)
    if missing:
        return [CheckResult(
            "JupyterLab settings", False, f"{where} lacks {', '.join(missing)}",
            "run: python3 course.py setup   (conda/Binder: python -m course_lib.jupyterlab_settings)\n"
            "then restart JupyterLab",
        )]
    return [CheckResult("JupyterLab settings", True, f"course settings in {where}")]


# ---------------------------------------------------------------------------
# Running every check
# ---------------------------------------------------------------------------

def _safely(check, *args):
    """Run one check; if it crashes, report that as a failure instead of raising."""
    try:
        return check(*args)
    except Exception as error:  # noqa: BLE001 - the pre-flight check must never crash
        name = check.__name__.removeprefix("check_")
        return [CheckResult(name, False, f"the check itself failed: {type(error).__name__}: {error}",
                            "please report this to your instructor")]


def run_preflight(data_dir=None, requirements_path=None, show=True):
    """Run every check; print one line per result (unless ``show=False``); return the list of results.

    Never raises. ``all(result.passed for result in results)`` tells whether the setup is ready.
    """
    results = []
    results += _safely(check_python)
    results += _safely(check_packages, requirements_path)
    results += _safely(check_widgets_extension)
    results += _safely(check_jupyterlab_settings)
    results += _safely(check_data, data_dir)
    results += _safely(check_course_lib)
    results += _safely(check_engine)
    if show:
        print(report(results), flush=True)
    return results


def report(results):
    """The text of the whole report: a title, one block per result, a summary line."""
    lines = ["Descent pre-flight check"]
    for result in results:
        lines += ["  " + line for line in result.lines()]
    failed = [result for result in results if not result.passed]
    if failed:
        lines.append(f"{len(failed)} of {len(results)} checks FAILED: apply the fixes above, then run this check again (python3 course.py check).")
    else:
        lines.append(f"All {len(results)} checks passed: you are ready for the course.")
    return "\n".join(lines)


def main(argv=None):
    """The command line: ``python -m course_lib.preflight [--data-dir FOLDER]``; returns the exit code."""
    import argparse

    parser = argparse.ArgumentParser(prog="descent-preflight", description="Check that this computer is ready for the Descent course.")
    parser.add_argument("--data-dir", help="the data folder to check (default: the course's data/)")
    parser.add_argument("--requirements", help="the requirements file with the pinned versions (default: the "
                                               "course's requirements.txt; instructors: requirements-dev.txt)")
    arguments = parser.parse_args(argv)
    results = run_preflight(data_dir=arguments.data_dir, requirements_path=arguments.requirements)
    return 0 if all(result.passed for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
