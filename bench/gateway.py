"""The conversation benchmarks against running servers (API environment):

1. outcomes: every synthetic persona (bench/personas.py) completes a
   pre-screen through the public gateway; scored against the criteria engine;
2. load: simulated patients complete whole pre-screens at 1, 10 and 50 at
   once, with reading/typing pauses and without, through the gateway and
   (without pauses) straight to our Rasa server;
3. baseline: the `rasa init` bot that bench.run generated, served by the same
   Rasa on the same machine, driven the same way over Rasa's REST channel;
4. memory of every service at rest and at its peak under each load.

    python -m bench.gateway [--model PATH] [--baseline DIR] [--quick] [--out FILE]

The whole system is started as scripts/start.sh starts it, on free ports and
a throwaway data folder. The gateway's rate limits are lifted for the run: it
measures speed, not the limiter. It reports; it never fails on slowness.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from actions.criteria import load_trial
from bench import outcomes, profile, understood
from bench.commit import measured_commit
from bench.cpu import CpuMeter
from bench.load import MemorySampler, at_once, rss_now, turn_figures
from bench.patients import (Pauses, Screen, baseline_conversation, screen_straight_to_rasa,
                            screen_through_gateway)
from bench.personas import Bank, expect, generate
from tests.servers import RASA_PY, ROOT, Servers, free_port, trained_model

# Reading the bot's message and tapping or typing an answer: 2-8 s (5 s on average).
PAUSES = (2.0, 8.0)
# at once -> conversations each patient completes in a row. Sized so that each
# level yields a few hundred turns and the whole run stays under ~25 minutes.
ROUNDS_NO_PAUSE = {1: 8, 10: 2, 50: 1}
ROUNDS_PAUSED = {1: 2, 10: 1, 50: 1}
QUICK = {1: 1, 3: 1}  # --quick: a smoke run of the harness itself
COST = {1: 5, 10: 2, 50: 1}  # --cost: CPU per message, ours and the baseline (about ten minutes with COST_REPEATS)
# --cost runs each level this many times, ours and the baseline taking turns (A B A B A B), so
# that the machine's drift (its speed moved 2x within a session) falls on both alike.
COST_REPEATS = 5
OUTCOME_WORKERS = 3  # personas scored three at a time (the outcome does not depend on it)
BASELINE_DIR = ROOT / "results" / "bench" / "baseline"


def _log(message: str) -> None:
    print(f"[bench.gateway] {message}", flush=True)


def _levels(rounds: dict[int, int], run: Callable[[int, int], Screen], pids: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for count, each in rounds.items():
        with MemorySampler(pids) as memory, CpuMeter(pids) as cpu:
            row = at_once(count, each, run)
        row["peak_rss_mb"] = memory.peak()
        # CPU per patient message (a turn is one message and its reply), per process and in all.
        row["cpu_s"] = cpu.spent
        row["cpu_ms_per_message"] = cpu.per_message_ms(row.get("turns", 0))
        row["messages_per_s"] = row.get("turns", 0) / row["wall_s"] if row["wall_s"] else 0.0
        _log(f"  {count} at once: p50 {row.get('p50_ms', 0):.0f} ms, p95 {row.get('p95_ms', 0):.0f} ms, "
             f"{row['messages_per_s']:.1f} messages/s, CPU {row['cpu_ms_per_message'].get('total', 0):.1f} ms/message "
             f"({', '.join(f'{k} {v:.1f}' for k, v in row['cpu_ms_per_message'].items() if k != 'total')}), "
             f"{row['completed']}/{row['conversations']} completed, {row['retries_503']} retries")
        rows.append(row)
    return rows


def run_outcomes(servers: Servers, trial: Any, bank: Bank, count: int, typed_only: bool = False) -> dict[str, Any]:
    """The personas through the gateway; typed_only: they never tap a button (issue 10)."""
    personas = generate(trial, count)
    expectations = [expect(trial, p) for p in personas]
    _log(f"outcomes: {len(personas)} {'typed-only ' if typed_only else ''}personas through the gateway, {OUTCOME_WORKERS} at a time")
    with ThreadPoolExecutor(OUTCOME_WORKERS) as pool:
        screens = list(pool.map(lambda p: screen_through_gateway(servers.api_url, trial, bank, p, None, typed_only), personas))
    names = [q.id for q in trial.screening_questions]
    found: list[Optional[dict[str, Any]]] = []
    for screen in screens:
        try:
            sender = understood.conversation_id(servers.data_dir / "api.sqlite", screen.session_token or "")
            found.append(understood.slots(servers.data_dir / "tracker.sqlite", sender, names))
        except LookupError:
            found.append(None)
    scored = outcomes.score(trial, personas, expectations, screens, found)
    scored["latency"] = turn_figures(screens)
    _log(f"  outcome accuracy {scored['outcome_accuracy']:.3f}, stalled {scored['stalled']}, errors {scored['errors']}")
    return scored


@contextmanager
def our_stack(model: str) -> Iterator[tuple[Servers, dict[str, int]]]:
    """The whole system on free ports and a throwaway folder, rate limits lifted, warmed up."""
    trial, bank = load_trial(), Bank.load()
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        servers = Servers(Path(tmp), with_api=True)
        servers.env.update({"SESSION_MESSAGES_PER_MINUTE": "0", "CLIENT_MESSAGES_PER_MINUTE": "0"})
        servers.start(model)
        try:
            # The first turns pay one-off costs (TensorFlow graph tracing, tables).
            screen_through_gateway(servers.api_url, trial, bank, generate(trial, 60, seed=7)[0], None)
            time.sleep(2)
            yield servers, {name: process.pid for name, process in servers.processes.items()}
        finally:
            servers.stop()


def run_ours(model: str, levels_no_pause: dict[int, int], levels_paused: dict[int, int], persona_count: int,
             profile_at: Optional[int], direct: bool = True) -> dict[str, Any]:
    trial, bank = load_trial(), Bank.load()
    load_personas = generate(trial, 60, seed=7)  # another draw than the scored personas
    with our_stack(model) as (servers, pids):
        results: dict[str, Any] = {"memory_at_rest_mb": rss_now(pids)}
        if persona_count:
            results["outcomes"] = run_outcomes(servers, trial, bank, persona_count)
            results["outcomes_typed_only"] = run_outcomes(servers, trial, bank, persona_count, typed_only=True)

        def gateway(pauses: Pauses) -> Callable[[int, int], Screen]:
            return lambda i, r: screen_through_gateway(
                servers.api_url, trial, bank, load_personas[(i * 7 + r) % len(load_personas)], pauses)

        def to_rasa(i: int, r: int) -> Screen:
            return screen_straight_to_rasa(servers.url, trial, bank, load_personas[(i * 7 + r) % len(load_personas)], None)

        _log("load through the gateway, no pauses")
        results["gateway_no_pause"] = _levels(levels_no_pause, gateway(None), pids)
        if levels_paused:
            _log(f"load through the gateway, pauses of {PAUSES[0]:.0f}-{PAUSES[1]:.0f} s")
            results["gateway_paused"] = _levels(levels_paused, gateway(PAUSES), pids)
        if direct:
            _log("load straight to our Rasa server, no pauses")
            results["rasa_direct_no_pause"] = _levels(levels_no_pause, to_rasa, pids)
        if profile_at:
            _log(f"profiling every process while {profile_at} patients talk at once")
            results["profile"] = profile.during(
                {name: pids[name] for name in ("rasa", "actions", "api", "delivery") if name in pids},
                lambda: at_once(profile_at, 1, gateway(None)),
            )
        results["memory_after_mb"] = rss_now(pids)
        return results


def _baseline_model(directory: Path) -> Optional[Path]:
    models = sorted((directory / "models").glob("*.tar.gz"))
    return models[-1] if models else None


@contextmanager
def baseline_server(directory: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """The `rasa init` bot served by our Rasa over REST, warmed up: (url, {"rasa": pid})."""
    model = _baseline_model(directory)
    if model is None:
        raise FileNotFoundError(f"no baseline model in {directory}/models (bench.run makes it)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SANIC_HOST": "127.0.0.1"}
    with open(directory / "rasa.log", "ab") as log:
        process = subprocess.Popen(
            [str(RASA_PY.with_name("rasa")), "run", "--model", str(model), "--interface", "127.0.0.1",
             "--port", str(port)],
            cwd=directory, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        subprocess.run([str(RASA_PY), str(ROOT / "scripts" / "wait_ready.py"), f"{url}/"], check=True)
        baseline_conversation(url, 3, None, seed=0)  # warm-up, as for ours
        time.sleep(2)
        yield url, {"rasa": process.pid}
    finally:
        process.terminate()
        process.wait(timeout=30)


def baseline_run(url: str, turns: int, pauses: Pauses) -> Callable[[int, int], Screen]:
    return lambda i, r: baseline_conversation(url, turns, pauses, seed=i * 100 + r)


def run_baseline(directory: Path, turns: int, levels_no_pause: dict[int, int], levels_paused: dict[int, int]) -> dict[str, Any]:
    with baseline_server(directory) as (url, pids):
        results: dict[str, Any] = {"turns_per_conversation": turns, "memory_at_rest_mb": rss_now(pids)}
        _log(f"baseline (rasa init) over REST, {turns} turns per conversation, no pauses")
        results["no_pause"] = _levels(levels_no_pause, baseline_run(url, turns, None), pids)
        if levels_paused:
            _log("baseline, with pauses")
            results["paused"] = _levels(levels_paused, baseline_run(url, turns, PAUSES), pids)
        return results


def outcome_figures(ours: dict[str, Any]) -> dict[str, Any]:
    """Issue 10's figures of both persona runs (ids and counts only, no texts)."""
    keys = ("personas", "outcome_accuracy", "false_urgent_care", "wrong_not_eligible", "wrong_values",
            "values_not_understood", "stalled", "errors", "questions_to_outcome", "wrong")
    return {run: {k: ours[run].get(k) for k in keys} for run in ("outcomes", "outcomes_typed_only") if run in ours}


def cost_comparison(model: str, baseline: Path, out: Path, repeats: int = COST_REPEATS) -> None:
    """Issue 14's A/B: CPU ms per patient message, messages/s and p95, our stack against `rasa init`.

    Both run at once (an idle server costs nothing) and take turns at each level,
    `repeats` times: the ratio is of the pooled CPU and turns, and the spread of
    the per-pair ratios says how much the machine moved meanwhile.
    """
    trial, bank = load_trial(), Bank.load()
    load_personas = generate(trial, 60, seed=7)
    rows = []
    with our_stack(model) as (servers, our_pids):
        def gateway(i: int, r: int) -> Screen:
            return screen_through_gateway(servers.api_url, trial, bank, load_personas[(i * 7 + r) % len(load_personas)], None)

        # The baseline gets as many turns per conversation as our screens take.
        first = at_once(1, 1, gateway)
        turns = max(1, round(first["turns"] / max(first["conversations"], 1)))
        with baseline_server(baseline) as (url, base_pids):
            for count, each in COST.items():
                pairs = []
                for repeat in range(repeats):
                    _log(f"{count} at once, round {repeat + 1} of {repeats}: ours, then rasa init")
                    [mine] = _levels({count: each}, gateway, our_pids)
                    [base] = _levels({count: each}, baseline_run(url, turns, None), base_pids)
                    pairs.append((mine, base))
                rows.append(_pooled(count, pairs))
    for row in rows:
        _log(f"{row['at_once']} at once, {repeats} rounds each: CPU per message {row['ours_cpu_ms_per_message']['total']:.1f} ms "
             f"(" + ", ".join(f"{k} {v:.1f}" for k, v in row["ours_cpu_ms_per_message"].items() if k != "total") + ") "
             f"vs {row['baseline_cpu_ms_per_message']:.1f} ms: {row['cpu_ratio']:.2f}x (rounds {row['cpu_ratio_min']:.2f}-{row['cpu_ratio_max']:.2f}); "
             f"messages/s {row['messages_per_s_ratio']:.2f}x; p95 {row['p95_ratio']:.2f}x")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               "commit": measured_commit(), "repeats": repeats, "turns_per_baseline_conversation": turns, "rows": rows}, indent=2) + "\n")
    _log(f"written {out}")


def _pooled(count: int, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """One level's rounds: CPU and turns summed per side; ratios of the sums, and the spread of the rounds' ratios."""
    def per_message(rounds: list[dict[str, Any]]) -> dict[str, float]:
        turns = sum(r["turns"] for r in rounds)
        names = {name for r in rounds for name in r["cpu_s"]}
        per = {name: sum(r["cpu_s"].get(name, 0.0) for r in rounds) * 1000 / turns for name in sorted(names)}
        per["total"] = sum(per.values())
        return per

    mine, base = [m for m, _ in pairs], [b for _, b in pairs]
    ours, theirs = per_message(mine), per_message(base)
    round_ratios = [m["cpu_ms_per_message"]["total"] / b["cpu_ms_per_message"]["total"] for m, b in pairs]
    rate = lambda rounds: sum(r["turns"] for r in rounds) / sum(r["wall_s"] for r in rounds)  # noqa: E731
    p95 = lambda rounds: sorted(r["p95_ms"] for r in rounds)[len(rounds) // 2]  # noqa: E731  (the median round's)
    return {
        "at_once": count, "rounds": len(pairs),
        "ours_cpu_ms_per_message": ours, "baseline_cpu_ms_per_message": theirs["total"],
        "cpu_ratio": ours["total"] / theirs["total"],
        "cpu_ratio_min": min(round_ratios), "cpu_ratio_max": max(round_ratios),
        "messages_per_s": {"ours": rate(mine), "baseline": rate(base)}, "messages_per_s_ratio": rate(mine) / rate(base),
        "p95_ms": {"ours": p95(mine), "baseline": p95(base)}, "p95_ratio": p95(mine) / p95(base),
        "ours": mine, "baseline": base,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model")
    parser.add_argument("--baseline", type=Path, default=BASELINE_DIR)
    parser.add_argument("--personas", type=int, default=72)
    parser.add_argument("--quick", action="store_true", help="tiny levels, 8 personas: checks the harness")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_gateway.json")
    parser.add_argument("--cost", action="store_true",
                        help="only CPU per message and messages/s, ours and the baseline, no pauses (a few minutes)")
    parser.add_argument("--outcomes-only", action="store_true",
                        help="only the simulated patients, mixed and typed-only (a few minutes): print their figures")
    args = parser.parse_args()
    if args.outcomes_only:
        figures = outcome_figures(run_ours(args.model or trained_model(), {}, {}, args.personas, None))
        out = args.out.with_name("bench_outcomes.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(figures, indent=2) + "\n")
        for run, o in figures.items():
            q = o["questions_to_outcome"]
            _log(f"{run}: right {o['outcome_accuracy']:.1%} of {o['personas']}, urgent care without a red flag "
                 f"{o['false_urgent_care']}, wrong not_eligible {o['wrong_not_eligible']}, wrong values {o['wrong_values']}, "
                 f"stalled {o['stalled']}, messages to outcome median {q['median']} max {q['max']}")
        _log(f"written {out}")
        return
    if args.cost:
        cost_comparison(args.model or trained_model(), args.baseline, args.out.with_name("bench_cost_per_message.json"))
        return
    no_pause, paused = (QUICK, QUICK) if args.quick else (ROUNDS_NO_PAUSE, ROUNDS_PAUSED)
    persona_count = 8 if args.quick else args.personas
    started = time.perf_counter()
    results: dict[str, Any] = {
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_avg_at_start": os.getloadavg(),
        "pauses_s": PAUSES,
        "errors": {},
    }
    ours = run_ours(args.model or trained_model(), no_pause, paused, persona_count,
                    profile_at=None if args.quick else max(no_pause))
    results["ours"] = ours
    # The baseline bot gets as many turns per conversation as our screens took.
    first = ours["gateway_no_pause"][0]
    turns = max(1, round(first["turns"] / max(first["conversations"], 1)))
    try:
        results["baseline"] = run_baseline(args.baseline, turns, no_pause, paused)
    except Exception as exc:  # recorded: the report says the baseline is missing and why
        results["errors"]["baseline"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    results["duration_s"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    _log(f"written {args.out} in {results['duration_s']:.0f} s")


if __name__ == "__main__":
    main()
