"""The coordinators' pages, rendered on the server (Jinja2, autoescaping on).

Pages read through the coordinator services (queue, audit, stats) with the
same server-side session cookie as the JSON API, and write the same audit
rows. The pages only read: every change (log in, log out, status, note,
delete) is a form that static/staff.js sends to the existing JSON API
(api/routes/auth.py, api/routes/coordinators.py) with the session's CSRF
token in the X-CSRF-Token header, which api/deps.py checks on every
state-changing request. The token is rendered into each page
(<meta name="csrf-token">) from the server-side session, never from a cookie.

Not logged in, a wrong role, an unknown referral: the page answers with the
right status code (401, 403, 404) and an HTML page (the login form for 401),
through html_errors.HTMLErrorRoute.

One module per page or group of pages (login_page, referral_pages,
audit_page, stats_page) and per helper they share (html_errors, responses,
page, criteria_words, queue_query); `router` holds them all, in this order.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.web.staff import audit_page, login_page, referral_pages, stats_page

router = APIRouter()
for _pages in (login_page, referral_pages, audit_page, stats_page):
    router.include_router(_pages.router)
