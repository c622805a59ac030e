"""Start a student's kernel in a sandbox, and talk to it from outside.

The kernel runs as ``bwrap`` (bubblewrap, the Debian package ``bubblewrap``) makes it:

- its own user, PID, IPC, UTS, cgroup and **network** namespaces (no network at all, not even
  the host's loopback);
- a file system built from nothing: the system's ``/usr`` (and ``/lib*``, ``/bin``, ``/etc``)
  read-only, the course's virtual environment, ``course_lib/`` and ``data/`` read-only at their
  own paths, a private copy of the one submission at ``/work/submission`` (writable, thrown away
  afterwards), a fresh ``/tmp``. Nothing else of the repository exists inside: not ``source/``,
  not ``grading/`` (the references), not ``submitted/`` (other students), not ``gradebook.db``,
  not the exchange or any home directory;
- an address-space limit (``RLIMIT_AS``), a CPU-time backstop (``RLIMIT_CPU``) and a file-size
  limit (``RLIMIT_FSIZE``), set before ``bwrap`` starts and inherited by everything inside;
- a PID namespace whose first process is bwrap's own init: killing the kernel from outside
  (``Sandbox.kill``) ends every process the student's code started, even ones that called
  ``setsid``.

The grader talks to the kernel over ZeroMQ ``ipc`` sockets in a folder bound into the sandbox
(TCP cannot cross the network namespace). ipykernel's parent poller is switched off
(``JPY_PARENT_PID`` unset): inside a PID namespace its parent looks dead and it would exit.

``Sandbox.unsafe`` runs the same kernel without bwrap (for machines where no sandbox can be
made, when the instructor asks for it with ``--unsafe``): the limits on time and memory still
hold, the isolation does not.
"""

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from grading.protocol import RECORD_MIME

# DESCENT_BWRAP: another bubblewrap binary (the tests point it at a missing one to see the refusal)
BWRAP = os.environ.get("DESCENT_BWRAP") or shutil.which("bwrap") or "/usr/bin/bwrap"
INSIDE = Path("/work/submission")  # where the submission's private copy appears inside the sandbox
MAX_KEPT_OUTPUTS = 500  # output messages kept per cell (the rest are dropped; the record is always kept)


class SandboxUnavailable(RuntimeError):
    """No sandbox can be made here; the message says why and what to do."""


def _limits(memory_bytes, cpu_seconds, file_bytes):
    def apply():
        os.setsid()  # its own process group: killpg reaches bwrap and everything it started
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def base_prefix(venv):
    """The installation prefix of the interpreter a venv was created from."""
    return Path(os.path.realpath(Path(venv) / "bin" / "python")).parent.parent


def bwrap_argv(python, venv, course_root, work, conn_dir):
    """The bwrap command line for one kernel (see the module docstring)."""
    argv = [BWRAP, "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            "--tmpfs", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for system in ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", "/etc"):
        if os.path.lexists(system):
            if os.path.islink(system):
                argv += ["--symlink", os.readlink(system), system]
            else:
                argv += ["--ro-bind", system, system]
    argv += ["--ro-bind", str(venv), str(venv)]
    base = base_prefix(venv)  # the Python the venv was made from (e.g. under pyenv), read-only
    if not any(base.is_relative_to(system) for system in ("/usr", "/bin", "/lib", "/lib64")):
        argv += ["--ro-bind", str(base), str(base)]
    for name in ("course_lib", "data"):
        argv += ["--ro-bind", str(course_root / name), str(course_root / name)]
    argv += ["--bind", str(work), str(INSIDE), "--bind", str(conn_dir), str(conn_dir),
             "--chdir", str(INSIDE), "--unsetenv", "JPY_PARENT_PID",
             "--setenv", "HOME", "/tmp", "--setenv", "MPLCONFIGDIR", "/tmp/mpl",
             "--setenv", "MPLBACKEND", "agg", "--setenv", "NUMBA_CACHE_DIR", "/tmp/numba",
             "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
             "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "OMP_NUM_THREADS", "1",
             str(python), "-m", "ipykernel_launcher", "-f", str(conn_dir / "kernel.json")]
    return argv


def check_bwrap():
    """None when a bwrap sandbox can be made here, else the reason (a sentence with the fix)."""
    if not os.path.exists(BWRAP):
        return ("bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap); "
                "without it the student's code would run with your rights")
    probe = subprocess.run([BWRAP, "--unshare-user", "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/",
                            "--dev", "/dev", "--proc", "/proc", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return ("bubblewrap cannot create its namespaces on this machine "
                f"({probe.stderr.strip() or 'exit code ' + str(probe.returncode)}); "
                "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) "
                "or run the grader on a machine that has them")
    return None


class Sandbox:
    """One kernel for one submission. Use ``start``, ``execute`` (with a time limit) and ``kill``."""

    def __init__(self, work, course_root, venv, unsafe=False, memory_mb=3072, cpu_seconds=3600,
                 file_mb=256):
        self.work = Path(work)
        self.course_root = Path(course_root)
        self.venv = Path(venv)
        self.unsafe = unsafe
        self.memory = memory_mb * 2 ** 20
        self.cpu = cpu_seconds
        self.file_bytes = file_mb * 2 ** 20
        self.process = None
        self.client = None
        self.conn_dir = None

    # -- life cycle -------------------------------------------------------------------------------

    def start(self, timeout=60):
        from jupyter_client import BlockingKernelClient
        from jupyter_client.connect import write_connection_file

        self.conn_dir = Path(tempfile.mkdtemp(prefix="descent-kernel-"))
        connection = self.conn_dir / "kernel.json"
        write_connection_file(str(connection), transport="ipc", ip=str(self.conn_dir / "k"),
                              key=uuid.uuid4().hex.encode())
        python = self.venv / "bin" / "python"
        if self.unsafe:
            env = {key: value for key, value in os.environ.items() if key not in ("JPY_PARENT_PID",)}
            argv = [str(python), "-m", "ipykernel_launcher", "-f", str(connection)]
            cwd = self.work
            env.update(HOME=str(self.work), MPLBACKEND="agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                       MPLCONFIGDIR=str(self.conn_dir / "mpl"))
        else:
            argv = bwrap_argv(python, self.venv, self.course_root, self.work, self.conn_dir)
            # Nothing of the grader's environment goes in (tokens, paths): only what a kernel needs.
            env = {"PATH": f"{self.venv / 'bin'}:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
            cwd = self.conn_dir
        self._log = open(self.conn_dir / "kernel.log", "w+b")  # a file, not a pipe: it never fills up
        self.process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                        stdout=self._log, stderr=self._log,
                                        preexec_fn=_limits(self.memory, self.cpu, self.file_bytes))
        self.client = BlockingKernelClient(connection_file=str(connection))
        self.client.load_connection_file()
        self.client.start_channels()
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout):
        """Return once the kernel answers on its shell channel *and* its iopub channel reaches us.

        Our own wait, not ``client.wait_for_ready``, whose heartbeat check gives up on a kernel
        that is merely slow to start on a busy machine: ask for ``kernel_info`` until it answers.
        An answer on the shell channel is not enough. iopub is a ZeroMQ publish socket, and what
        the kernel publishes before our subscription has connected is dropped without a trace: the
        grader would then wait for an "idle" that never comes, and time the first cell out (9 of 40
        kernel starts did that, on a quiet machine). So after each answer we look for a message on
        iopub, and ask again until one arrives: every ``kernel_info`` request makes the kernel
        publish its busy and idle status.
        """
        deadline = time.monotonic() + timeout
        asked, asked_at = set(), 0.0
        while True:
            if not self.alive():
                stderr = self._stderr()
                self.kill()
                raise RuntimeError(f"the kernel did not start:\n{stderr}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the kernel did not answer within {timeout} s")
            if not asked or time.monotonic() - asked_at > 5:  # ask again only after a quiet while
                asked.add(self.client.kernel_info())
                asked_at = time.monotonic()
            try:
                reply = self.client.get_shell_msg(timeout=1)
            except Exception:  # queue.Empty
                continue
            if reply.get("parent_header", {}).get("msg_id") not in asked:
                continue
            try:
                self.client.get_iopub_msg(timeout=0.5)
                break  # iopub is connected
            except Exception:  # queue.Empty: not yet; ask again at once
                asked_at = 0.0
        while True:  # forget the status messages of our requests
            try:
                self.client.get_iopub_msg(timeout=0.1)
            except Exception:
                break

    def _stderr(self):
        try:
            self._log.seek(0)
            return self._log.read().decode(errors="replace")[-2000:]
        except (AttributeError, ValueError, OSError):
            return ""

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        """End the kernel and everything it started (its whole process group and PID namespace)."""
        if self.client is not None:
            try:
                self.client.stop_channels()
            except Exception:
                pass
            self.client = None
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self._log.close()
            self.process = None
        if self.conn_dir is not None:
            shutil.rmtree(self.conn_dir, ignore_errors=True)
            self.conn_dir = None

    # -- running code -----------------------------------------------------------------------------

    def execute(self, code, timeout):
        """Run ``code``; return ``(status, messages)``.

        ``status`` is ``"ok"``, ``"error"``, ``"timeout"`` (the kernel was killed) or ``"died"``.
        ``messages`` are the iopub messages *this* request produced (matched by its msg_id).
        """
        msg_id = self.client.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
        deadline = time.monotonic() + timeout
        messages, status, kept, records = [], None, 0, 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                return "timeout", messages
            if not self.alive():
                return "died", messages
            try:
                message = self.client.get_iopub_msg(timeout=min(remaining, 0.5))
            except Exception:  # queue.Empty: nothing yet
                continue
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "status" and message["content"].get("execution_state") == "idle":
                break
            is_record = kind == "display_data" and RECORD_MIME in message["content"].get("data", {})
            if is_record:
                records += 1
                if records > 2:  # two already make the question fail (one record per request)
                    continue
            elif kind in ("stream", "display_data"):
                kept += 1
                if kept > MAX_KEPT_OUTPUTS:  # a cell printing without end must not fill the grader's memory
                    continue
            messages.append(message)
            if kind == "error":
                status = "error"
        return status or "ok", messages
