"""Tests of the pre-flight check: it passes here, and each kind of failure is reported with a fix."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib import data, preflight

REPO_DATA = Path(data.__file__).resolve().parent.parent / "data"


@pytest.fixture
def data_copy(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(REPO_DATA, copy, ignore=shutil.ignore_patterns(".cache"))
    return copy


def failures(results):
    return [result for result in results if not result.passed]


def test_passes_on_this_setup(capsys):
    results = preflight.run_preflight()
    assert failures(results) == []
    names = [result.name for result in results]
    for expected in ["Python", "numpy", "matplotlib", "ipywidgets", "jupyterlab", "jupyterlab_widgets",
                     "ipykernel", "ipywidgets front-end extension", "data files", "course_lib", "engine"]:
        assert expected in names
    # the learner's check lists the learner's packages, not the instructor's tools
    for absent in ["numba", "pytest", "playwright", "nbgrader", "nbval", "jupyterhub"]:
        assert absent not in names
    printed = capsys.readouterr().out
    assert printed.count("PASS  ") == len(results)
    assert "All" in printed and "checks passed" in printed


def test_command_line_exit_code_0_when_all_pass():
    completed = subprocess.run([sys.executable, "-m", "course_lib.preflight"], capture_output=True, text=True,
                               timeout=60)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "FAIL" not in completed.stdout


def test_command_line_exit_code_1_with_a_missing_data_file(data_copy):
    (data_copy / "fashion-mnist" / "train-labels-idx1-ubyte.gz").unlink()
    completed = subprocess.run([sys.executable, "-m", "course_lib.preflight", "--data-dir", str(data_copy)],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 1
    assert "FAIL  data files:" in completed.stdout and "train-labels-idx1-ubyte.gz is missing" in completed.stdout
    assert "checks FAILED" in completed.stdout


def test_main_returns_exit_code(data_copy, capsys):
    assert preflight.main([]) == 0
    (data_copy / "SHA256SUMS").unlink()
    assert preflight.main(["--data-dir", str(data_copy)]) == 1
    assert "SHA256SUMS is missing" in capsys.readouterr().out


def test_corrupt_data_file_is_a_failure_with_the_fix(data_copy):
    path = data_copy / "wine-quality" / "winequality-red.csv"
    path.write_bytes(path.read_bytes().replace(b"7.4", b"7.5", 1))
    (result,) = preflight.check_data(data_copy)
    assert not result.passed
    assert "winequality-red.csv is damaged" in result.detail
    assert "copy data/wine-quality/winequality-red.csv" in result.fix
    text = "\n".join(result.lines())
    assert text.startswith("FAIL  data files:") and "fix:" in text


def test_damaged_repository_file_suggests_git_checkout(monkeypatch):
    monkeypatch.setattr(data, "verify_data_files",
                        lambda folder: [str(data._damaged(REPO_DATA, "cereals/cereal.csv", "is missing."))])
    (result,) = preflight.check_data()
    assert not result.passed
    assert "git checkout -- data/cereals/cereal.csv" in result.fix


def test_wrong_package_version_is_a_failure_with_the_fix(monkeypatch):
    real_version = preflight.installed_version
    monkeypatch.setattr(preflight, "installed_version",
                        lambda name: "2.0.0" if name == "numpy" else real_version(name))
    results = preflight.run_preflight(show=False)
    (numpy_result,) = [r for r in results if r.name == "numpy"]
    assert not numpy_result.passed
    assert "2.0.0, but requirements.txt pins" in numpy_result.detail
    assert "python3 course.py setup" in numpy_result.fix
    assert len(failures(results)) == 1


def test_missing_package_and_custom_requirements(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pins\nnumpy==0.0.1\nno-such-package-descent==1.0\npytest\n")
    results = {r.name: r for r in preflight.check_packages(requirements)}
    assert not results["numpy"].passed and "pins 0.0.1" in results["numpy"].detail
    assert not results["no-such-package-descent"].passed
    assert results["no-such-package-descent"].detail == "not installed"
    assert results["pytest"].passed  # no pin: any version


def test_without_requirements_file_only_reports_versions(tmp_path):
    results = preflight.check_packages(tmp_path / "absent.txt")
    assert [r.name for r in results] == preflight.MAIN_PACKAGES
    assert all(r.passed and "no requirements.txt" in r.detail for r in results)


def test_old_python_is_a_failure():
    (result,) = preflight.check_python(version_info=(3, 9, 18), executable="/usr/bin/python3")
    assert not result.passed and "3.9.18" in result.detail and "3.11" in result.fix
    (result,) = preflight.check_python(version_info=(3, 12, 1))
    assert result.passed


def test_missing_widgets_extension_is_a_failure(tmp_path):
    (result,) = preflight.check_widgets_extension(folders=[tmp_path])
    assert not result.passed
    assert "@jupyter-widgets/jupyterlab-manager not found" in result.detail
    assert "course.py setup" in result.fix and "restart JupyterLab" in result.fix


def test_mismatched_widgets_extension_is_a_failure(tmp_path):
    folder = tmp_path / "@jupyter-widgets" / "jupyterlab-manager"
    folder.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"name": "@jupyter-widgets/jupyterlab-manager", "version": "3.1.0"}))
    (result,) = preflight.check_widgets_extension(folders=[tmp_path], ipywidgets_version="8.1.9")
    assert not result.passed and "needs 5.x" in result.detail
    (result,) = preflight.check_widgets_extension(folders=[tmp_path], ipywidgets_version="7.8.1")
    assert result.passed


def test_wrong_course_lib_version_is_a_failure():
    (result,) = preflight.check_course_lib(expected_version="9.9.9")
    assert not result.passed
    assert "9.9.9 is expected" in result.detail and "course.py setup" in result.fix
    (result,) = preflight.check_course_lib()
    assert result.passed


def test_engine_check_runs_an_optimizer_step():
    (result,) = preflight.check_engine()
    assert result.passed and "Adam step" in result.detail
    fast = preflight.installed_version("numba")
    assert ("compiled fast path" in result.detail) == bool(fast)


def test_instructor_check_lists_the_instructor_tools_with_their_fix():
    results = {r.name: r for r in preflight.check_packages(preflight.REPOSITORY / "requirements-dev.txt")}
    for name in ["numpy", "numba", "pytest", "nbgrader", "playwright", "jupyterhub", "jupyterhub-idle-culler"]:
        assert name in results
    missing = preflight.check_packages  # a missing instructor tool names the instructor's repair
    broken = {r.name: r for r in missing(_requirements_with("requirements-dev.txt", "no-such-tool-descent==1.0"))}
    assert broken["no-such-tool-descent"].fix.startswith("run: python3 course.py setup --instructor")


def _requirements_with(name, line):
    import tempfile

    folder = Path(tempfile.mkdtemp())
    (folder / "requirements.txt").write_text("numpy\n")
    (folder / name).write_text(f"-r requirements.txt\n{line}\n")
    return folder / name


def test_read_requirements_follows_includes(tmp_path):
    (tmp_path / "requirements.txt").write_text("numpy==2.4.6  # the learner's\nmatplotlib==3.11.2\n")
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\npytest==9.2.0\n")
    assert preflight.read_requirements(tmp_path / "requirements-dev.txt") == {
        "numpy": "2.4.6", "matplotlib": "3.11.2", "pytest": "9.2.0"}


@pytest.fixture
def fake_site(tmp_path, monkeypatch):
    """A site folder with a fake installed package 'descentfake' 1.0 whose files can be removed."""
    site = tmp_path / "site"
    (site / "descentfake").mkdir(parents=True)
    (site / "descentfake" / "__init__.py").write_text("")
    info = site / "descentfake-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: descentfake\nVersion: 1.0\n"
                                   "Requires-Dist: no-such-dependency-descent>=1\n")
    (info / "RECORD").write_text("descentfake/__init__.py,,\ndescentfake-1.0.dist-info/METADATA,,\n")
    monkeypatch.syspath_prepend(str(site))
    import importlib

    importlib.invalidate_caches()
    return site


def test_a_package_whose_files_are_gone_is_damaged_not_installed(fake_site, tmp_path):
    assert preflight.package_state("descentfake", "1.0") == (None, "1.0")
    assert preflight.package_state("descentfake", "2.0") == ("version", "1.0")
    (fake_site / "descentfake" / "__init__.py").unlink()  # deleted by hand: pip still lists it
    assert preflight.package_state("descentfake", "1.0") == ("damaged", "1.0")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("descentfake==1.0\n")
    (result,) = preflight.check_packages(requirements)
    assert not result.passed and "files are missing" in result.detail and "course.py setup" in result.fix


def test_inspect_packages_lists_missing_wrong_damaged_and_dependencies(fake_site, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("descentfake==1.0\nnumpy==0.0.1\nno-such-package-descent==1.0\n")
    problems = {p["name"]: p for p in preflight.inspect_packages(requirements)}
    assert problems["numpy"]["kind"] == "version" and problems["numpy"]["pinned"] == "0.0.1"
    assert problems["no-such-package-descent"]["kind"] == "missing"
    dependency = problems["no-such-dependency-descent"]
    assert dependency["kind"] == "dependency" and dependency["pinned"] == "descentfake"
    assert "course_lib" not in problems  # installed from this repository
    (fake_site / "descentfake" / "__init__.py").unlink()
    problems = {p["name"]: p for p in preflight.inspect_packages(requirements)}
    assert problems["descentfake"]["kind"] == "damaged"


def test_inspect_packages_passes_this_environment():
    assert preflight.inspect_packages(preflight.REPOSITORY / "requirements.txt") == []


def test_a_broken_compiled_kernel_is_a_failure_with_a_fix(monkeypatch):
    from course_lib import optim

    def broken_step(self):
        raise OSError("llvmlite.dll: the specified module could not be found")

    monkeypatch.setattr(optim.Optimizer, "step", broken_step)
    (result,) = preflight.check_engine()
    assert not result.passed
    assert "llvmlite.dll" in result.detail and "course.py setup" in result.fix


def test_a_crashing_check_is_reported_not_raised(monkeypatch):
    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(preflight, "check_widgets_extension", broken)
    results = preflight.run_preflight(show=False)
    assert any(not r.passed and "boom" in r.detail for r in results)
