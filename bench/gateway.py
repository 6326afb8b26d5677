"""Chat-turn latency through the public gateway, next to Rasa directly, in one run.

    python -m bench.gateway [--model PATH] [--concurrency 1 20]

The whole system is started as scripts/start.sh starts it (API, Rasa, action
server, delivery worker). For each concurrency level, that many simulated
patients complete the likely-fit pre-screen at once (no pauses between
turns), once through the gateway (`/chat/*`) and once straight to Rasa's
guarded channel; p50/p95 per turn are reported side by side. The gateway's
rate limits are lifted for the run: it measures speed, not the limiter.
It runs in the API environment (httpx).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import httpx

from bench.metrics import percentile
from tests.api.test_e2e_referral import LIKELY_FIT, Answer
from tests.servers import ROOT, Servers, trained_model

TURN_TIMEOUT_S = 60


def _pick(reply_messages: list[dict[str, Any]], answer: Answer) -> dict[str, str]:
    if isinstance(answer, tuple):
        for message in reply_messages:
            for button in message.get("buttons") or []:
                if button["title"] == answer[0]:
                    return {"payload": button["payload"]}
        raise LookupError("button not offered")
    return {"text": answer}


RETRIES = 5


def _post_with_retry(http: httpx.Client, path: str, body: dict[str, str] | None, stats: dict[str, int]) -> dict[str, Any]:
    """As the web page does: a 503 `retry` answer is re-sent after a second."""
    for _ in range(RETRIES):
        response = http.post(path, json=body) if body is not None else http.post(path)
        if response.status_code != 503:
            response.raise_for_status()
            return response.json()
        stats["retries"] += 1
        time.sleep(1)
    raise RuntimeError("the gateway kept answering 503")


def through_gateway(api_url: str, stats: dict[str, int]) -> list[float]:
    """One whole conversation through /chat/*; the seconds of each turn (retries included)."""
    times: list[float] = []
    with httpx.Client(base_url=api_url, timeout=TURN_TIMEOUT_S) as http:
        started = time.perf_counter()
        reply = _post_with_retry(http, "/chat/sessions", None, stats)
        times.append(time.perf_counter() - started)
        while reply.get("asks"):
            body = _pick(reply["messages"], LIKELY_FIT[reply["asks"]])
            started = time.perf_counter()
            reply = _post_with_retry(http, "/chat/messages", body, stats)
            times.append(time.perf_counter() - started)
    return times


def straight_to_rasa(rasa_url: str, sender: str, stats: dict[str, int]) -> list[float]:
    """The same conversation on Rasa's guarded channel, no gateway."""
    times: list[float] = []
    url = f"{rasa_url}/webhooks/prescreen/webhook"
    with httpx.Client(timeout=TURN_TIMEOUT_S) as http:
        body: dict[str, str] = {"message": "hello"}
        while True:
            started = time.perf_counter()
            response = http.post(url, json={"sender": sender, **body})
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"Rasa answered {response.status_code}")
            messages = response.json()
            asks = [m["custom"]["asks"] for m in messages if (m.get("custom") or {}).get("asks")]
            if not asks:
                return times
            picked = _pick(messages, LIKELY_FIT[asks[-1]])
            # The channel calls typed text "message"; the gateway calls it "text".
            body = {"message": picked["text"]} if "text" in picked else picked


def _at_once(count: int, one: Callable[[int, dict[str, int]], list[float]]) -> dict[str, Any]:
    stats = {"retries": 0, "failed_conversations": 0}

    def run(index: int) -> list[float]:
        try:
            return one(index, stats)
        except Exception:  # counted, not raised: the benchmark reports
            stats["failed_conversations"] += 1
            return []

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=count) as pool:
        runs = list(pool.map(run, range(count)))
    turns = [t for run_times in runs for t in run_times] or [float("nan")]
    return {
        "conversations": count,
        **stats,
        "turns": len(turns),
        "p50_ms": percentile(turns, 50) * 1000,
        "p95_ms": percentile(turns, 95) * 1000,
        "wall_s": time.perf_counter() - started,
    }


def measure(model: str, levels: list[int]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        servers = Servers(Path(tmp), with_api=True)
        servers.env.update({"SESSION_MESSAGES_PER_MINUTE": "0", "CLIENT_MESSAGES_PER_MINUTE": "0"})
        servers.start(model)
        try:
            through_gateway(servers.api_url, {"retries": 0})  # warm-up: first turns load lazily
            results = {}
            for level in levels:
                results[str(level)] = {
                    "gateway": _at_once(level, lambda _, stats: through_gateway(servers.api_url, stats)),
                    "rasa_direct": _at_once(
                        level, lambda i, stats: straight_to_rasa(servers.url, f"bench-{level}-{i}-{time.time_ns()}", stats)
                    ),
                }
            return results
        finally:
            servers.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 20])
    args = parser.parse_args()
    results = measure(args.model or trained_model(), args.concurrency)
    out = ROOT / "results" / "bench_gateway.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"{'at once':>8} {'path':<12} {'p50 ms':>8} {'p95 ms':>8} {'turns':>6} {'retries':>8} {'failed':>7} {'wall s':>7}")
    for level, paths in results.items():
        for path, row in paths.items():
            print(
                f"{level:>8} {path:<12} {row['p50_ms']:8.0f} {row['p95_ms']:8.0f} {row['turns']:6d} "
                f"{row['retries']:8d} {row['failed_conversations']:7d} {row['wall_s']:7.1f}"
            )


if __name__ == "__main__":
    main()
