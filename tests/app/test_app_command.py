"""``biaslens app`` as a process: it listens on 127.0.0.1 only, and a stop signal to it
stops its Streamlit child (no server is left holding the port)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

MAIN = "from biaslens.cli.main import main; main()"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp* writes them) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, _, p = local.rpartition(":")
            if state == "0A" and int(p, 16) == port:
                found.add(addr)
    return found


def _port_free(port: int) -> bool:
    """A new server can listen on ``port`` (SO_REUSEADDR, as Tornado sets it: connections
    of the stopped server in TIME_WAIT do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_app_listens_on_loopback_and_a_stop_signal_stops_its_child(tmp_path, sig):
    port = _free_port()
    env = {**os.environ, "HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-c", MAIN, "app", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.3)
        children = _children(proc.pid)
        assert children, "biaslens app runs Streamlit as a child process"
        # 0100007F is 127.0.0.1; an all-interfaces socket would read 00000000 (or :: in tcp6)
        assert _listening(port) == {"0100007F"}
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert f"biaslens app on http://localhost:{port}" in out
    assert "Network URL" not in out and "External URL" not in out
    for child in children:
        assert not Path(f"/proc/{child}").exists() or \
            Path(f"/proc/{child}/stat").read_text().split()[2] == "Z", "the child survived"
    assert not _listening(port)  # nothing holds the port ...
    assert _port_free(port)       # ... so a new server can take it


def test_app_help_says_where_it_listens():
    out = subprocess.run([sys.executable, "-c", MAIN, "app", "--help"], capture_output=True,
                         text=True, env={**os.environ, "COLUMNS": "100"}).stdout
    assert "--address" in out and "127.0.0.1" in out
