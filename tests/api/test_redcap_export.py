"""Issue 15, item 4: a REDCap data dictionary from the trial file and the matching import CSV of the screening log.

The dictionary is checked against the trial file itself (read here with PyYAML,
not through the exporter): every question, its choices equal to the trial
file's values, valid and unique names, REDCap's 18 columns, no free-text field.
The import CSV's header is the dictionary's names (a checkbox as REDCap's
`name___code` columns), every cell is one of its field's codes, a number in
range or a YYYY-MM-DD date, and no name, contact detail or note gets in. Then
the routes on a seeded queue: callers, headers, audit rows, the page's links.
contract/trial_form.json, which both exports read, is in step with the trial file.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.models import AuditEvent
from api.services import redcap_export
from contract.names import AGREEMENT_REASONS, AGREEMENTS, DETERMINATIONS, REFERRAL_STATUSES
from tests.api.factories import Actor, add_referral, db, logged_in, new_client, referral_body

ROOT = Path(__file__).resolve().parents[2]
TRIAL = yaml.safe_load((ROOT / "trial" / "nct04242589.yml").read_text(encoding="utf-8"))
COLUMNS = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
]
NAME = re.compile(r"^[a-z][a-z0-9_]{0,25}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SECRET_WORDS = ("Quillon Farthingale", "+1 403 555 0177", "quillon@example.org", "after 5 pm", "secret note")


def _read(text: str) -> list[dict[str, str]]:
    assert not text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def _dictionary() -> list[dict[str, str]]:
    text = redcap_export.dictionary()
    assert next(csv.reader(io.StringIO(text))) == COLUMNS
    return _read(text)


def _choices(field: dict[str, str]) -> list[tuple[str, str]]:
    cell = field["Choices, Calculations, OR Slider Labels"]
    return [tuple(part.strip().split(", ", 1)) for part in cell.split(" | ")] if cell else []  # type: ignore[misc]


def _code(value: Any) -> str:
    if isinstance(value, list):
        return "+".join(value) or "unspecified"
    return str(value)


def test_the_dictionary_has_every_question_of_the_trial_file_with_its_values() -> None:
    fields = {f["Variable / Field Name"]: f for f in _dictionary()}
    for question in TRIAL["questions"]:
        field = fields[question["id"]]
        assert field["Field Label"] == question["ask"]["self"]
        assert field["Field Type"] == ("checkbox" if question["answer_type"] in ("regions", "prior_radiation") else "radio")
        choices = _choices(field)
        buttons = [(_code(b["value"]), b["title"]) for b in question.get("buttons", [])]
        # The trial file's buttons first, in its order and words; then only the other
        # values the question accepts without a button (a typed cancer type, say).
        assert choices[: len(buttons)] == buttons, question["id"]
        extra = [code for code, _ in choices[len(buttons):]]
        if question["answer_type"] == "cancer":
            assert "thyroid" in extra and "colorectal" in extra
        elif question["answer_type"] == "yes_no" and "unknown" not in [c for c, _ in buttons]:
            assert extra == ["unknown"]
        else:
            assert extra == [], question["id"]
    assert fields["age_num"]["Text Validation Type OR Show Slider Number"] == "integer"
    assert (fields["age_num"]["Text Validation Min"], fields["age_num"]["Text Validation Max"]) == ("0", "120")
    assert (fields["pain_score_num"]["Text Validation Min"], fields["pain_score_num"]["Text Validation Max"]) == ("0", "10")
    assert "performance_status_num" not in fields  # every ECOG grade is a button
    assert f"Trial file {TRIAL['trial_id']} version {TRIAL['version']}" in fields["record_id"]["Field Note"]


def test_the_dictionary_follows_redcaps_rules_and_has_no_free_text() -> None:
    rows = _dictionary()
    names = [r["Variable / Field Name"] for r in rows]
    assert names[0] == "record_id"
    assert len(names) == len(set(names))
    assert all(NAME.match(n) for n in names), [n for n in names if not NAME.match(n)]
    assert {r["Form Name"] for r in rows} == {"screening_log"}
    for row in rows:
        kind, validation = row["Field Type"], row["Text Validation Type OR Show Slider Number"]
        assert kind in ("text", "radio", "checkbox"), row
        if kind == "text" and row["Variable / Field Name"] != "record_id":
            assert validation in ("integer", "date_ymd"), row["Variable / Field Name"]
        if kind in ("radio", "checkbox"):
            codes = [c for c, _ in _choices(row)]
            assert codes and len(codes) == len(set(codes))
            assert all(re.fullmatch(r"[A-Za-z0-9_]+", c) for c in codes), codes
        assert row["Identifier?"] == ""
    fields = {r["Variable / Field Name"]: r for r in rows}
    assert [c for c, _ in _choices(fields["status"])] == list(REFERRAL_STATUSES)
    assert [c for c, _ in _choices(fields["determination"])] == list(DETERMINATIONS)
    criteria = [q["id"] for q in TRIAL["questions"]] + ["linden"]
    for criterion in criteria:
        assert [c for c, _ in _choices(fields[f"agr_{criterion}"])] == list(AGREEMENTS)
        assert [c for c, _ in _choices(fields[f"rsn_{criterion}"])] == list(AGREEMENT_REASONS)
        assert fields[f"rsn_{criterion}"]["Branching Logic (Show field only if...)"] == (
            f"[agr_{criterion}] = 'disagree' or [agr_{criterion}] = 'not_checked'"
        )
    for date in ("received_date", "consent_date", "screening_date"):
        assert fields[date]["Text Validation Type OR Show Slider Number"] == "date_ymd"


def test_the_trial_form_is_in_step_with_the_trial_file() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "render_trial_form.py"), "--check"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _columns_allowed(rows: list[dict[str, str]]) -> dict[str, Any]:
    """Each import column and what its cells may hold: a set of codes, a number range, or "date"."""
    allowed: dict[str, Any] = {}
    for row in rows:
        name, kind = row["Variable / Field Name"], row["Field Type"]
        validation = row["Text Validation Type OR Show Slider Number"]
        if kind == "checkbox":
            for code, _ in _choices(row):
                allowed[f"{name}___{code}"] = {"0", "1"}
        elif kind == "radio":
            allowed[name] = {c for c, _ in _choices(row)}
        elif validation == "integer":
            allowed[name] = range(int(row["Text Validation Min"]), int(row["Text Validation Max"]) + 1)
        elif validation == "date_ymd":
            allowed[name] = "date"
        else:
            allowed[name] = "record_id"
    return allowed


def _check_import(text: str, ids: set[str]) -> list[dict[str, str]]:
    allowed = _columns_allowed(_dictionary())
    header = next(csv.reader(io.StringIO(text)))
    assert header == list(allowed)
    records = _read(text)
    assert {r["record_id"] for r in records} == ids
    for record in records:
        for column, value in record.items():
            if value == "":
                continue
            rule = allowed[column]
            if rule == "date":
                assert DATE.match(value), (column, value)
            elif rule == "record_id":
                assert value in ids
            elif isinstance(rule, range):
                assert int(value) in rule, (column, value)
            else:
                assert value in rule, (column, value)
    for word in SECRET_WORDS:
        assert word not in text
    return records


@pytest.fixture
def actor(client: TestClient) -> Actor:
    return logged_in(client.app)


def _seed_queue(client: TestClient, actor: Actor) -> dict[str, str]:
    criteria = referral_body()["criteria"] + [
        {"question_id": "spine_region", "question": "Where?", "protocol": ["I3"], "answer": ["thoracic", "lumbar"],
         "answer_label": "Upper or middle back; Lower back", "status": "pass", "reason": ""},
        {"question_id": "prior_spine_radiation", "question": "Radiation before?", "protocol": ["E4"], "answer": [],
         "answer_label": "Yes, not sure where", "status": "needs_review", "reason": "Check."},
        {"question_id": "primary_cancer", "question": "Which cancer?", "protocol": ["Linden"], "answer": "thyroid",
         "answer_label": "thyroid", "status": "pass", "reason": ""},
        {"question_id": "performance_status", "question": "Usual day?", "protocol": ["I6"], "answer": 2,
         "answer_label": "Up and about", "status": "pass", "reason": ""},
        # Recorded by another trial file version: a value this dictionary does not define.
        {"question_id": "pregnancy", "question": "Pregnant?", "protocol": ["E7"], "answer": "retired_code",
         "answer_label": "Old", "status": "pass", "reason": ""},
    ]
    # The factory's rows already hold prior_spine_radiation ("unknown"); keep the list answer only.
    criteria = [c for c in criteria if not (c["question_id"] == "prior_spine_radiation" and c["answer"] == "unknown")]
    plain = add_referral(client, name="Quillon Farthingale", phone="+1 403 555 0177", email="quillon@example.org",
                         best_time="after 5 pm", criteria=criteria)["referral_id"]
    helped = add_referral(client, respondent="caregiver", helper={
        "patient_name": "Quillon Farthingale", "relationship": "spouse", "standing": "patient_agrees"},
        outcome="needs_review")["referral_id"]
    for step in ("contacting",):
        assert actor.post(f"/coordinator/referrals/{plain}/status", json={"status": step, "reason": "x"}).status_code == 200
    assert actor.post(f"/coordinator/referrals/{plain}/notes", json={"text": "secret note"}).status_code == 201
    recorded = actor.post(f"/coordinator/referrals/{plain}/screening", json={
        "determination": "eligible", "agreement": {"age": "agree", "pain_score": "disagree", "linden": "not_checked"},
        "reason": {"pain_score": "changed_since", "linden": "records_unavailable"}, "status_reason": "screened"})
    assert recorded.status_code == 200, recorded.text
    return {"plain": plain, "helped": helped}


def test_the_import_csv_matches_the_dictionary_end_to_end(client: TestClient, actor: Actor) -> None:
    seeded = _seed_queue(client, actor)
    anonymous = new_client(client.app)
    for path in ("/coordinator/redcap/dictionary.csv", "/coordinator/redcap/records.csv"):
        assert anonymous.get(path).status_code == 401
    dictionary = actor.get("/coordinator/redcap/dictionary.csv")
    assert dictionary.status_code == 200
    assert dictionary.text == redcap_export.dictionary()
    records = actor.get("/coordinator/redcap/records.csv")
    assert records.status_code == 200
    for response, kind in ((dictionary, "dictionary"), (records, "records")):
        assert response.headers["content-type"].startswith("text/csv")
        assert response.headers["cache-control"] == "no-store"
        assert re.fullmatch(rf'attachment; filename="redcap-{kind}-\d{{8}}-\d{{4}}\.csv"',
                            response.headers["content-disposition"])
    rows = {r["record_id"]: r for r in _check_import(records.text, set(seeded.values()))}
    plain, helped = rows[seeded["plain"]], rows[seeded["helped"]]
    assert (plain["status"], plain["outcome"], plain["determination"]) == ("screened", "likely_eligible", "eligible")
    assert (helped["status"], helped["outcome"], helped["determination"]) == ("new", "needs_review", "")
    assert (plain["age_num"], plain["age"], plain["pain_score_num"]) == ("64", "", "6")
    assert plain["spine_mets_confirmed"] == "yes" and plain["primary_cancer"] == "thyroid"
    assert plain["performance_status"] == "2"
    assert [plain[f"spine_region___{c}"] for c in ("cervical", "thoracic", "lumbar", "sacral", "unknown")] == [
        "0", "1", "1", "0", "0"]
    assert plain["prior_spine_radiation___unspecified"] == "1" and plain["prior_spine_radiation___no"] == "0"
    assert plain["pregnancy"] == ""  # an answer the dictionary does not define is left out
    assert helped["prior_spine_radiation___unknown"] == "1"
    assert (plain["agr_age"], plain["agr_pain_score"], plain["rsn_pain_score"]) == ("agree", "disagree", "changed_since")
    assert (plain["agr_linden"], plain["rsn_linden"]) == ("not_checked", "records_unavailable")
    assert plain["agr_spine_mets_confirmed"] == "not_checked"  # not given: "not checked"
    assert DATE.match(plain["received_date"]) and DATE.match(plain["screening_date"]) and DATE.match(plain["consent_date"])
    # The queue's filters apply, as for the referral CSV.
    only_new = actor.get("/coordinator/redcap/records.csv", params={"status": "new"})
    assert [r["record_id"] for r in _read(only_new.text)] == [seeded["helped"]]
    with db() as session:
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
        ).all()
        details = [(a.actor_id, a.detail) for a in audit]
    ids = ",".join(r["record_id"] for r in _read(records.text))
    assert details == [
        (actor.id, "redcap_dictionary"),
        (actor.id, f"rows=2 ids={ids}"),
        (actor.id, f"rows=1 ids={seeded['helped']}"),
    ]


def test_the_statistics_page_links_both_downloads(client: TestClient, actor: Actor) -> None:
    page = actor.get("/staff/stats")
    assert page.status_code == 200
    assert 'href="/coordinator/redcap/dictionary.csv"' in page.text
    assert 'href="/coordinator/redcap/records.csv"' in page.text
    admin = logged_in(client.app, role="admin")
    assert admin.get("/coordinator/redcap/records.csv").status_code == 200
