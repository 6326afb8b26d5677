"""The pure API of nlu.extract: entity dicts, caching, pattern files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nlu.extract import (
    PATTERN_DIR,
    PatternError,
    default_extractor,
    extract,
    extractor_for,
    fingerprint,
    load_patterns,
)

CONTRACT = {
    "spine_region": {"cervical", "thoracic", "lumbar", "sacral"},
    "answer": {"yes", "no", "unsure", "likely_yes", "likely_no"},
    "red_flag": {"weakness", "walking", "numbness", "bladder_bowel", "band_pain"},
    "cancer_type": {
        "breast", "prostate", "lung", "kidney", "colorectal", "thyroid", "melanoma",
        "myeloma", "plasmacytoma", "primary_bone", "other",
    },
}


def test_entity_dict_shape() -> None:
    [entity] = extract("lower back")
    assert entity == {
        "entity": "spine_region",
        "value": "lumbar",
        "start": 0,
        "end": 10,
        "text": "lower back",
        "confidence_entity": 1.0,
    }


@pytest.mark.parametrize("text", ["", "   ", "\n", "?!", "🙂"])
def test_empty_or_symbol_messages(text: str) -> None:
    assert extract(text) == []


def test_curly_apostrophes_keep_offsets() -> None:
    text = "I don’t think so, it’s in my neck"
    found = extract(text)
    assert [(e["entity"], e["value"]) for e in found] == [("answer", "likely_no"), ("spine_region", "cervical")]
    assert all(text[e["start"] : e["end"]] == e["text"] for e in found)


def test_pattern_values_stay_inside_the_contract() -> None:
    patterns = load_patterns()
    assert set(patterns["cancer"]["types"]) == CONTRACT["cancer_type"]
    regions = {r for term in patterns["spine"]["lay_terms"] for r in term["regions"]}
    assert regions == CONTRACT["spine_region"]
    assert {p["flag"] for p in patterns["red_flags"]["patterns"]} == CONTRACT["red_flag"]


def test_yes_and_no_in_pattern_files_are_words_not_booleans() -> None:
    answers = load_patterns()["answers"]["cues"]
    assert "yes" in answers["yes"] and "no" in answers["no"]


def test_pipeline_is_built_once() -> None:
    assert default_extractor() is default_extractor()
    assert extractor_for(load_patterns()) is default_extractor()


def test_missing_pattern_file_is_an_error(tmp_path: Path) -> None:
    shutil.copytree(PATTERN_DIR, tmp_path / "p")
    (tmp_path / "p" / "spine.yml").unlink()
    with pytest.raises(PatternError, match="spine.yml"):
        load_patterns(tmp_path / "p")


def test_fingerprint_is_stable_and_content_based(tmp_path: Path) -> None:
    shutil.copytree(PATTERN_DIR, tmp_path / "p")
    assert fingerprint(tmp_path / "p") == fingerprint(PATTERN_DIR)
    path = tmp_path / "p" / "answers.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("    - yep\n", ""), encoding="utf-8")
    assert fingerprint(tmp_path / "p") != fingerprint(PATTERN_DIR)


def test_extract_package_does_not_import_rasa() -> None:
    code = "import sys, nlu.extract; sys.exit(any(m == 'rasa' or m.startswith('rasa.') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], check=False)
    assert result.returncode == 0
