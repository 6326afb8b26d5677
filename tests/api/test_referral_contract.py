"""The referral contract on the API's side: real records from the action server's builder, the API's own intake.

The records are built by actions/referral.py in the Rasa environment
(tests/contract/records.py, run with that interpreter), then posted to
POST /referrals and stored by store_referral on SQLite and PostgreSQL. So a
field that one side adds, drops or bounds differently fails here.
"""

from __future__ import annotations

import json
import subprocess
import typing
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.models import Referral
from api.schemas import ReferralIn
from api.schemas_coordinator import StatusIn
from api.services import queue
from contract.names import REFERRAL_STATUSES
from contract.schema import referral_schema
from contract.validate import referral_problems
from tests.api.factories import db, logged_in, post_referral, referral_body

ROOT = Path(__file__).resolve().parents[2]
RASA_PY = ROOT / ".venv" / "rasa" / "bin" / "python"


@pytest.fixture(scope="module")
def records() -> dict[str, dict[str, Any]]:
    """Built by the action server's code in its own environment (no copy of it here)."""
    assert RASA_PY.exists(), f"the contract test needs the Rasa environment ({RASA_PY}): scripts/setup_env.sh"
    built = subprocess.run(
        [str(RASA_PY), "-m", "tests.contract.records"], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert built.returncode == 0, built.stderr[-2000:]
    found: dict[str, dict[str, Any]] = json.loads(built.stdout)
    assert len(found) >= 6
    return found


def test_the_action_servers_records_are_accepted_and_stored_whole(client: TestClient, records: dict[str, dict[str, Any]]) -> None:
    for name, record in records.items():
        assert referral_problems(record) == [], name
        ReferralIn.model_validate(record)
        response = post_referral(client, record)
        assert response.status_code == 201, (name, response.text)
        with db() as session:
            stored = session.get(Referral, record["referral_id"])
            assert stored is not None
            assert stored.criteria == record["criteria"], name
            assert (stored.trial_id, stored.trial_version, stored.trial_checksum) == (
                record["trial_id"], record["trial_version"], record["trial_checksum"])
            assert stored.warning_signs == record["warning_signs"] and stored.spine_levels == record["spine_levels"]
            assert stored.linden == record["linden"] and stored.outcome == record["outcome"]
            assert stored.respondent == record["respondent"] and stored.conversation_id == record["conversation_id"]
            contact = {"name": stored.contact_name, "phone": stored.contact_phone, "email": stored.contact_email,
                       "best_time": stored.best_time, "language": stored.language}
            assert contact == record["contact"], name
            helper = None if stored.patient_name is None else {
                "patient_name": stored.patient_name, "relationship": stored.helper_relationship,
                "standing": stored.helper_standing}
            assert helper == record["helper"], name
            assert stored.consent_version == record["consent"]["text_version"]
        # The same delivery again is the same referral (idempotent), not a conflict.
        assert post_referral(client, record).status_code == 200


def test_the_coordinator_page_shows_the_stored_labels(client: TestClient, records: dict[str, dict[str, Any]]) -> None:
    record = records["needs_review_caregiver"]
    assert post_referral(client, record).status_code == 201
    page = logged_in(client.app).get(f"/staff/referrals/{record['referral_id']}")
    assert page.status_code == 200, page.text
    rows = {row["question_id"]: row for row in record["criteria"]}
    assert rows["age"]["question"] in page.text  # the helper's wording, as asked
    assert "Upper or middle back (thoracic)" in page.text and "Not sure (unknown)" in page.text
    assert "Yes, not sure where ([])" in page.text or "Yes, not sure where" in page.text
    assert "night_pain" in page.text and record["trial_checksum"][:12] in page.text
    # A helper's referral names the patient apart from the helper, with the helper's standing (I1).
    assert f"<h1>{record['helper']['patient_name']}</h1>" in page.text
    assert "Helper (contact)</dt><dd>" + record["contact"]["name"] in page.text
    assert record["helper"]["relationship"] in page.text and "substitute decision-maker" in page.text
    detail = logged_in(client.app).get(f"/coordinator/referrals/{record['referral_id']}").json()
    assert detail["helper"] == record["helper"] and detail["contact"]["name"] == record["contact"]["name"]


def test_a_record_from_before_the_helper_field_is_still_the_same_referral(
    client: TestClient, records: dict[str, dict[str, Any]]
) -> None:
    # An outbox written by the previous version has no "helper" key: it is accepted, and a
    # retried delivery of it (with or without a null helper) is the same referral, not a conflict.
    old = {k: v for k, v in records["likely_eligible_self"].items() if k != "helper"}
    assert post_referral(client, old).status_code == 201
    assert post_referral(client, old).status_code == 200
    assert post_referral(client, {**old, "helper": None}).status_code == 200
    with db() as session:
        assert session.get(Referral, old["referral_id"]).patient_name is None


def test_an_old_row_without_labels_still_renders_with_raw_ids(client: TestClient) -> None:
    body = referral_body(name="Old Row Person")
    assert post_referral(client, body).status_code == 201
    with db() as session:
        stored = session.get(Referral, body["referral_id"])
        assert stored is not None
        # As referrals were stored before the record described itself.
        stored.criteria = [
            {"question_id": "spine_region", "protocol": ["I4"], "answer": ["thoracic"], "status": "pass", "reason": None},
            {"question_id": "linden", "protocol": ["I5"], "answer": {"points_min": 9, "points_max": 11, "groups": ["A"]},
             "status": "pass", "reason": None},
            {"question_id": "breastfeeding", "protocol": ["E7"], "answer": None, "status": "pass", "reason": None},
        ]
        stored.trial_checksum, stored.warning_signs = None, None
        session.commit()
    page = logged_in(client.app).get(f"/staff/referrals/{body['referral_id']}")
    assert page.status_code == 200, page.text
    assert ">thoracic<" in page.text and "9-11 points; possible group(s): A" in page.text and "Not asked" in page.text
    assert "Not recorded" in page.text  # warning signs of an old row


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda r: r.update(surprise=1), id="unknown top-level field"),
        pytest.param(lambda r: r["criteria"][0].update(note="x"), id="unknown criterion field"),
        pytest.param(lambda r: r.pop("trial_checksum"), id="checksum missing"),
        pytest.param(lambda r: r.pop("warning_signs"), id="warning signs missing"),
        pytest.param(lambda r: r["criteria"][0].pop("answer_label"), id="label missing"),
        pytest.param(lambda r: r.update(spine_levels=[f"T{n}" for n in range(40)]), id="too many levels"),
        pytest.param(lambda r: r["contact"].update(name="n" * 201), id="name too long"),
        pytest.param(lambda r: r["criteria"][0].update(answer=True), id="answer is a boolean"),
        pytest.param(lambda r: r["linden"].update(points_min="7"), id="number as text"),
        pytest.param(lambda r: r["consent"].update(given_at=1764237600), id="time as a number"),
        pytest.param(lambda r: r.update(outcome="not_eligible"), id="outcome not referable"),
    ],
)
def test_a_body_off_the_contract_is_refused_without_echoing_it(
    client: TestClient, records: dict[str, dict[str, Any]], change: Any
) -> None:
    record = json.loads(json.dumps(records["likely_eligible_self"]))
    change(record)
    assert referral_problems(record) != []
    with pytest.raises(ValueError):
        ReferralIn.model_validate(record)
    response = post_referral(client, record)
    assert response.status_code == 422 and record["contact"]["name"] not in response.text
    # The refusal names where the body broke the contract (what a dead-letter reason can keep).
    assert response.json()["fields"] == sorted(str(p) for p in referral_problems(record))


# --- the pydantic model and the JSON Schema say the same thing ----------------------------

# Keywords only the raw-body check enforces (pydantic has no uniqueItems; a
# datetime field already means an RFC 3339 time): listed so nothing else may differ.
RAW_CHECK_ONLY = {"uniqueItems", "format"}
# Which keywords apply to which JSON type (a keyword on another type is ignored, as JSON Schema says).
COMPARED = {
    "string": ("enum", "minLength", "maxLength", "pattern"),
    "integer": ("enum", "minimum", "maximum"),
    "array": ("minItems", "maxItems"),
    "object": (),
    "boolean": (),
    "null": (),
}


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _options(node: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    """A schema as a list of one-type alternatives (pydantic writes unions as anyOf)."""
    node = _resolve(node, root)
    if "anyOf" in node:
        return [o for alt in node["anyOf"] for o in _options(alt, root)]
    types_ = node.get("type")
    if isinstance(types_, list):
        return [{**node, "type": t} for t in types_]
    return [node]


def _rules(option: dict[str, Any], kind: str) -> dict[str, Any]:
    rules = {k: option[k] for k in COMPARED[kind] if k in option}
    if "enum" in rules:
        rules["enum"] = sorted(v for v in rules["enum"] if v is not None)
        rules.pop("maxLength", None)  # an enum bounds the length already
    if option.get("format") == "date-time":
        rules.pop("maxLength", None)  # pydantic's datetime has no length; the raw check has both
    return rules


def _disagreements(contract: dict[str, Any], model: dict[str, Any], c_root: dict[str, Any], m_root: dict[str, Any],
                   where: str) -> list[str]:
    found = []
    c_opts = {o.get("type"): o for o in _options(contract, c_root)}
    m_opts = {o.get("type"): o for o in _options(model, m_root)}
    if "enum" in _resolve(contract, c_root) and None in _resolve(contract, c_root)["enum"]:
        c_opts.setdefault("null", {"type": "null"})
    if set(c_opts) != set(m_opts):
        return [f"{where}: types {sorted(map(str, c_opts))} vs {sorted(map(str, m_opts))}"]
    for kind, c_opt in c_opts.items():
        m_opt = m_opts[kind]
        if _rules(c_opt, kind) != _rules(m_opt, kind):
            found.append(f"{where} ({kind}): {_rules(c_opt, kind)} vs {_rules(m_opt, kind)}")
        if kind == "object":
            c_props, m_props = c_opt.get("properties", {}), m_opt.get("properties", {})
            if set(c_props) != set(m_props):
                found.append(f"{where}: fields {sorted(set(c_props) ^ set(m_props))} on one side only")
            if set(c_opt.get("required", [])) != set(m_opt.get("required", [])):
                found.append(f"{where}: required {sorted(set(c_opt.get('required', [])) ^ set(m_opt.get('required', [])))}")
            if m_opt.get("additionalProperties") is not False:
                found.append(f"{where}: the model accepts unknown fields")
            for name in set(c_props) & set(m_props):
                found += _disagreements(c_props[name], m_props[name], c_root, m_root, f"{where}.{name}")
        if kind == "array" and ("items" in c_opt or "items" in m_opt):
            found += _disagreements(c_opt.get("items", {}), m_opt.get("items", {}), c_root, m_root, f"{where}[]")
        if kind == "string" and m_opt.get("format") not in (None, c_opt.get("format")):
            found.append(f"{where}: format {m_opt.get('format')} vs {c_opt.get('format')}")
    return found


def test_the_pydantic_model_and_the_json_schema_agree() -> None:
    contract = referral_schema()
    model = ReferralIn.model_json_schema()
    assert _disagreements(contract, model, contract, model, "$") == []
    used = set()
    stack: list[Any] = [contract]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            used |= set(node)
            stack += list(node.values())
        elif isinstance(node, list):
            stack += node
    assert used & RAW_CHECK_ONLY, "RAW_CHECK_ONLY lists keywords the schema uses"


def test_the_queue_has_a_workflow_for_every_status_of_the_contract() -> None:
    assert tuple(queue.TRANSITIONS) == REFERRAL_STATUSES
    assert all(set(nexts) <= set(REFERRAL_STATUSES) for nexts in queue.TRANSITIONS.values())
    assert typing.get_args(typing.get_type_hints(StatusIn)["status"]) == REFERRAL_STATUSES
