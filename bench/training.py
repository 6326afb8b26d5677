"""Training times, wall-clock: cold, cached, unchanged, and the `rasa init` baseline.

- cold: a fresh, empty Rasa cache (RASA_CACHE_DIRECTORY), so no component is
  reused: what a fresh checkout or CI pays;
- cached: the same cache after a copy edit (one response added to a copy of
  bot/): Rasa reuses the NLU components and retrains the dialogue policies;
- unchanged: scripts/train.sh when nothing changed (it compares a fingerprint
  and does not call Rasa);
- baseline: `rasa init --no-prompt`, which writes the starter bot and trains it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL_NAME = "bench"


@dataclass
class Training:
    model: Path
    seconds: float
    size_mb: float


def model_size_mb(model: Path) -> float:
    return model.stat().st_size / 1024 / 1024


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "RASA_CACHE_DIRECTORY": str(cache)}


def _run_logged(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    """Run; raise with the log's tail on failure; return the wall-clock seconds."""
    started = time.perf_counter()
    with log.open("ab") as sink:
        done = subprocess.run(command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"{command[1]} failed (exit {done.returncode}):\n{tail}")
    return seconds


PROBE = """version: "3.1"
responses:
  utter_bench_cache_probe:
    - text: A response added by the benchmark to time a retraining after a copy edit.
"""


def train_cached(work_dir: Path) -> Training:
    """Retrain a copy of bot/ with one response added, on the cache train_cold filled."""
    copy = work_dir / "bot"
    shutil.copytree(ROOT / "bot", copy, ignore=shutil.ignore_patterns("models", ".rasa", "results"))
    (copy / "domain" / "bench_probe.yml").write_text(PROBE)
    out = work_dir / "models-cached"
    rasa = Path(sys.executable).parent / "rasa"
    seconds = _run_logged([str(rasa), "train", "--domain", "domain", "--data", "data", "--config", "config.yml",
                           "--out", str(out), "--fixed-model-name", MODEL_NAME], copy, _env(work_dir / "cache"),
                          work_dir / "train-cached.log")
    model = out / f"{MODEL_NAME}.tar.gz"
    return Training(model=model, seconds=seconds, size_mb=model_size_mb(model))


def train_unchanged() -> float:
    """scripts/train.sh with an up-to-date model (it must already exist)."""
    started = time.perf_counter()
    subprocess.run([str(ROOT / "scripts" / "train.sh")], check=True, capture_output=True)
    return time.perf_counter() - started


def train_baseline(directory: Path) -> Training:
    """`rasa init --no-prompt` into `directory` (replaced), cold cache; the starter bot's model."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    cache = directory.parent / "baseline-cache"
    shutil.rmtree(cache, ignore_errors=True)
    rasa = Path(sys.executable).parent / "rasa"
    seconds = _run_logged([str(rasa), "init", "--no-prompt", "--init-dir", str(directory)], directory.parent,
                          _env(cache), directory.parent / "baseline-init.log")
    shutil.rmtree(cache, ignore_errors=True)
    models = sorted((directory / "models").glob("*.tar.gz"))
    if not models:
        raise RuntimeError("rasa init trained no model")
    return Training(model=models[-1], seconds=seconds, size_mb=model_size_mb(models[-1]))


def train_cold(work_dir: Path) -> Training:
    """Train into work_dir/models with a cache in work_dir/cache; raise on failure.

    Rasa's output goes to work_dir/train.log rather than the terminal: it is
    long, and only its tail matters when training fails.
    """
    out, cache = work_dir / "models", work_dir / "cache"
    out.mkdir(parents=True)
    cache.mkdir()
    rasa = Path(sys.executable).parent / "rasa"
    seconds = _run_logged([str(rasa), "train", "--domain", "domain", "--data", "data", "--config", "config.yml",
                           "--out", str(out), "--fixed-model-name", MODEL_NAME], ROOT / "bot", _env(cache),
                          work_dir / "train.log")
    model = out / f"{MODEL_NAME}.tar.gz"
    return Training(model=model, seconds=seconds, size_mb=model_size_mb(model))
