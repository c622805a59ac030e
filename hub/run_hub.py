"""Run JupyterHub for a class on this machine: ``python3 course.py hub [options]``.

course.py runs this file with the instructor's environment (``.venv-dev/``, which holds
jupyterhub and jupyterhub-idle-culler) after making sure the learner's environment (``.venv/``,
whose Python runs every learner's kernel) is set up too. This script:

1. installs JupyterHub's proxy, the npm package ``configurable-http-proxy``, into
   ``.hub/node/`` (git-ignored) the first time (it needs ``node`` and ``npm``:
   ``apt-get install nodejs npm`` on Debian/Ubuntu);
2. writes the learners' kernel spec (the learner's Python, one BLAS thread, matplotlib's
   cache in the environment) into ``.hub/jupyter/kernels/python3/``;
3. chooses the workshop password (``--password``, or the one kept in ``.hub/password``, or a
   new random one) and prints it with the accounts;
4. starts ``jupyterhub -f hub/jupyterhub_config.py`` and runs until Ctrl+C.

Everything the hub keeps (its database, cookie secret, each learner's folder) is under
``.hub/`` (``--state`` to put it elsewhere). See the README's "Running a class on one server".
"""

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROXY_PACKAGE = "configurable-http-proxy@5.3.0"
LEARNER_PYTHON = ROOT / ".venv" / "bin" / "python"


def parse(argv):
    parser = argparse.ArgumentParser(prog="python3 course.py hub",
                                     description="JupyterHub for a class on this machine.")
    parser.add_argument("--learners", type=int, default=30,
                        help="number of learner accounts learner01..learnerNN (default 30)")
    parser.add_argument("--password", help="the shared workshop password (default: kept in STATE/password, "
                                           "made up the first time)")
    parser.add_argument("--ip", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; "
                             "0.0.0.0 for the room's network)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--state", default=str(ROOT / ".hub"),
                        help="folder for the hub's database, secrets and learners' folders (default .hub/)")
    parser.add_argument("--idle-timeout", type=int, default=3600,
                        help="seconds without activity after which a learner's server is stopped (default 3600)")
    parser.add_argument("--concurrent-spawns", type=int, default=None,
                        help="servers started at once; more logins wait (default: see hub/jupyterhub_config.py)")
    parser.add_argument("--ssl-cert", help="TLS certificate file (with --ssl-key) to serve https")
    parser.add_argument("--ssl-key", help="TLS key file")
    parser.add_argument("--learner-python", default=str(LEARNER_PYTHON),
                        help="the Python that runs the learners' kernels (default: .venv/bin/python)")
    return parser.parse_args(argv)


def proxy_command(prefix=ROOT / ".hub" / "node"):
    """The configurable-http-proxy executable, installed with npm into .hub/node/ if needed
    (whatever --state says: one install serves every hub started from this folder)."""
    prefix = Path(prefix)
    executable = prefix / "node_modules" / ".bin" / "configurable-http-proxy"
    if executable.exists():
        return executable
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        sys.exit("JupyterHub's proxy (configurable-http-proxy) is an npm package, and node/npm are not "
                 "installed.\nOn Debian/Ubuntu: apt-get install nodejs npm   (then run: python3 course.py hub)")
    print(f"[descent] installing {PROXY_PACKAGE} into {prefix} (once)", flush=True)
    prefix.mkdir(parents=True, exist_ok=True)
    status = subprocess.call([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                              "--loglevel=error", PROXY_PACKAGE])
    if status != 0 or not executable.exists():
        sys.exit(f"npm could not install {PROXY_PACKAGE} (see its message above); check the connection "
                 "to the npm registry and run: python3 course.py hub")
    return executable


def write_kernel_spec(state, learner_python):
    """The kernel every learner's notebook starts: the learner's environment, not the hub's."""
    learner_python = Path(learner_python)
    venv = learner_python.parent.parent
    folder = Path(state) / "jupyter" / "kernels" / "python3"
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [str(learner_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Descent)",
        "language": "python",
        "metadata": {"debugger": True},
        # one BLAS thread per learner: thirty kernels that each spin up one thread per core
        # would fight over the cores; matplotlib's config and font cache inside the environment
        "env": {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "MPLCONFIGDIR": str(venv / "mplconfig")},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n")
    return folder.parent.parent


def workshop_password(state, given):
    path = Path(state) / "password"
    if given:
        path.write_text(given + "\n")
    elif not path.exists():
        path.write_text("-".join(secrets.token_hex(2) for _ in range(3)) + "\n")
    path.chmod(0o600)
    return path.read_text().strip()


def main(argv=None):
    arguments = parse(argv if argv is not None else sys.argv[1:])
    state = Path(arguments.state).resolve()
    state.mkdir(parents=True, exist_ok=True)
    if not Path(arguments.learner_python).exists():
        sys.exit(f"The learners' Python {arguments.learner_python} does not exist: run python3 course.py setup")
    proxy = proxy_command()
    # The learner's environment is installed without bytecode (smaller, faster for a laptop); on a
    # server thirty kernels would each compile numpy and matplotlib at the same first start.
    print("[descent] compiling the learner environment's bytecode (once; seconds when done before)", flush=True)
    venv_lib = Path(arguments.learner_python).parent.parent / "lib"
    subprocess.call([arguments.learner_python, "-m", "compileall", "-q", "-j", "0", str(venv_lib)],
                    stdout=subprocess.DEVNULL)
    jupyter_path = write_kernel_spec(state, arguments.learner_python)
    password = workshop_password(state, arguments.password)
    learner_config = Path(sys.prefix) / "etc" / "descent-learner"
    env = dict(os.environ)
    env.update({
        "DESCENT_HUB_STATE": str(state),
        "DESCENT_HUB_LEARNERS": str(arguments.learners),
        "DESCENT_HUB_PASSWORD": password,
        "DESCENT_HUB_IP": arguments.ip,
        "DESCENT_HUB_PORT": str(arguments.port),
        "DESCENT_HUB_IDLE_TIMEOUT": str(arguments.idle_timeout),
        "DESCENT_HUB_PROXY": str(proxy),
        "DESCENT_HUB_JUPYTER_PATH": str(jupyter_path),
        "DESCENT_HUB_LEARNER_CONFIG": str(learner_config),
        "DESCENT_HUB_LEARNER_MPLCONFIG": str(Path(arguments.learner_python).parent.parent / "mplconfig"),
    })
    if arguments.concurrent_spawns:
        env["DESCENT_HUB_CONCURRENT_SPAWNS"] = str(arguments.concurrent_spawns)
    if arguments.ssl_cert or arguments.ssl_key:
        if not (arguments.ssl_cert and arguments.ssl_key):
            sys.exit("--ssl-cert and --ssl-key go together")
        env["DESCENT_HUB_SSL_CERT"], env["DESCENT_HUB_SSL_KEY"] = arguments.ssl_cert, arguments.ssl_key
    scheme = "https" if arguments.ssl_cert else "http"
    shown = "this-machine's-address" if arguments.ip in ("0.0.0.0", "") else arguments.ip
    print(f"[descent] JupyterHub for {arguments.learners} learners at {scheme}://{shown}:{arguments.port}/\n"
          f"[descent]   accounts: learner01 ... learner{arguments.learners:02d} (and instructor, the admin)\n"
          f"[descent]   workshop password: {password}   (kept in {state / 'password'})\n"
          f"[descent]   learners' folders: {state / 'home'}/<account>/   Ctrl+C stops the hub", flush=True)
    command = [str(Path(sys.prefix) / "bin" / "jupyterhub"), "-f", str(ROOT / "hub" / "jupyterhub_config.py")]
    process = subprocess.Popen(command, cwd=state, env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


if __name__ == "__main__":
    sys.exit(main())
