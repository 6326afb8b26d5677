"""Rule-based entity extraction for the pre-screener, pure spaCy (no Rasa).

    from nlu.extract import extract
    extract("pain is about a 7, in my lower back")
    # [{"entity": "pain_score", "value": 7, "start": 0, "end": 17, ...}, ...]

Entities and values are the contract of docs/architecture.md. The patterns
live in nlu/patterns/*.yml; the pipeline is built once per pattern set and
cached, so a call costs one tokenisation and a few matcher passes.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional

from nlu.extract.extractor import Extractor
from nlu.extract.resources import (
    PATTERN_DIR,
    PatternError,
    PatternSet,
    fingerprint,
    load_patterns,
    patterns_fingerprint,
)

__all__ = [
    "PATTERN_DIR",
    "Extractor",
    "PatternError",
    "PatternSet",
    "default_extractor",
    "extract",
    "extractor_for",
    "fingerprint",
    "load_patterns",
]

_lock = threading.Lock()
_cache: Dict[str, Extractor] = {}
_default: Optional[Extractor] = None


def extractor_for(patterns: PatternSet) -> Extractor:
    """The extractor for a pattern set, built on first use and cached by content."""
    key = patterns_fingerprint(patterns)
    with _lock:
        if key not in _cache:
            _cache[key] = Extractor(patterns)
        return _cache[key]


def default_extractor() -> Extractor:
    """The extractor for nlu/patterns (read once per process)."""
    global _default
    if _default is None:
        _default = extractor_for(load_patterns())
    return _default


def extract(text: str) -> List[Dict[str, Any]]:
    """Rasa-style entity dicts for one message (see the module docstring)."""
    return default_extractor().extract(text)
