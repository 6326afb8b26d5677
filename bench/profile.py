"""Where the servers spend their time under load: py-spy samples each process
while a load runs, and the stacks are summed by area (TensorFlow, Rasa's
policies, the tracker store, our NLU components...) and by function.

py-spy lives in its own small environment (.venv/tools, requirements/bench.txt,
made by scripts/bench.sh); without it the profile is skipped and the report
says so. Sampling does not stop or slow the process noticeably (it reads its
memory from outside), but it shares the 2 cores, so profiled figures are not
reported as latencies.
"""

from __future__ import annotations

import signal
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Mapping

ROOT = Path(__file__).resolve().parents[1]
PY_SPY = ROOT / ".venv" / "tools" / "bin" / "py-spy"
RATE_HZ = 50

# py-spy runs with --full-filenames, so a frame names its file by full path:
# a library as ".../site-packages/<package>/...", our code as "<repo>/<folder>/...".
# First match wins, checked from the innermost frame outwards: a TensorFlow
# call inside DIET counts as TensorFlow.
LIBRARY, OURS = "site-packages/", f"{ROOT}/"
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("TensorFlow / Keras / NumPy (DIET, ResponseSelector)",
     tuple(LIBRARY + p for p in ("tensorflow/", "keras/", "numpy/", "scipy/"))),
    ("SQL stores (SQLAlchemy, SQLite)", (LIBRARY + "sqlalchemy/", "/sqlite3/", LIBRARY + "rasa/core/tracker_store.py")),
    ("our NLU components (spaCy rules)", (OURS + "nlu/", LIBRARY + "spacy/", LIBRARY + "thinc/")),
    ("our actions and criteria engine", (OURS + "actions/", LIBRARY + "rasa_sdk/")),
    # Rasa checks every action server reply against a JSON schema (and parses URLs for it).
    ("JSON schema checks of action replies (jsonschema, URL parsing)", (LIBRARY + "jsonschema/", "/urllib/parse.py")),
    ("Rasa NLU pipeline (featurizers, tokenizers)", (LIBRARY + "rasa/nlu/",)),
    ("Rasa dialogue (policies, processor, events)", (LIBRARY + "rasa/",)),
    ("web servers and clients (Sanic, aiohttp, uvicorn, httpx)",
     tuple(LIBRARY + p for p in ("sanic/", "aiohttp/", "uvicorn/", "httpx/", "httpcore/", "starlette/", "fastapi/", "anyio/"))),
    ("our API", (OURS + "api/", LIBRARY + "pydantic")),
    ("asyncio, JSON, logging", ("/asyncio/", "/json/", "/logging/", LIBRARY + "structlog/")),
)


def _area(stack: list[str]) -> str:
    for frame in reversed(stack):
        for name, markers in AREAS:
            if any(marker in frame for marker in markers):
                return name
    return "other"


def summarise(raw: str, top: int = 8) -> dict[str, Any]:
    """Collapsed stacks ("a (f.py:1);b (g.py:2) 17" per line) -> shares by area and by innermost function."""
    areas: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text or not count_text.isdigit():
            continue
        count = int(count_text)
        stack = stack_text.split(";")
        total += count
        areas[_area(stack)] += count
        # "function (path/file.py:line)" -> "function (file.py)": lines split one function into many rows.
        leaf = stack[-1]
        name, _, where = leaf.partition(" (")
        leaves[f"{name} ({Path(where.split(':')[0]).name})" if where else name] += count
    share = (lambda c: c / total) if total else (lambda c: 0.0)
    return {
        "samples": total,
        "by_area": {name: share(c) for name, c in areas.most_common()},
        "top_functions": [{"function": name, "share": share(c)} for name, c in leaves.most_common(top)],
    }


def during(pids: Mapping[str, int], action: Callable[[], Any]) -> dict[str, Any]:
    """Sample each pid while `action` runs; {name: summary} (plus the action's result as "load")."""
    if not PY_SPY.exists():
        return {"skipped": f"py-spy not installed ({PY_SPY})"}
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        outputs = {name: Path(tmp) / f"{name}.txt" for name in pids}
        samplers = {
            name: subprocess.Popen(
                [str(PY_SPY), "record", "--pid", str(pid), "--rate", str(RATE_HZ), "--format", "raw",
                 "--nonblocking", "--subprocesses", "--full-filenames", "--output", str(outputs[name])],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            for name, pid in pids.items()
        }
        try:
            load = action()
        finally:
            for sampler in samplers.values():
                sampler.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
            for sampler in samplers.values():
                try:
                    sampler.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    sampler.kill()
        results: dict[str, Any] = {"rate_hz": RATE_HZ, "load": {k: load[k] for k in ("at_once", "turns", "p50_ms", "p95_ms") if k in load}}
        for name, path in outputs.items():
            results[name] = summarise(path.read_text()) if path.exists() else {"skipped": "py-spy wrote nothing"}
        return results
