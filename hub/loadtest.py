"""Load test of the class server: N learners log in at once and run a lesson, on loopback only.

    python3 course.py loadtest [--learners 20] [--notebook notebooks/07_fashion_mnist.ipynb]
                               [--time-limit 1800] [--out test-artifacts/loadtest.json]

What it does, bounded in count (N learners, one notebook each) and in time (``--time-limit``,
after which everything is stopped), and stopping by itself:

1. starts the class server (``hub/run_hub.py``: JupyterHub with the course's configuration) on
   127.0.0.1 at a free port, with a throw-away state folder, N accounts and a password;
2. N threads, released together, each log in through JupyterHub's login form as a learner would
   (``/hub/login``, then the redirect that starts their server) and wait until the hub reports
   the server ready: that is the **spawn time**;
3. each opens the notebook (``/api/sessions``, the learner's own copy in their folder) and runs
   every code cell in order through the kernel's websocket (``/api/kernels/<id>/channels``),
   as Run All does, recording errors (a cell tagged ``raises-exception`` may raise);
4. meanwhile a sampler reads ``/proc`` once a second: for each learner, the resident memory of
   their JupyterLab server plus its kernels (the **peak** is reported), and their CPU time;
5. stops the hub (which stops every learner's server) and prints a table; ``--out`` keeps the
   figures as JSON.

It talks to the hub's REST API with a token of a "loadtest" service that the hub configuration
adds only when DESCENT_HUB_LOADTEST_TOKEN is set (``access:servers`` lets that token reach each
learner's Jupyter server as well). Requests go to 127.0.0.1 only.
"""

import argparse
import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import requests
import websocket  # websocket-client, a dependency of jupyter_server

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def percentile(values, fraction):
    """The `fraction` quantile (nearest rank) of `values`; None for no values."""
    values = sorted(values)
    if not values:
        return None
    rank = max(1, min(len(values), math.ceil(fraction * len(values))))
    return values[rank - 1]


# ---------------------------------------------------------------------------------------------
# Memory and CPU per learner, from /proc
# ---------------------------------------------------------------------------------------------

def _read_proc(pid):
    """(ppid, rss bytes, cpu seconds, environ dict or None) of one process, or None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        ppid = int(fields[1])
        cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
        rss = int(fields[21]) * PAGE
        return ppid, rss, cpu
    except (OSError, IndexError, ValueError):
        return None


def _server_user(pid, state):
    """The learner whose JupyterLab server process `pid` is, when it belongs to this hub."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"jupyterhub-singleuser" not in cmdline:
            return None
        environ = dict(item.split(b"=", 1) for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                       if b"=" in item)
    except OSError:
        return None
    if environ.get(b"DESCENT_HUB_STATE", b"").decode() != str(state) and \
            str(state) not in environ.get(b"HOME", b"").decode():
        return None
    user = environ.get(b"JUPYTERHUB_USER")
    return user.decode() if user else None


class Sampler(threading.Thread):
    """Once a second: each learner's server + kernels resident memory and CPU time."""

    def __init__(self, state, interval=1.0):
        super().__init__(daemon=True)
        self.state = state
        self.interval = interval
        self.stopped = threading.Event()
        self.peak_rss = {}  # user -> bytes
        self.cpu = {}  # user -> {pid: cpu seconds, last seen}
        self.machine_peak_used = 0
        self.machine_baseline_used = self._machine_used()
        self.pids = set()  # every process of this hub's learners seen (to stop leftovers)

    @staticmethod
    def _machine_used():
        info = {}
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, value = line.split(":", 1)
            info[name] = int(value.split()[0]) * 1024
        return info["MemTotal"] - info["MemAvailable"]

    def sample(self):
        table = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                row = _read_proc(int(entry.name))
                if row:
                    table[int(entry.name)] = row
        children = {}
        for pid, (ppid, _, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        for pid in table:
            user = _server_user(pid, self.state)
            if user is None:
                continue
            tree, queue = [], [pid]
            while queue:
                current = queue.pop()
                tree.append(current)
                queue += children.get(current, [])
            self.pids.update(tree)
            rss = sum(table[p][1] for p in tree)
            self.peak_rss[user] = max(self.peak_rss.get(user, 0), rss)
            seen = self.cpu.setdefault(user, {})
            for p in tree:
                seen[p] = max(seen.get(p, 0.0), table[p][2])
        self.machine_peak_used = max(self.machine_peak_used, self._machine_used())

    def run(self):
        while not self.stopped.is_set():
            try:
                self.sample()
            except Exception as error:  # noqa: BLE001 - a sampler must not kill the test
                print(f"[loadtest] sampler: {error}", file=sys.stderr)
            self.stopped.wait(self.interval)

    def cpu_seconds(self, user):
        return sum(self.cpu.get(user, {}).values())


# ---------------------------------------------------------------------------------------------
# One simulated learner
# ---------------------------------------------------------------------------------------------

class Learner:
    def __init__(self, name, base, password, token, notebook, deadline, spawn_only=False):
        self.spawn_only = spawn_only
        self.name = name
        self.base = base
        self.password = password
        self.api_headers = {"Authorization": f"token {token}"}
        self.token = token
        self.notebook = notebook
        self.deadline = deadline
        self.result = {"learner": name, "completed": False}

    def log(self, message):
        print(f"[loadtest] {self.name}: {message}", flush=True)

    def run(self, barrier):
        try:
            barrier.wait(timeout=60)
            self.login_and_spawn()
            if self.spawn_only:
                self.result.update(errors=[], cells_run=0)
            else:
                self.run_notebook()
            self.result["completed"] = not self.result.get("errors")
        except Exception as error:  # noqa: BLE001 - recorded, the others go on
            self.result["failure"] = f"{type(error).__name__}: {error}"[:500]
            self.log(f"FAILED: {self.result['failure']}")

    def remaining(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the load test's time limit was reached")
        return left

    def login_and_spawn(self):
        session = requests.Session()
        started = time.monotonic()
        session.get(f"{self.base}/hub/login", timeout=60)
        xsrf = session.cookies.get("_xsrf", "")
        response = session.post(f"{self.base}/hub/login", timeout=120, allow_redirects=False,
                                data={"username": self.name, "password": self.password, "_xsrf": xsrf})
        if response.status_code not in (302, 303):
            raise RuntimeError(f"login answered {response.status_code}: {response.text[:200]}")
        self.result["login_seconds"] = time.monotonic() - started
        retries = 0
        while True:  # the redirects start the server; past the concurrent-spawn limit: try again
            page = session.get(f"{self.base}/hub/spawn/{self.name}", timeout=120, allow_redirects=True)
            if page.status_code == 429:
                retries += 1
                time.sleep(min(5, self.remaining()))
                continue
            if page.status_code >= 400:
                raise RuntimeError(f"/hub/spawn answered {page.status_code}: {page.text[:200]}")
            break
        self.result["spawn_retries"] = retries
        idle_polls = 0
        while True:
            user = requests.get(f"{self.base}/hub/api/users/{self.name}", headers=self.api_headers,
                                timeout=60).json()
            server = (user.get("servers") or {}).get("")
            if server and server.get("ready"):
                break
            idle_polls = 0 if (server or user.get("pending")) else idle_polls + 1
            if idle_polls > 20:
                raise RuntimeError("the hub neither starts nor runs a server for this learner")
            time.sleep(min(0.5, self.remaining()))
        self.result["spawn_seconds"] = time.monotonic() - started
        self.log(f"server ready after {self.result['spawn_seconds']:.1f} s")

    def run_notebook(self):
        base = f"{self.base}/user/{self.name}"
        notebook = json.loads((ROOT / self.notebook).read_text())
        started = time.monotonic()
        session = requests.post(f"{base}/api/sessions", headers=self.api_headers, timeout=120, json={
            "path": self.notebook, "type": "notebook", "name": Path(self.notebook).name,
            "kernel": {"name": "python3"}}).json()
        kernel = session["kernel"]["id"]
        url = base.replace("http://", "ws://") + f"/api/kernels/{kernel}/channels"
        socket_ = websocket.create_connection(url, header=[f"Authorization: token {self.token}"],
                                              timeout=min(600, self.remaining()))
        errors, ran = [], 0
        session_id = uuid.uuid4().hex
        try:
            for index, cell in enumerate(notebook["cells"]):
                if cell["cell_type"] != "code":
                    continue
                source = "".join(cell["source"])
                if not source.strip():
                    continue
                reply = self._execute(socket_, source, session_id)
                ran += 1
                allowed = "raises-exception" in cell.get("metadata", {}).get("tags", [])
                if reply.get("status") != "ok" and not allowed:
                    errors.append(f"cell {index + 1}: {reply.get('ename')}: {str(reply.get('evalue'))[:200]}")
        finally:
            socket_.close()
        self.result.update(cells_run=ran, errors=errors, run_seconds=time.monotonic() - started)
        self.log(f"ran {ran} cells in {self.result['run_seconds']:.0f} s"
                 + (f", {len(errors)} error(s): {errors[:2]}" if errors else ""))

    def _execute(self, socket_, code, session_id):
        msg_id = uuid.uuid4().hex
        socket_.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": session_id,
                       "username": self.name, "version": "5.3",
                       "date": datetime.now(timezone.utc).isoformat()},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": False},
        }))
        while True:
            socket_.settimeout(min(600, self.remaining()))
            frame = socket_.recv()
            if isinstance(frame, bytes):   # a message with binary buffers (a widget's picture): no reply
                continue
            message = json.loads(frame)
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if message.get("msg_type") == "execute_reply":
                return message["content"]


# ---------------------------------------------------------------------------------------------
# The whole test
# ---------------------------------------------------------------------------------------------

def parse(argv):
    parser = argparse.ArgumentParser(prog="python3 course.py loadtest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--notebook", default="notebooks/07_fashion_mnist.ipynb")
    parser.add_argument("--time-limit", type=float, default=1800, help="seconds; everything stops then")
    parser.add_argument("--concurrent-spawns", type=int, default=None,
                        help="the hub's concurrent-spawn limit (default: the configuration's)")
    parser.add_argument("--out", help="write the figures to this JSON file")
    parser.add_argument("--spawn-only", action="store_true",
                        help="log in and start the servers, open no notebook (to choose the spawn limit)")
    parser.add_argument("--learner-python", help="the Python of the learners' kernels (default: .venv's)")
    return parser.parse_args(argv)


def wait_for_hub(base, process, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the hub exited while starting (see its log)")
        try:
            if requests.get(f"{base}/hub/api/", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the hub did not answer within {timeout} s")


def stop(process, sampler):
    """Stop the hub (it stops the learners' servers), then any of their processes left."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    for pid in sampler.pids:  # only processes this test's hub started (seen by the sampler) ...
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue  # gone
        if f"HOME={sampler.state}".encode() not in environ:
            continue  # ... and still theirs (a pid can be reused)
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def summarise(arguments, learners, sampler, wall):
    def mib(value):
        return value / 2**20

    rows = [learner.result for learner in learners]
    for row in rows:
        row["peak_memory_mib"] = round(mib(sampler.peak_rss.get(row["learner"], 0)), 1)
        row["cpu_seconds"] = round(sampler.cpu_seconds(row["learner"]), 1)
    spawn = [row["spawn_seconds"] for row in rows if "spawn_seconds" in row]
    run = [row["run_seconds"] for row in rows if "run_seconds" in row]
    memory = [row["peak_memory_mib"] for row in rows if row["peak_memory_mib"]]
    cpu = [row["cpu_seconds"] for row in rows if row["cpu_seconds"]]
    figures = {
        "learners": arguments.learners,
        "notebook": "(none: --spawn-only)" if arguments.spawn_only else arguments.notebook,
        "concurrent_spawn_limit": arguments.concurrent_spawns or "the configuration's",
        "completed": sum(1 for row in rows if row["completed"]),
        "cores": os.cpu_count(),
        "wall_seconds": round(wall, 1),
        "spawn_seconds": {"p50": percentile(spawn, 0.5), "p95": percentile(spawn, 0.95), "max": max(spawn, default=None)},
        "run_seconds": {"p50": percentile(run, 0.5), "p95": percentile(run, 0.95), "max": max(run, default=None)},
        "peak_memory_mib_per_learner": {"p50": percentile(memory, 0.5), "p95": percentile(memory, 0.95),
                                        "max": max(memory, default=None)},
        "cpu_seconds_per_learner": {"p50": percentile(cpu, 0.5), "p95": percentile(cpu, 0.95),
                                    "max": max(cpu, default=None)},
        "machine_memory_used_mib": {"before": round(mib(sampler.machine_baseline_used)),
                                    "peak": round(mib(sampler.machine_peak_used))},
        "learners_detail": rows,
    }
    return figures


def table(figures):
    def f(value, digits=1):
        return "–" if value is None else f"{value:.{digits}f}"

    s, r, m, c = (figures[key] for key in ("spawn_seconds", "run_seconds", "peak_memory_mib_per_learner",
                                           "cpu_seconds_per_learner"))
    lines = [
        f"| {figures['learners']} learners, {figures['notebook']}, {figures['cores']} cores | p50 | p95 | max |",
        "| --- | ---: | ---: | ---: |",
        f"| spawn (login to server ready), s | {f(s['p50'])} | {f(s['p95'])} | {f(s['max'])} |",
        f"| running every code cell, s | {f(r['p50'], 0)} | {f(r['p95'], 0)} | {f(r['max'], 0)} |",
        f"| peak memory per learner (server + kernel), MiB | {f(m['p50'], 0)} | {f(m['p95'], 0)} | {f(m['max'], 0)} |",
        f"| CPU time per learner, s | {f(c['p50'])} | {f(c['p95'])} | {f(c['max'])} |",
        "",
        f"completed: {figures['completed']} of {figures['learners']}; wall time {figures['wall_seconds']} s; "
        f"machine memory in use {figures['machine_memory_used_mib']['before']} MiB before, "
        f"{figures['machine_memory_used_mib']['peak']} MiB at the peak",
    ]
    return "\n".join(lines)


def main(argv=None):
    arguments = parse(argv if argv is not None else sys.argv[1:])
    started = time.monotonic()
    deadline = started + arguments.time_limit
    token, password, port = secrets.token_hex(24), secrets.token_hex(8), free_port()
    base = f"http://{HOST}:{port}"
    state = Path(tempfile.mkdtemp(prefix="descent-loadtest-")).resolve()
    env = dict(os.environ, DESCENT_HUB_LOADTEST_TOKEN=token)
    command = [sys.executable, str(ROOT / "hub" / "run_hub.py"), "--learners", str(arguments.learners),
               "--password", password, "--ip", HOST, "--port", str(port), "--state", str(state)]
    if arguments.concurrent_spawns:
        command += ["--concurrent-spawns", str(arguments.concurrent_spawns)]
    if arguments.learner_python:
        command += ["--learner-python", arguments.learner_python]
    log_path = state / "hub.log"
    print(f"[loadtest] {arguments.learners} learners, {arguments.notebook}, hub at {base}, log {log_path}", flush=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    sampler = Sampler(state)
    learners = []
    try:
        wait_for_hub(base, process)
        sampler.start()
        learners = [Learner(f"learner{n:02d}", base, password, token, arguments.notebook, deadline,
                            spawn_only=arguments.spawn_only)
                    for n in range(1, arguments.learners + 1)]
        barrier = threading.Barrier(len(learners))
        threads = [threading.Thread(target=learner.run, args=(barrier,), daemon=True) for learner in learners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0, deadline - time.monotonic()))
        sampler.sample()
    finally:
        sampler.stopped.set()
        stop(process, sampler)
    figures = summarise(arguments, learners, sampler, time.monotonic() - started)
    figures["hub_log"] = str(log_path)
    shutil.rmtree(state / "home", ignore_errors=True)  # the learners' copies; the hub's log stays
    print(table(figures), flush=True)
    for row in figures["learners_detail"]:
        if not row["completed"]:
            print(f"[loadtest] {row['learner']} did not complete: {row.get('failure') or row.get('errors')}")
    if arguments.out:
        out = Path(arguments.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(figures, indent=2))
    return 0 if figures["completed"] == arguments.learners else 1


if __name__ == "__main__":
    sys.exit(main())
