"""Issue 15, item 3: a referral as a FHIR R4B Bundle, built and validated by fhir.resources.

The Bundle of a seeded referral is validated by the library and equal to the
fixture (tests/api/fixtures/fhir_bundle.json; ids are derived from the referral
id, the timestamp is fixed here); only consented contact details; a helper's
referral; the status mapping for every workflow status; the Questionnaire from
the trial file; the route's callers, headers and audit row; the detail page's link.
Set UPDATE_FIXTURES=1 to rewrite the fixture after a deliberate change (and review the diff).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from sqlalchemy import select

from api.models import AuditEvent, Referral
from api.services import fhir_export, trial_form
from contract.names import DETERMINATIONS, REFERRAL_STATUSES, SCREENED
from tests.api.factories import Actor, add_referral, db, logged_in, new_client

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "fhir_bundle.json"
AT = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)
GIVEN = "2026-11-30T15:04:05+00:00"
# ResearchSubjectStatus of FHIR R4 (hl7.org/fhir/R4/valueset-research-subject-status.html).
R4_SUBJECT_STATUSES = {
    "candidate", "eligible", "follow-up", "ineligible", "not-registered", "off-study", "on-study",
    "on-study-intervention", "on-study-observation", "pending-on-study", "potential-candidate",
    "screening", "withdrawn",
}
EXTRA_ROWS = [
    {"question_id": "spine_region", "question": "Where in your spine is the cancer?", "protocol": ["I3"],
     "answer": ["thoracic", "lumbar"], "answer_label": "Upper or middle back; Lower back", "status": "pass",
     "reason": ""},
    {"question_id": "primary_cancer", "question": "Where did the cancer start?", "protocol": ["Linden"],
     "answer": "thyroid", "answer_label": "thyroid", "status": "pass", "reason": ""},
    {"question_id": "performance_status", "question": "Which is closest to your usual day?",
     "protocol": ["I6"], "answer": 1, "answer_label": "Can't do hard physical work", "status": "pass",
     "reason": ""},
    {"question_id": "able_to_attend", "question": "Could you come to visits?", "protocol": ["I13"],
     "answer": None, "answer_label": None, "status": "unknown", "reason": "Not asked yet."},
]


def _seed(client: TestClient, referral_id: str, **fields: Any) -> dict[str, Any]:
    from tests.api.factories import referral_body

    criteria = referral_body()["criteria"] + [dict(row) for row in EXTRA_ROWS]
    consent = {"text_version": "2025.1", "given_at": GIVEN}
    return add_referral(client, referral_id=referral_id, criteria=criteria, consent=consent, **fields)


def _bundle(referral_id: str) -> dict[str, Any]:
    with db() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        return json.loads(fhir_export.to_json(fhir_export.bundle(referral, at=AT)))


def _resources(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}


@pytest.fixture
def actor(client: TestClient) -> Actor:
    return logged_in(client.app)


def test_the_bundle_is_valid_fhir_and_equals_the_fixture(client: TestClient) -> None:
    _seed(client, "fhir-fixture-0001", name="Pat Example", phone="+1 403 555 0101", email="pat@example.org")
    bundle = _bundle("fhir-fixture-0001")
    Bundle.model_validate(bundle)  # the library accepts what is sent
    if os.environ.get("UPDATE_FIXTURES"):
        FIXTURE.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert bundle == json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert bundle["type"] == "collection" and bundle["timestamp"] == "2026-12-01T09:30:00Z"
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == [
        "Patient", "ResearchStudy", "ResearchSubject", "QuestionnaireResponse",
    ]
    found = _resources(bundle)
    # Every reference points inside the Bundle.
    urls = {e["fullUrl"] for e in bundle["entry"]}
    subject = found["ResearchSubject"]
    assert {subject["study"]["reference"], subject["individual"]["reference"],
            found["QuestionnaireResponse"]["subject"]["reference"]} <= urls
    assert found["ResearchStudy"]["identifier"] == [
        {"system": "https://clinicaltrials.gov", "value": "NCT04242589"}
    ]
    trial = yaml.safe_load((ROOT / "trial" / "nct04242589.yml").read_text(encoding="utf-8"))
    assert found["ResearchStudy"]["title"] == trial["title"]
    assert subject["status"] == "potential-candidate"


def test_each_answered_question_as_asked_with_the_answer_as_understood(client: TestClient) -> None:
    body = _seed(client, "fhir-answers-0001")
    response = _resources(_bundle("fhir-answers-0001"))["QuestionnaireResponse"]
    assert response["questionnaire"] == (
        "https://prescreener.invalid/fhir/Questionnaire/nct04242589|" + body["trial_version"]
    )
    answered = [row for row in body["criteria"] if row["answer"] is not None]
    assert [(i["linkId"], i["text"]) for i in response["item"]] == [
        (row["question_id"], row["question"]) for row in answered
    ]
    answers = {i["linkId"]: i["answer"] for i in response["item"]}
    assert answers["age"] == [{"valueInteger": 64}]
    assert answers["pain_score"] == [{"valueInteger": 6}]
    system = "https://prescreener.invalid/fhir/CodeSystem/"
    assert answers["spine_mets_confirmed"] == [
        {"valueCoding": {"system": system + "spine_mets_confirmed", "code": "yes", "display": "Yes"}}
    ]
    assert [a["valueCoding"]["code"] for a in answers["spine_region"]] == ["thoracic", "lumbar"]
    assert [a["valueCoding"]["display"] for a in answers["spine_region"]] == ["Upper or middle back", "Lower back"]
    assert answers["primary_cancer"][0]["valueCoding"]["code"] == "thyroid"
    assert answers["performance_status"][0]["valueCoding"]["code"] == "1"
    # Not asked, and the derived Linden hint: no item.
    assert "able_to_attend" not in answers and "linden" not in answers


def test_only_the_contact_details_given(client: TestClient) -> None:
    _seed(client, "fhir-no-email-01", name="Noel Nomail", phone="+1 403 555 0199", email=None, best_time="after 5")
    patient = _resources(_bundle("fhir-no-email-01"))["Patient"]
    assert patient["name"] == [{"text": "Noel Nomail"}]
    assert patient["telecom"] == [{"system": "phone", "value": "+1 403 555 0199"}]
    assert "contact" not in patient
    text = json.dumps(patient)
    assert "after 5" not in text and "birthDate" not in text and "address" not in text
    _seed(client, "fhir-no-phone-01", phone=None, email="only@example.org")
    assert _resources(_bundle("fhir-no-phone-01"))["Patient"]["telecom"] == [
        {"system": "email", "value": "only@example.org"}
    ]


def test_a_helpers_referral_names_the_patient_and_the_helper_as_contact(client: TestClient) -> None:
    helper = {"patient_name": "Rosa Whitford", "relationship": "daughter", "standing": "decision_maker"}
    _seed(client, "fhir-helper-0001", name="Hal Helper", phone="+1 403 555 0123", email="hal@example.org",
          respondent="caregiver", helper=helper)
    patient = _resources(_bundle("fhir-helper-0001"))["Patient"]
    assert patient["name"] == [{"text": "Rosa Whitford"}]
    assert "telecom" not in patient  # the phone and e-mail are the helper's
    assert patient["contact"] == [{
        "relationship": [
            {"text": "daughter"},
            {"coding": [{"system": "https://prescreener.invalid/fhir/CodeSystem/helper-standing",
                         "code": "decision_maker"}]},
        ],
        "name": {"text": "Hal Helper"},
        "telecom": [{"system": "phone", "value": "+1 403 555 0123"},
                    {"system": "email", "value": "hal@example.org"}],
    }]


def test_every_workflow_status_maps_to_an_r4_research_subject_status() -> None:
    assert set(fhir_export.RESEARCH_SUBJECT_STATUS) == set(REFERRAL_STATUSES)
    assert set(fhir_export.SCREENED_BY_DETERMINATION) == set(DETERMINATIONS)
    mapped = set(fhir_export.RESEARCH_SUBJECT_STATUS.values()) | set(fhir_export.SCREENED_BY_DETERMINATION.values())
    assert mapped <= R4_SUBJECT_STATUSES
    assert {s: fhir_export.research_subject_status(s, None) for s in REFERRAL_STATUSES} == {
        "new": "potential-candidate", "contacting": "candidate", "screened": "screening",
        "enrolled": "on-study", "not_enrolled": "not-registered", "withdrawn": "withdrawn",
    }
    assert fhir_export.research_subject_status(SCREENED, "eligible") == "eligible"
    assert fhir_export.research_subject_status(SCREENED, "not_eligible") == "ineligible"
    assert fhir_export.research_subject_status(SCREENED, "undetermined") == "screening"
    # The determination refines only "screened": after enrolment the workflow says more.
    assert fhir_export.research_subject_status("enrolled", "eligible") == "on-study"


def test_the_exported_status_follows_the_workflow(client: TestClient, actor: Actor) -> None:
    _seed(client, "fhir-status-0001")
    for step, expected in (("contacting", "candidate"), ("screened", "screening")):
        moved = actor.post("/coordinator/referrals/fhir-status-0001/status", json={"status": step, "reason": "x"})
        assert moved.status_code == 200, moved.text
        assert _resources(_bundle("fhir-status-0001"))["ResearchSubject"]["status"] == expected
    recorded = actor.post("/coordinator/referrals/fhir-status-0001/screening",
                          json={"determination": "not_eligible", "agreement": {}})
    assert recorded.status_code == 200, recorded.text
    assert _resources(_bundle("fhir-status-0001"))["ResearchSubject"]["status"] == "ineligible"


def test_the_questionnaire_is_generated_from_the_trial_file() -> None:
    trial = yaml.safe_load((ROOT / "trial" / "nct04242589.yml").read_text(encoding="utf-8"))
    form = json.loads(fhir_export.to_json(fhir_export.questionnaire()))
    Questionnaire.model_validate(form)
    assert form["version"] == trial["version"] == trial_form.load().version
    assert form["url"] == "https://prescreener.invalid/fhir/Questionnaire/nct04242589"
    assert [i["linkId"] for i in form["item"]] == [q["id"] for q in trial["questions"]]
    for item, question in zip(form["item"], trial["questions"]):
        assert item["text"] == question["ask"]["self"]
        options = [o["valueCoding"] for o in item["answerOption"]]
        buttons = [(b["value"], b["title"]) for b in question.get("buttons", [])]
        for value, title in buttons:
            code = ("+".join(value) or "unspecified") if isinstance(value, list) else str(value)
            assert {"system": f"https://prescreener.invalid/fhir/CodeSystem/{question['id']}",
                    "code": code, "display": title} in options, (question["id"], value)
    types = {i["linkId"]: (i["type"], i.get("repeats", False)) for i in form["item"]}
    assert types["age"] == ("integer", False) and types["pain_score"] == ("integer", False)
    assert types["spine_region"] == ("choice", True) and types["performance_status"] == ("choice", False)


def test_the_route_answers_coordinators_with_a_download_and_audits_it(client: TestClient, actor: Actor) -> None:
    _seed(client, "fhir-route-0001")
    anonymous = new_client(client.app)
    assert anonymous.get("/coordinator/referrals/fhir-route-0001/fhir").status_code == 401
    assert actor.get("/coordinator/referrals/no-such-referral/fhir").status_code == 404
    response = actor.get("/coordinator/referrals/fhir-route-0001/fhir")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.headers["content-disposition"] == 'attachment; filename="referral-fhir-route-0001.fhir.json"'
    assert response.headers["cache-control"] == "no-store"
    bundle = Bundle.model_validate_json(response.text)
    assert bundle.type == "collection"
    with db() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.referral_id == "fhir-route-0001")
        ).all()
        assert [(r.actor_id, r.detail) for r in rows] == [(actor.id, "fhir")]
    admin = logged_in(client.app, role="admin")
    assert admin.get("/coordinator/referrals/fhir-route-0001/fhir").status_code == 200
    questionnaire = actor.get("/coordinator/fhir/Questionnaire")
    assert questionnaire.status_code == 200
    assert questionnaire.headers["content-type"].startswith("application/fhir+json")
    assert Questionnaire.model_validate_json(questionnaire.text).version == trial_form.load().version


def test_the_detail_page_links_the_download(client: TestClient, actor: Actor) -> None:
    _seed(client, "fhir-page-00001")
    page = actor.get("/staff/referrals/fhir-page-00001")
    assert page.status_code == 200
    assert 'href="/coordinator/referrals/fhir-page-00001/fhir"' in page.text
