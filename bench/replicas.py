"""Issue 14, item 3: one Rasa process against two, on the production path.

Both runs use bot/endpoints.replicas.yml: the tracker store in PostgreSQL
(a throwaway database) and the atomic Redis lock store (a Redis database of
its own), the action server and API as usual; the gateway's RASA_URL lists
one server, then two (it spreads conversations over them,
api/services/rasa_client.py). Simulated patients without pauses at each
level; the figures are messages/s, turn latency, CPU per message by process
and memory at rest per process.

    .venv/api/bin/python -m bench.replicas [--model PATH] [--out FILE]

It reports; it never fails on slowness. On this 2-core machine two Rasa
processes share the same two cores as everything else, so the gain shown
here is the floor of what a larger machine gives.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg

from actions.criteria import load_trial
from bench.gateway import _levels
from bench.load import rss_now
from bench.patients import screen_through_gateway
from bench.personas import Bank, generate
from tests.servers import ROOT, Servers, trained_model

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 7
LEVELS = {10: 2, 50: 1}  # at once -> conversations each


def _log(message: str) -> None:
    print(f"[bench.replicas] {message}", flush=True)


def _flush_redis_db() -> None:
    with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=5) as sock:
        sock.sendall(f"*2\r\n$6\r\nSELECT\r\n${len(str(REDIS_DB))}\r\n{REDIS_DB}\r\n*1\r\n$7\r\nFLUSHDB\r\n".encode())
        sock.recv(100)


def one_setup(model: str, processes: int) -> dict[str, Any]:
    trial, bank = load_trial(), Bank.load()
    personas = generate(trial, 60, seed=7)
    name = f"prescreener_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    _flush_redis_db()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp:
            servers = Servers(Path(tmp), with_api=True, endpoints="bot/endpoints.replicas.yml", env={
                "TRACKER_DB_URL": PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}",
                "REDIS_HOST": REDIS_HOST, "REDIS_PORT": str(REDIS_PORT), "REDIS_DB": str(REDIS_DB),
                "SESSION_MESSAGES_PER_MINUTE": "0", "CLIENT_MESSAGES_PER_MINUTE": "0",
            })
            servers.model = model
            urls = [servers.url] + [servers.start_rasa(f"rasa{n + 2}", wait=False) for n in range(processes - 1)]
            servers.env["RASA_URL"] = ",".join(urls)
            servers.start(model)
            for n in range(processes - 1):
                servers.wait_ready(f"rasa{n + 2}")
            try:
                pids = {name: process.pid for name, process in servers.processes.items()}
                for index in range(processes * 2):  # warm every Rasa (TensorFlow traces its graphs on first use)
                    screen_through_gateway(servers.api_url, trial, bank, personas[index], None)
                time.sleep(2)
                result: dict[str, Any] = {"rasa_processes": processes, "memory_at_rest_mb": rss_now(pids)}
                # The same load levels and figures as bench.gateway's (CPU, memory, messages/s).
                result["levels"] = _levels(LEVELS, lambda i, r: screen_through_gateway(
                    servers.api_url, trial, bank, personas[(i * 7 + r) % len(personas)], None), pids)
                return result
            finally:
                servers.stop()
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _flush_redis_db()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_replicas.json")
    args = parser.parse_args()
    model = args.model or trained_model()
    runs = []
    for processes in (1, 2):
        _log(f"{processes} Rasa process(es), PostgreSQL tracker store, Redis lock store")
        runs.append(one_setup(model, processes))
    for run in runs:
        memory = run["memory_at_rest_mb"]
        _log(f"{run['rasa_processes']} Rasa: memory at rest " + ", ".join(f"{k} {v:.0f} MB" for k, v in memory.items())
             + f"; whole stack {sum(memory.values()):.0f} MB")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                    "runs": runs}, indent=2) + "\n")
    _log(f"written {args.out}")


if __name__ == "__main__":
    main()
