"""`make start`, the README's command, in a real terminal: it says what it is
doing, says when the system is ready, and Ctrl-C stops every service with a
plain "Stopped." and exit 0 (no "A service stopped unexpectedly", no make
error). A pseudo-terminal stands in for the developer's terminal, so Ctrl-C
reaches the terminal's foreground process group exactly as it would there.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.servers import ROOT, free_port

pytestmark = pytest.mark.e2e

READY = b"Press Ctrl-C to stop."
STARTUP_S = 300


def _read(fd: int, until: bytes, timeout_s: float) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and until not in out:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def _ended(pid: int, timeout_s: float) -> int | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.2)
    return None


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_make_start_says_ready_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    ports = {"RASA_PORT": free_port(), "ACTIONS_PORT": free_port(), "API_PORT": free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "DATA_DIR": str(tmp_path / "data")}
    env.pop("ACTION_ENDPOINT_URL", None)
    env.pop("API_URL", None)
    env.pop("RASA_URL", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal session running the README's command
        os.chdir(ROOT)
        os.execvpe("make", ["make", "--no-print-directory", "start"], env)
    try:
        started = _read(fd, READY, STARTUP_S)
        assert READY in started, started.decode(errors="replace")[-3000:]
        text = started.decode(errors="replace")
        assert "Starting the action server" in text and "The pre-screener is running." in text
        assert all(_listening(port) for port in ports.values())
        os.write(fd, b"\x03")  # Ctrl-C, typed in the terminal
        ending = _read(fd, b"Stopped.", 60).decode(errors="replace")
        ending += _read(fd, b"\x00never", 3).decode(errors="replace")
    finally:
        status = _ended(pid, 30)
        os.close(fd)
        if status is None:  # still running: stop this run's processes so that the suite goes on
            os.killpg(pid, signal.SIGTERM)
            subprocess.run(["pkill", "-f", str(tmp_path)], check=False)
            _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, ending
    assert "Stopped." in ending
    assert "unexpectedly" not in ending and "make: ***" not in ending, ending
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_listening(port) for port in ports.values()):
        time.sleep(0.5)
    assert not any(_listening(port) for port in ports.values()), "a service still listens after Ctrl-C"
    left = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert left == [], f"processes of this run still alive: {left}"
