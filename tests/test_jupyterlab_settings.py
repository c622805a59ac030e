"""The JupyterLab settings the lessons need are installed, merged and checked."""

import json

from course_lib import jupyterlab_settings, preflight


def test_install_writes_the_course_settings_and_keeps_others(tmp_path):
    path = jupyterlab_settings.overrides_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"@jupyterlab/other:plugin": {"keep": 1}}))
    assert jupyterlab_settings.missing_settings(tmp_path)

    jupyterlab_settings.install(tmp_path)

    written = json.loads(path.read_text())
    assert written["@jupyterlab/other:plugin"] == {"keep": 1}
    assert written["@jupyterlab/apputils-extension:kernels-settings"]["commsOverSubshells"] == "disabled"
    assert jupyterlab_settings.missing_settings(tmp_path) == []


def test_preflight_reports_missing_settings_with_the_fix(tmp_path):
    (result,) = preflight.check_jupyterlab_settings(tmp_path)
    assert not result.passed
    assert "commsOverSubshells" in result.detail
    assert "course.py setup" in result.fix

    jupyterlab_settings.install(tmp_path)
    (result,) = preflight.check_jupyterlab_settings(tmp_path)
    assert result.passed


def test_a_corrupt_overrides_file_counts_as_missing(tmp_path):
    path = jupyterlab_settings.overrides_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert jupyterlab_settings.missing_settings(tmp_path)
    jupyterlab_settings.install(tmp_path)
    assert jupyterlab_settings.missing_settings(tmp_path) == []


# -- the learner's route: no instructor tooling, solutions out of the file browser -----------------

import sys  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_learner_config_turns_off_every_nbgrader_extension_installed_here(tmp_path):
    folder = jupyterlab_settings.write_learner_config(tmp_path / "learner", hide_globs=["source"])
    server = json.loads((folder / "jupyter_server_config.json").read_text())
    page = json.loads((folder / "labconfig" / "page_config.json").read_text())
    installed = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "nbgrader.json"
    if not installed.exists():
        pytest.skip("nbgrader is not installed in this environment")
    enabled_by_nbgrader = json.loads(installed.read_text())["ServerApp"]["jpserver_extensions"]
    turned_off = server["ServerApp"]["jpserver_extensions"]
    assert set(enabled_by_nbgrader) <= {name for name, on in turned_off.items() if on is False}
    lab_extension = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter" / "nbgrader"
    assert lab_extension.is_dir() and page["disabledExtensions"] == {"@jupyter/nbgrader": True}
    assert "source" in server["ContentsManager"]["hide_globs"] and "__pycache__" in server["ContentsManager"]["hide_globs"]


@pytest.mark.parametrize("route", ["learner", "instructor"])
def test_a_server_on_the_learner_route_hides_nbgrader_and_the_solutions(tmp_path, route):
    from jupyterlab_driver import JupyterLabServer

    config = (jupyterlab_settings.write_learner_config(tmp_path / "learner", jupyterlab_settings.LEARNER_HIDDEN)
              if route == "learner" else None)
    with JupyterLabServer(ROOT, tmp_path / "server", config_path=config) as server:
        listing = [item["name"] for item in server.api("GET", "/api/contents/")["content"]]
        assert "notebooks" in listing and "homework" in listing
        loaded = [line for line in server.log().splitlines() if "extension was successfully loaded" in line]
        page = urllib.request.urlopen(f"{server.base_url}/lab?token={server.token}", timeout=30).read().decode()
    nbgrader_loaded = any("nbgrader" in line for line in loaded)
    nbgrader_disabled = '"disabledExtensions": ["@jupyter/nbgrader"]' in page.replace("'", '"')
    if route == "learner":
        assert not nbgrader_loaded and nbgrader_disabled
        assert "source" not in listing and "tests" not in listing
    else:  # the instructor's environment has nbgrader: the checks above can see it
        assert nbgrader_loaded and not nbgrader_disabled
        assert "source" in listing
