"""Load the pattern files (nlu/patterns/*.yml) and fingerprint them."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Dict, Optional, Union

import yaml

PATTERN_DIR = Path(__file__).resolve().parent.parent / "patterns"
# Every file the extractor needs; a missing one is an error, not a silent gap.
PATTERN_FILES = ("answers", "cancer", "context", "numbers", "questions", "red_flags", "spine", "warning_signs")

# file stem -> parsed YAML content
PatternSet = Dict[str, Any]
PathLike = Union[str, Path]


class PatternError(ValueError):
    """A pattern file is missing or malformed."""


class _PatternLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: in cue lists "yes", "no", "y", "n", "on", "off" are words."""


_PatternLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PatternLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def pattern_dir(directory: Optional[PathLike] = None) -> Path:
    return Path(directory) if directory is not None else PATTERN_DIR


def load_patterns(directory: Optional[PathLike] = None) -> PatternSet:
    """Read all pattern files of `directory` (default: nlu/patterns)."""
    base = pattern_dir(directory)
    patterns: PatternSet = {}
    for name in PATTERN_FILES:
        path = base / f"{name}.yml"
        if not path.is_file():
            raise PatternError(f"pattern file missing: {path}")
        try:
            content = yaml.load(path.read_text(encoding="utf-8"), Loader=_PatternLoader)  # noqa: S506 (safe loader subclass)
        except yaml.YAMLError as error:
            raise PatternError(f"{path}: {error}") from error
        if not isinstance(content, dict):
            raise PatternError(f"{path}: expected a mapping at the top level")
        patterns[name] = content
    return patterns


def fingerprint(directory: Optional[PathLike] = None) -> str:
    """Hash of the raw pattern files: any edit, even a comment, retrains.

    Hashing bytes rather than parsed content keeps this cheap (Rasa calls it
    for every training run) and obviously correct.
    """
    base = pattern_dir(directory)
    digest = hashlib.sha256()
    for name in PATTERN_FILES:
        path = base / f"{name}.yml"
        digest.update(name.encode("utf-8"))
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()


def patterns_fingerprint(patterns: PatternSet) -> str:
    """Hash of parsed patterns, to cache one spaCy pipeline per pattern set."""
    canonical = json.dumps(patterns, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
