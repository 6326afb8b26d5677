"""The Rasa project as Rasa sees it: data validation and the conversation stories."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.servers import trained_model
from tests.stories_report import run_stories

ROOT = Path(__file__).resolve().parents[1]
RASA = str(Path(sys.executable).with_name("rasa"))


def test_rasa_data_validates() -> None:
    done = subprocess.run(
        [RASA, "data", "validate", "--domain", "domain", "--data", "data", "--config", "config.yml"],
        cwd=ROOT / "bot", capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "story structure conflicts" not in done.stdout.lower().replace("no story structure conflicts", "")


def test_conversation_stories_pass() -> None:
    code, failures = run_stories(trained_model())
    assert code == 0, "\n".join(failures)


def test_the_dialogue_is_rules_and_forms_only() -> None:
    """bot/config.yml has no MemoizationPolicy because there are no stories to
    memorise (issue 14): a story added to bot/data would silently do nothing."""
    import yaml

    policies = [policy["name"] for policy in yaml.safe_load((ROOT / "bot" / "config.yml").read_text())["policies"]]
    assert policies == ["RulePolicy"]
    with_stories = [
        str(path.relative_to(ROOT)) for path in (ROOT / "bot" / "data").rglob("*.yml")
        if (yaml.safe_load(path.read_text()) or {}).get("stories")
    ]
    assert with_stories == []
