"""Issue 15, item 1, in Chromium: a coordinator marks a referral screened and records the team's result.

The referral comes straight through the intake (no chat needed). The form is
the referral page's own, sent by static/staff.js with the session's CSRF token;
the same request without the token is refused. axe-core checks the page with
the form open and after saving.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402

from tests.browser.helpers import assert_accessible, log_in, post_referral  # noqa: E402
from tests.servers import COORDINATOR_EMAIL, COORDINATOR_PASSWORD, Servers  # noqa: E402

pytestmark = pytest.mark.e2e

NAME = "Morwenna Screeningform"


def test_a_coordinator_marks_screened_and_records_the_result(
    new_page: Callable[..., Any], system: Servers, screenshots: Path
) -> None:
    rid = post_referral(system, name=NAME)
    page = new_page(width=1280, height=900)
    log_in(page, system.api_url, COORDINATOR_EMAIL, COORDINATOR_PASSWORD)
    page.goto(f"{system.api_url}/staff/referrals/{rid}")
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    result = page.get_by_role("region", name="Screening result")
    # Not contacted yet: nothing to record.
    expect(result.get_by_role("button")).to_have_count(0)
    expect(result).to_contain_text("A screening result is recorded when a referral in Contacting is marked screened")

    page.get_by_label("New status").select_option("contacting")
    page.get_by_label("Reason", exact=True).fill("Called, spoke with them")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("The status was changed.")).to_be_focused()

    # One row per criterion the bot judged; the one it did not ask is not there.
    rows = result.locator("tbody tr")
    expect(rows).to_have_count(5)
    for question in ("age", "spine_mets_confirmed", "pain_score", "prior_spine_radiation", "linden"):
        expect(result.locator(f'tr[data-screening-criterion="{question}"]')).to_have_count(1)
    assert_accessible(page, "detail with the screening form")

    # Saving without a determination does nothing (the browser asks for it).
    save = result.get_by_role("button", name="Mark screened and save the result")
    save.click()
    expect(page.get_by_role("region", name="Referral", exact=True)).to_contain_text("Contacting")

    result.get_by_label("Eligible", exact=True).check()
    pain = result.locator('tr[data-screening-criterion="pain_score"]')
    pain.get_by_role("combobox", name=re.compile("^Records")).select_option(label="Records disagree")
    pain.get_by_role("combobox", name=re.compile("^Reason")).select_option(
        label="The question was understood differently"
    )
    age = result.locator('tr[data-screening-criterion="age"]')
    age.get_by_role("combobox", name=re.compile("^Records")).select_option(label="Records agree")
    # A reason beside "agree" is refused with the API's words, and nothing changes.
    age.get_by_role("combobox", name=re.compile("^Reason")).select_option(label="Another reason")
    result.get_by_label("Reason for marking it screened").fill("Checked the records with the team")
    save.click()
    error = result.locator('[data-role="form-error"]')
    expect(error).to_have_text(
        "A reason is only for a criterion where the records disagree or that was not checked."
    )
    expect(error).to_be_focused()
    age.get_by_role("combobox", name=re.compile("^Reason")).select_option(label="No reason given")
    save.click()

    expect(page.get_by_text("The screening result was saved.")).to_be_focused()
    expect(page.get_by_role("region", name="Referral", exact=True)).to_contain_text("Screened")
    expect(result).to_contain_text("Recorded: Eligible")
    expect(result).to_contain_text(COORDINATOR_EMAIL)
    expect(page.get_by_role("table", name="Status changes")).to_contain_text("Checked the records with the team")
    expect(pain.get_by_role("combobox", name=re.compile("^Records"))).to_have_value("disagree")
    expect(pain.get_by_role("combobox", name=re.compile("^Reason"))).to_have_value("question_misunderstood")
    expect(result.get_by_label("Reason for marking it screened")).to_have_count(0)
    expect(result.get_by_role("button", name="Save the screening result")).to_be_visible()
    assert_accessible(page, "detail after the screening result")

    # The same change without the session's CSRF token is refused (the page's cookie alone is not enough).
    refused = page.request.post(
        f"{system.api_url}/coordinator/referrals/{rid}/screening",
        data=json.dumps({"determination": "not_eligible"}),
        headers={"Content-Type": "application/json"},
    )
    assert refused.status == 403
    page.reload()
    expect(result).to_contain_text("Recorded: Eligible")

    # The result is in the validity figures: counts beside every share, and the limits in plain words.
    page.get_by_role("link", name="Statistics").click()
    validity = page.get_by_role("table", name=re.compile("^Validity, last"))
    confirmed = validity.get_by_role("row", name=re.compile("Likely a fit\" confirmed eligible"))
    expect(confirmed.locator("td")).to_contain_text(re.compile(r"\d+% \(\d+ of \d+\)"))
    expect(page.get_by_role("table", name="Agreement by criterion")).to_contain_text("pain_score")
    expect(page.get_by_role("table", name="Criteria with the most disagreements")).to_contain_text("pain_score")
    expect(page.locator("#validity-limits")).to_contain_text("negative predictive value cannot be measured")
    expect(page.get_by_role("link", name="Download these statistics as CSV")).to_have_attribute(
        "href", "/coordinator/stats.csv?weeks=12"
    )
    assert NAME not in page.content()
    assert_accessible(page, "statistics with validity figures")
    page.get_by_role("region", name=re.compile("How well the pre-screener works")).screenshot(
        path=str(screenshots / "coordinator-stats-validity.png")
    )
