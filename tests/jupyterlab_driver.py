"""Drive the course the way a learner meets it: JupyterLab in a real (headless) Chromium.

The pieces, usable on their own:

* :func:`browser_missing` -- why the browser test cannot run here (``None`` when it can).
* :class:`JupyterLabServer` -- ``python -m jupyter lab`` on a free loopback port with a token,
  in throw-away config/runtime/settings directories; always shut down (``stop()``).
* :class:`LessonRun` -- open one notebook in a tab (its own JupyterLab workspace), Run All,
  wait until every cell is done, read what the page shows (:class:`PageReport`), move a
  control as a learner would (mouse drag, dropdown, click), take a screenshot, read the log
  console, shut the notebook's kernel down.
* ``check_*`` functions -- pure: they take a :class:`PageReport` (and the notebook as saved
  on disk) and return a list of failure messages, empty when the check passes.  The test of
  the test feeds them deliberately broken notebooks and asserts that they complain.

Selectors and waits are JupyterLab 4.6 / ipywidgets 8.1 facts; see GOTCHAS in the course's
shared notes and the comments below.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path(os.environ.get("DESCENT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # a tab running ahead of its turn must not be throttled as a background tab
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
INSTALL_HINT = (
    "install Debian's Chromium and the playwright package: "
    "`apt-get install chromium` and `pip install playwright` "
    "(never `playwright install`: the test drives /usr/bin/chromium)"
)

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
STDERR_MIME = "application/vnd.jupyter.stderr"
STUB_ERROR = "NotImplementedError"
#: Text the widget renderer puts on the page when a widget cannot be shown.
WIDGET_FAILURE_TEXTS = (
    "Error displaying widget",
    "model not found",
    "Failed to load model class",
    "Failed to load view class",
    "Failed to create view for",
    "Could not create a view",
    "Click to show javascript error",
)

#: JupyterLab user settings for the test server (an isolated settings dir, so a user's own
#: JupyterLab is untouched): no news/update pop-up over the screenshots, and no autosave, which
#: would otherwise write the run's outputs into the repository's notebooks after 120 s.
LAB_USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


def browser_missing():
    """Why the browser test cannot run on this machine, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"the playwright Python package is not installed; {INSTALL_HINT}"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}; {INSTALL_HINT}"
    return None


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child_pids(pid):
    """Direct children of `pid` (Linux /proc); the kernels JupyterLab started."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


class JupyterLabServer:
    """``python -m jupyter lab`` as the README's first command runs it, isolated in `workdir`.

    Use as a context manager, or call start() / stop().  The server's log is kept in
    ``workdir / "jupyterlab.log"`` and quoted when it fails to start.
    """

    def __init__(self, root, workdir, python=sys.executable, startup_timeout=90, lab_settings=None,
                 config_path=None):
        self.root = Path(root).resolve()
        # a Jupyter config folder put first on JUPYTER_CONFIG_PATH, e.g. the learner's route
        # (course_lib.jupyterlab_settings.write_learner_config: no nbgrader)
        self.config_path = config_path
        # {"@jupyterlab/x-extension:plugin": {...}} (overrides.json's format), on top of
        # LAB_USER_SETTINGS; e.g. the course's own overrides from course.py
        self.lab_settings = dict(lab_settings or {})
        self.workdir = Path(workdir)
        self.python = python
        self.startup_timeout = startup_timeout
        self.token = secrets.token_hex(16)
        self.port = None
        self.process = None
        self.log_path = self.workdir / "jupyterlab.log"

    # -- lifecycle ----------------------------------------------------------------------------
    def environment(self):
        env = dict(os.environ)
        dirs = {name: self.workdir / sub for name, sub in [
            ("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTER_DATA_DIR", "data"), ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
            ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"), ("IPYTHONDIR", "ipython"),
        ]}
        for name, path in dirs.items():
            path.mkdir(parents=True, exist_ok=True)
            env[name] = str(path)
        user_settings = {relative: dict(settings) for relative, settings in LAB_USER_SETTINGS.items()}
        for plugin, settings in self.lab_settings.items():
            package, name = plugin.split(":")
            user_settings.setdefault(f"{package}/{name}.jupyterlab-settings", {}).update(settings)
        for relative, settings in user_settings.items():
            target = dirs["JUPYTERLAB_SETTINGS_DIR"] / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(settings, indent=2))
        bin_dir = str(Path(self.python).parent)
        env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
        env.pop("JUPYTER_TOKEN", None)
        if self.config_path:
            env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
                filter(None, [str(self.config_path), os.environ.get("JUPYTER_CONFIG_PATH")]))
        env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        env["PYTHONFAULTHANDLER"] = "1"  # a kernel that crashes prints its Python stack to the log
        return env

    def command(self):
        command = [
            self.python, "-m", "jupyter", "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
            # checkpoints (JupyterLab makes one when it opens a notebook) go to the work dir,
            # not to .ipynb_checkpoints/ folders in the repository
            f"--FileCheckpoints.checkpoint_dir={self.workdir / 'checkpoints'}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # JupyterLab refuses to run as root without it
        return command

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = self.environment()
        for attempt in range(3):  # a free port can be taken between choosing and binding it
            self.port = free_port()
            with open(self.log_path, "wb") as log:
                self.process = subprocess.Popen(self.command(), cwd=self.root, env=env, stdout=log,
                                                stderr=subprocess.STDOUT, start_new_session=True)
            if self._wait_until_up():
                return self
            self.stop()
            if "already in use" not in self.log():
                break
        raise RuntimeError(f"JupyterLab did not start within {self.startup_timeout} s "
                           f"({' '.join(self.command())}); its log:\n{self.log()[-3000:]}")

    def _wait_until_up(self):
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                self.api("GET", "/api/status", timeout=2)
                return True
            except (OSError, urllib.error.URLError):
                time.sleep(0.3)
        return False

    def stop(self):
        """Shut the server and its kernels down: politely first, then by signal."""
        if self.process is None:
            return
        if self.process.poll() is None:
            kernels = _child_pids(self.process.pid)
            try:
                self.api("POST", "/api/shutdown", timeout=5)  # also shuts every kernel down
                self.process.wait(timeout=15)
            except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
                pass
            for pid in [self.process.pid, *kernels]:  # kernels run in sessions of their own
                for sig in (signal.SIGTERM, signal.SIGKILL):
                    try:
                        os.killpg(pid, sig)
                    except (ProcessLookupError, PermissionError):
                        break
                    if pid == self.process.pid:
                        try:
                            self.process.wait(timeout=5)
                            break
                        except subprocess.TimeoutExpired:
                            continue
                    time.sleep(0.2)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # -- HTTP -----------------------------------------------------------------------------------
    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, relative_path):
        """The notebook in a workspace of its own, reset to JupyterLab's default layout.

        ?reset: not the tabs a previous session left open.  A workspace per notebook: tabs that
        share one workspace make JupyterLab redirect all but one of them to a new workspace
        (a navigation in the middle of the test).
        """
        relative = Path(relative_path).as_posix()
        workspace = re.sub(r"[^A-Za-z0-9_-]+", "-", relative)
        return f"{self.base_url}/lab/workspaces/{workspace}/tree/{relative}?reset&token={self.token}"

    def api(self, method, path, timeout=10):
        request = urllib.request.Request(self.base_url + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernel_of(self, relative_path):
        """Delete the session (and so the kernel) of one notebook, to free its memory."""
        wanted = Path(relative_path).as_posix()
        for session in self.api("GET", "/api/sessions") or []:
            if session.get("path") == wanted:
                self.api("DELETE", f"/api/sessions/{session['id']}")


# --------------------------------------------------------------------------------------------
# What the page shows
# --------------------------------------------------------------------------------------------

@dataclass
class Output:
    mime: str
    text: str
    in_widget: bool  # shown inside a widget (e.g. an interactive's Output), not by the cell itself


@dataclass
class WidgetView:
    """One widget displayed by a cell (a top-level widget-view output)."""
    cell: int
    text: str
    rendered: bool
    error_widget: bool
    controls: list


@dataclass
class Cell:
    index: int
    kind: str  # "code", "markdown" or "raw"
    prompt: str  # "[3]:", "[*]:", "[ ]:"
    outputs: list

    @property
    def execution_count(self):
        match = re.search(r"\[(\d+)\]", self.prompt or "")
        return int(match.group(1)) if match else None

    @property
    def running(self):
        return "*" in (self.prompt or "")


@dataclass
class PageReport:
    name: str
    status: str  # the notebook's kernel status (execution indicator)
    cells: list
    widgets: list
    failure_texts: list  # widget failure messages found anywhere on the page
    dialogs: list = field(default_factory=list)

    @classmethod
    def from_page(cls, name, data):
        cells = [Cell(index=i, kind=c["kind"], prompt=c["prompt"],
                      outputs=[Output(**o) for o in c["outputs"]]) for i, c in enumerate(data["cells"])]
        widgets = [WidgetView(**w) for w in data["widgets"]]
        return cls(name=name, status=data["status"], cells=cells, widgets=widgets,
                   failure_texts=data["failureTexts"], dialogs=data["dialogs"])


# One evaluate() call reads everything the checks need from the visible notebook panel.
# textContent, not innerText: JupyterLab's default windowing (content-visibility: auto) leaves
# off-screen cells unrendered, and innerText of those is empty.
_READ_PAGE_JS = r"""
([widgetMime, failureTexts, controlSelector]) => {
  const panels = [...document.querySelectorAll('.jp-NotebookPanel')]
    .filter(p => !p.classList.contains('lm-mod-hidden') && p.getClientRects().length > 0);
  const panel = panels[0];
  const dialogs = [...document.querySelectorAll('.jp-Dialog')].map(d => d.textContent.slice(0, 300));
  if (!panel) return {status: 'no notebook panel', cells: [], widgets: [], failureTexts: [], dialogs};
  const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const clip = t => t.length > 6000 ? t.slice(0, 3000) + '\n…\n' + t.slice(-3000) : t;
  const cellNodes = [...panel.querySelectorAll('.jp-Cell')];
  const widgets = [];
  const cells = cellNodes.map((cell, index) => {
    const kind = cell.classList.contains('jp-CodeCell') ? 'code'
               : cell.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw';
    const prompt = (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '';
    // ipywidgets' renderer gives its output node no data-mime-type (JupyterLab's own renderers
    // do); it shows the widget as a child `.jupyter-widgets`, or, when it cannot, puts
    // "Error displaying widget..." / "Loading widget..." text on the node itself.
    const isWidget = o => !o.hasAttribute('data-mime-type') || o.classList.contains('jupyter-widgets')
                          || !!o.querySelector(':scope > .jupyter-widgets');
    const nested = o => !!(o.parentElement && o.parentElement.closest('.jupyter-widgets'));
    const outputNodes = [...cell.querySelectorAll('.jp-OutputArea-output')];
    const outputs = outputNodes.map(o => ({
      mime: o.getAttribute('data-mime-type') || (isWidget(o) ? widgetMime : ''),
      text: clip(o.textContent || ''),
      in_widget: nested(o),
    }));
    outputNodes.filter(o => isWidget(o) && !nested(o)).forEach(o => {
      const view = o.querySelector(':scope > .jupyter-widgets');
      const errorWidget = !!o.querySelector('.jupyter-widgets-error-widget');
      o.setAttribute('data-descent-widget', String(widgets.length));
      widgets.push({
        cell: index,
        text: (o.textContent || '').trim().slice(0, 300),
        rendered: !!view && !errorWidget && !o.classList.contains('jupyter-widgets'),
        error_widget: errorWidget,
        controls: [...o.querySelectorAll(controlSelector)].map(c =>
          [...c.classList].filter(k => k.startsWith('widget-')).join(' ')),
      });
    });
    return {kind, prompt: prompt.trim(), outputs};
  });
  // Widget failure texts anywhere on the page -- but not in prose or code a lesson may show
  // (a troubleshooting paragraph that quotes "Error displaying widget" is not a failure).
  const skip = '.jp-MarkdownOutput, .jp-RenderedMarkdown, .jp-RenderedHTML, .jp-RenderedText, ' +
               '.jp-InputArea-editor, .cm-editor, .widget-html-content, .widget-htmlmath-content, script, style';
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent;
    if (!text || !failureTexts.some(f => text.includes(f))) continue;
    if (node.parentElement && node.parentElement.closest(skip + ', .jupyter-widgets-error-widget')) continue;
    found.push(text.trim().slice(0, 300));
  }
  for (const e of document.querySelectorAll('.jupyter-widgets-error-widget')) {
    found.push('a widget error view (' + (e.textContent || '').trim().slice(0, 200) + ')');
  }
  return {status: indicator ? indicator.getAttribute('data-status') : 'no execution indicator',
          cells, widgets, failureTexts: found, dialogs};
}
"""

# Controls a learner can change, most informative first.
CONTROL_SELECTOR = ", ".join([
    ".widget-slider", ".widget-dropdown", ".widget-toggle-buttons", ".widget-radio",
    ".widget-checkbox", ".widget-select", ".widget-text", ".widget-toggle-button",
    ".widget-button", ".widget-play",
])

# What a control drives: every Output widget, HTML widget and image on the page.  A digest per
# element keeps the comparison cheap (plots are large base64 strings).
_SNAPSHOT_JS = r"""
() => {
  const hash = s => { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return h; };
  const parts = [];
  document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jupyter-widgets').forEach(w => {
    w.querySelectorAll(':scope .widget-output, :scope .widget-html-content, :scope .widget-htmlmath-content, :scope img')
      .forEach(e => parts.push(e.tagName === 'IMG' ? 'img:' + hash(e.src) : e.className.split(' ')[0] + ':' + hash(e.textContent)));
  });
  const loading = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) img')].some(i => !i.complete);
  return {digest: [...new Set(parts)].sort().join('|'), loading};
}
"""


# Slider latency (LessonRun.slider_latency): the time of the last keydown, the digest of one
# widget's output, and a wait in the page (no round trip to Python) until that digest changes.
_KEY_LISTENER_JS = r"""
() => { if (!window.__descentKeyListener) {
          window.__descentKeyListener = true;
          document.addEventListener('keydown', () => { window.__descentKeyDown = performance.now(); }, true);
        } }
"""
_WIDGET_DIGEST_BODY = r"""
  const hash = s => { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return h; };
  const root = document.querySelector(`.jp-NotebookPanel:not(.lm-mod-hidden) [data-descent-widget="${n}"]`);
  const digest = () => {
    if (!root) return {digest: '', loading: false};
    const parts = [];
    root.querySelectorAll('.widget-output, .widget-html-content, .widget-htmlmath-content, img').forEach(e =>
      parts.push(e.tagName === 'IMG' ? 'img:' + hash(e.src) : e.className.split(' ')[0] + ':' + hash(e.textContent)));
    return {digest: parts.join('|'), loading: [...root.querySelectorAll('img')].some(i => !i.complete)};
  };
"""
_WIDGET_DIGEST_JS = "n => {" + _WIDGET_DIGEST_BODY + " return digest().digest; }"
# The digest once it has not changed for 150 ms: the kernel reports idle before the page has
# applied the last picture it sent, and a press timed from then would end at that old picture.
_WAIT_FOR_QUIET_JS = "async ([n, timeout]) => {" + _WIDGET_DIGEST_BODY + r"""
  const deadline = performance.now() + timeout;
  let last = digest(), since = performance.now();
  while (performance.now() < deadline) {
    await new Promise(r => setTimeout(r, 10));
    const now = digest();
    if (now.digest !== last.digest || now.loading) { last = now; since = performance.now(); }
    else if (performance.now() - since >= 150) break;
  }
  return last.digest;
}"""
_WAIT_FOR_REDRAW_JS = "async ([n, before, timeout]) => {" + _WIDGET_DIGEST_BODY + r"""
  const start = window.__descentKeyDown;
  const deadline = performance.now() + timeout;
  while (performance.now() < deadline) {
    const now = digest();
    // a plot is redrawn when a (new) image is there again, not when the old one is cleared
    const plot = !before.includes('img:') || now.digest.includes('img:');
    if (now.digest !== before && !now.loading && plot) return performance.now() - start;
    await new Promise(r => setTimeout(r, 2));
  }
  return null;
}"""


# --------------------------------------------------------------------------------------------
# Checks: pure functions of a PageReport, returning failure messages
# --------------------------------------------------------------------------------------------

_TRACEBACK_HEADER = re.compile(r"^\s*(?P<ename>[A-Za-z_][\w.]*)\s+Traceback \(most recent call last\)", re.M)
_EXCEPTION_LINE = re.compile(r"^(?P<ename>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Iteration))(?::.*)?$")


def error_name(text):
    """The exception an error output shows (e.g. "ValueError"), or None for plain stderr text.

    JupyterLab renders an error output, like a stream to stderr, as
    ``.jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']``; an error is told
    apart by IPython's traceback header ("ValueError   Traceback (most recent call last)") or,
    for a SyntaxError, by its last line ("SyntaxError: invalid syntax").
    """
    match = _TRACEBACK_HEADER.search(text)
    if match:
        return match.group("ename").rsplit(".", 1)[-1]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if lines:
        match = _EXCEPTION_LINE.match(lines[-1])
        if match:
            return match.group("ename").rsplit(".", 1)[-1]
    return None


def _last_line(text):
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _describe(report, notebook, index):
    cell = notebook["cells"][index] if index < len(notebook["cells"]) else {}
    first = next((line for line in _source(cell).splitlines() if line.strip()), "")
    dom = report.cells[index] if index < len(report.cells) else None
    prompt = f" {dom.prompt}" if dom and dom.prompt else ""
    return f"{report.name}: cell {index + 1}{prompt} ({first[:70]!r})"


def check_page_sane(report, notebook):
    """The notebook is open, without a dialog in the way, and shows every cell of the file."""
    failures = []
    for dialog in report.dialogs:
        hint = " -- does the notebook lack metadata.kernelspec?" if "Kernel" in dialog else ""
        failures.append(f"{report.name}: a dialog covers the notebook: {dialog!r}{hint}")
    if report.status in ("no notebook panel", "no execution indicator", "dead", "unknown"):
        failures.append(f"{report.name}: notebook panel / kernel status is {report.status!r}")
    if len(report.cells) != len(notebook["cells"]):
        failures.append(f"{report.name}: the page shows {len(report.cells)} cells, the file has "
                        f"{len(notebook['cells'])}")
    return failures


def check_all_cells_ran(report, notebook):
    """Every non-empty code cell has an execution count (Run All did not stop early)."""
    failures = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code" or not _source(cell).strip() or index >= len(report.cells):
            continue  # JupyterLab does not send an empty cell to the kernel
        dom = report.cells[index]
        if dom.execution_count is None:
            state = "still running" if dom.running else "never ran"
            failures.append(f"{_describe(report, notebook, index)} {state} (prompt {dom.prompt!r})")
    return failures


def check_no_errors(report, notebook, allowed=(STUB_ERROR,)):
    """No error output, except an exercise stub's NotImplementedError in a `raises-exception` cell."""
    failures = []
    for index, dom in enumerate(report.cells):
        tags = (notebook["cells"][index].get("metadata", {}).get("tags", [])
                if index < len(notebook["cells"]) else [])
        for output in dom.outputs:
            if output.mime != STDERR_MIME:
                continue
            ename = error_name(output.text)
            if ename is None:
                continue  # a warning or progress text on stderr, not an error
            if ename in allowed and "raises-exception" in tags and not output.in_widget:
                continue
            where = " inside a widget (a callback failed)" if output.in_widget else ""
            last = _last_line(output.text)
            shown = last if last.startswith(ename) else f"{ename}: {last}"
            failures.append(f"{_describe(report, notebook, index)} shows an error{where}: {shown}")
    return failures


def check_widgets(report, notebook, min_widgets=1, min_controls=1):
    """No widget failure text anywhere; every displayed widget rendered; enough of them."""
    failures = [f"{report.name}: widget failure on the page: {text!r}" for text in report.failure_texts]
    for widget in report.widgets:
        if not widget.rendered:
            failures.append(f"{_describe(report, notebook, widget.cell)} displays a widget that did not "
                            f"render: {widget.text[:200]!r}")
    rendered = [w for w in report.widgets if w.rendered]
    controls = sum(len(w.controls) for w in rendered)
    if len(rendered) < min_widgets:
        failures.append(f"{report.name}: {len(rendered)} rendered widget(s), expected at least {min_widgets}")
    if controls < min_controls:
        failures.append(f"{report.name}: {controls} widget control(s) on the page, expected at least "
                        f"{min_controls}")
    return failures


def check_log_console(name, entries):
    """No error in the notebook's log console.

    JupyterLab sends there what a kernel prints outside any cell: a widget callback's traceback,
    a plot drawn outside the Output widget meant to show it.  A learner sees none of it, only a
    counter in the status bar -- and a control that redraws nothing.
    """
    failures = []
    for entry in entries:
        ename = error_name(entry.text)
        if ename is not None:
            failures.append(f"{name}: the log console (outside any cell: a widget callback?) shows "
                            f"{ename}: {_first_lines(entry.text)}")
    return failures


def _first_lines(text, count=8):
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip() and set(line.strip()) != {"-"}]
    head = " | ".join(lines[:count])
    return head[:700] + (f" | ... | {_last_line(text)}" if len(lines) > count else "")


def check_all(report, notebook, min_widgets=1, min_controls=1):
    return (check_page_sane(report, notebook) + check_all_cells_ran(report, notebook)
            + check_no_errors(report, notebook) + check_widgets(report, notebook, min_widgets, min_controls))


# --------------------------------------------------------------------------------------------
# One notebook in one tab
# --------------------------------------------------------------------------------------------

class NotebookTimeout(AssertionError):
    pass


class LessonRun:
    """Open `relative_path` in a new tab of a Playwright browser `context`, served by `server`.

    One context for all notebooks lets the browser cache JupyterLab's scripts between tabs.

    >>> with LessonRun(server, context, "notebooks/01_losses.ipynb") as run:
    ...     run.run_all(); report = run.read(); run.move_a_control(); run.screenshot(path)
    """

    VIEWPORT = {"width": 1280, "height": 900}

    def __init__(self, server, context, relative_path, root=None):
        self.server = server
        self.context = context
        self.relative_path = Path(relative_path).as_posix()
        self.path = Path(root or server.root) / self.relative_path
        self.name = self.path.name
        self.notebook = json.loads(self.path.read_text())
        self.digest_before = hashlib.sha256(self.path.read_bytes()).hexdigest()
        self.page = None
        self.console_errors = []
        self.timings = {}
        self._run_started = None
        self.shown_widget = 0  # the widget the screenshot shows: the one moved, if any

    # -- lifecycle ----------------------------------------------------------------------------
    def begin(self):
        """Open the tab and let JupyterLab load and start the kernel, without waiting for it.

        A caller can begin the next notebook while the current one runs (JupyterLab's page load
        and the kernel start are mostly waiting), then enter it when its turn comes.
        """
        if self.page is None:
            self.page = self.context.new_page()
            self.page.set_viewport_size(self.VIEWPORT)
            self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
            self.page.goto(self.server.notebook_url(self.relative_path), wait_until="domcontentloaded",
                           timeout=60_000)
        return self

    def open(self):
        """Begin (if not yet), then wait until the kernel is idle; the notebook is ready to run."""
        if "open" not in self.timings:
            started = time.monotonic()
            self.begin()
            self.page.bring_to_front()
            self._wait_for_kernel_idle(timeout=90)
            self._collapse_left_sidebar()
            self.timings["open"] = time.monotonic() - started
        return self

    def __enter__(self):
        self.open()
        self.page.bring_to_front()
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.server.shutdown_kernel_of(self.relative_path)
        except (OSError, urllib.error.URLError):
            pass
        if self.page is not None:
            self.page.close()
            self.page = None

    def outputs_saved(self):
        """Did JupyterLab save the run into the notebook file?  (Autosave is off in the test
        server; this checks it.)  A file regenerated meanwhile without outputs does not count."""
        if hashlib.sha256(self.path.read_bytes()).hexdigest() == self.digest_before:
            return False
        cells = json.loads(self.path.read_text()).get("cells", [])
        return any(c.get("outputs") or c.get("execution_count") for c in cells if c["cell_type"] == "code")

    # -- helpers --------------------------------------------------------------------------------
    @property
    def panel(self):
        return self.page.locator(".jp-NotebookPanel:visible").first

    def status(self):
        for attempt in range(3):
            try:
                return self._status()
            except Exception as error:  # noqa: BLE001 - playwright.Error, without importing it here
                if "context was destroyed" not in str(error) or attempt == 2:
                    raise
                self.page.wait_for_load_state("domcontentloaded")

    def _status(self):
        return self.page.evaluate(
            """() => { const p = [...document.querySelectorAll('.jp-NotebookPanel')].find(
                   p => !p.classList.contains('lm-mod-hidden') && p.getClientRects().length > 0);
                 const i = p && p.querySelector('.jp-Notebook-ExecutionIndicator');
                 const d = document.querySelector('.jp-Dialog');
                 return {status: i ? i.getAttribute('data-status') : null,
                         dialog: d ? d.textContent.slice(0, 300) : null,
                         prompts: p ? [...p.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                                        .map(e => e.textContent.trim()) : []}; }""")

    def _kernel_state_on_server(self):
        for session in self.server.api("GET", "/api/sessions") or []:
            if session.get("path") == self.relative_path and session.get("kernel"):
                return session["kernel"].get("execution_state")
        return None

    def _wait_for_kernel_idle(self, timeout):
        """Wait until the notebook's kernel has started and the page shows it idle.

        The page's execution indicator says "idle" for a moment before the kernel session
        exists, so the server's view of the kernel is asked too.
        """
        deadline = time.monotonic() + timeout
        last, settled = None, 0
        while time.monotonic() < deadline:
            last = self.status()
            if last["dialog"]:
                hint = " (does the notebook lack metadata.kernelspec?)" if "Kernel" in last["dialog"] else ""
                raise AssertionError(f"{self.name}: a dialog appeared: {last['dialog']!r}{hint}")
            ready = last["status"] == "idle" and self._kernel_state_on_server() == "idle"
            settled = settled + 1 if ready else 0
            if settled >= 2:
                return
            time.sleep(0.25)
        raise NotebookTimeout(f"{self.name}: the kernel was not idle within {timeout} s (last state {last})")

    def _code_cell_numbers(self, prompts):
        """(cell number in the notebook, counting from 1, prompt) for each code cell's prompt."""
        numbers = [i + 1 for i, cell in enumerate(self.notebook["cells"]) if cell["cell_type"] == "code"]
        return list(zip(numbers, prompts))

    def _server_log_hint(self, dialog):
        """When the kernel died, what the server's log says (a crash message such as
        "malloc(): ... corrupted" is printed there by the kernel process)."""
        if "died" not in dialog and "Restarting" not in dialog:
            return ""
        routine = re.compile(r"\[I |\[W .*not trusted|running over TCP without encryption|^\s*$")
        lines = [line for line in self.server.log().splitlines() if not routine.search(line)]
        return "\nthe kernel crashed; JupyterLab's log ends:\n    " + "\n    ".join(lines[-30:])

    def _collapse_left_sidebar(self):
        """Give the notebook the whole width, as a learner reading a lesson would."""
        tab = self.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
        if tab.count():
            tab.first.click()
            self.page.wait_for_selector("#jp-left-stack", state="hidden", timeout=5000)

    # -- Run All --------------------------------------------------------------------------------
    def start_run_all(self):
        """Run → Run All Cells (JupyterLab has no default shortcut for it); returns at once."""
        if self._run_started is None:
            self.open()
            self.page.locator(".lm-MenuBar-item", has_text=re.compile(r"^\s*Run\s*$")).first.click()
            self.page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
            self._run_started = time.monotonic()
        return self

    def wait_run_all(self, timeout=420):
        """Wait until no cell is queued or running and the kernel is idle (timeout from the start)."""
        deadline = self._run_started + timeout
        settled = 0
        state = None
        while time.monotonic() < deadline:
            state = self.status()
            if state["dialog"]:
                running = [f"cell {n} ({p})" for n, p in self._code_cell_numbers(state["prompts"]) if "*" in p]
                raise AssertionError(f"{self.name}: a dialog appeared during Run All: {state['dialog']!r}; "
                                     f"running or queued then: {', '.join(running[:3]) or 'none'}"
                                     + self._server_log_hint(state["dialog"]))
            busy = state["status"] != "idle" or any("*" in p for p in state["prompts"])
            started_running = any(re.search(r"\[\d+\]", p) for p in state["prompts"])
            settled = 0 if busy or not started_running else settled + 1
            if settled >= 3:  # idle, nothing queued, for three polls in a row
                break
            time.sleep(0.5)
        else:
            running = [n for n, p in self._code_cell_numbers(state["prompts"] if state else []) if "*" in p]
            raise NotebookTimeout(f"{self.name}: Run All did not finish within {timeout} s "
                                  f"(code cells still running or queued: {running}; last state {state})")
        self.timings.setdefault("run_all", time.monotonic() - self._run_started)
        self._wait_for_widgets(timeout=30)

    def run_all(self, timeout=420):
        """Run All, and wait until it has finished."""
        self.start_run_all()
        self.wait_run_all(timeout)

    def _wait_for_widgets(self, timeout):
        """Widget views render asynchronously after their cell finished: wait for them to settle."""
        try:
            self.page.wait_for_function(
                """() => ![...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) '
                          + '.jp-OutputArea-output:not([data-mime-type])')]
                          .some(o => (o.textContent || '').trim() === 'Loading widget...')""",
                timeout=timeout * 1000, polling=250)
        except Exception:  # noqa: BLE001 - a widget stuck in "Loading widget..." is reported by read()
            pass

    def instructor_tooling(self):
        """What of nbgrader's JupyterLab extension the page shows (menu, panels): [] when none."""
        return self.page.evaluate(
            """() => [...document.querySelectorAll('.lm-MenuBar-item, .lm-TabBar-tab, [id*="nbgrader"], '
                                                 + '[class*="nbgrader"]')]
                       .filter(e => /nbgrader|create assignment|formgrader/i.test(
                                    (e.id || '') + ' ' + (e.className || '') + ' ' + (e.textContent || '')))
                       .map(e => (e.textContent || e.id || e.className).trim().slice(0, 60))""")

    def read(self):
        data = self.page.evaluate(_READ_PAGE_JS, [WIDGET_MIME, list(WIDGET_FAILURE_TEXTS), CONTROL_SELECTOR])
        return PageReport.from_page(self.name, data)

    # -- a learner moves a control ---------------------------------------------------------------
    def snapshot(self):
        return self.page.evaluate(_SNAPSHOT_JS)["digest"]

    def _wait_for_change(self, before, timeout):
        """Wait until the driven outputs differ from `before` and the kernel is idle again."""
        deadline = time.monotonic() + timeout
        stable = 0
        while time.monotonic() < deadline:
            state = self.page.evaluate(_SNAPSHOT_JS)
            idle = self.status()["status"] == "idle"
            changed = state["digest"] != before
            stable = stable + 1 if (changed and idle and not state["loading"]) else 0
            if stable >= 2:
                return True
            time.sleep(0.25)
        return False

    def _controls(self):
        """(description, locator, kind) for each control in each top-level widget, in page order."""
        found = []
        widgets = self.page.locator(".jp-NotebookPanel:visible [data-descent-widget]")
        for w in range(widgets.count()):
            widget = widgets.nth(w)
            for kind, selector in [
                ("slider", ".widget-hslider:not(.mod-disabled) .noUi-handle"),
                ("dropdown", ".widget-dropdown select:not([disabled])"),
                ("toggle buttons", ".widget-toggle-buttons button:not(.mod-active):not([disabled])"),
                ("radio buttons", ".widget-radio-box input:not(:checked):not([disabled])"),
                ("checkbox", ".widget-checkbox input:not([disabled])"),
                ("button", "button.widget-button:not([disabled])"),
            ]:
                controls = widget.locator(selector)
                if controls.count():
                    found.append((w, controls.first, kind))
        return found

    def _label_of(self, control):
        return control.evaluate(
            """e => { const box = e.closest('.widget-inline-hbox') || e.closest('.jupyter-widgets');
                      const label = box && box.querySelector('.widget-label');
                      return (label && label.textContent.trim()) || (e.textContent || '').trim() || ''; }""")

    def _stable_box(self, locator, timeout=10):
        """The element's bounding box once it stops moving (images and MathJax shift the page)."""
        deadline = time.monotonic() + timeout
        locator.scroll_into_view_if_needed()
        previous, same = None, 0
        while time.monotonic() < deadline:
            box = locator.bounding_box()
            same = same + 1 if box and box == previous else 0
            if same >= 2:
                break
            previous = box
            time.sleep(0.2)
        return locator.bounding_box()

    def _drag_slider(self, handle):
        """Press the handle and drag it to the other side of its track, as a mouse user does.

        Falls back to the keyboard (the handle focused, arrow keys) when the drag did not move it.
        """
        track = handle.locator("xpath=ancestor::*[contains(@class,'noUi-target')][1]")
        before = handle.get_attribute("aria-valuenow")
        for _ in range(2):
            box, track_box = self._stable_box(handle), self._stable_box(track)
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            fraction = (x - track_box["x"]) / max(track_box["width"], 1)
            target = track_box["x"] + track_box["width"] * (0.25 if fraction > 0.5 else 0.75)
            self.page.mouse.move(x, y)
            self.page.mouse.down()
            self.page.mouse.move(target, y, steps=3)
            self.page.mouse.up()
            now = handle.get_attribute("aria-valuenow")
            if now != before:
                return f"dragged from {before} to {now}"
        handle.focus()
        high = float(handle.get_attribute("aria-valuemax") or 1)
        low = float(handle.get_attribute("aria-valuemin") or 0)
        key = "ArrowLeft" if float(before or 0) > (low + high) / 2 else "ArrowRight"
        for _ in range(5):
            handle.press(key)
        return f"moved by keyboard ({key} x5) from {before} to {handle.get_attribute('aria-valuenow')}"

    def _act(self, control, kind):
        if kind == "slider":
            return self._drag_slider(control)
        self._stable_box(control)
        if kind == "dropdown":
            options = control.locator("option")
            current = control.input_value()
            values = [options.nth(i).get_attribute("value") for i in range(options.count())]
            choice = next((v for v in values if v != current), None)
            if choice is None:
                return None
            control.select_option(choice)
            return f"from {current!r} to {choice!r}"
        control.click()
        return "clicked"

    def move_a_control(self, timeout=30, max_tries=4):
        """Change controls as a learner would until one visibly changes what it drives.

        Returns (description, attempts): description is None when no control changed any
        output; attempts lists what was tried.
        """
        attempts = []
        controls = self._controls()
        if controls:
            self.shown_widget = controls[0][0]
        for number, control, kind in controls[:max_tries]:
            where = f"widget {number + 1}"
            before = self.snapshot()
            label = self._label_of(control)
            try:
                how = self._act(control, kind)
            except Exception as error:  # noqa: BLE001 - report and try the next control
                attempts.append(f"{where}: {kind} {label!r} could not be operated: {error}".splitlines()[0])
                continue
            if how is None:
                continue
            description = f"{where}: {kind} {label!r} {how}"
            if self._wait_for_change(before, timeout):
                self.shown_widget = number
                return description, attempts + [description + ": output changed"]
            attempts.append(description + f": nothing it drives changed within {timeout} s")
        return None, attempts

    # -- how fast a slider answers -------------------------------------------------------------------
    def slider_latency(self, presses=8, other_presses=0, max_sliders=2, timeout=10.0):
        """Press arrow keys on sliders and time each press to the redrawn output, in the page.

        For the widgets in page order (up to `max_sliders` of them that have a slider; None: every
        widget), `presses` key presses on the widget's first slider and `other_presses` on each of
        its other sliders, alternating right and left (one step each, so the value stays near the
        lesson's default): the time from the keydown event to the moment the widget's output (a
        plot's image, loaded, or its text) differs from before the press. Each press waits for the
        kernel to be idle and the widget's output to be still first, so presses never queue.

        Returns a list of {"slider": label, "key": key, "ms": milliseconds or None (no redraw
        within `timeout`)}.
        """
        self.page.evaluate(_KEY_LISTENER_JS)
        samples = []
        widgets = self.page.locator(".jp-NotebookPanel:visible [data-descent-widget]")
        measured = 0
        for w in range(widgets.count()):
            if max_sliders is not None and measured >= max_sliders:
                break
            handles = widgets.nth(w).locator(".widget-hslider:not(.mod-disabled) .noUi-handle")
            if not handles.count():
                continue
            measured += 1
            number = widgets.nth(w).get_attribute("data-descent-widget")
            for h in range(handles.count()):
                count = presses if h == 0 else other_presses
                if count:
                    samples += self._time_presses(widgets.nth(w), number, handles.nth(h), count, timeout)
        self._wait_idle(timeout)
        return samples

    def _time_presses(self, widget, number, handle, presses, timeout):
        label = f"widget {int(number) + 1}: {self._label_of(handle)}"
        try:
            # as a learner watching the plot: the widget's top (its controls) at the top of the
            # view, so its picture is on screen (Chromium may decode an image off screen late)
            widget.evaluate("e => e.scrollIntoView({block: 'start'})")
            self._stable_box(handle)
        except Exception:  # noqa: BLE001 - a slider that cannot be scrolled to is skipped
            return []
        samples = []
        key = "ArrowRight"
        for _ in range(presses):
            self._wait_idle(timeout)
            before = self.page.evaluate(_WAIT_FOR_QUIET_JS, [number, timeout * 1000])
            # at an end: the other way. Decided before the press, never by a second press: the
            # handle's aria-valuenow is rounded (a FloatSlider's 0.5 -> 0.51 reads "0.5" before
            # and after), and a second press would restart the clock after the first one's update
            # had already left for the kernel
            value, top, bottom = (handle.get_attribute(name) for name in
                                  ("aria-valuenow", "aria-valuemax", "aria-valuemin"))
            if (key, value) in (("ArrowRight", top), ("ArrowLeft", bottom)):
                key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
            handle.press(key)
            ms = self.page.evaluate(_WAIT_FOR_REDRAW_JS, [number, before, timeout * 1000])
            samples.append({"slider": label, "key": key, "ms": None if ms is None else round(ms, 1)})
            key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
        return samples

    def _wait_idle(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.status()["status"] != "idle":
            time.sleep(0.02)

    # -- the log console ----------------------------------------------------------------------------
    def read_log_console(self):
        """The entries of the notebook's log console (opens it: call after the screenshot)."""
        item = self.page.locator(".jp-LogConsoleStatusItem")
        if not item.count() or not re.search(r"\d", item.first.text_content() or "") \
                or (item.first.text_content() or "").strip() == "0":
            return []
        item.first.click()
        panel = self.page.locator(".jp-LogConsolePanel").first
        panel.wait_for(state="visible", timeout=10_000)
        self.page.wait_for_timeout(300)
        entries = panel.evaluate(
            """p => [...p.querySelectorAll('.jp-OutputArea-output')].map(o => ({
                   mime: o.getAttribute('data-mime-type') || '', text: o.textContent || '', in_widget: false}))""")
        return [Output(**entry) for entry in entries]

    # -- pictures ---------------------------------------------------------------------------------
    def screenshot(self, path):
        """The viewport, scrolled so that the cell of the widget moved (or the first one with
        controls) is at the top."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.bring_to_front()
        self.page.evaluate(
            """n => { const w = document.querySelector(
                          `.jp-NotebookPanel:not(.lm-mod-hidden) [data-descent-widget="${n}"]`);
                       const cell = w && w.closest('.jp-Cell');
                       if (cell) cell.scrollIntoView({block: 'start'}); }""", str(self.shown_widget))
        self.page.mouse.move(0, 0)  # no hover highlight
        self.page.wait_for_timeout(400)  # let content-visibility paint the cells scrolled into view
        self.page.screenshot(path=str(path))
        return path
