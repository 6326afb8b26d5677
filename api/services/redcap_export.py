"""REDCap-ready export (issue 15, item 4): a data dictionary from the trial file and the screening log to import.

The data dictionary has REDCap's 18 columns in their order; its fields are the
record id, one field per trial question (radio for one answer code, checkbox
for a list of regions, plus an integer field where a number is an answer),
the pre-screen outcome, the queue status, three dates, and the team's
determination and per-criterion agreement and reason. Every field but
record_id has choices or a validation: no free text, so neither file can carry
a name, a contact detail or a note. The import CSV has one row per referral
and only the codes the dictionary defines (REDCap's checkbox columns are
`<field>___<code>`, 1 or 0).

Questions and codes come from contract/trial_form.json (scripts/render_trial_form.py,
from the trial file); status, outcome and screening codes from contract/names.py;
labels from api/messages/en.yml.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from api.core.texts import text
from api.models import Referral
from api.services import audit, trial_form
from api.services.csv_export import neutralise
from contract.names import (
    AGREEMENT_REASONS,
    AGREEMENTS,
    DETERMINATIONS,
    LINDEN_ID,
    REFERABLE_OUTCOMES,
    REFERRAL_STATUSES,
)

COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
FORM = "screening_log"
RECORD_ID = "record_id"
MAX_NAME = 26  # REDCap's limit for a variable name
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
NUMBER_SUFFIX = "_num"
AGREEMENT_PREFIX = "agr_"
REASON_PREFIX = "rsn_"


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # text (record_id, integers, dates), radio, checkbox
    label: str
    choices: tuple[tuple[str, str], ...] = ()  # (code, label)
    section: str = ""
    note: str = ""
    validation: str = ""  # integer, date_ymd
    minimum: str = ""
    maximum: str = ""
    branching: str = ""
    required: bool = False

    def row(self) -> list[str]:
        return [
            self.name,
            FORM,
            self.section,
            self.type,
            self.label,
            " | ".join(f"{code}, {label}" for code, label in self.choices),
            self.note,
            self.validation,
            self.minimum,
            self.maximum,
            "",  # Identifier?: nothing here identifies a person
            self.branching,
            "y" if self.required else "",
            "",
            "",
            "",
            "",
            "",
        ]

    def columns(self) -> list[str]:
        """The import CSV's columns of this field (a checkbox has one per code)."""
        if self.type == "checkbox":
            return [f"{self.name}___{code}" for code, _ in self.choices]
        return [self.name]


def _labels(kind: str, codes: Iterable[str]) -> tuple[tuple[str, str], ...]:
    return tuple((code, text(f"export_{kind}_{code}")) for code in codes)


def _criteria(form: trial_form.TrialForm) -> list[tuple[str, str]]:
    """(question id, label) of every criterion a screening result can name: the questions and the Linden hint."""
    return [(q.id, q.id) for q in form.questions] + [(LINDEN_ID, text("export_criterion_linden"))]


def fields(form: trial_form.TrialForm | None = None) -> list[Field]:
    form = form or trial_form.load()
    out = [
        Field(
            RECORD_ID,
            "text",
            text("export_label_record_id"),
            note=text("export_note_checksum").format(
                trial_id=form.trial_id, version=form.version, checksum=form.checksum
            ),
        ),
        Field(
            "outcome", "radio", text("export_label_outcome"), _labels("outcome", REFERABLE_OUTCOMES)
        ),
        Field("status", "radio", text("export_label_status"), _labels("status", REFERRAL_STATUSES)),
        Field("received_date", "text", text("export_label_received_date"), validation="date_ymd"),
        Field("consent_date", "text", text("export_label_consent_date"), validation="date_ymd"),
    ]
    section = text("export_section_questions")
    for q in form.questions:
        note = text("export_note_protocol").format(items=", ".join(q.protocol))
        out.append(
            Field(
                q.id,
                "checkbox" if q.multiple else "radio",
                q.text,
                tuple((o.code, o.label) for o in q.options),
                section=section,
                note=note,
            )
        )
        section = ""
        if q.number:
            out.append(
                Field(
                    q.id + NUMBER_SUFFIX,
                    "text",
                    text("export_label_number").format(question=q.text),
                    note=note,
                    validation="integer",
                    minimum=str(q.number[0]),
                    maximum=str(q.number[1]),
                )
            )
    out.append(
        Field(
            "determination",
            "radio",
            text("export_label_determination"),
            _labels("determination", DETERMINATIONS),
            section=text("export_section_team"),
        )
    )
    out.append(
        Field("screening_date", "text", text("export_label_screening_date"), validation="date_ymd")
    )
    for question_id, label in _criteria(form):
        agreement = AGREEMENT_PREFIX + question_id
        out.append(
            Field(
                agreement,
                "radio",
                text("export_label_agreement").format(criterion=label),
                _labels("agreement", AGREEMENTS),
            )
        )
        out.append(
            Field(
                REASON_PREFIX + question_id,
                "radio",
                text("export_label_reason").format(criterion=label),
                _labels("reason", AGREEMENT_REASONS),
                branching=" or ".join(
                    f"[{agreement}] = '{code}'" for code in AGREEMENTS if code != "agree"
                ),
            )
        )
    return out


def _render(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    # No byte-order mark: REDCap reads plain UTF-8 and would take one as part of the first name.
    return buffer.getvalue()


def dictionary(form: trial_form.TrialForm | None = None) -> str:
    """The data dictionary CSV, ready for REDCap's Data Dictionary upload."""
    return _render([list(COLUMNS), *(f.row() for f in fields(form))])


def _date(moment: datetime | None) -> str:
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).strftime("%Y-%m-%d")


def header(form: trial_form.TrialForm | None = None) -> list[str]:
    return [column for f in fields(form) for column in f.columns()]


def record(referral: Referral, form: trial_form.TrialForm | None = None) -> dict[str, str]:
    """One referral as the import CSV's cells: codes, numbers and dates only."""
    form = form or trial_form.load()
    cells: dict[str, str] = {
        RECORD_ID: referral.id,
        "outcome": referral.outcome if referral.outcome in REFERABLE_OUTCOMES else "",
        "status": referral.status if referral.status in REFERRAL_STATUSES else "",
        "received_date": _date(referral.received_at),
        "consent_date": _date(referral.consent_given_at),
    }
    # A record of another trial: its questions are not this dictionary's.
    same_trial = referral.trial_id == form.trial_id
    for row in referral.criteria or [] if same_trial else []:
        if not isinstance(row, dict):
            continue
        question = form.question(str(row.get("question_id") or ""))
        if question is None:
            continue
        answer = form.answer(question.id, row.get("answer"))
        if answer is None:
            continue
        if answer.number is not None:
            cells[question.id + NUMBER_SUFFIX] = str(answer.number)
        elif question.multiple:
            for code in question.codes:
                cells[f"{question.id}___{code}"] = "1" if code in answer.codes else "0"
        else:
            cells[question.id] = answer.codes[0]
    result = referral.screening
    if result is not None and result.determination in DETERMINATIONS:
        cells["determination"] = result.determination
        cells["screening_date"] = _date(result.recorded_at)
        criteria = {question_id for question_id, _ in _criteria(form)}
        for check in result.criteria or []:
            question_id = str(check.get("question_id") or "")
            if question_id not in criteria:
                continue
            if check.get("agreement") in AGREEMENTS:
                cells[AGREEMENT_PREFIX + question_id] = str(check["agreement"])
            if check.get("reason") in AGREEMENT_REASONS:
                cells[REASON_PREFIX + question_id] = str(check["reason"])
    return cells


def import_csv(referrals: Iterable[Referral], form: trial_form.TrialForm | None = None) -> str:
    """The screening log for REDCap's Data Import Tool: the dictionary's names as header, one row per referral."""
    form = form or trial_form.load()
    columns = header(form)
    rows = [columns]
    for referral in referrals:
        cells = record(referral, form)
        rows.append([cells.get(column, "") for column in columns])
    return _render(rows)


def export_dictionary(session: Session, *, actor_id: int) -> str:
    body = dictionary()
    audit.record(session, action="export", actor_id=actor_id, detail="redcap_dictionary")
    return body


def export_records(session: Session, referrals: Sequence[Referral], *, actor_id: int) -> str:
    """The import CSV, audited like the referral CSV export: every referral in it, by id (the caller commits)."""
    body = import_csv(referrals)
    audit.record_shown(
        session, action="export", actor_id=actor_id, referral_ids=[r.id for r in referrals]
    )
    return body


def download_headers(kind: str, now: datetime | None = None) -> dict[str, str]:
    moment = now or datetime.now(timezone.utc)
    return {
        "Content-Disposition": f'attachment; filename="redcap-{kind}-{moment:%Y%m%d-%H%M}.csv"',
        "Cache-Control": "no-store",
    }
