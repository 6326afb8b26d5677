"""cancer_type."""

from __future__ import annotations

from typing import Any, List

import pytest

from nlu.extract import extract


def values(text: str, entity: str) -> List[Any]:
    return [e["value"] for e in extract(text) if e["entity"] == entity]


def first(text: str, entity: str) -> Any:
    found = values(text, entity)
    return found[0] if found else None


CANCERS = [
    ("breast cancer", "breast"),
    ("Breast", "breast"),
    ("brest cancer", "breast"),
    ("prostate", "prostate"),
    ("prostrate cancer", "prostate"),
    ("it started in the lung", "lung"),
    ("small cell", "lung"),
    ("NSCLC", "lung"),
    ("non-small cell lung cancer", "lung"),
    ("kidney cancer", "kidney"),
    ("renal cell carcinoma", "kidney"),
    ("RCC", "kidney"),
    ("bowel cancer", "colorectal"),
    ("colon", "colorectal"),
    ("rectal cancer", "colorectal"),
    ("thyroid", "thyroid"),
    ("melanoma", "melanoma"),
    ("multiple myeloma", "myeloma"),
    ("myeloma", "myeloma"),
    ("a plasmacytoma", "plasmacytoma"),
    ("osteosarcoma", "primary_bone"),
    ("chondrosarcoma", "primary_bone"),
    ("chordoma", "primary_bone"),
    ("Ewing's sarcoma", "primary_bone"),
    ("ewing", "primary_bone"),
    ("bone cancer that started in the bone", "primary_bone"),
    ("liver cancer", "other"),
    ("pancreatic", "other"),
    ("bladder cancer", "other"),
    ("ovarian cancer", "other"),
    ("lymphoma", "other"),
    ("a sarcoma in my thigh", "other"),
    ("skin cancer", "other"),
    ("head and neck cancer", "other"),
    ("cervical cancer", "other"),
]


@pytest.mark.parametrize("text,expected", CANCERS)
def test_cancer_types(text: str, expected: str) -> None:
    assert values(text, "cancer_type") == [expected]


@pytest.mark.parametrize(
    "text",
    ["I'm breast feeding", "breast-feeding", "kidney stones", "I'm not sure what kind", "bone cancer", "cancer"],
)
def test_not_cancer_types(text: str) -> None:
    assert values(text, "cancer_type") == []


def test_negated_type_is_dropped() -> None:
    assert values("not breast, it was lung", "cancer_type") == ["lung"]


def test_types_in_order() -> None:
    assert values("breast cancer that spread to my liver", "cancer_type") == ["breast", "other"]
