"""A cold `rasa train` of the committed project, timed wall-clock.

"Cold" means a fresh, empty Rasa cache (RASA_CACHE_DIRECTORY) so no component
is reused from an earlier training: this is what a fresh checkout or CI pays.
"""

from __future__ import annotations

import os
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


def train_cold(work_dir: Path) -> Training:
    """Train into work_dir/models with a cache in work_dir/cache; raise on failure.

    Rasa's output goes to work_dir/train.log rather than the terminal: it is
    long, and only its tail matters when training fails.
    """
    out, cache = work_dir / "models", work_dir / "cache"
    out.mkdir(parents=True)
    cache.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_CACHE_DIRECTORY": str(cache),
    }
    rasa = Path(sys.executable).parent / "rasa"
    command = [str(rasa), "train", "--domain", "domain", "--data", "data", "--config", "config.yml",
               "--out", str(out), "--fixed-model-name", MODEL_NAME]
    log = work_dir / "train.log"
    started = time.perf_counter()
    with log.open("wb") as sink:
        done = subprocess.run(command, cwd=ROOT / "bot", env=env, stdout=sink, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    model = out / f"{MODEL_NAME}.tar.gz"
    if done.returncode != 0 or not model.exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"rasa train failed (exit {done.returncode}):\n{tail}")
    return Training(model=model, seconds=seconds, size_mb=model_size_mb(model))
