"""What it costs to install and run: installed sizes, and the README's first run
on a fresh copy.

    python -m bench.cost [--first-run] [--out results/bench_cost.json]

The first run clones the committed HEAD into a throwaway folder and runs
`scripts/start.sh` there exactly as the README says (`make start`), with an
empty pip cache and an empty Rasa cache, on free ports, and times it until the
system says it is running (every health check answered). That is what a new
machine pays, except for what the machine already has (Python, Debian's
packages) and the speed of the network to PyPI at that moment.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
READY_LINE = "The pre-screener is running."
# Variables scripts/lib.sh sets from its own checkout; never passed to the clone.
INHERITED = frozenset({
    "VIRTUAL_ENV", "PYTHONPATH", "DATA_DIR", "RASA_PORT", "ACTIONS_PORT", "API_PORT", "ACTION_ENDPOINT_URL",
    "TRACKER_DB_URL", "OUTBOX_PATH", "API_URL", "RASA_URL", "DATABASE_URL", "SERVICE_TOKEN", "SECRET_KEY",
})
FIRST_RUN_LIMIT_S = 40 * 60


def size_mb(path: Path) -> Optional[float]:
    if not path.exists():
        return None
    done = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[0]) / 1024


def debian_package_mb(*names: str) -> Optional[float]:
    """Installed size of Debian packages (dpkg's Installed-Size, in KiB)."""
    done = subprocess.run(["dpkg-query", "-W", "-f=${Installed-Size}\\n", *names], capture_output=True, text=True)
    sizes = [int(s) for s in done.stdout.split() if s.isdigit()]
    return sum(sizes) / 1024 if sizes else None


def installed_sizes() -> dict[str, Optional[float]]:
    return {
        "rasa_env_mb": size_mb(ROOT / ".venv" / "rasa"),
        "api_env_mb": size_mb(ROOT / ".venv" / "api"),
        "bench_tools_env_mb": size_mb(ROOT / ".venv" / "tools"),
        "browser_test_node_modules_mb": size_mb(ROOT / "tests" / "browser" / "node_modules"),
        "chromium_debian_mb": debian_package_mb("chromium", "chromium-common"),
    }


def first_run(limit_s: float = FIRST_RUN_LIMIT_S) -> dict[str, Any]:
    """Time `scripts/start.sh` on a fresh clone of HEAD until it prints READY_LINE; then stop it."""
    with tempfile.TemporaryDirectory(prefix="bench-first-run-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True)
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True).stdout.strip()
        pip_cache, rasa_cache = Path(tmp) / "pip-cache", Path(tmp) / "rasa-cache"
        # scripts/lib.sh exports the running copy's paths and ports (bench.sh
        # sourced it): the clone must derive its own, as on a new machine.
        env = {
            **{k: v for k, v in os.environ.items() if k not in INHERITED},
            "PIP_CACHE_DIR": str(pip_cache), "RASA_CACHE_DIRECTORY": str(rasa_cache),
            "RASA_PORT": str(free_port()), "ACTIONS_PORT": str(free_port()), "API_PORT": str(free_port()),
        }
        log_path = Path(tmp) / "start.log"
        started = time.perf_counter()
        with log_path.open("wb") as log:
            process = subprocess.Popen(["make", "start"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        seconds: Optional[float] = None
        marks: dict[str, float] = {}
        try:
            while process.poll() is None and time.perf_counter() - started < limit_s:
                text = log_path.read_text(errors="replace")
                # Milestones of start.sh, to split the total (first time each is seen):
                # train.sh takes its lock once the environments are installed, and
                # writes the model when training ends.
                models = clone / "bot" / "models"
                seen = {"installed": (models / ".train.lock").exists(),
                        "trained": any(models.glob("prescreener-*.tar.gz")), "ready": READY_LINE in text}
                for name, happened in seen.items():
                    if happened and name not in marks:
                        marks[name] = time.perf_counter() - started
                if "ready" in marks:
                    seconds = marks["ready"]
                    break
                time.sleep(1)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)  # start.sh stops its services on Ctrl-C
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        result: dict[str, Any] = {
            "commit": head, "command": "make start", "seconds_to_ready": seconds,
            "install_s": marks.get("installed"),
            "training_s": marks["trained"] - marks["installed"] if {"trained", "installed"} <= set(marks) else None,
            "pip_cache": "empty (downloads from PyPI)",
            "venv_sizes_mb": {"rasa": size_mb(clone / ".venv" / "rasa"), "api": size_mb(clone / ".venv" / "api")},
        }
        if seconds is None:
            result["error"] = "did not become ready: " + " / ".join(log_path.read_text(errors="replace").splitlines()[-5:])
        shutil.rmtree(clone / ".venv", ignore_errors=True)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--first-run", action="store_true", help="also time `make start` on a fresh clone (~8 min)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_cost.json")
    args = parser.parse_args()
    results: dict[str, Any] = {"installed": installed_sizes()}
    if args.first_run:
        print("[bench.cost] timing `make start` on a fresh clone (empty pip and Rasa caches)...", flush=True)
        results["first_run"] = first_run()
        print(f"[bench.cost] first run: {results['first_run']}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
