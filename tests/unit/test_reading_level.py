"""Every sentence the bot can say reads at grade 8 or below (trial brief, style)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import re

import pytest
import textstat
import yaml

ROOT = Path(__file__).resolve().parents[2]
MAX_GRADE = 8.0


def domain_texts() -> Iterator[tuple[str, str]]:
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        responses = (yaml.safe_load(path.read_text()) or {}).get("responses") or {}
        for name, variations in responses.items():
            for variation in variations:
                if variation.get("text"):
                    yield f"{path.name}:{name}", variation["text"]


def trial_texts() -> Iterator[tuple[str, str]]:
    trial: dict[str, Any] = yaml.safe_load((ROOT / "trial" / "nct04242589.yml").read_text())
    for question in trial["questions"]:
        for rule in question.get("rules") or []:
            patient = (rule.get("reason") or {}).get("patient")
            if patient:
                yield f"trial:{question['id']}:reason", patient
    for name, reason in (trial["linden"].get("reasons") or {}).items():
        if reason.get("patient"):
            yield f"trial:linden:{name}", reason["patient"]


ALL_TEXTS = sorted(set(domain_texts()) | set(trial_texts()))


def test_there_is_something_to_check() -> None:
    assert len(ALL_TEXTS) > 80


@pytest.mark.parametrize(("where", "text"), ALL_TEXTS, ids=[where for where, _ in ALL_TEXTS])
def test_grade_level(where: str, text: str) -> None:
    # Placeholders like {contact_name} are filled at run time with short values.
    grade = textstat.flesch_kincaid_grade(re.sub(r"\{\w+\}", "Sam", text))
    assert grade <= MAX_GRADE, f"{where}: grade {grade:.1f} > {MAX_GRADE}: {text}"
