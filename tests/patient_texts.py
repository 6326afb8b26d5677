"""The trial file's patient-facing reasons: said to a patient and to a helper alike.

Shared by the reading-level and the caregiver-wording tests (tests/unit/).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import yaml

ROOT = Path(__file__).resolve().parents[1]


def trial_texts() -> Iterator[tuple[str, str]]:
    """(where, text) of every `reason.patient` of the trial file, the Linden hint's included."""
    trial: dict[str, Any] = yaml.safe_load((ROOT / "trial" / "nct04242589.yml").read_text())
    for question in trial["questions"]:
        for rule in question.get("rules") or []:
            patient = (rule.get("reason") or {}).get("patient")
            if patient:
                yield f"trial:{question['id']}:reason", patient
    for name, reason in (trial["linden"].get("reasons") or {}).items():
        if reason.get("patient"):
            yield f"trial:linden:{name}", reason["patient"]
