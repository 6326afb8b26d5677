"""Real servers for tests and benchmarks, started the way scripts/start.sh starts them.

`Servers(data_dir)` runs the action server and the Rasa server; with
`with_api=True` also the API (migrated first) and the referral delivery
worker. Each gets its own free port, its own data folder and its own log file,
so several test sessions never share state.

`running_system(...)` is the one way a test module starts the whole system:
started, staff accounts created, stopped at the end whatever happened.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, Optional

ROOT = Path(__file__).resolve().parents[1]
RASA_PY = ROOT / ".venv" / "rasa" / "bin" / "python"
API_PY = ROOT / ".venv" / "api" / "bin" / "python"
SERVICE_TOKEN = "e2e-service-token"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.org", "correct horse battery staple"
COORDINATOR_EMAIL, COORDINATOR_PASSWORD = "coordinator@example.org", "another long pass phrase"
# (api.cli command, e-mail, password) of each staff account a test system gets.
ADMIN = ("create-admin", ADMIN_EMAIL, ADMIN_PASSWORD)
COORDINATOR = ("create-coordinator", COORDINATOR_EMAIL, COORDINATOR_PASSWORD)
API_COMMAND = ["-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--no-access-log", "--no-proxy-headers"]


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
    def __init__(
        self,
        data_dir: Path,
        with_api: bool = False,
        *,
        endpoints: str = "bot/endpoints.yml",
        env: Optional[dict[str, str]] = None,
    ) -> None:
        """`endpoints`: the Rasa endpoints file (e.g. bot/endpoints.replicas.yml);
        `env`: extra variables for every service of this Servers (e.g. TRACKER_DB_URL)."""
        self.data_dir = data_dir
        self.with_api = with_api
        self.endpoints = endpoints
        self.rasa_port, self.actions_port, self.api_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            # A local run, as scripts/lib.sh says for scripts/start.sh.
            "ENVIRONMENT": "local",
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
        self.env.update(env or {})
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        # What `restart` needs: each service's command and the URL that says it is ready.
        self.commands: dict[str, list[str]] = {}
        self.ready_urls: dict[str, str] = {}
        (data_dir / "logs").mkdir(parents=True, exist_ok=True)

    def _log(self, name: str) -> IO[bytes]:
        return open(self.data_dir / "logs" / f"{name}.log", "ab")

    def launch(self, name: str, command: list[str], env: Optional[dict[str, str]] = None) -> None:
        """Start one service; `env` adds variables for this launch only."""
        self.commands[name] = command
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env={**self.env, **(env or {})}, stdout=self._log(name), stderr=subprocess.STDOUT
        )

    def start(self, model: str) -> None:
        self.model = model
        self.launch("actions", [str(RASA_PY), "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.actions_port)])
        self.launch("rasa", [
            str(RASA_PY.with_name("rasa")), "run", "--model", model, "--endpoints", self.endpoints,
            "--credentials", "bot/credentials.yml", "--interface", "127.0.0.1", "--port", str(self.rasa_port),
        ])
        urls = [f"http://127.0.0.1:{self.actions_port}/health", f"{self.url}/webhooks/prescreen/"]
        self.ready_urls.update(actions=urls[0], rasa=urls[1])
        if self.with_api:
            self.migrate()
            self.launch("delivery", [str(RASA_PY), "-m", "actions.delivery"])
            self._launch_api()
            urls.append(self.ready_urls["api"])
        subprocess.run([str(RASA_PY), str(ROOT / "scripts" / "wait_ready.py"), *urls], check=True)

    def migrate(self) -> None:
        subprocess.run([str(API_PY), "-m", "api.cli", "migrate"], cwd=ROOT, env=self.env, check=True, capture_output=True)

    def _launch_api(self) -> None:
        self.launch("api", [str(API_PY), *API_COMMAND, "--port", str(self.api_port)])
        self.ready_urls["api"] = f"{self.api_url}/health"

    def start_api(self, migrate: bool = True) -> None:
        """The API alone (no Rasa, no model needed), migrated first unless the test prepared its database."""
        if migrate:
            self.migrate()
        self._launch_api()
        self.wait_ready("api")

    def add_account(self, command: str, email: str, password: str) -> None:
        """A staff account, made the way an operator makes one (api.cli, password from the environment)."""
        variable = "ADMIN_PASSWORD" if command == "create-admin" else "COORDINATOR_PASSWORD"
        subprocess.run(
            [str(API_PY), "-m", "api.cli", command, "--email", email],
            cwd=ROOT, env={**self.env, variable: password}, check=True, capture_output=True,
        )

    def stop(self, *names: str, hard: bool = False) -> None:
        """Stop some services (all that still run when none are named); `hard` is kill -9."""
        chosen = names or tuple(name for name in self.processes if self.running(name))
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

    # --- Additions for the reliability tests (tests/reliability) ------------

    def wait_ready(self, *names: str) -> None:
        """Wait until the named services (all that have a ready URL when none are named) answer 200."""
        urls = [self.ready_urls[name] for name in names or tuple(self.ready_urls) if name in self.ready_urls]
        subprocess.run([str(RASA_PY), str(ROOT / "scripts" / "wait_ready.py"), *urls], check=True)

    def running(self, name: str) -> bool:
        return name in self.processes and self.processes[name].poll() is None

    def restart(self, name: str, *, hard: bool = False, env: Optional[dict[str, str]] = None, wait: bool = True) -> None:
        """Stop one service if it runs (`hard`: kill -9), start it again with the
        same command and the Servers' environment plus `env`, and wait until it is ready."""
        if self.running(name):
            self.stop(name, hard=hard)
        self.launch(name, self.commands[name], env=env)
        if wait:
            self.wait_ready(name)

    def start_rasa(self, name: str, *, port: Optional[int] = None, endpoints: Optional[str] = None, wait: bool = True) -> str:
        """Another Rasa server (a replica) on its own port with the same model,
        action server and environment; returns its base URL."""
        port = port or free_port()
        url = f"http://127.0.0.1:{port}"
        self.launch(name, [
            str(RASA_PY.with_name("rasa")), "run", "--model", self.model, "--endpoints", endpoints or self.endpoints,
            "--credentials", "bot/credentials.yml", "--interface", "127.0.0.1", "--port", str(port),
        ])
        self.ready_urls[name] = f"{url}/webhooks/prescreen/"
        if wait:
            self.wait_ready(name)
        return url


@contextmanager
def running_system(
    data_dir: Path,
    *,
    with_api: bool = True,
    env: Optional[dict[str, str]] = None,
    model: Optional[str] = None,
    accounts: Sequence[tuple[str, str, str]] = (ADMIN,),
    kind: type[Servers] = Servers,
    **options: Any,
) -> Iterator[Servers]:
    """The whole system (`with_api=False`: Rasa and the action server only), started with
    the trained `model` (the current one when not given) and the staff `accounts`;
    every service still running is stopped on the way out."""
    running = kind(data_dir, with_api=with_api, env=env, **options)
    try:
        running.start(model or trained_model())
        for account in accounts if with_api else ():
            running.add_account(*account)
        yield running
    finally:
        running.stop()


class SlowProxy:
    """A slow-API stand-in: a loopback HTTP proxy in front of `target` (e.g. the
    API) that holds each of the first `slow_count` requests for `delay_s`
    seconds and then forwards it anyway (a slow server still does the work), and
    forwards later requests at once. `requests` records what went through.

        with SlowProxy(servers.api_url, delay_s=7, slow_count=1) as proxy:
            servers.restart("delivery", env={"API_URL": proxy.url})
    """

    def __init__(self, target: str, delay_s: float, slow_count: int) -> None:
        self.target = target.rstrip("/")
        self.delay_s, self.slow_count = delay_s, slow_count
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:  # bodies may hold patient data: log nothing
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy._lock:
                    record = {
                        "method": self.command, "path": self.path, "key": self.headers.get("Idempotency-Key"),
                        "started": time.monotonic(), "delayed": len(proxy.requests) < proxy.slow_count,
                    }
                    proxy.requests.append(record)
                if record["delayed"]:
                    time.sleep(proxy.delay_s)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
                request = urllib.request.Request(
                    proxy.target + self.path, data=body if body else None, method=self.command, headers=headers
                )
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, payload, kind = response.status, response.read(), response.headers.get("Content-Type")
                except urllib.error.HTTPError as error:
                    status, payload, kind = error.code, error.read(), error.headers.get("Content-Type")
                except OSError:
                    status, payload, kind = 502, b"", None
                record.update(status=status, finished=time.monotonic())
                try:
                    self.send_response(status)
                    if kind:
                        self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up waiting (that is the point)
                    record["client_gone"] = True

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "SlowProxy":
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
