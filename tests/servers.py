"""Real servers for tests and benchmarks, started the way scripts/start.sh starts them.

`Servers(data_dir)` runs the action server and the Rasa server; with
`with_api=True` also the API (migrated first) and the referral delivery
worker. Each gets its own free port, its own data folder and its own log file,
so several test sessions never share state.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
RASA_PY = ROOT / ".venv" / "rasa" / "bin" / "python"
API_PY = ROOT / ".venv" / "api" / "bin" / "python"
SERVICE_TOKEN = "e2e-service-token"


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
    def __init__(self, data_dir: Path, with_api: bool = False) -> None:
        self.data_dir = data_dir
        self.with_api = with_api
        self.rasa_port, self.actions_port, self.api_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "SANIC_HOST": "127.0.0.1",
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "TRACKER_DB_URL": f"sqlite:///{data_dir}/tracker.sqlite",
            "OUTBOX_PATH": str(data_dir / "outbox.sqlite"),
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{data_dir}/api.sqlite",
            "RASA_URL": self.url,
            "API_URL": self.api_url,
            "SERVICE_TOKEN": SERVICE_TOKEN,
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        (data_dir / "logs").mkdir(parents=True, exist_ok=True)

    def _log(self, name: str) -> IO[bytes]:
        return open(self.data_dir / "logs" / f"{name}.log", "ab")

    def launch(self, name: str, command: list[str]) -> None:
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self._log(name), stderr=subprocess.STDOUT
        )

    def start(self, model: str) -> None:
        self.model = model
        self.launch("actions", [str(RASA_PY), "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.actions_port)])
        self.launch("rasa", [
            str(RASA_PY.with_name("rasa")), "run", "--model", model, "--endpoints", "bot/endpoints.yml",
            "--credentials", "bot/credentials.yml", "--interface", "127.0.0.1", "--port", str(self.rasa_port),
        ])
        urls = [f"http://127.0.0.1:{self.actions_port}/health", f"{self.url}/webhooks/prescreen/"]
        if self.with_api:
            subprocess.run([str(API_PY), "-m", "api.cli", "migrate"], cwd=ROOT, env=self.env, check=True)
            self.launch("delivery", [str(RASA_PY), "-m", "actions.delivery"])
            self.launch("api", [
                str(API_PY), "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(self.api_port),
            ])
            urls.append(f"{self.api_url}/health")
        subprocess.run([str(RASA_PY), str(ROOT / "scripts" / "wait_ready.py"), *urls], check=True)

    def stop(self, *names: str, hard: bool = False) -> None:
        """Stop some services (all when none are named); `hard` is kill -9."""
        chosen = names or tuple(self.processes)
        for name in chosen:
            process = self.processes[name]
            process.kill() if hard else process.terminate()
        for name in chosen:
            try:
                self.processes[name].wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.processes[name].kill()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in (self.data_dir / "logs").glob("*.log"))
