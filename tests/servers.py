"""Real servers for tests and benchmarks: the action server and the Rasa server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def trained_model() -> str:
    model = os.environ.get("MODEL")
    if model:
        return model
    done = subprocess.run([str(ROOT / "scripts" / "train.sh")], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


class Servers:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.rasa_port, self.actions_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "SANIC_HOST": "127.0.0.1",
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "TRACKER_DB_URL": f"sqlite:///{data_dir}/tracker.sqlite",
            "OUTBOX_PATH": str(data_dir / "outbox.sqlite"),
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        self.url = f"http://127.0.0.1:{self.rasa_port}"

    def start(self, model: str) -> None:
        bin_dir = Path(sys.executable).parent
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.actions_port)],
            cwd=ROOT, env=self.env, stdout=open(logs / "actions.log", "wb"), stderr=subprocess.STDOUT,
        ))
        self.processes.append(subprocess.Popen(
            [str(bin_dir / "rasa"), "run", "--model", model, "--endpoints", "endpoints.yml",
             "--credentials", "credentials.yml", "--interface", "127.0.0.1", "--port", str(self.rasa_port)],
            cwd=ROOT / "bot", env=self.env, stdout=open(logs / "rasa.log", "wb"), stderr=subprocess.STDOUT,
        ))
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "wait_ready.py"),
             f"http://127.0.0.1:{self.actions_port}/health", f"{self.url}/webhooks/prescreen/"],
            check=True,
        )

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in (self.data_dir / "logs").glob("*.log"))
