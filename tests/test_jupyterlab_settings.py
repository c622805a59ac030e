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
