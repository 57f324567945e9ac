"""A local doccano 1.8.4 server: install, start, wait until healthy, stop.

doccano pins Django and friends that clash with our spaCy stack, so it lives in its own
virtual environment (`.venv-doccano/` by default) and runs as two processes: its gunicorn
web server, bound to loopback only (`doccano webserver` binds 0.0.0.0), and its celery
worker, which the API needs for imports, exports and the health check. Each process runs
in its own session so that stopping kills the whole process group, workers included.
The pids go to a state file in the doccano home, so `readout doccano stop` can find them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .errors import E, ReadoutError

DOCCANO_VERSION = "1.8.4"
# doccano 1.8.4 predates marshmallow 4 and numpy 2; without these pins pip resolves to
# versions it cannot import.
REQUIREMENTS = (f"doccano=={DOCCANO_VERSION}", "marshmallow<4", "numpy<2")
DEFAULT_PORT = 8000
DEFAULT_VENV = Path(".venv-doccano")
HOST = "127.0.0.1"
STATE_FILE = "readout-server.json"
# Written once doccano is known to be installed, so later starts skip the check.
INSTALLED_MARKER = ".readout-installed"

# Runs inside the doccano venv. It reuses doccano's own `init` and `createuser` handlers, and
# reads the admin password from the environment so that it never appears in a process list.
_SETUP_SCRIPT = """
import argparse, os, sys
sys.argv = ["doccano"]
from backend import cli
import django
django.setup()
cli.command_db_init(None)
cli.command_user_create(argparse.Namespace(
    username=os.environ["DOCCANO_ADMIN_USER"],
    password=os.environ["DOCCANO_ADMIN_PASSWORD"],
    email=os.environ.get("DOCCANO_ADMIN_EMAIL", "admin@localhost"),
))
"""
_BACKEND_DIR_SCRIPT = "import os, backend; print(os.path.dirname(backend.__file__))"


def default_home() -> Path:
    """`$DOCCANO_HOME` (the variable doccano itself reads), else `.doccano/` here (git-ignored)."""
    return Path(os.environ.get("DOCCANO_HOME", ".doccano")).expanduser()


def admin_credentials() -> tuple[str, str]:
    """The admin's name and password, from the environment only: never from the repository."""
    user = os.environ.get("DOCCANO_ADMIN_USER", "")
    password = os.environ.get("DOCCANO_ADMIN_PASSWORD", "")
    if not user or not password:
        raise ReadoutError(
            E.R017, detail="set DOCCANO_ADMIN_USER and DOCCANO_ADMIN_PASSWORD in the environment"
        )
    return user, password


def base_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def _installed_version(python: Path) -> str | None:
    if not python.exists():
        return None
    found = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('doccano'))"],
        capture_output=True, text=True,
    )
    return found.stdout.strip() if found.returncode == 0 else None


def ensure_installed(venv: Path = DEFAULT_VENV) -> Path:
    """Install doccano into `venv` unless it is there already; return the venv's python.

    A folder that exists without doccano in it is someone else's: it is reported, never
    replaced. A failed install of our own is removed, so the next call starts clean.
    """
    venv = Path(venv).absolute()
    python = venv / "bin" / "python"
    if (venv / INSTALLED_MARKER).exists():
        return python
    if venv.exists():
        version = _installed_version(python)
        if version != DOCCANO_VERSION:
            found = f"doccano {version}" if version else "no doccano"
            raise ReadoutError(
                E.R017, str(venv), detail=f"exists with {found}; remove it or pass another --venv"
            )
    else:
        venv.parent.mkdir(parents=True, exist_ok=True)
        log = venv.with_name(f"{venv.name}-install.log")
        try:
            with log.open("w") as out:
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, stdout=out, stderr=out)
                subprocess.run(
                    [str(python), "-m", "pip", "install", *REQUIREMENTS], check=True, stdout=out, stderr=out
                )
        except (subprocess.CalledProcessError, OSError) as err:
            shutil.rmtree(venv, ignore_errors=True)
            raise ReadoutError(E.R017, str(venv), detail=f"installing doccano failed ({err}); see {log}") from None
        log.unlink(missing_ok=True)
    (venv / INSTALLED_MARKER).write_text(" ".join(REQUIREMENTS) + "\n")
    return python


def _server_env(home: Path) -> dict[str, str]:
    """The environment `doccano` itself sets up (backend/cli.py), plus a per-home secret key."""
    key_file = home / "secret_key"
    if not key_file.exists():
        # doccano's fallback SECRET_KEY is public; sessions signed with it could be forged.
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return {
        **os.environ,
        "DOCCANO_HOME": str(home),
        "STANDALONE": "True",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": f"sqlite:///{home / 'db.sqlite3'}",
        "MEDIA_ROOT": str(home / "media"),
        "SECRET_KEY": key_file.read_text().strip(),
        # More per page means fewer requests when we list all examples of a project.
        "DOCCANO_PAGE_SIZE": os.environ.get("DOCCANO_PAGE_SIZE", "100"),
    }


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port nobody listens on now (for tests and `--port 0`)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, timeout: float = 120.0, procs: list[subprocess.Popen] | None = None) -> None:
    """Poll `/v1/health/` until it answers 200 (web server up, celery worker answering).

    Polling is safe to repeat: the health check only reads. Fails early if a process we
    started has already exited, rather than waiting out the timeout.
    """
    deadline = time.monotonic() + timeout
    delay = 0.25
    while True:
        for proc in procs or []:
            if proc.poll() is not None:
                raise ReadoutError(E.R017, url, detail=f"{proc.args[0]} exited with code {proc.returncode}")
        try:
            resp = requests.get(f"{url}/v1/health/", headers={"Accept": "application/json"}, timeout=5)
            if resp.status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise ReadoutError(E.R017, url, detail=f"server not healthy after {timeout:.0f} s")
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


@dataclass
class Server:
    """A running server: where it listens and the process groups to kill."""

    home: Path
    port: int
    pids: dict[str, int]
    logs: dict[str, str] = field(default_factory=dict)
    procs: list[subprocess.Popen] = field(default_factory=list, repr=False)

    @property
    def url(self) -> str:
        return base_url(self.port)


def _state_path(home: Path) -> Path:
    return Path(home) / STATE_FILE


def _alive(pgid: int) -> bool:
    """Whether any process of the group still runs. Zombies do not count: once killed, a
    process whose parent has not reaped it yet (a container's init may never) is gone."""
    proc = Path("/proc")
    if proc.is_dir():
        for stat in proc.glob("[0-9]*/stat"):
            try:
                # Fields after the parenthesised command name: state, ppid, pgrp, ...
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap(pids) -> None:
    # Our own children linger as zombies until waited for (and, where there is no /proc,
    # would keep their group looking alive).
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def running(home: Path) -> Server | None:
    """The server recorded in `home`, if any of its processes still runs; a stale record is removed."""
    state = _state_path(home)
    if not state.exists():
        return None
    data = json.loads(state.read_text())
    pids = {k: int(v) for k, v in data["pids"].items()}
    _reap(pids.values())
    if not any(_alive(pid) for pid in pids.values()):
        state.unlink(missing_ok=True)
        return None
    return Server(home=Path(home), port=int(data["port"]), pids=pids, logs=data.get("logs", {}))


def _kill_groups(pids: dict[str, int], timeout: float) -> None:
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        for pid in pids.values():
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pids.values())
            if not any(_alive(pid) for pid in pids.values()):
                return
            time.sleep(0.1)


def stop(home: Path | None = None, timeout: float = 15.0) -> Server | None:
    """Stop the server recorded in `home`: SIGTERM each process group, SIGKILL what is left."""
    home = Path(home) if home else default_home()
    server = running(home)
    if server is None:
        return None
    _kill_groups(server.pids, timeout)
    _state_path(home).unlink(missing_ok=True)
    return server


def start(
    home: Path | None = None,
    port: int = DEFAULT_PORT,
    venv: Path = DEFAULT_VENV,
    workers: int = 2,
    timeout: float = 120.0,
) -> Server:
    """Install if needed, initialise the database, create the admin, start web server and
    worker on loopback, and return once `/v1/health/` answers. On any failure nothing keeps
    running: the processes started here are killed before the error is raised.
    """
    admin_credentials()  # fail before installing or starting anything
    home = (Path(home) if home else default_home()).absolute()
    home.mkdir(parents=True, exist_ok=True)
    current = running(home)
    if current is not None:
        raise ReadoutError(
            E.R017, str(home), detail=f"a server from this home already runs at {current.url}; stop it first"
        )
    port = port or free_port()
    if not _port_free(port):
        raise ReadoutError(E.R017, f"{HOST}:{port}", detail="port is in use; pick another with --port")
    python = ensure_installed(venv)
    bin_dir = python.parent
    env = _server_env(home)
    logs_dir = home / "logs"
    logs_dir.mkdir(exist_ok=True)

    setup_log = logs_dir / "setup.log"
    with setup_log.open("w") as out:
        done = subprocess.run([str(python), "-c", _SETUP_SCRIPT], env=env, stdout=out, stderr=out)
    if done.returncode != 0:
        raise ReadoutError(E.R017, str(home), detail=f"database setup failed; see {setup_log}")
    backend = subprocess.run(
        [str(python), "-c", _BACKEND_DIR_SCRIPT], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()

    commands = {
        # The same gunicorn application `doccano webserver` builds (backend/cli.py run_on_nix),
        # but bound to loopback: annotators on other machines go through an SSH tunnel.
        "webserver": [
            str(bin_dir / "gunicorn"),
            f"--bind={HOST}:{port}",
            f"--workers={workers}",
            f"--chdir={backend}",
            "--capture-output",
            "--log-level=info",
            "config.wsgi",
        ],
        "worker": [str(bin_dir / "doccano"), "task", "--concurrency=1"],
    }
    # The long-running processes have no use for the admin password: keep it out of their environment.
    run_env = {k: v for k, v in env.items() if k != "DOCCANO_ADMIN_PASSWORD"}
    server = Server(home=home, port=port, pids={})
    try:
        for name, cmd in commands.items():
            log = logs_dir / f"{name}.log"
            with log.open("a") as out:
                proc = subprocess.Popen(
                    cmd, env=run_env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            server.procs.append(proc)
            server.pids[name] = proc.pid
            server.logs[name] = str(log)
        state = {"port": port, "pids": server.pids, "logs": server.logs}
        _state_path(home).write_text(json.dumps(state, indent=2))
        wait_healthy(server.url, timeout=timeout, procs=server.procs)
    except BaseException:
        _kill_groups(server.pids, 10.0)
        _state_path(home).unlink(missing_ok=True)
        raise
    return server


def serve(server: Server) -> None:
    """Block until Ctrl-C, SIGTERM or one of the server's processes exits; then stop it all."""

    def _terminate(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        while all(proc.poll() is None for proc in server.procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop(server.home)
