"""Every sentence the bot can say, and every paragraph of the patient page and /embed, reads at grade 8 or below (trial brief, style)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

import re

import pytest
import textstat
import yaml

from tests.patient_texts import trial_texts

ROOT = Path(__file__).resolve().parents[2]
MAX_GRADE = 8.0


def domain_texts() -> Iterator[tuple[str, str]]:
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        responses = (yaml.safe_load(path.read_text()) or {}).get("responses") or {}
        for name, variations in responses.items():
            for variation in variations:
                if variation.get("text"):
                    yield f"{path.name}:{name}", variation["text"]


ALL_TEXTS = sorted(set(domain_texts()) | set(trial_texts()))


def test_there_is_something_to_check() -> None:
    assert len(ALL_TEXTS) > 80


@pytest.mark.parametrize(("where", "text"), ALL_TEXTS, ids=[where for where, _ in ALL_TEXTS])
def test_grade_level(where: str, text: str) -> None:
    # Placeholders like {contact_name} are filled at run time with short values.
    grade = textstat.flesch_kincaid_grade(re.sub(r"\{\w+\}", "Sam", text))
    assert grade <= MAX_GRADE, f"{where}: grade {grade:.1f} > {MAX_GRADE}: {text}"


# --- the patient page (/) and the chat frame (/embed), rendered like api/web/render.py does -----------

TEMPLATES = ROOT / "api" / "web" / "templates"
PAGES = ("index.html", "embed.html")
# The settings the pages show (api/web/pages.py privacy_notice()): unset and set study contact.
PAGE_CONTEXTS = ({"retention_days": 30, "study_contact": ""}, {"retention_days": 30, "study_contact": "403-555-0100"})
# Prose only: headings, labels, buttons and the <title> are a few words, too short for the formula.
PROSE_TAGS = {"p", "li", "dd", "summary"}
MIN_WORDS = 8
# The study's official name, quoted from the listing in the footer: not our words.
LISTING_TITLE = "Trial of Combined Radiotherapy and Vertebroplasty for Patients With Painful Metastatic Spinal Lesions"


class _Prose(HTMLParser):
    """Text of each prose element (nested ones count in their parent too) and of the widget's data-text-* words."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[list[str]] = []
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("data-text-") and value:
                self.found.append((name, value))
        if tag in PROSE_TAGS:
            self.open.append([tag, ""])

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1][0] == tag:
            _, text = self.open.pop()
            if self.open:
                self.open[-1][1] += " " + text
            self.found.append((tag, " ".join(text.split())))

    def handle_data(self, data: str) -> None:
        if self.open:
            self.open[-1][1] += data


def page_texts() -> Iterator[tuple[str, str]]:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    for page in PAGES:
        for context in PAGE_CONTEXTS:
            parser = _Prose()
            parser.feed(env.get_template(page).render(**context))
            for tag, text in parser.found:
                text = text.replace(f'"{LISTING_TITLE}"', "its title")
                if len(re.findall(r"[A-Za-z']+", text)) >= MIN_WORDS:
                    yield f"{page}:{tag}:{text[:40]}", text


PAGE_TEXTS = sorted(set(page_texts()))


def test_the_pages_have_prose_to_check() -> None:
    wheres = {where.split(":", 1)[0] for where, _ in PAGE_TEXTS}
    assert wheres == set(PAGES) and len(PAGE_TEXTS) > 25
    # The privacy notice is in both (the chat frame shows it folded under the chat).
    for page in PAGES:
        assert any(where.startswith(page) and "Start over" in text for where, text in PAGE_TEXTS), page


@pytest.mark.parametrize(("where", "text"), PAGE_TEXTS, ids=[where for where, _ in PAGE_TEXTS])
def test_page_grade_level(where: str, text: str) -> None:
    grade = textstat.flesch_kincaid_grade(text)
    assert grade <= MAX_GRADE, f"{where}: grade {grade:.1f} > {MAX_GRADE}: {text}"
