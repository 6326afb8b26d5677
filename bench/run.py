"""The Rasa-environment half of `make bench` (scripts/bench.sh): training times
and model sizes (ours and the `rasa init` baseline, which it leaves in
results/bench/baseline for bench.gateway to serve), and the held-out NLU
evaluation (intents, entities, answer values).

    python -m bench.run [--model PATH] [--out results/bench.json]

It reports and never fails on slowness. A section that cannot run (training
error, server not starting) is recorded in the JSON and printed; the exit code
is then 1 so a broken benchmark is not mistaken for a good one.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from bench import nlu_eval, report, training
from bench.commit import measured_commit

ROOT = Path(__file__).resolve().parents[1]
BASELINE_DIR = ROOT / "results" / "bench" / "baseline"


def _section(name: str, results: dict[str, Any], step: Callable[[], Any]) -> Any:
    """Run one step; on error record it (type and first line only) and carry on."""
    print(f"[bench] {name}...", flush=True)
    started = time.perf_counter()
    try:
        return step()
    except Exception as exc:
        traceback.print_exc()
        results.setdefault("errors", {})[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return None
    finally:
        print(f"[bench] {name} done in {time.perf_counter() - started:.1f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="use this trained model and skip the cold and cached trainings")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench.json")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    results: dict[str, Any] = {
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": measured_commit(),
        # Other work on the machine skews every number here: keep the context.
        "machine": {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg(), "python": platform.python_version()},
    }
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        trainings: dict[str, Any] = {}
        if args.model:
            model = args.model.resolve()
            trainings["ours"] = {"skipped": True, "size_mb": training.model_size_mb(model)}
        else:
            cold = _section("training (cold)", results, lambda: training.train_cold(work / "train"))
            if cold is None:
                return _finish(results, args.out, started)
            model = cold.model
            trainings["ours"] = {"cold_s": cold.seconds, "size_mb": cold.size_mb}
            cached = _section("training (cached, one response added)", results, lambda: training.train_cached(work / "train"))
            if cached:
                trainings["ours"]["cached_s"] = cached.seconds
        unchanged = _section("scripts/train.sh with nothing changed", results, training.train_unchanged)
        if unchanged is not None:
            trainings["ours"]["unchanged_s"] = unchanged
        baseline = _section("baseline: rasa init (writes and trains the starter bot)", results,
                            lambda: training.train_baseline(BASELINE_DIR))
        if baseline:
            trainings["baseline"] = {"cold_s": baseline.seconds, "size_mb": baseline.size_mb}
        results["training"] = trainings
        results["nlu"] = _section("held-out NLU evaluation", results, lambda: nlu_eval.evaluate(model))
    return _finish(results, args.out, started)


def _finish(results: dict[str, Any], out: Path, started: float) -> int:
    results["duration_s"] = time.perf_counter() - started
    report.write_json(results, out)
    print(f"\n(details in {out})")
    return 1 if results.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
