"""Security review, issue 12, finding 7 (d, e, f): the coordinators' side.

(d) a coordinator session ends COORDINATOR_MAX_HOURS after login, however active;
(e) no search text (names, phones, e-mails) in any address, none carried through
    the login page's `next`, and no patient name in a page title;
(f) every list view and every CSV export audits the ids of the referrals it showed.

On SQLite and PostgreSQL (the `client` fixture runs each test on both).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.core.config import get_settings
from api.deps import COORDINATOR_COOKIE
from api.models import AuditEvent, CoordinatorSession, Referral
from api.services import audit
from tests.api.factories import (
    PASSWORD,
    Actor,
    add_referral,
    db,
    logged_in,
    login,
    new_client,
    post_referral,
    referral_body,
)

NAME, EMAIL, PHONE = "Zebulon Quartermaine", "zeb.q@patient.example", "+1 587 555 0177"
OTHER = "Second Patient"
EXPIRED = "Your session expired. Please log in again."
# Every address a page hands the browser: links, forms, scripts, and the JS forms' targets.
_ADDRESSES = re.compile(r'\b(?:href|src|action|data-url|data-next)="([^"]*)"')


@pytest.fixture(autouse=True)
def _no_kept_searches() -> None:
    """No search kept by an earlier test (session ids start again at 1 in each test's database)."""
    try:
        from api.web.staff import searches
    except ImportError:  # code from before finding 7: its tests then fail on what they check
        return
    searches.forget_all()


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found, "every page has a title"
    return unescape(found.group(1))


def _addresses(html: str) -> list[str]:
    return [unescape(a) for a in _ADDRESSES.findall(html)]


def _phi_in(text: str) -> list[str]:
    lowered = unescape(text).lower()
    # Whole words only: short digit runs would also turn up in random ids and handles.
    words = (NAME, "zebulon", "quartermaine", EMAIL, "zeb.q", PHONE, "555 0177", "5550177", OTHER.lower())
    return [w for w in words if w.lower() in lowered]


def _audit(action: str, since: int = 0) -> list[AuditEvent]:
    with db() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == action, AuditEvent.id > since)
                .order_by(AuditEvent.id)
            )
        )


def _last_audit_id() -> int:
    with db() as session:
        return session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def _search(actor: Actor, **fields: str) -> str:
    """Post the queue's filter form as static/staff.js does; returns the address it answers."""
    form = {"q": "", "status": "", "outcome": "", "received_from": "", "received_to": "", **fields}
    response = actor.post("/staff/referrals/search", json=form)
    assert response.status_code == 200, response.text
    return response.json()["next"]


# --- (d) an absolute session lifetime ---------------------------------------------------------


def _move_login(by: timedelta) -> None:
    """Move every session's login time back by `by`; it was used just now (never idle)."""
    now = datetime.now(timezone.utc)
    with db() as session:
        for row in session.scalars(select(CoordinatorSession)).all():
            row.created_at = now - by
            row.last_seen_at = now
        session.commit()


def test_finding_7_absolute_session_lifetime(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COORDINATOR_MAX_HOURS", "2")
    get_settings.cache_clear()
    actor = logged_in(client.app)
    # Active all along (last seen just now), so only the time since login can end it.
    _move_login(timedelta(hours=2) - timedelta(minutes=5))
    assert actor.get("/auth/me").status_code == 200, "inside the lifetime"
    assert actor.get("/staff/referrals").status_code == 200

    _move_login(timedelta(hours=2, minutes=1))
    expired = actor.get("/auth/me")
    assert expired.status_code == 401 and expired.json() == {"detail": EXPIRED}
    with db() as session:
        assert session.scalar(select(CoordinatorSession)).revoked_at is not None, "revoked, not just refused"
    page = actor.get("/staff/referrals")
    assert page.status_code == 401 and "data-login" in page.text, "the pages answer with the login form"
    # Revoked stays revoked, whatever the clock says later.
    _move_login(timedelta(0))
    assert actor.get("/auth/me").status_code == 401
    assert actor.get("/coordinator/referrals").status_code == 401

    # A fresh login is a fresh session with its own lifetime; on a page, the same expiry message.
    again = new_client(client.app)
    login(again, actor.email, PASSWORD)
    assert again.get("/auth/me").status_code == 200
    assert again.cookies[COORDINATOR_COOKIE] != actor.client.cookies.get(COORDINATOR_COOKIE)
    _move_login(timedelta(hours=3))
    page = again.get("/staff/referrals")
    assert page.status_code == 401 and EXPIRED in page.text


# --- (e) no search text in addresses, no name in titles ----------------------------------------


def test_finding_7_search_terms_not_in_urls(client: TestClient) -> None:
    mine = add_referral(client, name=NAME, email=EMAIL, phone=PHONE)["referral_id"]
    other = add_referral(client, name=OTHER, email="second@patient.example", phone="+1 403 555 0199")[
        "referral_id"
    ]
    actor = logged_in(client.app)

    for term in ("Zebulon", EMAIL, "587 555 0177", "5550177"):
        address = _search(actor, q=term, status="new")
        assert address.startswith("/staff/referrals?"), address
        assert _phi_in(address) == [] and term.lower() not in address.lower(), address
        params = parse_qs(urlsplit(address).query)
        assert params["status"] == ["new"], "filters that are not patient data stay in the address"
        assert set(params) == {"status", "search"} and "q" not in params
        page = actor.get(address)
        assert page.status_code == 200
        assert f'href="/staff/referrals/{mine}"' in page.text and f"/staff/referrals/{other}" not in page.text
        assert f'value="{term}"' in unescape(page.text), "the search box shows what was searched"
        for target in _addresses(page.text):
            assert _phi_in(target) == [], f"{term}: {target}"
        assert _phi_in(_title(page.text)) == []

    # The CSV link of the searched queue: the handle, not the text; and it exports only the match.
    address = _search(actor, q="zebulon")
    page = actor.get(address).text
    [export] = [a for a in _addresses(page) if ".csv" in a]
    assert export.startswith("/staff/referrals.csv?search=") and _phi_in(export) == []
    csv_text = actor.get(export).text
    assert NAME in csv_text and OTHER not in csv_text

    # Old `?q=` addresses are not read: the page takes no search text from its address.
    legacy = actor.get("/staff/referrals", params={"q": NAME})
    assert OTHER in legacy.text and 'value=""' in legacy.text

    # Paging keeps the search as its handle only.
    for i in range(26):
        add_referral(client, name=f"Zebulon Many {i}")
    page = actor.get(_search(actor, q="Zebulon")).text
    pager = [a for a in _addresses(page) if "page=2" in a]
    assert pager and all(_phi_in(a) == [] and "search=" in a for a in pager), pager
    assert "Zebulon Many" in actor.get(pager[0]).text

    # A blank search has no handle at all; the "Clear" link is the bare queue.
    assert _search(actor, q="   ") == "/staff/referrals"
    assert _search(actor, q="", outcome="needs_review") == "/staff/referrals?outcome=needs_review"

    # A handle means nothing to another session.
    someone = logged_in(client.app)
    theirs = someone.get(address)
    assert theirs.status_code == 200 and "That search is no longer kept" in theirs.text
    assert 'value="zebulon"' not in theirs.text.lower()
    assert someone.get(export).status_code == 410, "never export more than was searched for"

    # Posting the search needs the session's CSRF token, like every other form.
    assert actor.client.post("/staff/referrals/search", json={"q": "Zebulon"}).status_code == 403
    assert new_client(client.app).post("/staff/referrals/search", json={"q": "x"}).status_code == 401

    # No name in the title of a referral's pages (titles end up in browser history).
    for path, title in (
        (f"/staff/referrals/{mine}", f"Referral {mine}"),
        (f"/staff/referrals/{mine}/delete", f"Delete referral {mine}"),
    ):
        html = actor.get(path).text
        assert _title(html).startswith(title) and _phi_in(_title(html)) == [], _title(html)
        assert NAME in unescape(html), "the page itself still shows who it is"
        assert all(_phi_in(a) == [] for a in _addresses(html))

    # The JSON API has a search that takes the text in its body too.
    found = actor.post("/coordinator/referrals/search", json={"q": "quartermaine"})
    assert found.status_code == 200 and [i["id"] for i in found.json()["items"]] == [mine]
    assert actor.client.post("/coordinator/referrals/search", json={"q": "x"}).status_code == 403
    # ... and its CSV; the address takes no search text at all.
    exported = actor.post("/coordinator/referrals/search.csv", json={"q": "quartermaine"})
    assert exported.status_code == 200 and NAME in exported.text and OTHER not in exported.text
    for path in ("/coordinator/referrals", "/coordinator/referrals.csv"):
        spec = client.app.openapi()["paths"][path]["get"]
        assert "q" not in [p["name"] for p in spec["parameters"]], path

    # The refused referrals' pages (admins): ids in addresses and titles, never a name.
    refused = referral_body(name=NAME, email=EMAIL, phone=PHONE)
    refused["channel"] = "web"
    assert post_referral(client, refused).status_code == 422
    admin = logged_in(client.app, role="admin")
    for path in ("/staff/dead-letters", f"/staff/dead-letters/{refused['referral_id']}"):
        html = admin.get(path).text
        assert _phi_in(_title(html)) == [] and all(_phi_in(a) == [] for a in _addresses(html)), path


def test_finding_7_login_next_drops_query(client: TestClient) -> None:
    anonymous = new_client(client.app)

    def next_of(response) -> str:  # type: ignore[no-untyped-def]
        assert response.status_code in (200, 401), response.status_code
        found = re.search(r'data-login data-url="/auth/login" data-next="([^"]*)"', response.text)
        assert found, response.text
        return unescape(found.group(1))

    # The login form shown in place of a page: back to that page's path, never its query.
    refused = anonymous.get("/staff/referrals", params={"status": "new", "search": "abc", "q": NAME})
    assert refused.status_code == 401 and next_of(refused) == "/staff/referrals"
    assert _phi_in(refused.text) == [] and "status=new" not in refused.text and "search=abc" not in refused.text
    assert next_of(anonymous.get("/staff/referrals/abc-123", params={"done": "note"})) == "/staff/referrals/abc-123"

    # The login page's own `next`: the path only, and only one of our pages.
    for given, expected in (
        (f"/staff/referrals?q={NAME}", "/staff/referrals"),
        ("/staff/referrals/abc-123?done=status#notes", "/staff/referrals/abc-123"),
        ("/staff/audit?referral_id=abc", "/staff/audit"),
        ("/staff/stats", "/staff/stats"),
        ("//evil.example/staff/", "/staff/referrals"),
        ("https://evil.example/staff/referrals", "/staff/referrals"),
        ("/staff//evil.example", "/staff/referrals"),
        ("/staff/\\evil.example", "/staff/referrals"),
        ("/\\evil.example", "/staff/referrals"),
        ("/staff/../../evil", "/staff/referrals"),
        ("/staff/%2F%2Fevil.example", "/staff/referrals"),
        ("/staff/\t/evil.example", "/staff/referrals"),
        ("javascript:alert(1)//staff/", "/staff/referrals"),
        (" /staff/referrals", "/staff/referrals"),
        ("/chat", "/staff/referrals"),
    ):
        page = anonymous.get("/staff/login", params={"next": given})
        assert page.status_code == 200 and next_of(page) == expected, given
        assert _phi_in(page.text) == []


# --- (f) list and export audit rows name the referrals --------------------------------------------


def _ids_of(rows: list[AuditEvent]) -> list[str]:
    """The referral ids a list or export audited, in order, over all the rows it wrote."""
    ids: list[str] = []
    for row in rows:
        assert row.detail is not None and row.referral_id is None
        found = re.fullmatch(r"rows=(\d+)(?: part=(\d+)/(\d+))? ids=([A-Za-z0-9,-]+)", row.detail)
        assert found, row.detail
        ids.extend(found.group(4).split(","))
    return ids


def test_finding_7_list_and_export_audit_name_referrals(client: TestClient) -> None:
    first = add_referral(client, name=NAME, email=EMAIL, phone=PHONE)["referral_id"]
    second = add_referral(client, name=OTHER)["referral_id"]
    third = add_referral(client, outcome="needs_review")["referral_id"]
    actor = logged_in(client.app)
    with db() as session:
        received = {r.id: r.received_at for r in session.scalars(select(Referral))}
    newest_first = sorted(received, key=lambda i: (-received[i].timestamp(), i))
    oldest_first = sorted(received, key=lambda i: (received[i].timestamp(), i))
    assert set(newest_first) == {first, second, third}

    since = _last_audit_id()
    listed = actor.get("/coordinator/referrals").json()["items"]
    [row] = _audit("list", since)
    assert row.actor_id == actor.id and row.detail == f"rows=3 ids={','.join(i['id'] for i in listed)}"
    assert [i["id"] for i in listed] == newest_first

    since = _last_audit_id()
    assert actor.get("/coordinator/referrals", params={"status": "contacting"}).json()["items"] == []
    assert [r.detail for r in _audit("list", since)] == ["rows=0"]

    since = _last_audit_id()
    assert actor.post("/coordinator/referrals/search", json={"q": "Zebulon"}).status_code == 200
    assert [r.detail for r in _audit("list", since)] == [f"rows=1 ids={first}"]

    since = _last_audit_id()
    assert actor.get("/staff/referrals", params={"outcome": "needs_review"}).status_code == 200
    assert [r.detail for r in _audit("list", since)] == [f"rows=1 ids={third}"]
    since = _last_audit_id()
    assert actor.get(_search(actor, q="Quartermaine")).status_code == 200
    assert [r.detail for r in _audit("list", since)] == [f"rows=1 ids={first}"]

    since = _last_audit_id()
    assert actor.get("/coordinator/referrals.csv").status_code == 200
    [row] = _audit("export", since)
    assert row.actor_id == actor.id and row.detail == f"rows=3 ids={','.join(oldest_first)}"
    since = _last_audit_id()
    assert actor.get("/staff/referrals.csv", params={"outcome": "likely_eligible"}).status_code == 200
    assert _ids_of(_audit("export", since)) == [i for i in oldest_first if i != third]

    # Long lists: more ids than one detail column holds are split over rows, none cut or left out.
    for i in range(30):
        add_referral(client, name=f"Many Patient {i}")
    since = _last_audit_id()
    page = actor.get("/coordinator/referrals", params={"page_size": 25}).json()
    rows = _audit("list", since)
    limit = audit.detail_limit()
    assert limit is not None and len(rows) > 1, "25 ids of 36 characters do not fit one row of 200"
    assert all(len(r.detail or "") <= limit for r in rows)
    assert [r.detail.split(" ids=")[0] for r in rows] == [  # type: ignore[union-attr]
        f"rows=25 part={n}/{len(rows)}" for n in range(1, len(rows) + 1)
    ]
    assert _ids_of(rows) == [i["id"] for i in page["items"]]
    since = _last_audit_id()
    assert actor.get("/coordinator/referrals.csv").status_code == 200
    with db() as session:
        everything = [
            r.id for r in session.scalars(select(Referral).order_by(Referral.received_at, Referral.id))
        ]
    exported = _audit("export", since)
    assert len(everything) == 33 and _ids_of(exported) == everything
    assert all(len(r.detail or "") <= limit for r in exported)

    # Ids only: no patient data in any audit row.
    with db() as session:
        details = " ".join(r.detail or "" for r in session.scalars(select(AuditEvent)))
    assert _phi_in(details) == [] and "Many Patient" not in details


def test_finding_7_shown_details_never_cut_an_id() -> None:
    ids = [f"id-{n:04d}" for n in range(40)]
    details = audit.shown_details(ids, limit=60)
    assert len(details) > 1 and all(len(d) <= 60 for d in details)
    assert [i for d in details for i in d.split(" ids=")[1].split(",")] == ids
    assert audit.shown_details(ids[:2], limit=60) == ["rows=2 ids=id-0000,id-0001"]
    assert audit.shown_details([], limit=60) == ["rows=0"]
    with pytest.raises(ValueError):
        audit.shown_details(["x" * 64], limit=60)


def test_finding_7_logout_forgets_the_kept_searches(client: TestClient) -> None:
    from api.web.staff import searches

    actor = logged_in(client.app)
    with db() as session:
        session_id = session.scalars(select(CoordinatorSession.id)).one()
    handle = searches.keep(session_id, NAME)
    assert searches.find(session_id, handle, max_age=timedelta(hours=1)) == NAME
    assert actor.client.post("/auth/logout", headers={"X-CSRF-Token": actor.csrf}).status_code == 200
    assert searches.find(session_id, handle, max_age=timedelta(hours=1)) is None
