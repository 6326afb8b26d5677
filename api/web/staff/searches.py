"""The queue's search text, kept on the server so that it is never in an address (finding 7).

Names, phone numbers and e-mails typed in the queue's search box would end up
in proxy logs, the browser's history and Referer headers if they travelled in
the URL. The search form posts them instead (POST /staff/referrals/search,
with the session's CSRF token); the text is kept here under a random handle
bound to the coordinator's session, and the queue page's address carries only
that handle (`?search=...`), which means nothing outside this process and
that session. Each search has its own handle, so the back button shows each
earlier search as it was.

Kept in this process's memory, bounded, for at most the session's absolute
lifetime (COORDINATOR_MAX_HOURS): the API runs as one process
(docker/api.Dockerfile, scripts/start.sh). A handle this process does not know
(a restart, another worker, another session, too old) is never guessed at: the
page says the search is gone and asks for it again.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from datetime import datetime, timedelta, timezone

# Searches kept per session (older ones are forgotten first) and sessions kept in all.
PER_SESSION = 50
SESSIONS = 2000

_lock = threading.Lock()
# session id -> handle -> (search text, when it was kept); least recently used first.
_kept: OrderedDict[int, OrderedDict[str, tuple[str, datetime]]] = OrderedDict()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def keep(session_id: int, text: str) -> str:
    """Keep a search text for this coordinator session; returns its handle (random, no meaning)."""
    handle = secrets.token_urlsafe(16)
    with _lock:
        searches = _kept.pop(session_id, None) or OrderedDict()
        searches[handle] = (text, _now())
        while len(searches) > PER_SESSION:
            searches.popitem(last=False)
        _kept[session_id] = searches
        while len(_kept) > SESSIONS:
            _kept.popitem(last=False)
    return handle


def find(session_id: int, handle: str, *, max_age: timedelta) -> str | None:
    """The search text behind a handle of this session, or None (unknown, another session's, too old)."""
    with _lock:
        searches = _kept.get(session_id)
        found = searches.get(handle) if searches else None
        if found is None or searches is None:
            return None
        text, kept_at = found
        if kept_at + max_age <= _now():
            del searches[handle]
            return None
        _kept.move_to_end(session_id)
        return text


def forget(session_id: int) -> None:
    """Drop a session's searches (it logged out)."""
    with _lock:
        _kept.pop(session_id, None)


def forget_all() -> None:
    """Drop every kept search (tests)."""
    with _lock:
        _kept.clear()
