"""The referral contract on the action server's side (Rasa environment).

Real records from actions/referral.py (tests/contract/records.py) keep
contract/referral.schema.json; the API side feeds the same records to its own
intake code (tests/api/test_referral_contract.py).
"""

from __future__ import annotations

import ast
import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

import actions.referral as referral
from actions.outbox import Outbox
from actions.referral import ActionSubmitReferral
from actions.trial import get_trial
from contract import bounds, names
from contract.schema import at, referral_schema
from contract.validate import Problem, UnsupportedSchema, problems, referral_problems
from tests.contract.records import LONG, TYPED_LEVELS_21, _tracker, cases, records

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built() -> dict[str, dict[str, Any]]:
    return records()


def test_every_case_makes_a_record_that_keeps_the_contract(built: dict[str, dict[str, Any]]) -> None:
    for name, record in built.items():
        assert referral_problems(record) == [], name
    assert {r["outcome"] for r in built.values()} == set(names.REFERABLE_OUTCOMES)
    assert {r["respondent"] for r in built.values()} == set(names.RESPONDENTS)


def test_each_criterion_says_what_was_asked_and_understood(built: dict[str, dict[str, Any]]) -> None:
    trial = get_trial()
    rows = {row["question_id"]: row for row in built["likely_eligible_self"]["criteria"]}
    assert list(rows) == [q.id for q in trial.screening_questions] + [names.LINDEN_ID]
    assert rows["spine_region"]["question"] == trial.question("spine_region").ask.for_self
    assert (rows["spine_region"]["answer"], rows["spine_region"]["answer_label"]) == (["thoracic"], "Upper or middle back")
    assert (rows["pain_score"]["answer"], rows["pain_score"]["answer_label"]) == (7, "7")
    assert rows["performance_status"]["answer_label"].startswith("Can't do hard physical work")
    assert rows["age"]["protocol"] == list(trial.question("age").protocol) and rows["age"]["status"] == names.PASS
    assert rows["linden"]["answer"] is None and "points" in rows["linden"]["answer_label"]
    record = built["likely_eligible_self"]
    assert (record["trial_version"], record["trial_checksum"]) == (trial.version, trial.checksum)
    assert record["consent"] == {"text_version": trial.version, "given_at": "2026-11-27T10:00:00+00:00"}
    # A helper was asked in the helper's voice, and that is what the coordinator reads.
    helper = {row["question_id"]: row for row in built["needs_review_caregiver"]["criteria"]}
    assert helper["age"]["question"] == trial.question("age").ask.for_caregiver
    assert helper["prior_spine_radiation"]["answer_label"] == "Yes, not sure where"


def test_every_question_answered_not_sure_is_labelled_not_sure(built: dict[str, dict[str, Any]]) -> None:
    rows = built["every_question_not_sure"]["criteria"]
    asked = [row for row in rows if row["question_id"] not in ("respondent", names.LINDEN_ID)]
    assert asked and all((row["answer"], row["answer_label"]) == ("unknown", "Not sure") for row in asked)
    assert built["every_question_not_sure"]["outcome"] == names.NEEDS_REVIEW


def test_the_longest_answers_are_bounded_not_refused(built: dict[str, dict[str, Any]]) -> None:
    longest = built["longest_answers"]
    # 21 different levels typed, with repeats: every one kept, in the patient's order, once.
    unique_typed = list(dict.fromkeys(TYPED_LEVELS_21))
    assert len(unique_typed) == 21 and longest["spine_levels"] == [*unique_typed, "T11-L2"]
    assert longest["warning_signs"] == ["worsening_pain", "cough_pain", "night_pain"]
    assert longest["contact"]["name"] == LONG[: bounds.CONTACT_MAX_CHARS["name"]]
    assert len(longest["contact"]["language"]) == bounds.CONTACT_MAX_CHARS["language"] == 100
    assert len(longest["contact"]["email"]) == 254
    capped = built["more_levels_than_fit"]["spine_levels"]
    assert len(capped) == bounds.MAX_SPINE_LEVELS == at("properties/spine_levels")["maxItems"]
    assert capped[:3] == ["C1", "C2", "C3"], "the first levels named are the ones kept"


def test_a_helpers_record_names_the_patient_apart_from_the_helper(built: dict[str, dict[str, Any]]) -> None:
    helped = built["needs_review_caregiver"]
    assert helped["helper"] == {"patient_name": "Pat Contract", "relationship": "her niece", "standing": names.DECISION_MAKER}
    assert helped["contact"]["name"] == "Sam Contract", "the contact is the helper's own"
    assert built["likely_eligible_caregiver"]["helper"]["standing"] == names.PATIENT_AGREES
    assert built["likely_eligible_self"]["helper"] is None
    longest = built["longest_answers"]["helper"]
    assert longest["patient_name"] == LONG[: bounds.HELPER_MAX_CHARS["patient_name"]]
    assert len(longest["relationship"]) == bounds.HELPER_MAX_CHARS["relationship"] == 100


@pytest.mark.parametrize("standing", ["not_yet", None])
async def test_a_helper_without_the_standing_to_refer_sends_nothing(
    standing: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTBOX_PATH", str(tmp_path / "outbox.sqlite"))
    slots = {**cases()["likely_eligible_caregiver"], "helper_agreement": standing}
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitReferral().run(dispatcher, _tracker("not-yet", slots), {})
    assert Outbox().pending() == []
    assert [m.get("response") for m in dispatcher.messages] == ["utter_no_consent"]
    cleared = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert cleared["referral_sent"] is False and cleared["patient_name"] is None and cleared["contact_name"] is None


async def test_a_record_breaking_the_contract_is_not_written_and_the_patient_is_not_told_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OUTBOX_PATH", str(tmp_path / "outbox.sqlite"))
    slots = cases()["likely_eligible_self"]
    built = referral.referral_record

    def with_a_bug(tracker: Any, referral_id: str) -> dict[str, Any]:
        record = built(tracker, referral_id)
        record["contact"]["name"] = "Secret Name " * 40  # a builder that forgot to bound
        return record

    monkeypatch.setattr(referral, "referral_record", with_a_bug)
    dispatcher = CollectingDispatcher()
    with caplog.at_level(logging.ERROR):
        events = await ActionSubmitReferral().run(dispatcher, _tracker("bug", slots), {})
    assert Outbox().pending() == []
    assert [m.get("response") for m in dispatcher.messages] == ["utter_technical_problem"]
    # Consent and details are kept (not cleared), so the patient's wish is not dropped in silence.
    assert [(e["name"], e["value"]) for e in events if e["event"] == "slot"] == [("referral_sent", False)]
    logged = caplog.text
    assert "$.contact.name: maxLength" in logged and "Secret Name" not in logged


def test_problems_name_the_path_and_rule_never_the_value() -> None:
    schema = {
        "type": "object", "additionalProperties": False, "required": ["a", "b"],
        "properties": {
            "a": {"type": "string", "maxLength": 3, "pattern": "^[a-z]+$"},
            "b": {"type": "array", "maxItems": 1, "uniqueItems": True, "items": {"type": "integer", "maximum": 5}},
            "c": {"type": ["string", "null"], "enum": ["x", None]},
            "d": {"type": "string", "format": "date-time"},
            "e": {"$ref": "#/$defs/flag"},
        },
        "$defs": {"flag": {"type": "boolean"}},
    }
    found = problems({"a": "SECRET", "b": [9, 9], "c": "SECRET", "d": "2026-13-01T00:00:00Z", "e": 1, "SECRET": 1}, schema)
    assert {str(p) for p in found} == {
        "$.a: maxLength", "$.a: pattern", "$.b: maxItems", "$.b: uniqueItems", "$.b[0]: maximum", "$.b[1]: maximum",
        "$.c: enum", "$.d: format", "$.e: type", "$.SECRET: additionalProperties",
    }
    assert problems({"b": []}, schema) == [Problem("$.a", "required")]
    assert problems({"a": "ab", "b": [True]}, schema) == [Problem("$.b[0]", "type")], "true is not an integer"
    assert problems({"a": "ab", "b": [], "c": None, "d": "2026-11-27T10:00:00+00:00", "e": False}, schema) == []
    # A key that could be patient text is not repeated either.
    assert [str(p) for p in problems({"a": "ab", "b": [], "Pat Example 403": 1}, schema)] == ["$.<key>: additionalProperties"]


def test_a_schema_rule_the_validator_cannot_check_is_refused() -> None:
    with pytest.raises(UnsupportedSchema):
        problems("x", {"type": "string", "oneOf": [{"maxLength": 1}]})
    with pytest.raises(UnsupportedSchema):
        problems("x", {"type": "string", "format": "email"})


def _every_string_and_list(schema: Any, where: str = "#") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(schema, dict):
        types = schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]
        if "string" in types or "array" in types or "object" in types:
            found.append((where, schema))
        for key in ("properties", "$defs"):
            for name, sub in (schema.get(key) or {}).items():
                found += _every_string_and_list(sub, f"{where}/{key}/{name}")
        if isinstance(schema.get("items"), dict):
            found += _every_string_and_list(schema["items"], f"{where}/items")
    return found


def test_the_schema_bounds_everything_and_spells_the_names_of_contract_names() -> None:
    schema = referral_schema()
    for where, sub in _every_string_and_list(schema):
        types = sub["type"] if isinstance(sub["type"], list) else [sub["type"]]
        assert "string" not in types or "maxLength" in sub, f"{where}: a string without maxLength"
        assert "array" not in types or "maxItems" in sub, f"{where}: a list without maxItems"
        assert "object" not in types or sub.get("additionalProperties") is False, f"{where}: open object"
    assert tuple(at("properties/outcome")["enum"]) == names.REFERABLE_OUTCOMES
    assert tuple(at("properties/respondent")["enum"]) == (*names.RESPONDENTS, None)
    assert tuple(at("$defs/criterion/properties/status")["enum"]) == names.CRITERION_STATUSES
    assert tuple(at("properties/helper/properties/standing")["enum"]) == names.HELPER_STANDINGS
    assert set(names.REFERABLE_OUTCOMES) <= set(names.OUTCOMES) and names.FINAL_OUTCOMES <= set(names.OUTCOMES)


def test_the_contract_package_imports_only_the_standard_library() -> None:
    for path in (ROOT / "contract").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for module in modules:
                top = module.split(".")[0]
                assert top == "contract" or top in sys.stdlib_module_names or top == "__future__", f"{path.name}: {module}"
