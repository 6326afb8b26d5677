"""FHIR export of one referral (issue 15, item 3): a `collection` Bundle, built and validated by fhir.resources.

FHIR R4B (4.3.0), the R4-compatible release the library ships (`fhir.resources.R4B`;
the package's top level is R5). Every element used here exists in R4 with the
same meaning and codes: Patient (name, telecom, communication, contact),
ResearchStudy (identifier, title, status), ResearchSubject (status, study,
individual) and QuestionnaireResponse (questionnaire, status, subject, authored,
item.linkId/text/answer.value[x]).

What is in it is only what the API stores for the referral: the contact details
the person consented to give (a helper's referral: the patient's name, and the
helper as Patient.contact), the workflow status, the screening determination,
and each answered question as it was asked with the answer as it was understood.
No notes, no reasons, no best time to call (free text beyond the contact details).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.researchstudy import ResearchStudy
from fhir.resources.R4B.researchsubject import ResearchSubject
from sqlalchemy.orm import Session

from api.models import Referral
from api.services import audit, trial_form
from contract.names import (
    CONTACTING,
    DETERMINED_ELIGIBLE,
    DETERMINED_NOT_ELIGIBLE,
    ENROLLED,
    NEW,
    NOT_ENROLLED,
    SCREENED,
    UNDETERMINED,
    WITHDRAWN,
)

FHIR_VERSION = "4.3.0"
MEDIA_TYPE = "application/fhir+json"
# Canonical base of what this pre-screener defines (its Questionnaire and code systems).
# ".invalid" on purpose: nothing is served there; the names only have to be stable and unique.
BASE = "https://prescreener.invalid/fhir"
CLINICALTRIALS_SYSTEM = "https://clinicaltrials.gov"
STANDING_SYSTEM = f"{BASE}/CodeSystem/helper-standing"
CHECKSUM_SYSTEM = f"{BASE}/trial-file-sha256"
# Where the ids of the Bundle's resources come from: the same referral always gives the same ids.
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, BASE)

# ResearchSubject.status (R4 and R4B "ResearchSubjectStatus") for each workflow status.
RESEARCH_SUBJECT_STATUS: dict[str, str] = {
    # Referred by the pre-screener, nobody has spoken to them yet: potentially eligible.
    NEW: "potential-candidate",
    # The team is contacting them about the study: an identified person being considered.
    CONTACTING: "candidate",
    # The team screened them from the records; refined by the determination below.
    SCREENED: "screening",
    # Enrolled in the study.
    ENROLLED: "on-study",
    # Considered but not enrolled (not eligible, declined, or not reached).
    NOT_ENROLLED: "not-registered",
    # Withdrew before enrolment (asked to stop).
    WITHDRAWN: "withdrawn",
}
# A screened referral whose screening result is recorded says more than "screening".
SCREENED_BY_DETERMINATION: dict[str, str] = {
    # The records showed them eligible: "met the eligibility criteria".
    DETERMINED_ELIGIBLE: "eligible",
    # The records showed them not eligible: "no longer being considered".
    DETERMINED_NOT_ELIGIBLE: "ineligible",
    # Not decided from the records: still being evaluated.
    UNDETERMINED: "screening",
}


def research_subject_status(status: str, determination: str | None) -> str:
    if status == SCREENED and determination in SCREENED_BY_DETERMINATION:
        return SCREENED_BY_DETERMINATION[determination]
    return RESEARCH_SUBJECT_STATUS[status]


def questionnaire_url(trial_id: str) -> str:
    return f"{BASE}/Questionnaire/{trial_id.lower()}"


def _id(referral_id: str, kind: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{referral_id}/{kind}"))


def _utc(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _system(question_id: str) -> str:
    return f"{BASE}/CodeSystem/{question_id}"


def questionnaire(form: trial_form.TrialForm | None = None) -> Questionnaire:
    """The trial file's questions as a Questionnaire carrying the trial file's version.

    One item per question: type "choice" with the question's answer codes (its
    buttons' values, titles as displays); repeats for a list answer (regions);
    type "integer" when a whole number is an answer (age, pain score), the
    codes then being the other answers the question accepts ("Not sure").
    R4 allows answerOption on an integer item, but its answers are then meant
    to be integers: a receiver that enforces that sees the coded "Not sure" of
    such a question as an answer outside the item's type. One item per question
    was chosen over splitting the question in two (a number item, a code item).
    """
    form = form or trial_form.load()
    items: list[dict[str, Any]] = []
    for q in form.questions:
        item: dict[str, Any] = {
            "linkId": q.id,
            "text": q.text,
            "type": "integer" if q.number else "choice",
            "answerOption": [
                {"valueCoding": {"system": _system(q.id), "code": o.code, "display": o.label}}
                for o in q.options
            ],
        }
        if q.multiple:
            item["repeats"] = True
        if q.number:
            item["extension"] = [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/minValue",
                    "valueInteger": q.number[0],
                },
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/maxValue",
                    "valueInteger": q.number[1],
                },
            ]
        items.append(item)
    return Questionnaire.model_validate(
        {
            "resourceType": "Questionnaire",
            "id": form.trial_id.lower(),
            "url": questionnaire_url(form.trial_id),
            "identifier": [{"system": CHECKSUM_SYSTEM, "value": form.checksum}],
            "version": form.version,
            "name": form.trial_id,
            "title": form.title,
            "status": "active",
            "subjectType": ["Patient"],
            "item": items,
        }
    )


def _telecom(phone: str | None, email: str | None) -> list[dict[str, str]]:
    points = []
    if phone:
        points.append({"system": "phone", "value": phone})
    if email:
        points.append({"system": "email", "value": email})
    return points


def _patient(referral: Referral) -> Patient:
    data: dict[str, Any] = {"resourceType": "Patient", "id": _id(referral.id, "Patient")}
    telecom = _telecom(referral.contact_phone, referral.contact_email)
    if referral.patient_name is None:
        data["name"] = [{"text": referral.contact_name}]
        if telecom:
            data["telecom"] = telecom
    else:
        # A helper answered: the contact details are the helper's, the name the patient's.
        data["name"] = [{"text": referral.patient_name}]
        relationship: list[dict[str, Any]] = []
        if referral.helper_relationship:
            relationship.append({"text": referral.helper_relationship})
        if referral.helper_standing:
            relationship.append(
                {"coding": [{"system": STANDING_SYSTEM, "code": referral.helper_standing}]}
            )
        contact: dict[str, Any] = {"name": {"text": referral.contact_name}}
        if relationship:
            contact["relationship"] = relationship
        if telecom:
            contact["telecom"] = telecom
        data["contact"] = [contact]
    if referral.language:
        data["communication"] = [{"language": {"text": referral.language}}]
    return Patient.model_validate(data)


def _study(referral: Referral, form: trial_form.TrialForm) -> ResearchStudy:
    data: dict[str, Any] = {
        "resourceType": "ResearchStudy",
        "id": _id(referral.id, "ResearchStudy"),
        "identifier": [{"system": CLINICALTRIALS_SYSTEM, "value": referral.trial_id}],
        "status": "active",
    }
    if referral.trial_id == form.trial_id:
        data["title"] = form.title
    return ResearchStudy.model_validate(data)


def _subject(referral: Referral) -> ResearchSubject:
    determination = referral.screening.determination if referral.screening else None
    return ResearchSubject.model_validate(
        {
            "resourceType": "ResearchSubject",
            "id": _id(referral.id, "ResearchSubject"),
            "identifier": [{"system": f"{BASE}/referral", "value": referral.id}],
            "status": research_subject_status(referral.status, determination),
            "study": {"reference": f"urn:uuid:{_id(referral.id, 'ResearchStudy')}"},
            "individual": {"reference": f"urn:uuid:{_id(referral.id, 'Patient')}"},
        }
    )


def _answer(row: dict[str, Any], form: trial_form.TrialForm) -> list[dict[str, Any]]:
    question_id = str(row.get("question_id") or "")
    value = row.get("answer")
    known = form.answer(question_id, value) if question_id else None
    label = row.get("answer_label")
    if known is not None and known.number is not None:
        return [{"valueInteger": known.number}]
    if known is not None:
        question = form.question(question_id)
        labels = {o.code: o.label for o in question.options} if question else {}
        if len(known.codes) == 1 and label:
            labels[known.codes[0]] = str(label)  # the words the person saw for this answer
        return [
            {
                "valueCoding": {
                    "system": _system(question_id),
                    "code": c,
                    "display": labels.get(c, c),
                }
            }
            for c in known.codes
        ]
    # An answer of another trial file version: as it was understood, in its stored words.
    if isinstance(value, int) and not isinstance(value, bool):
        return [{"valueInteger": value}]
    return [{"valueString": str(label if label else value)}]


def _response(referral: Referral, form: trial_form.TrialForm) -> QuestionnaireResponse:
    items = []
    for row in referral.criteria or []:
        if not isinstance(row, dict) or row.get("answer") is None:
            continue  # not asked (or derived, like the Linden hint): no answer to give
        items.append(
            {
                "linkId": str(row["question_id"]),
                "text": str(row.get("question") or row["question_id"]),
                "answer": _answer(row, form),
            }
        )
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": _id(referral.id, "QuestionnaireResponse"),
        # The version that judged these answers, which may be older than the trial file in force.
        "questionnaire": f"{questionnaire_url(referral.trial_id)}|{referral.trial_version}",
        "status": "completed",
        "subject": {"reference": f"urn:uuid:{_id(referral.id, 'Patient')}"},
        "authored": _utc(referral.consent_given_at),
    }
    if items:
        data["item"] = items
    return QuestionnaireResponse.model_validate(data)


def bundle(referral: Referral, *, at: datetime | None = None) -> Bundle:
    """The referral as a collection Bundle, validated by the library (raises if it is not valid)."""
    form = trial_form.load()
    resources = [
        _patient(referral),
        _study(referral, form),
        _subject(referral),
        _response(referral, form),
    ]
    built = Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": _id(referral.id, "Bundle"),
            "identifier": {"system": f"{BASE}/referral", "value": referral.id},
            "type": "collection",
            "timestamp": _utc(at or datetime.now(timezone.utc)),
            "entry": [
                {"fullUrl": f"urn:uuid:{resource.id}", "resource": resource}
                for resource in resources
            ],
        }
    )
    # Once more from the JSON that is sent, so what leaves is what the library accepts.
    return Bundle.model_validate_json(built.model_dump_json(exclude_none=True))


def to_json(resource: Bundle | Questionnaire) -> str:
    return resource.model_dump_json(exclude_none=True, indent=2)


def export(
    session: Session, referral: Referral, *, actor_id: int, at: datetime | None = None
) -> str:
    """The referral's Bundle as JSON, audited like every per-referral view (the caller commits)."""
    body = to_json(bundle(referral, at=at))
    audit.record(
        session, action="export", actor_id=actor_id, referral_id=referral.id, detail="fhir"
    )
    return body


def download_headers(referral_id: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="referral-{referral_id}.fhir.json"',
        "Cache-Control": "no-store",
    }
