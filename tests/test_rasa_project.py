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
