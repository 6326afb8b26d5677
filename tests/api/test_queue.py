"""The referral queue: filters and search, detail, status workflow, notes, delete (P4), CSV (S5), S4, S7."""

from __future__ import annotations

import csv
import io
import threading
from datetime import datetime, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text

from api.core.config import get_settings
from api.db import sqlalchemy_url
from api.models import ChatSession, Referral, ReferralNote, StatusChange
from tests.api.factories import Actor, add_referral, db, logged_in


@pytest.fixture
def actor(client: TestClient) -> Actor:
    return logged_in(client.app)


def _received_on(referral_id: str, moment: datetime) -> None:
    with db() as session:
        session.get(Referral, referral_id).received_at = moment
        session.commit()


def _ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


# --- list, filters, search, paging -------------------------------------------------------


def test_filters_by_status_outcome_and_received_dates(client: TestClient, actor: Actor) -> None:
    jan = add_referral(client, name="January Person", outcome="likely_eligible")["referral_id"]
    feb = add_referral(client, name="February Person", outcome="needs_review")["referral_id"]
    mar = add_referral(client, name="March Person", outcome="needs_review")["referral_id"]
    _received_on(jan, datetime(2025, 1, 15, 12, tzinfo=timezone.utc))
    _received_on(feb, datetime(2025, 2, 28, 23, 59, tzinfo=timezone.utc))
    _received_on(mar, datetime(2025, 3, 1, 0, 0, tzinfo=timezone.utc))
    actor.post(f"/coordinator/referrals/{feb}/status", json={"status": "contacting", "reason": "called"})

    assert _ids(actor.get("/coordinator/referrals")) == [mar, feb, jan], "newest first"
    assert _ids(actor.get("/coordinator/referrals", params={"status": "new"})) == [mar, jan]
    assert _ids(actor.get("/coordinator/referrals", params={"status": "contacting"})) == [feb]
    assert _ids(actor.get("/coordinator/referrals", params={"outcome": "needs_review"})) == [mar, feb]
    assert _ids(actor.get("/coordinator/referrals", params={"received_from": "2025-02-01"})) == [mar, feb]
    # Both ends inclusive, whole UTC days.
    assert _ids(actor.get("/coordinator/referrals", params={"received_to": "2025-02-28"})) == [feb, jan]
    assert _ids(
        actor.get("/coordinator/referrals", params={"received_from": "2025-02-28", "received_to": "2025-02-28"})
    ) == [feb]
    assert _ids(
        actor.get("/coordinator/referrals", params={"outcome": "needs_review", "status": "new"})
    ) == [mar]
    for bad in ({"status": "bogus"}, {"outcome": "urgent_care"}, {"received_from": "yesterday"}, {"page": 0}):
        assert actor.get("/coordinator/referrals", params=bad).status_code == 422


def test_search_by_name_email_and_phone(client: TestClient, actor: Actor) -> None:
    pat = add_referral(client, name="Patricia O'Neil", email="pat.oneil@example.org", phone="(403) 555-0199")
    sam = add_referral(client, name="Samir Haddad", email="samir@example.net", phone="+1 780 555 0142")
    ann = add_referral(client, name="Ann_Percent 100%", email=None, phone=None)
    ids = {b["referral_id"]: b["contact"]["name"] for b in (pat, sam, ann)}

    def search(q: str) -> set[str]:
        return {ids[i] for i in _ids(actor.post("/coordinator/referrals/search", json={"q": q}))}

    assert search("patricia") == {"Patricia O'Neil"}, "case-insensitive name"
    assert search("O'NEIL") == {"Patricia O'Neil"}
    assert search("example.net") == {"Samir Haddad"}, "email"
    assert search("4035550199") == {"Patricia O'Neil"}, "phone digits, whatever the punctuation"
    assert search("780-555") == {"Samir Haddad"}
    assert search("0142") == {"Samir Haddad"}
    assert search("example") == {"Patricia O'Neil", "Samir Haddad"}
    assert search("%") == {"Ann_Percent 100%"}, "LIKE wildcards are searched for literally"
    assert search("n_p") == {"Ann_Percent 100%"}
    assert search("nobody") == set()
    assert search("   ") == set(ids.values()), "blank search is no search"


def test_a_helpers_referral_is_listed_searched_and_exported_under_the_patients_name(client: TestClient, actor: Actor) -> None:
    helper = {"patient_name": "Rosa Whitford", "relationship": "son or daughter", "standing": "decision_maker"}
    helped = add_referral(client, name="Dev Whitford", respondent="caregiver", helper=helper)
    add_referral(client, name="Other Person")
    found = actor.post("/coordinator/referrals/search", json={"q": "rosa"}).json()["items"]
    assert [(i["id"], i["patient_name"], i["contact_name"]) for i in found] == [
        (helped["referral_id"], "Rosa Whitford", "Dev Whitford")]
    page = actor.get("/staff/referrals")
    assert "Rosa Whitford</a> <span class=\"hint\">(helper: Dev Whitford)</span>" in page.text
    rows = {r["referral_id"]: r for r in _csv_rows(actor.get("/coordinator/referrals.csv"))}
    row = rows[helped["referral_id"]]
    assert (row["name"], row["patient_name"], row["helper_relationship"], row["helper_standing"]) == (
        "Dev Whitford", "Rosa Whitford", "son or daughter", "decision_maker")
    assert [r["patient_name"] for r in rows.values() if r["referral_id"] != helped["referral_id"]] == [""]


def test_paging(client: TestClient, actor: Actor) -> None:
    for i in range(5):
        add_referral(client, name=f"Person {i}")
    first = actor.get("/coordinator/referrals", params={"page_size": 2}).json()
    second = actor.get("/coordinator/referrals", params={"page_size": 2, "page": 2}).json()
    third = actor.get("/coordinator/referrals", params={"page_size": 2, "page": 3}).json()
    assert first["total"] == second["total"] == 5 and first["page_size"] == 2 and second["page"] == 2
    pages = [[i["id"] for i in p["items"]] for p in (first, second, third)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert len({i for p in pages for i in p}) == 5
    assert actor.get("/coordinator/referrals", params={"page_size": 101}).status_code == 422


# --- detail ---------------------------------------------------------------------------


def test_detail_has_every_criterion_linden_contact_consent_history_and_notes(client: TestClient, actor: Actor) -> None:
    body = add_referral(client, name="Dana Detail")
    rid = body["referral_id"]
    actor.post(f"/coordinator/referrals/{rid}/status", json={"status": "contacting", "reason": "left a voicemail"})
    actor.post(f"/coordinator/referrals/{rid}/notes", json={"text": "Prefers calls after 10."})
    response = actor.get(f"/coordinator/referrals/{rid}")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    detail = response.json()
    assert detail["id"] == rid and detail["status"] == "contacting" and detail["outcome"] == "likely_eligible"
    assert detail["allowed_transitions"] == ["screened", "withdrawn"]
    assert detail["criteria"] == body["criteria"]  # self-describing: question and answer label kept
    assert detail["linden"] == body["linden"] and detail["spine_levels"] == body["spine_levels"]
    assert detail["trial_checksum"] == body["trial_checksum"] and detail["warning_signs"] == body["warning_signs"]
    assert detail["contact"] == body["contact"]
    assert detail["consent"]["text_version"] == body["consent"]["text_version"]
    assert datetime.fromisoformat(detail["consent"]["given_at"]) == datetime.fromisoformat(body["consent"]["given_at"])
    assert datetime.fromisoformat(detail["received_at"]).tzinfo is not None
    [change] = detail["status_history"]
    assert (change["from_status"], change["to_status"], change["reason"]) == ("new", "contacting", "left a voicemail")
    assert change["actor_id"] == actor.id and change["actor_email"] == actor.email
    [note] = detail["notes"]
    assert note["text"] == "Prefers calls after 10." and note["author_email"] == actor.email


def test_unknown_referral_is_404(actor: Actor) -> None:
    assert actor.get("/coordinator/referrals/no-such-referral").status_code == 404
    assert actor.post("/coordinator/referrals/no-such-referral/notes", json={"text": "x"}).status_code == 404
    assert (
        actor.post("/coordinator/referrals/no-such-referral/status", json={"status": "contacting", "reason": "x"})
    ).status_code == 404
    assert actor.delete("/coordinator/referrals/no-such-referral", json={"reason": "duplicate"}).status_code == 404
    assert actor.get("/coordinator/referrals/bad%20id!").status_code == 422


# --- status workflow --------------------------------------------------------------------


def _move(actor: Actor, rid: str, status: str, reason: str = "because") -> Any:
    return actor.post(f"/coordinator/referrals/{rid}/status", json={"status": status, "reason": reason})


def test_status_workflow_to_enrolled(client: TestClient, actor: Actor) -> None:
    rid = add_referral(client)["referral_id"]
    for status, allowed in (
        ("contacting", ["screened", "withdrawn"]),
        ("screened", ["enrolled", "not_enrolled", "withdrawn"]),
        ("enrolled", []),
    ):
        response = _move(actor, rid, status, reason=f"to {status}")
        assert response.status_code == 200, response.text
        assert response.json() == {"referral_id": rid, "status": status, "allowed_transitions": allowed}
    history = actor.get(f"/coordinator/referrals/{rid}").json()["status_history"]
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in history] == [
        ("new", "contacting", "to contacting"),
        ("contacting", "screened", "to screened"),
        ("screened", "enrolled", "to enrolled"),
    ]


@pytest.mark.parametrize(
    "path, then, expected",
    [
        ([], "enrolled", 409),
        ([], "screened", 409),
        ([], "new", 409),
        ([], "withdrawn", 200),
        (["contacting"], "not_enrolled", 409),
        (["contacting"], "withdrawn", 200),
        (["contacting", "screened"], "not_enrolled", 200),
        (["contacting", "screened"], "contacting", 409),
        (["contacting", "screened", "enrolled"], "withdrawn", 409),
        (["contacting", "screened", "not_enrolled"], "enrolled", 409),
        (["withdrawn"], "contacting", 409),
        (["withdrawn"], "withdrawn", 409),
    ],
)
def test_transitions(client: TestClient, actor: Actor, path: list[str], then: str, expected: int) -> None:
    rid = add_referral(client)["referral_id"]
    for status in path:
        assert _move(actor, rid, status).status_code == 200
    response = _move(actor, rid, then)
    assert response.status_code == expected, response.text
    with db() as session:
        assert session.scalar(select(func.count()).select_from(StatusChange)) == len(path) + (expected == 200)


def test_two_coordinators_moving_one_referral_at_once(client: TestClient, actor: Actor) -> None:
    rid = add_referral(client)["referral_id"]
    other = logged_in(client.app)
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def move(who: Actor, status: str) -> None:
        barrier.wait(timeout=10)
        codes.append(_move(who, rid, status).status_code)

    threads = [
        threading.Thread(target=move, args=(actor, "contacting")),
        threading.Thread(target=move, args=(other, "contacting")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(codes) == [200, 409]
    history = actor.get(f"/coordinator/referrals/{rid}").json()["status_history"]
    # Whichever order the two requests land in, the referral moves once.
    assert [(h["from_status"], h["to_status"]) for h in history] == [("new", "contacting")]


def test_status_needs_a_reason_and_a_known_status(client: TestClient, actor: Actor) -> None:
    rid = add_referral(client)["referral_id"]
    url = f"/coordinator/referrals/{rid}/status"
    assert actor.post(url, json={"status": "contacting"}).status_code == 422
    assert actor.post(url, json={"status": "contacting", "reason": ""}).status_code == 422
    assert actor.post(url, json={"status": "accepted", "reason": "x"}).status_code == 422
    assert actor.get(f"/coordinator/referrals/{rid}").json()["status"] == "new"


# --- notes ------------------------------------------------------------------------------


def test_notes(client: TestClient, actor: Actor) -> None:
    rid = add_referral(client)["referral_id"]
    other = logged_in(client.app)
    first = actor.post(f"/coordinator/referrals/{rid}/notes", json={"text": "First call: no answer."})
    second = other.post(f"/coordinator/referrals/{rid}/notes", json={"text": "Second call: booked."})
    assert first.status_code == second.status_code == 201
    assert first.json()["author_id"] == actor.id and second.json()["author_email"] == other.email
    notes = actor.get(f"/coordinator/referrals/{rid}").json()["notes"]
    assert [(n["text"], n["author_email"]) for n in notes] == [
        ("First call: no answer.", actor.email),
        ("Second call: booked.", other.email),
    ]
    assert actor.post(f"/coordinator/referrals/{rid}/notes", json={"text": ""}).status_code == 422
    assert actor.post(f"/coordinator/referrals/{rid}/notes", json={"text": "x" * 4001}).status_code == 422


# --- delete on withdrawal (P4) -----------------------------------------------------------


@pytest.fixture
def tracker_url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A Rasa-shaped tracker store: SQLite beside the SQLite run, the test's own PostgreSQL database beside PG."""
    if database_url.startswith("postgresql"):
        monkeypatch.setenv("TRACKER_DB_URL", database_url)
        get_settings.cache_clear()
    return get_settings().tracker_db_url


def _make_events_table(url: str, rows: list[tuple[str, str]]) -> None:
    engine = create_engine(sqlalchemy_url(url))
    with engine.begin() as connection:
        # The columns of Rasa 3.6's SQLTrackerStore events table.
        connection.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                "action_name VARCHAR(255), data TEXT)"
            )
        )
        for i, (sender, data) in enumerate(rows, start=1):
            connection.execute(
                text("INSERT INTO events (id, sender_id, type_name, timestamp, data) VALUES (:i, :s, 'user', :i, :d)"),
                {"i": i, "s": sender, "d": data},
            )
    engine.dispose()


def _events(url: str) -> list[str]:
    engine = create_engine(sqlalchemy_url(url))
    with engine.connect() as connection:
        senders = [row[0] for row in connection.execute(text("SELECT sender_id FROM events ORDER BY id"))]
    engine.dispose()
    return senders


def test_delete_removes_referral_notes_history_and_tracker_events(
    client: TestClient, actor: Actor, tracker_url: str
) -> None:
    gone = add_referral(client, name="Withdrawn Person", conversation_id="conv-withdrawn")
    kept = add_referral(client, name="Staying Person", conversation_id="conv-staying")
    _make_events_table(
        tracker_url,
        [
            ("conv-withdrawn", '{"text": "my name is Withdrawn Person"}'),
            ("conv-staying", '{"text": "hello"}'),
            ("conv-withdrawn", '{"text": "pain 7/10"}'),
        ],
    )
    with db() as session:
        session.add(ChatSession(token_hash="h" * 64, conversation_id="conv-withdrawn", outcome="likely_eligible"))
        session.commit()
    rid = gone["referral_id"]
    _move(actor, rid, "contacting")
    actor.post(f"/coordinator/referrals/{rid}/notes", json={"text": "Patient called to withdraw."})

    response = actor.delete(f"/coordinator/referrals/{rid}", json={"reason": "patient_withdrawal"})
    assert response.status_code == 200, response.text
    assert response.json() == {"referral_id": rid, "deleted": True, "tracker_events_deleted": 2}
    assert _events(tracker_url) == ["conv-staying"]
    assert actor.get(f"/coordinator/referrals/{rid}").status_code == 404
    assert _ids(actor.get("/coordinator/referrals")) == [kept["referral_id"]]
    with db() as session:
        assert session.get(Referral, rid) is None
        assert session.scalar(select(func.count()).select_from(ReferralNote)) == 0
        assert session.scalar(select(func.count()).select_from(StatusChange)) == 0
        chat = session.scalar(select(ChatSession))
        # The funnel keeps its anonymous count; nothing leads back to the conversation.
        assert chat.outcome == "likely_eligible" and chat.conversation_id != "conv-withdrawn"
        assert chat.token_hash != "h" * 64
    # Deleting again is a plain 404.
    assert actor.delete(f"/coordinator/referrals/{rid}", json={"reason": "patient_withdrawal"}).status_code == 404


def test_delete_without_a_tracker_table_deletes_the_referral(
    client: TestClient, actor: Actor, tracker_url: str
) -> None:
    rid = add_referral(client)["referral_id"]
    response = actor.delete(f"/coordinator/referrals/{rid}", json={"reason": "duplicate"})
    assert response.status_code == 200 and response.json()["tracker_events_deleted"] == 0
    with db() as session:
        assert session.get(Referral, rid) is None


def test_delete_needs_a_reason_code(client: TestClient, actor: Actor) -> None:
    rid = add_referral(client)["referral_id"]
    assert actor.delete(f"/coordinator/referrals/{rid}").status_code == 422
    assert actor.delete(f"/coordinator/referrals/{rid}", json={"reason": ""}).status_code == 422
    assert actor.delete(f"/coordinator/referrals/{rid}", json={"reason": "Pat said so"}).status_code == 422
    with db() as session:
        assert session.get(Referral, rid) is not None


def test_unreachable_tracker_store_deletes_nothing(
    client: TestClient, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = add_referral(client)["referral_id"]
    monkeypatch.setenv("TRACKER_DB_URL", "postgresql://nobody@127.0.0.1:1/tracker")
    get_settings.cache_clear()
    response = actor.delete(f"/coordinator/referrals/{rid}", json={"reason": "patient_withdrawal"})
    assert response.status_code == 503
    with db() as session:
        assert session.get(Referral, rid) is not None


# --- stored XSS (S4) and CSV export (S5) ---------------------------------------------------

XSS = ["<script>alert('x')</script>", '<img src=x onerror="alert(1)">']
FORMULAS = {
    "=HYPERLINK(\"http://evil\",\"x\")": "'=HYPERLINK(\"http://evil\",\"x\")",
    "+1+cmd|' /C calc'!A0": "'+1+cmd|' /C calc'!A0",
    "-2+3": "'-2+3",
    "@SUM(1+1)": "'@SUM(1+1)",
    "\tTabbed": "'\tTabbed",
    "\rReturn": "'\rReturn",
}


def _csv_rows(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def test_xss_payloads_come_back_as_data(client: TestClient, actor: Actor) -> None:
    for payload in XSS:
        add_referral(client, name=payload, email=f"{payload}@x", best_time=None)
    listed = actor.get("/coordinator/referrals")
    assert listed.headers["content-type"].startswith("application/json")
    assert sorted(i["contact_name"] for i in listed.json()["items"]) == sorted(XSS)
    for item in listed.json()["items"]:
        assert actor.get(f"/coordinator/referrals/{item['id']}").json()["contact"]["name"] in XSS
    rows = _csv_rows(actor.get("/coordinator/referrals.csv"))
    assert sorted(r["name"] for r in rows) == sorted(XSS), "no formula start: unchanged"


def test_csv_neutralises_formulas(client: TestClient, actor: Actor) -> None:
    for name in FORMULAS:
        add_referral(client, name=name, email="=evil@example.org", phone="+1 403 555 0101")
    response = actor.get("/coordinator/referrals.csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"].startswith('attachment; filename="referrals-')
    rows = _csv_rows(response)
    assert sorted(r["name"] for r in rows) == sorted(FORMULAS.values())
    for row in rows:
        assert row["email"] == "'=evil@example.org" and row["phone"] == "'+1 403 555 0101"
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)


def test_csv_export_follows_the_filters(client: TestClient, actor: Actor) -> None:
    add_referral(client, name="Ready Person", outcome="likely_eligible")
    review = add_referral(client, name="Review Person", outcome="needs_review")
    rows = _csv_rows(actor.get("/coordinator/referrals.csv", params={"outcome": "needs_review"}))
    assert [(r["referral_id"], r["name"], r["status"]) for r in rows] == [
        (review["referral_id"], "Review Person", "new")
    ]
    assert rows[0]["criteria_not_passed"] == "prior_spine_radiation linden"
    assert rows[0]["linden_points_min"] == "9" and rows[0]["spine_levels"] == "T7 T11-L2"
    assert _csv_rows(actor.post("/coordinator/referrals/search.csv", json={"q": "nobody"})) == []
    searched = _csv_rows(actor.post("/coordinator/referrals/search.csv", json={"q": "review person"}))
    assert [r["referral_id"] for r in searched] == [review["referral_id"]]
    # A search text in the address is not read (it would be in proxy logs and browser history).
    assert len(_csv_rows(actor.get("/coordinator/referrals.csv", params={"q": "nobody"}))) > 0


def test_phi_responses_are_not_cached(client: TestClient, actor: Actor, service_headers: dict[str, str]) -> None:
    rid = add_referral(client)["referral_id"]
    for response in (
        actor.get("/coordinator/referrals"),
        actor.get(f"/coordinator/referrals/{rid}"),
        actor.get("/coordinator/referrals.csv"),
        actor.post(f"/coordinator/referrals/{rid}/notes", json={"text": "note"}),
        actor.get("/coordinator/stats"),
    ):
        assert response.status_code in (200, 201)
        assert response.headers["cache-control"] == "no-store"
