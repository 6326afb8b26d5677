"""The people the end-to-end tests, benchmarks and reliability checks play.

One definition of each persona, so a change to the questions (a new one, a
reordered list, a reworded button) is made here once. Standard library only:
the Rasa environment (tests/e2e) and the API environment (tests/api,
tests/reliability, tests/privacy, tests/browser) both import it.

An answer is what the person types (a string) or the button they press (a
one-item tuple holding its title).
"""

from __future__ import annotations

from typing import Union

Click = tuple[str]  # ("Button title",) presses a button; a plain string is typed
Answer = Union[str, Click]

# A likely fit, typing like a person where it can; the questions they are asked, in order.
LIKELY_FIT: dict[str, Answer] = {
    "respondent": "it's for me",
    "red_flags": "no, none of those",
    "age": "I'm 64",
    "spine_mets_confirmed": "yes, the MRI showed it",
    "spine_region": "between my shoulder blades",
    "pain_score": "about a 6 or 7 out of 10",
    "pain_warning_signs": ("No",),
    "cord_compression_told": "no",
    "primary_cancer": "breast cancer",
    "pregnancy": ("Not possible",),
    "prior_spine_radiation": "never had radiation",
    "performance_status": ("Does all usual activities, with no limits",),
    "visceral_metastases": "no",
    "able_to_attend": "yes I can come",
}
LIKELY_FIT_ORDER = list(LIKELY_FIT)  # breastfeeding is skipped when pregnancy is not possible
# How the likely fit's answers read back in the referral (the criteria engine's values).
LIKELY_FIT_READ = {"age": 64, "spine_region": ["thoracic"]}
CONTACT_ORDER = ["consent_contact", "contact_name", "contact_reach", "contact_time", "contact_language", "contact_confirmed"]
# A helper is also asked whether the person agrees, and who they are (I1).
HELPER_CONTACT_ORDER = [CONTACT_ORDER[0], "helper_agreement", "patient_name", "helper_relationship", *CONTACT_ORDER[1:]]
SENT = "sent your answers"  # words of utter_referral_sent


def contact(name: str, reach: str, time: Answer = ("Morning",), language: Answer = ("English",),
            patient: str = "Pat Helped") -> dict[str, Answer]:
    """Consent, contact details and the confirming tap: the answers after a likely-fit outcome.

    A helper is also asked whether the person agrees and who they are (`patient`); a patient never is.
    """
    return {
        "consent_contact": ("Yes",),
        "helper_agreement": ("Yes, they agree",),
        "patient_name": patient,
        "helper_relationship": ("Friend",),
        "contact_name": name,
        "contact_reach": reach,
        "contact_time": time,
        "contact_language": language,
        "contact_confirmed": ("Yes, send it",),
    }


def likely_fit(name: str, reach: str, **changes: Answer) -> dict[str, Answer]:
    """The likely fit who consents and leaves `name` and `reach`; `changes` replace answers by question id."""
    return {**LIKELY_FIT, **contact(name, reach), **changes}
