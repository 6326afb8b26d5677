"""Run the conversation stories and report failing turns in plain words.

    make stories                      # all stories in tests/stories/
    make stories ARGS="tests/stories/caregiver.yml"

Rasa writes the failed stories with `# predicted: ...` comments; this turns
them into "story X, turn N: expected A, the bot did B" lines.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STORIES = ROOT / "tests" / "stories"
OUT = ROOT / "results" / "stories"
PREDICTED = re.compile(r"-\s+(?:action|intent):\s+(\S+)\s+#\s+predicted:\s+(.+)$")


def rasa_test_core(model: str, stories: str, *flags: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("rasa")), "test", "core",
        "--model", model, "--stories", stories, "--out", str(OUT), "--no-plot", *flags,
    ]
    # The NLU components must import, and Rasa must never report errors to its servers.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
    return subprocess.run(command, cwd=ROOT / "bot", capture_output=True, text=True, env=env)


def run_stories(model: str, stories: str = str(STORIES)) -> tuple[int, list[str]]:
    """Run `rasa test core --fail-on-prediction-errors`; return its exit code and the readable failures."""
    OUT.mkdir(parents=True, exist_ok=True)
    failed_file = OUT / "failed_test_stories.yml"
    failed_file.unlink(missing_ok=True)
    done = rasa_test_core(model, stories, "--fail-on-prediction-errors")
    if done.returncode == 0:
        return 0, []
    # The strict run stops at the first wrong turn; run again without the
    # flag so the report names every failing story.
    rasa_test_core(model, stories)
    failures = readable_failures(failed_file.read_text() if failed_file.exists() else "")
    if not failures:
        failures = ["rasa test core failed:", done.stdout[-3000:], done.stderr[-3000:]]
    return done.returncode, failures


def readable_failures(failed_yaml: str) -> list[str]:
    lines: list[str] = []
    story, turn = "?", 0
    for raw in failed_yaml.splitlines():
        name = re.match(r"\s*-\s+story:\s+(.+)$", raw)
        if name:
            story, turn = name.group(1), 0
            continue
        if re.match(r"\s*-\s+intent:", raw):
            turn += 1
        wrong = PREDICTED.search(raw)
        if wrong:
            lines.append(f"story '{story}', user turn {turn}: expected {wrong.group(1)}, the bot did {wrong.group(2).strip()}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("stories", nargs="?", default=str(STORIES))
    args = parser.parse_args()
    code, failures = run_stories(args.model, args.stories)
    for line in failures:
        print(line)
    print("all stories passed" if code == 0 else f"{len(failures)} failing turn(s); details in {OUT}")
    return code


if __name__ == "__main__":
    sys.exit(main())
