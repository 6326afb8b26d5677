"""Patient- and coordinator-facing sentences of the API, loaded from api/messages/<lang>.yml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

MESSAGES = Path(__file__).resolve().parents[1] / "messages"


@lru_cache(maxsize=4)
def _load(language: str) -> dict[str, str]:
    return yaml.safe_load((MESSAGES / f"{language}.yml").read_text(encoding="utf-8"))


def text(key: str, language: str = "en") -> str:
    return _load(language)[key]
