"""The local doccano server: loopback only, one per home, started and stopped cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from pipeline.doccano_server import STATE_FILE, _alive, free_port, running, start, wait_healthy
from pipeline.errors import ReadoutError

ROOT = Path(__file__).resolve().parents[2]


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a LISTEN socket on `port`, from /proc/net/tcp (Linux)."""
    found = set()
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, p = local.split(":")
        if int(p, 16) == port and state == "0A":
            found.add(socket.inet_ntoa(bytes.fromhex(addr)[::-1]))
    return found


@pytest.mark.doccano
def test_server_is_healthy_on_loopback_only(doccano):
    resp = requests.get(f"{doccano.url}/v1/health/", headers={"Accept": "application/json"}, timeout=10)
    assert resp.status_code == 200 and resp.json()["CeleryHealthCheckCelery"] == "OK"
    assert listening_addresses(doccano.port) == {"127.0.0.1"}


@pytest.mark.doccano
def test_state_file_names_the_running_processes(doccano):
    state = json.loads((doccano.home / STATE_FILE).read_text())
    assert state["port"] == doccano.port and set(state["pids"]) == {"webserver", "worker"}
    assert all(_alive(pid) for pid in state["pids"].values())
    assert running(doccano.home).pids == doccano.pids


@pytest.mark.doccano
def test_second_start_from_same_home_is_refused(doccano, doccano_venv):
    with pytest.raises(ReadoutError) as err:
        start(home=doccano.home, port=free_port(), venv=doccano_venv)
    assert err.value.code == "R017" and "already runs" in err.value.message
    assert running(doccano.home).pids == doccano.pids  # the running one is untouched


@pytest.mark.doccano
def test_port_in_use_is_refused_before_anything_starts(doccano, doccano_venv, tmp_path):
    with pytest.raises(ReadoutError) as err:
        start(home=tmp_path / "home", port=doccano.port, venv=doccano_venv)
    assert err.value.code == "R017" and "in use" in err.value.message
    assert not (tmp_path / "home" / STATE_FILE).exists()


def test_start_without_admin_credentials_fails_first(monkeypatch, tmp_path):
    monkeypatch.delenv("DOCCANO_ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("DOCCANO_ADMIN_USER", "someone")
    with pytest.raises(ReadoutError) as err:
        start(home=tmp_path / "home", port=free_port(), venv=tmp_path / "venv")
    assert err.value.code == "R017" and "DOCCANO_ADMIN_PASSWORD" in err.value.message
    assert not (tmp_path / "home").exists() and not (tmp_path / "venv").exists()


def test_health_wait_times_out_on_a_silent_server():
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(ReadoutError) as err:
            wait_healthy(url, timeout=2)
    assert err.value.code == "R017" and "not healthy after 2 s" in err.value.message


@pytest.fixture
def migrated_home(doccano, tmp_path) -> Path:
    """A new home holding a consistent copy of the session server's database, so a second
    server starts in seconds instead of migrating a fresh database for half a minute."""
    home = tmp_path / "home"
    home.mkdir()
    with sqlite3.connect(doccano.home / "db.sqlite3") as src, sqlite3.connect(home / "db.sqlite3") as dst:
        src.backup(dst)
    return home


@pytest.mark.doccano
def test_cli_start_then_stop_leaves_no_process(admin_env, doccano_venv, migrated_home):
    home, port = migrated_home, free_port()
    readout = [str(Path(sys.executable).parent / "readout"), "doccano"]
    started = subprocess.run(
        [*readout, "start", "--port", str(port), "--home", str(home), "--venv", str(doccano_venv)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert started.returncode == 0, started.stdout + started.stderr
    pids = json.loads((home / STATE_FILE).read_text())["pids"]
    assert requests.get(f"http://127.0.0.1:{port}/v1/health/", timeout=10).status_code == 200
    stopped = subprocess.run(
        [*readout, "stop", "--home", str(home)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert stopped.returncode == 0 and "stopped doccano" in stopped.stdout
    assert not any(_alive(pid) for pid in pids.values())  # web server, worker and their children
    assert not (home / STATE_FILE).exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/v1/health/", timeout=5)
    again = subprocess.run([*readout, "stop", "--home", str(home)], capture_output=True, text=True, cwd=ROOT)
    assert again.returncode == 0 and "no doccano server is running" in again.stdout


def test_install_never_replaces_a_folder_without_doccano(tmp_path):
    from pipeline.doccano_server import ensure_installed

    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "keep.txt").write_text("mine")
    with pytest.raises(ReadoutError) as err:
        ensure_installed(tmp_path / "venv")
    assert err.value.code == "R017" and "exists with no doccano" in err.value.message
    assert (tmp_path / "venv" / "keep.txt").read_text() == "mine"


@pytest.mark.doccano
def test_serve_stops_everything_on_ctrl_c(admin_env, doccano_venv, migrated_home):
    home, port = migrated_home, free_port()
    readout = str(Path(sys.executable).parent / "readout")
    proc = subprocess.Popen(
        [readout, "doccano", "serve", "--port", str(port), "--home", str(home), "--venv", str(doccano_venv)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        out = ""
        while "doccano at" not in out:  # serving, as the command itself sees it
            line = proc.stdout.readline()
            assert line, f"serve exited early: {out}"
            out += line
        assert requests.get(f"http://127.0.0.1:{port}/v1/health/", timeout=10).status_code == 200
        pids = json.loads((home / STATE_FILE).read_text())["pids"]
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground process
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "doccano stopped" in rest
    assert not any(_alive(pid) for pid in pids.values())
    assert not (home / STATE_FILE).exists()
