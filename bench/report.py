"""docs/benchmarks.md, its plots (docs/benchmarks/*.png) and the raw figures
(docs/benchmarks.json), from the JSON files the benchmark parts wrote.

    python -m bench.report [--results results] [--docs docs]

Runs in the Rasa environment (matplotlib). Every number in the page comes
from the JSON of one run; the page says which machine and which commit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
PARTS = {"rasa_side": "bench.json", "conversations": "bench_gateway.json", "cost": "bench_cost.json",
         "alternating": "bench_cost_per_message.json"}


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")


# --- formatting -----------------------------------------------------------------

def num(value: Optional[float], fmt: str = ".0f", unit: str = "") -> str:
    return "n/a" if value is None else f"{format(value, fmt)}{unit}"


def pct(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def ratio(ours: Optional[float], base: Optional[float]) -> str:
    return "n/a" if not ours or not base else f"{ours / base:.1f}×"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# --- the machine ------------------------------------------------------------------

def machine() -> dict[str, Any]:
    def first(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "unknown"

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return {
        "cpu": first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "memory_gib": round(int(first("/proc/meminfo", "MemTotal").split()[0]) / 1024 / 1024, 1),
        "os": platform.platform(),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
    }


# --- plots --------------------------------------------------------------------------

def _plots(data: dict[str, Any], out: Path) -> dict[str, str]:
    """PNG files; {name: path relative to docs/}. Skipped quietly without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return {}
    out.mkdir(parents=True, exist_ok=True)
    made: dict[str, str] = {}
    conv = data.get("conversations") or {}
    ours, base = conv.get("ours") or {}, conv.get("baseline") or {}

    series = [
        ("ours, gateway", ours.get("gateway_no_pause"), "-o"),
        ("ours, Rasa direct", ours.get("rasa_direct_no_pause"), "--s"),
        ("rasa init, REST", base.get("no_pause"), ":^"),
    ]
    if any(rows for _, rows, _ in series):
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for axis, key, title in ((axes[0], "p50_ms", "median turn (p50)"), (axes[1], "p95_ms", "95th percentile turn")):
            for label, rows, style in series:
                if rows:
                    axis.plot([r["at_once"] for r in rows], [r.get(key, 0) / 1000 for r in rows], style, label=label)
            axis.set_xscale("log")
            axis.set_yscale("log")
            axis.set_xlabel("patients at once (no pauses)")
            axis.set_ylabel("seconds")
            axis.set_title(title)
            axis.grid(True, which="both", alpha=0.3)
        axes[0].legend()
        fig.tight_layout()
        fig.savefig(out / "latency.png", dpi=110)
        plt.close(fig)
        made["latency"] = f"{out.name}/latency.png"

    per = (ours.get("outcomes") or {}).get("per_criterion") or {}
    if per:
        names = list(per)
        fig, axis = plt.subplots(figsize=(9, 4.5))
        ys = range(len(names))
        axis.barh([y + 0.2 for y in ys], [per[n]["status_agreement"] * 100 for n in names], 0.4, label="criterion result agrees")
        axis.barh([y - 0.2 for y in ys], [per[n]["value_agreement"] * 100 for n in names], 0.4, label="recorded value exact")
        axis.set_yticks(list(ys), names)
        axis.invert_yaxis()
        low = min(min(per[n]["status_agreement"], per[n]["value_agreement"]) for n in names) * 100
        axis.set_xlim(max(0, (low // 10) * 10 - 10), 100)  # zoomed: the differences are a few percent
        axis.set_xlabel("% of simulated patients asked this question")
        axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
        fig.tight_layout()
        fig.savefig(out / "criteria.png", dpi=110)
        plt.close(fig)
        made["criteria"] = f"{out.name}/criteria.png"
    return made


# --- sections -------------------------------------------------------------------------

def _headline(data: dict[str, Any]) -> list[str]:
    nlu = (data.get("rasa_side") or {}).get("nlu") or {}
    conv = data.get("conversations") or {}
    ours, base = conv.get("ours") or {}, conv.get("baseline") or {}
    outcome = ours.get("outcomes") or {}
    training = (data.get("rasa_side") or {}).get("training") or {}
    rows = []
    if nlu.get("intent"):
        rows.append(("Intent accuracy / macro F1 (held-out)", f"{nlu['intent']['accuracy']:.3f} / {nlu['intent']['macro_f1']:.3f}"))
    if nlu.get("entities"):
        rows.append(("Entity F1 (held-out)", f"{nlu['entities']['f1']:.3f}"))
    if nlu.get("values"):
        rows.append(("Answer values read exactly (held-out)", pct(nlu["values"]["accuracy"])))
    if outcome:
        rows.append((f"Outcome accuracy ({outcome['personas']} simulated patients)", pct(outcome["outcome_accuracy"])))
        q = outcome["questions_to_outcome"]
        rows.append(("Questions to outcome, median / max", f"{num(q['median'])} / {num(q['max'])}"))
        rows.append(("Stalled conversations", str(outcome["stalled"])))
    for rows_key, label in (("gateway_no_pause", "no pauses"), ("gateway_paused", "with pauses")):
        for row in ours.get(rows_key) or []:
            if row["at_once"] in (1, 50):
                rows.append((f"Turn p50 / p95, {row['at_once']} at once, {label}", f"{num(row.get('p50_ms'))} / {num(row.get('p95_ms'))} ms"))
    b1 = next((r for r in base.get("no_pause") or [] if r["at_once"] == 1), None)
    o1 = next((r for r in ours.get("gateway_no_pause") or [] if r["at_once"] == 1), None)
    if b1 and o1:
        rows.append(("p50 turn vs `rasa init` bot, 1 at once", ratio(o1.get("p50_ms"), b1.get("p50_ms"))))
    turns = (data.get("alternating") or {}).get("rows") or []
    if turns:
        other = (data.get("alternating") or {}).get("commit")
        label = f", commit {other}" if other and other != _measured_commit(data) else ""
        rows.append(("CPU per message vs `rasa init`, " + " / ".join(f"{r['at_once']}" for r in turns) + f" at once (taking turns{label})",
                     " / ".join(f"{r['cpu_ratio']:.2f}×" for r in turns)))
    if ours.get("memory_at_rest_mb"):
        rows.append(("Memory at rest, all services", f"{sum(ours['memory_at_rest_mb'].values()):.0f} MB"))
    t = training.get("ours") or {}
    if t.get("cold_s"):
        rows.append(("Training cold / cached", f"{t['cold_s']:.0f} s / {num(t.get('cached_s'))} s"))
    if t.get("size_mb"):
        rows.append(("Model size", f"{t['size_mb']:.1f} MB"))
    first = (data.get("cost") or {}).get("first_run") or {}
    if first.get("seconds_to_ready"):
        rows.append(("README first run (`make start`, fresh clone)", f"{first['seconds_to_ready'] / 60:.1f} min"))
    return ["## Headline", "", table(("Measure", "Figure"), rows), ""]


def _understanding(data: dict[str, Any]) -> list[str]:
    nlu = (data.get("rasa_side") or {}).get("nlu") or {}
    if not nlu:
        return ["## 1. Understanding", "", "Not measured in this run (see errors).", ""]
    lines = ["## 1. Understanding (held-out examples, never used for training)", ""]
    intent, selector, ent, values = nlu.get("intent") or {}, nlu.get("response_selector") or {}, nlu.get("entities") or {}, nlu.get("values") or {}
    if intent:
        lines += [f"**Intents** (`tests/nlu_heldout/heldout.yml`, {intent['n']} messages): accuracy **{intent['accuracy']:.3f}**, "
                  f"macro F1 **{intent['macro_f1']:.3f}**, {intent['fallbacks']} fell back to \"I did not understand\". "
                  f"Study questions given the right FAQ answer (taken for a study question and the right answer picked): "
                  f"{pct(selector.get('accuracy'))} of {selector.get('n')}.", ""]
        lines += [table(("Intent", "F1"), [(k, f"{v:.2f}") for k, v in sorted(intent["per_intent_f1"].items(), key=lambda kv: kv[1])]), ""]
    if ent:
        lines += [f"**Entities** (`tests/nlu_heldout/entities.yml`, {ent['n_messages']} messages, {ent.get('left_out_as_training_texts', 0)} more left out as "
                  "equal to a training example; a value must match exactly): "
                  f"P {ent['precision']:.3f}, R {ent['recall']:.3f}, **F1 {ent['f1']:.3f}**; {ent['exact_messages']} messages entirely right.", ""]
        lines += [table(("Entity", "Precision", "Recall", "F1", "Support"),
                        [(k, f"{v['precision']:.2f}", f"{v['recall']:.2f}", f"{v['f1']:.2f}", v["support"]) for k, v in ent["per_entity"].items()]), ""]
    if values:
        lines += [f"**Answer values** (`tests/nlu_heldout/values.yml`, {values['n']} replies to a question, {values.get('left_out_as_training_texts', 0)} more "
                  "left out as equal to a training example, e.g. \"yes\"): the value the action server "
                  f"would record, through the full parse and `actions/answers.py`, must equal the expected one exactly "
                  f"(a reply that answers nothing must be asked again). Overall **{pct(values['accuracy'])}**.", ""]
        lines += [table(("Kind of answer", "Replies", "Read exactly"),
                        [(k, v["n"], pct(v["accuracy"])) for k, v in sorted(values["per_type"].items(), key=lambda kv: kv[1]["accuracy"])]), ""]
        if values.get("errors"):
            shown = ", ".join(f"#{e['index']} {e['question']}: expected {json.dumps(e['expected'])}, got {json.dumps(e['got'])}" for e in values["errors"][:12])
            lines += [f"Misread (item number in the file): {shown}{' …' if len(values['errors']) > 12 else ''}.", ""]
    return lines


def _outcomes(data: dict[str, Any], plots: dict[str, str]) -> list[str]:
    conv = data.get("conversations") or {}
    o = (conv.get("ours") or {}).get("outcomes")
    if not o:
        return ["## 2. Outcomes", "", "Not measured in this run.", ""]
    q = o["questions_to_outcome"]
    lines = [
        "## 2. Outcomes (simulated patients through the public gateway)", "",
        f"{o['personas']} synthetic personas (`bench/personas.py`, fixed seed) with facts drawn for every question; "
        f"expected outcomes from the criteria engine on those facts: {', '.join(f'{k} {v}' for k, v in o['expected_outcomes'].items())}. "
        "Each persona answers whatever the bot asks (the `asks` field) with a lay wording from `bench/phrasings.yml` "
        "(written without looking at the training data), sometimes by tapping the matching button; asked again, it rewords; "
        "a third time, it taps the button the bot's rephrase points to.", "",
        f"**Outcome accuracy: {pct(o['outcome_accuracy'])}** ({sum(v for e, row in o['confusion'].items() for g, v in row.items() if e == g)} of {o['personas']}); "
        f"stalled {o['stalled']}, errors {o['errors']}.", "",
    ]
    got = sorted({g for row in o["confusion"].values() for g in row})
    lines += [table(("expected ↓ / bot gave →", *got), [(e, *(row.get(g, 0) for g in got)) for e, row in o["confusion"].items()]), ""]
    lines += [f"**Questions to outcome** (repeats included): median {num(q['median'])}, max {num(q['max'])} "
              f"(the engine's own path: median {num(q['expected_median'])}, max {num(q['expected_max'])}); "
              f"{q['screens_with_a_question_asked_again']} conversations had a question asked again, {q['asked_again_total']} repeats in all.", ""]
    typed = (conv.get("ours") or {}).get("outcomes_typed_only")
    if typed:
        lines += _typed_only_table(o, typed)
    per = o["per_criterion"]
    lines += ["**Per criterion**: of the simulated patients the engine would ask, how many got the same criterion result "
              "from what the bot recorded (its slots), and how many had the exact value recorded.", ""]
    lines += [table(("Question", "Asked", "Same result", "Exact value"),
                    [(k, v["asked"], pct(v["status_agreement"]), pct(v["value_agreement"])) for k, v in per.items()]), ""]
    if "criteria" in plots:
        lines += [f"![Per-criterion agreement]({plots['criteria']})", ""]
    if o["wrong"]:
        lines += ["Conversations with another outcome than expected (ids only; the misread questions say where it went wrong):", ""]
        lines += [table(("Persona", "Expected", "Bot gave", "Misread", "Last question"),
                        [(w["persona"], w["expected"], w["got"], ", ".join(w["misread"]) or "-", w["last_asked"] or "-") for w in o["wrong"]]), ""]
    return lines


def _typed_only_table(mixed: dict[str, Any], typed: dict[str, Any]) -> list[str]:
    """Issue 10's figures for the mixed personas and for the same personas typing only."""
    def row(label: str, key: Callable[[dict[str, Any]], Any], target: str) -> tuple[Any, ...]:
        return (label, key(mixed), key(typed), target)

    def right(o: dict[str, Any]) -> str:
        return f"{pct(o['outcome_accuracy'])} ({sum(v for e, r in o['confusion'].items() for g, v in r.items() if e == g)} of {o['personas']})"

    rows = [
        row("Right outcome", right, "≥ 97 % typed only"),
        row("Sent to urgent care without a red flag", lambda o: o.get("false_urgent_care", "-"), "0"),
        row("Wrong `not_eligible`", lambda o: o.get("wrong_not_eligible", "-"), "0"),
        row("Recorded values that differ from the facts (worse than unknown)", lambda o: o.get("wrong_values", "-"), "as few as possible"),
        row("Values recorded as unknown", lambda o: o.get("values_not_understood", "-"), "-"),
        row("Most times one question was asked", lambda o: o["questions_to_outcome"].get("most_times_one_question_asked", "-"), "≤ 3"),
        row("Confirming questions (read-backs and red-flag checks)", lambda o: o["questions_to_outcome"].get("confirming_questions_total", "-"), "-"),
        row("Patient messages to outcome, median / max", lambda o: f"{num(o['questions_to_outcome']['median'])} / {num(o['questions_to_outcome']['max'])}", "median ≤ 12"),
        row("Stalled / errors", lambda o: f"{o['stalled']} / {o['errors']}", "0 / 0"),
    ]
    return ["**Typed only** (issue 10): the same personas again, never tapping a button (on a third try they type "
            "the matching button's title, as a person copying it would).", "",
            table(("", "Mixed (tap sometimes)", "Typed only", "Target"), rows), ""]


def _load_rows(rows: Sequence[dict[str, Any]], base: Sequence[dict[str, Any]] = ()) -> list[tuple[Any, ...]]:
    by_level = {r["at_once"]: r for r in base}
    out = []
    for r in rows:
        b = by_level.get(r["at_once"]) or {}
        out.append((r["at_once"], r["conversations"], r["turns"], num(r.get("p50_ms")), num(r.get("p95_ms")), num(r.get("p99_ms")),
                    f"{r['failed']} / {r['stalled']}", r["retries_503"], f"{r['completed_per_min']:.1f}",
                    ratio(r.get("p50_ms"), b.get("p50_ms")) if b else "", ratio(r.get("p95_ms"), b.get("p95_ms")) if b else ""))
    return out


LOAD_HEADER = ("At once", "Screens", "Turns", "p50 ms", "p95 ms", "p99 ms", "Failed / stalled", "503 re-sends",
               "Done per min", "p50 vs baseline", "p95 vs baseline")


CPU_PROCESSES = ("rasa", "actions", "api", "delivery")
CPU_HEADER = ("At once", *(f"{p} ms" for p in CPU_PROCESSES), "whole stack ms", "`rasa init` ms", "CPU vs baseline",
              "messages/s ours", "messages/s `rasa init`", "messages/s vs baseline")


def _cpu_rows(rows: Sequence[dict[str, Any]], base: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """CPU ms per patient message by process (from /proc, bench/cpu.py) and messages/s, next to the baseline's."""
    by_level = {r["at_once"]: r for r in base}
    out = []
    for r in rows:
        cpu = r.get("cpu_ms_per_message") or {}
        if not cpu:
            continue
        b = by_level.get(r["at_once"]) or {}
        b_cpu = (b.get("cpu_ms_per_message") or {}).get("total")
        out.append((r["at_once"], *(num(cpu.get(p), ".1f") for p in CPU_PROCESSES), num(cpu.get("total"), ".1f"),
                    num(b_cpu, ".1f"), ratio(cpu.get("total"), b_cpu), num(r.get("messages_per_s"), ".1f"),
                    num(b.get("messages_per_s"), ".1f"), ratio(r.get("messages_per_s"), b.get("messages_per_s"))))
    return out


def _speed(data: dict[str, Any], plots: dict[str, str]) -> list[str]:
    conv = data.get("conversations") or {}
    ours, base = conv.get("ours") or {}, conv.get("baseline") or {}
    pauses = conv.get("pauses_s") or (0, 0)
    lines = ["## 3. Speed under load", "",
             "Simulated patients complete whole pre-screens at once (each on its own connection, personas from a second draw). "
             "A turn is what a person waits for: from sending to having the reply, re-sends after a 503 included. "
             f"\"With pauses\": {pauses[0]:.0f}-{pauses[1]:.0f} s of reading and typing before each answer. "
             "The gateway's rate limits are lifted for the run. "
             f"Baseline: a fresh `rasa init` bot (generated and trained at bench time, never committed), served by the same Rasa "
             f"on the same machine over its REST channel, {base.get('turns_per_conversation', 'n/a')} turns per conversation "
             "(as many as our screens), same concurrency and pauses; ratios are ours ÷ baseline.", ""]
    for key, base_key, title in (("gateway_no_pause", "no_pause", "Ours through the gateway, no pauses"),
                                 ("gateway_paused", "paused", "Ours through the gateway, with pauses"),
                                 ("rasa_direct_no_pause", "no_pause", "Ours straight to the Rasa server (no gateway), no pauses")):
        if ours.get(key):
            lines += [f"**{title}**", "", table(LOAD_HEADER, _load_rows(ours[key], base.get(base_key) or [])), ""]
    for key, title in (("no_pause", "Baseline `rasa init` bot over REST, no pauses"), ("paused", "Baseline, with pauses")):
        if base.get(key):
            lines += [f"**{title}**", "", table(LOAD_HEADER[:9], [r[:9] for r in _load_rows(base[key])]), ""]
    cpu_rows = _cpu_rows(ours.get("gateway_no_pause") or [], base.get("no_pause") or [])
    if cpu_rows:
        lines += ["**CPU per patient message** (user + system time of each process and its children, read from /proc before "
                  "and after each load, divided by the messages answered; it moves much less with a busy machine than "
                  "latency does). Ours through the gateway without pauses, next to the `rasa init` bot's over the same run:", "",
                  table(CPU_HEADER, cpu_rows), ""]
    lines += _alternating(data.get("alternating") or {})
    if conv.get("errors", {}).get("baseline"):
        lines += [f"Baseline not measured: {conv['errors']['baseline']}", ""]
    if "latency" in plots:
        lines += [f"![Turn latency by concurrency]({plots['latency']})", ""]
    lines += _profile(ours.get("profile") or {})
    return lines


ALTERNATING_HEADER = ("At once", "rounds", *(f"{p} ms" for p in CPU_PROCESSES), "whole stack ms", "`rasa init` ms",
                      "CPU vs baseline (rounds)", "messages/s vs baseline", "p95 ours / `rasa init`")


def _alternating(run: dict[str, Any]) -> list[str]:
    """bench.gateway --cost: both stacks at once, taking turns; pooled ratios and the rounds' spread."""
    rows = []
    for r in run.get("rows") or []:
        cpu = r["ours_cpu_ms_per_message"]
        rows.append((r["at_once"], r["rounds"], *(num(cpu.get(p), ".1f") for p in CPU_PROCESSES), num(cpu["total"], ".1f"),
                     num(r["baseline_cpu_ms_per_message"], ".1f"),
                     f"{r['cpu_ratio']:.2f}× ({r['cpu_ratio_min']:.2f}–{r['cpu_ratio_max']:.2f})",
                     f"{r['messages_per_s_ratio']:.2f}×",
                     f"{num(r['p95_ms']['ours'])} / {num(r['p95_ms']['baseline'])} ms ({r['p95_ratio']:.2f}×)"))
    if not rows:
        return []
    measured = f"commit {run['commit']}, {run.get('started_at', 'unknown')}: " if run.get("commit") else ""
    return [f"**CPU per patient message, both stacks taking turns** ({measured}`bench.gateway --cost`: both run at once, and at each "
            "level ours and then `rasa init` run in turn, round after round, so that the machine's drift falls on both; "
            "the ratio is of the pooled CPU and messages, with the lowest and highest round's in brackets; p95 is the median round's):",
            "", table(ALTERNATING_HEADER, rows), ""]


def _profile(profile: dict[str, Any]) -> list[str]:
    if not profile:
        return []
    if profile.get("skipped"):
        return [f"Profile skipped: {profile['skipped']}.", ""]
    load = profile.get("load") or {}
    lines = [f"**Where the time goes** (py-spy, {profile.get('rate_hz')} samples/s of busy threads, while {load.get('at_once')} "
             "patients talked at once without pauses; shares of each process's busy samples):", ""]
    for name in ("rasa", "actions", "api", "delivery"):
        summary = profile.get(name) or {}
        if summary.get("samples"):
            areas = ", ".join(f"{area} {share * 100:.0f} %" for area, share in list(summary["by_area"].items())[:5])
            top = ", ".join(f"`{f['function']}` {f['share'] * 100:.0f} %" for f in summary["top_functions"][:5])
            lines += [f"- **{name}** ({summary['samples']} samples): {areas}. Busiest functions: {top}."]
    return lines + [""]


def _cost(data: dict[str, Any]) -> list[str]:
    conv = data.get("conversations") or {}
    ours, base = conv.get("ours") or {}, conv.get("baseline") or {}
    training = (data.get("rasa_side") or {}).get("training") or {}
    cost = data.get("cost") or {}
    lines = ["## 4. Cost", ""]
    rest = ours.get("memory_at_rest_mb") or {}
    if rest:
        header = ["Service", "At rest MB"]
        levels = []
        for key, label in (("gateway_no_pause", "no pauses"), ("gateway_paused", "pauses")):
            for row in ours.get(key) or []:
                levels.append((f"peak, {row['at_once']} at once, {label}", row.get("peak_rss_mb") or {}))
        header += [label for label, _ in levels]
        rows = [(name, f"{rest[name]:.0f}", *(f"{peaks.get(name, 0):.0f}" for _, peaks in levels)) for name in rest]
        if base.get("memory_at_rest_mb"):
            b_levels = {row["at_once"]: row.get("peak_rss_mb") or {} for row in base.get("no_pause") or []}
            rows.append(("baseline `rasa init` Rasa", f"{base['memory_at_rest_mb']['rasa']:.0f}",
                         *(f"{b_levels.get(int(label.split()[1]), {}).get('rasa', 0):.0f}" if "no pauses" in label else "" for label, _ in levels)))
        lines += ["**Resident memory** (RSS of each process and its children, sampled every 0.5 s):", "", table(header, rows), ""]
    t, b = training.get("ours") or {}, training.get("baseline") or {}
    rows = []
    if t:
        rows.append(("ours: cold (empty cache)", num(t.get("cold_s"), ".0f", " s"), num(t.get("size_mb"), ".1f", " MB")))
        rows.append(("ours: cached, after adding one response", num(t.get("cached_s"), ".0f", " s"), ""))
        rows.append(("ours: `make train` with nothing changed", num(t.get("unchanged_s"), ".1f", " s"), ""))
    if b:
        rows.append(("baseline `rasa init` (writes and trains)", num(b.get("cold_s"), ".0f", " s"), num(b.get("size_mb"), ".1f", " MB")))
    if rows:
        lines += ["**Training and model size**", "", table(("Training", "Time", "Model"), rows), ""]
    installed = cost.get("installed") or {}
    if installed:
        names = {"rasa_env_mb": "`.venv/rasa` (Python 3.10: Rasa, TensorFlow, spaCy)", "api_env_mb": "`.venv/api` (Python 3.11: FastAPI, SQLAlchemy)",
                 "bench_tools_env_mb": "`.venv/tools` (py-spy, benchmark only)", "browser_test_node_modules_mb": "`tests/browser/node_modules` (axe-core, tests only)",
                 "chromium_debian_mb": "Debian Chromium (browser tests only)"}
        lines += ["**Installed size**", "", table(("What", "MB"), [(names.get(k, k), num(v)) for k, v in installed.items()]), ""]
    first = cost.get("first_run") or {}
    if first:
        if first.get("seconds_to_ready"):
            lines += [f"**First run** (README's `make start` on a fresh clone of {first.get('commit')}, pip cache {first.get('pip_cache')}, empty Rasa cache): "
                      f"ready after **{first['seconds_to_ready'] / 60:.1f} min**, of which installing the two environments "
                      f"{num((first.get('install_s') or 0) / 60, '.1f')} min, training {num((first.get('training_s') or 0) / 60, '.1f')} min, "
                      "then migrating and starting the services.", ""]
        else:
            lines += [f"**First run** failed: {first.get('error')}", ""]
    return lines


def _measured_commit(data: dict[str, Any]) -> str:
    """The commit the parts measured (bench.run records it; the first-run clone too),
    else the one the page is written from."""
    for part in ((data.get("rasa_side") or {}), ((data.get("cost") or {}).get("first_run") or {})):
        if part.get("commit"):
            return str(part["commit"])
    return str(data["machine"]["commit"])


def render(data: dict[str, Any], docs: Path) -> str:
    plots = _plots(data, docs / "benchmarks")
    m = data["machine"]
    started = [(data.get(k) or {}).get("started_at") for k in PARTS]
    loads = [((data.get("rasa_side") or {}).get("machine") or {}).get("load_avg_at_start"),
             (data.get("conversations") or {}).get("load_avg_at_start")]
    lines = [
        "# Benchmarks: how good, how fast, how big", "",
        "Generated by `make bench` (`scripts/bench.sh`); do not edit by hand. Raw figures: [`benchmarks.json`](benchmarks.json).", "",
        f"Run of {next((s for s in started if s), 'unknown')} on commit {_measured_commit(data)}: {m['cores']} cores ({m['cpu']}), "
        f"{m['memory_gib']} GiB, {m['os']}. Load average when the parts started: "
        f"{', '.join(' / '.join(f'{x:.1f}' for x in l) for l in loads if l)} (other work on the machine skews the figures). "
        "Everything ran on this one machine: load generator, API, Rasa, action server, delivery worker, SQLite stores.", "",
    ]
    lines += _headline(data) + _understanding(data) + _outcomes(data, plots) + _speed(data, plots) + _cost(data)
    lines += _limits(data)
    errors = {f"{part}: {k}": v for part in PARTS for k, v in ((data.get(part) or {}).get("errors") or {}).items()}
    if errors:
        lines += ["## Parts that did not run", "", *(f"- {k}: {v}" for k, v in errors.items()), ""]
    return "\n".join(lines).rstrip() + "\n"


def _limits(data: dict[str, Any]) -> list[str]:
    """What limits the figures and what would improve them, from this run's numbers."""
    conv = data.get("conversations") or {}
    ours = conv.get("ours") or {}
    rows = {r["at_once"]: r for r in ours.get("gateway_no_pause") or []}
    direct = {r["at_once"]: r for r in ours.get("rasa_direct_no_pause") or []}
    if not rows:
        return []
    top, low = max(rows), min(rows)
    lines = ["## What limits it, and what would help", ""]
    lines += _cpu_shares(data)
    one, many = rows[low], rows[top]
    lines.append(
        f"- One patient at a time a turn takes {num(one.get('p50_ms'))} ms at the median; with {top} at once and no pauses, "
        f"{num(many.get('p50_ms'))} ms, and {many['completed_per_min']:.1f} screens complete per minute "
        f"(vs {one['completed_per_min']:.1f} for one patient alone). The turns queue: the work per turn is CPU-bound and one Rasa "
        "process handles one turn's NLU and policy run at a time on its event loop.")
    if top in direct:
        lines.append(f"- Straight to Rasa at {top} at once the median turn is {num(direct[top].get('p50_ms'))} ms, so the gateway adds "
                     f"{num((many.get('p50_ms') or 0) - (direct[top].get('p50_ms') or 0))} ms there (its own work, its SQLite writes, and "
                     "re-sends after the 5 s budget runs out).")
    profile = ours.get("profile") or {}
    for name in ("rasa", "api"):
        summary = profile.get(name) or {}
        if summary.get("by_area"):
            area, share = next(iter(summary["by_area"].items()))
            top = summary["top_functions"][0] if summary.get("top_functions") else None
            lines.append(f"- The profile puts {share * 100:.0f} % of the {name} process's busy time in {area}"
                         + (f"; its busiest function is `{top['function']}` ({top['share'] * 100:.0f} %)." if top else ".")
                         + (AREA_ADVICE.get(area, "")))
    lines += _understanding_limits(data)
    lines += [
        "- More patients at once than this need more Rasa processes, not a faster one: the production shape "
        "(`docker-compose.yml`) runs Rasa replicas on a shared PostgreSQL tracker store with a Redis lock store, "
        "each replica adding one core's worth of turns; the benchmark machine has 2 cores for everything.",
        "- With realistic pauses the same server carries far more people: a patient spends most of a conversation reading and typing, "
        "so compare the paused and unpaused tables at the same concurrency.", "",
    ]
    return lines


def _cpu_shares(data: dict[str, Any]) -> list[str]:
    """CPU per message by process at the highest load (the alternating run's when there is one), and where to read more."""
    ours = (data.get("conversations") or {}).get("ours") or {}
    alternating = (data.get("alternating") or {}).get("rows") or []
    measured = (ours.get("gateway_no_pause") or [{}])[-1].get("cpu_ms_per_message") or {}
    cpu = alternating[-1]["ours_cpu_ms_per_message"] if alternating else measured
    if not cpu.get("total"):
        return []
    total = cpu["total"]
    parts = sorted(((name, ms) for name, ms in cpu.items() if name != "total" and ms >= 0.05), key=lambda part: -part[1])
    return ["- CPU per patient message at the highest load: "
            + ", ".join(f"{name} {ms:.1f} ms ({ms / total:.0%})" for name, ms in parts) + f", of {total:.1f} ms in all. "
            "What each change of issue 14 saved, and what could be cut next: [throughput.md](throughput.md)."]


# What would help when an area leads a profile (keys are bench.profile.AREAS names).
AREA_ADVICE = {
    "JSON schema checks of action replies (jsonschema, URL parsing)":
        " Rasa 3.6 builds a new jsonschema validator for every reply of the action server; nlu/rasa_overrides.py builds it"
        " once on the pinned Rasa, so a lead here means the override is not installed.",
    "SQL stores (SQLAlchemy, SQLite)":
        " Rasa reads a conversation's events back on every turn; PostgreSQL (as in production) and shorter sessions help.",
}


def _understanding_limits(data: dict[str, Any]) -> list[str]:
    """Where the conversation loses answers, from the outcome misses and the held-out values."""
    lines = []
    o = ((data.get("conversations") or {}).get("ours") or {}).get("outcomes") or {}
    misread: dict[str, int] = {}
    for wrong in o.get("wrong") or []:
        for question in wrong["misread"][:3]:  # the first misreads lead to the wrong outcome
            misread[question] = misread.get(question, 0) + 1
    if misread:
        listed = ", ".join(f"{q} ({n})" for q, n in sorted(misread.items(), key=lambda kv: -kv[1]))
        lines.append(f"- Wrong outcomes trace back to answers misread at: {listed}. A misread yes/no usually turns into "
                     "\"not sure\", which sends a likely fit to review rather than the other way round.")
    values = ((data.get("rasa_side") or {}).get("nlu") or {}).get("values") or {}
    weak = [(k, v) for k, v in (values.get("per_type") or {}).items() if v["accuracy"] < 0.8]
    for kind, v in sorted(weak, key=lambda kv: kv[1]["accuracy"]):
        misses = [e for e in values.get("errors") or [] if e.get("kind") == kind]
        unread = sum(e["got"] is None for e in misses)
        lines.append(f"- {kind}: {pct(v['accuracy'])} of typed held-out replies are read exactly. Of the {len(misses)} misses, "
                     f"{unread} not read at all (the bot says so, rephrases and shows the buttons again: a turn lost, no wrong answer), "
                     f"{len(misses) - unread} read as another value. More wordings in the rules (`nlu/patterns/`, "
                     "`actions/answers.py`) would help; check them against a fresh held-out set, not this one.")
    return lines


def load_parts(results: Path) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, name in PARTS.items():
        path = results / name
        data[key] = json.loads(path.read_text()) if path.exists() else None
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    data = load_parts(args.results)
    data["machine"] = machine()
    data["generated_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    page = render(data, args.docs)
    (args.docs / "benchmarks.md").write_text(page)
    write_json(data, args.docs / "benchmarks.json")
    print(f"written {args.docs / 'benchmarks.md'} and {args.docs / 'benchmarks.json'}")


if __name__ == "__main__":
    main()
