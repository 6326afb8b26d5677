"""Four small overrides of Rasa 3.6.21 internals that cost most of a patient message's CPU.

Each replaces one method with code that gives the same result, and caches
what Rasa recomputes on every call (issue 14's profile):

- `RemoteAction._validate_action_result` calls `jsonschema.validate`, which
  checks the schema against its meta-schema and builds a new validator for
  every action-server reply (tens of ms each). Here the schema is checked and
  the validator built once; the reply is checked with the same validator
  class, the same best_match error and the same message.
- `Event.resolve_by_type` walks every Event subclass (with `inspect.isabstract`
  on each) for every event it deserialises, and Rasa deserialises every event
  of the conversation from the tracker store on every turn. Here the
  type-name-to-class map is kept, and rebuilt by Rasa's own walk on a miss,
  so an Event class imported later is still found.
- `RemoteAction._action_call_format` sends the action server every event of
  the conversation, each as a dict (80 KB of JSON at the end of a screening),
  on every call, to be encoded here and parsed there. Our actions read the
  slots, the latest message and this turn's events only (the form's slot
  candidates; `actions/safe_action.py` says so to whoever writes the next
  one). Here the call carries the events from the latest user message on;
  everything else is Rasa's own tracker state and domain rule.
- `EndpointConfig.session` makes a new aiohttp session, and so a new TCP
  connection to the action server, for every call (two or three a message).
  Here one session per endpoint and event loop is kept and its connections
  reused, dropped after KEEP_ALIVE_S idle, before the action server's own
  keep-alive (Sanic's 5 s) closes them; the nlu channel closes the sessions
  when the server stops. Headers, authentication and timeout are Rasa's.

They are tied to the exact Rasa pin: on any other version nothing is replaced
and Rasa's own code runs (a newer Rasa may have fixed or changed these). They
are installed when the Rasa server loads our input channel (nlu/channel.py),
the one way into the server.
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Any, Dict, Optional, Text, Type

import aiohttp
import rasa
import rasa.shared.utils.common
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

# The Rasa version whose methods these replace (requirements/rasa.lock.txt).
RASA_PIN = "3.6.21"
RASAS_VALIDATE = RemoteAction._validate_action_result
RASAS_RESOLVE = Event.resolve_by_type
RASAS_CALL_FORMAT = RemoteAction._action_call_format
RASAS_SESSION = EndpointConfig.session


@lru_cache(maxsize=1)
def reply_validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # what jsonschema.validate does on every call, done once
    return cls(schema)


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """Rasa's method body with the validator built once: True, or the same ValidationError."""
    error = best_match(reply_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


# type_name -> the first Event subclass Rasa's walk finds with that name.
EVENT_TYPES: dict[str, Type[Event]] = {}


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """Rasa's Event.resolve_by_type, with the walk over the subclasses done once (again on a miss)."""
    found = EVENT_TYPES.get(type_name)
    if found is None:
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            EVENT_TYPES.setdefault(cls.type_name, cls)
        found = EVENT_TYPES.get(type_name)
    if found is not None:
        return found
    if type_name == "topic":
        return None  # Rasa's backwards compatibility for old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def this_turn(tracker: DialogueStateTracker) -> list[Event]:
    """The events from the latest user message on (all of them before the first one)."""
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            return events[index:]
    return events


def action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Any) -> Dict[Text, Any]:
    """Rasa's request to the action server, with this turn's events instead of the whole conversation's."""
    tracker_state = tracker.current_state(EventVerbosity.NONE)
    tracker_state["events"] = [event.as_dict() for event in this_turn(tracker)]
    result = {
        "next_action": self._name,
        "sender_id": tracker.sender_id,
        "tracker": tracker_state,
        "version": rasa.__version__,
    }
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


# Idle connections to the action server are closed after this long (below Sanic's 5 s keep-alive).
KEEP_ALIVE_S = 2.0
# (event loop, url, headers, auth) -> the session kept for that endpoint on that loop.
KEPT_SESSIONS: dict[tuple[asyncio.AbstractEventLoop, Text, Text, Text], aiohttp.ClientSession] = {}


class _KeptOpen:
    """What Rasa's `async with endpoint.session() as session` gets: the kept session, left open on exit."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *_exc: Any) -> None:
        return None


def kept_session(self: EndpointConfig) -> _KeptOpen:
    """Rasa's EndpointConfig.session (same headers, auth, timeout), made once per endpoint and event loop."""
    key = (asyncio.get_running_loop(), self.url, repr(sorted((self.headers or {}).items())), repr(self.basic_auth))
    session = KEPT_SESSIONS.get(key)
    if session is None or session.closed:
        # Rasa's method body, on a connector that keeps connections for KEEP_ALIVE_S.
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
        session = aiohttp.ClientSession(
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_S),
        )
        KEPT_SESSIONS[key] = session
    return _KeptOpen(session)


async def close_kept_sessions() -> None:
    """Close the kept sessions (the Rasa server is stopping)."""
    sessions = list(KEPT_SESSIONS.values())
    KEPT_SESSIONS.clear()
    for session in sessions:
        await session.close()


def install(version: str = rasa.__version__) -> bool:
    """Put the overrides in place on the pinned Rasa only (else Rasa's own code); whether they were."""
    pinned = version == RASA_PIN
    if not pinned:
        logger.warning(
            "Rasa %s is not %s: its own action-reply check, event lookup, action calls and sessions are kept", version, RASA_PIN
        )
    RemoteAction._validate_action_result = validate_action_result if pinned else RASAS_VALIDATE  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_by_type if pinned else RASAS_RESOLVE)  # type: ignore[method-assign,assignment]
    RemoteAction._action_call_format = action_call_format if pinned else RASAS_CALL_FORMAT  # type: ignore[method-assign]
    EndpointConfig.session = kept_session if pinned else RASAS_SESSION  # type: ignore[method-assign,assignment]
    return pinned
