"""Render the trial file's questions and answer codes into contract/trial_form.json.

The API never reads the trial file (its image has none: a referral carries its
own wording). The exports that describe the questions themselves (the FHIR
Questionnaire, the REDCap data dictionary; issue 15) need the trial file's
facts: each question's id, wording, answer codes with their button titles, and
what else an answer may be (a number, several regions). This script writes
them, with the trial file's version and checksum, so that the two never drift
(tests/api/test_redcap_export.py fails when they do).

    python scripts/render_trial_form.py          # write the file
    python scripts/render_trial_form.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from actions.criteria.trial_file import DEFAULT_TRIAL_FILE, Question, load_trial  # noqa: E402

OUTPUT = ROOT / "contract" / "trial_form.json"
# The code of a button whose answer is an empty list ("Yes, not sure where").
EMPTY_LIST_CODE = "unspecified"


def _code(value: Any) -> str:
    if isinstance(value, list):
        return "+".join(value) if value else EMPTY_LIST_CODE
    return str(value)


def question(q: Question) -> dict[str, Any]:
    options = [{"code": _code(b.value), "label": b.title} for b in q.buttons]
    codes = {o["code"] for o in options}
    spec = q.values
    # Answers the question accepts without a button (a typed "thyroid"): their code is their label.
    extra = sorted(t for t in spec.tokens if t not in codes)
    options += [{"code": t, "label": t} for t in extra]
    number = None
    if spec.int_range is not None:
        low, high = spec.int_range
        if not all(str(n) in codes for n in range(low, high + 1)):
            number = {"min": low, "max": high}
    return {
        "id": q.id,
        "protocol": list(q.protocol),
        "answer_type": q.answer_type,
        "stage": q.stage,
        "text": q.ask.for_self,
        "text_caregiver": q.ask.for_caregiver,
        "multiple": spec.list_items is not None,
        "options": options,
        "number": number,
    }


def render(path: Path = DEFAULT_TRIAL_FILE) -> str:
    trial = load_trial(path)
    form = {
        "generated_from": path.relative_to(ROOT).as_posix()
        if path.is_relative_to(ROOT)
        else path.name,
        "generator": "scripts/render_trial_form.py",
        "trial_id": trial.trial_id,
        "version": trial.version,
        "checksum": trial.checksum,
        "title": trial.title,
        "empty_list_code": EMPTY_LIST_CODE,
        "questions": [question(q) for q in trial.questions],
    }
    return json.dumps(form, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            print(
                f"{OUTPUT.relative_to(ROOT)} is out of date: run python scripts/render_trial_form.py"
            )
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
