"""The guarded REST input channel: the only way into the Rasa server.

Rasa's own REST channel parses any text starting with "/" as
`/intent{"slot": value}`, which would let a patient skip or preset answers by
typing. This channel accepts typed text and button payloads separately: typed
text never acts as an intent (leading slashes are dropped), and a payload is
accepted only when it equals a button of the bot's last message. It also keeps
each bot message whole (text, buttons and the `custom` contract in one dict)
and never logs what the patient typed.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

import sqlalchemy as sa
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.tracker_store import SQLTrackerStore

from contract.typed_text import neutralise_text
from nlu import rasa_overrides
from nlu.tracker_store import IncrementalSQLTrackerStore

# The Rasa server loads this channel at start-up: the cheaper Rasa internals go in with it.
rasa_overrides.install()

logger = logging.getLogger(__name__)

# Longer messages are cut, not refused: the patient still gets an answer.
MAX_TEXT_CHARS = 1000


class WholeMessageCollector(CollectingOutputChannel):
    """Collects bot messages without splitting text and `custom` into two."""

    @classmethod
    def name(cls) -> Text:
        return "prescreen"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        kept = {key: message[key] for key in ("text", "buttons", "custom", "image") if message.get(key)}
        if kept:
            kept["recipient_id"] = recipient_id
            self.messages.append(kept)


# The longest button title of the trial file is under 80 characters.
MAX_TITLE_CHARS = 100


def neutralise_typed_text(text: Text) -> Text:
    """Typed text is plain text: the gateway's own cleaning (contract/typed_text.py), then the cap."""
    return neutralise_text(text)[:MAX_TEXT_CHARS]


def offered_buttons(events: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    """The buttons in the bot's messages since the user last spoke."""
    buttons: List[Dict[Text, Any]] = []
    for event in reversed(events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            buttons += [b for b in (event.get("data") or {}).get("buttons") or [] if b.get("payload")]
    return buttons


def sql_store(store: Any) -> Optional[SQLTrackerStore]:
    """The SQL tracker store inside Rasa's wrappers (AwaitableTrackerStore, FailSafeTrackerStore), if any."""
    for _ in range(4):
        if isinstance(store, SQLTrackerStore):
            return store
        store = getattr(store, "_tracker_store", None)
    return None


def bot_events_since_user(store: SQLTrackerStore, sender_id: Text) -> List[Dict[Text, Any]]:
    """The bot events after the last user message (or session start), as stored.

    Two indexed queries instead of reading and rebuilding the whole conversation
    (a tenth of Rasa's CPU per message, growing with the conversation; issue 14).
    Rasa's SQL schema (table events, ids in order) is what the API's retention
    already relies on. Our own store answers from the rows it keeps.
    """
    if isinstance(store, IncrementalSQLTrackerStore):
        return store.bot_events_since_user(sender_id)
    event = store.SQLEvent
    with store.session_scope() as session:
        last = (
            session.query(sa.func.max(event.id))
            .filter(event.sender_id == sender_id, event.type_name.in_(("user", "session_started")))
            .scalar()
        )
        rows = (
            session.query(event.data)
            .filter(event.sender_id == sender_id, event.type_name == "bot", event.id > (last or 0))
            .order_by(event.id)
            .all()
        )
    return [json.loads(data) for (data,) in rows]


def offered_payloads(events: List[Dict[Text, Any]]) -> List[Text]:
    """Payloads of the buttons in the bot's messages since the user last spoke."""
    return [button["payload"] for button in offered_buttons(events)]


def _words(text: Text) -> List[Text]:
    return re.findall(r"[a-z0-9]+", text.lower())


def typed_button(text: Text, buttons: List[Dict[Text, Any]]) -> Optional[Text]:
    """The payload of the offered button whose title was typed word for word.

    Someone who types a button's title ("Does all usual activities, with no
    limits") has chosen it, as if they had tapped it: read as free text, a
    title can look like a question to the classifier and be answered with an
    FAQ again and again (found by the typed-only personas of make bench)."""
    typed = _words(text)
    for button in buttons:
        if typed and typed == _words(str(button.get("title") or "")):
            return str(button["payload"])
    return None


class PrescreenInput(InputChannel):
    """POST /webhooks/prescreen/webhook with {"sender", "message"} or {"sender", "payload"}."""

    @classmethod
    def name(cls) -> Text:
        return "prescreen"

    @staticmethod
    def _technical_problem(request: Request) -> Text:
        """The domain's own words for "something went wrong" (never text in code)."""
        variations = request.app.ctx.agent.domain.responses.get("utter_technical_problem") or [{}]
        return variations[0].get("text", "")

    async def _offered_buttons(self, request: Request, sender_id: Text) -> List[Dict[Text, Any]]:
        agent = request.app.ctx.agent
        store = sql_store(agent.tracker_store)
        if store is not None:
            try:
                return offered_buttons(bot_events_since_user(store, sender_id))
            except sa.exc.SQLAlchemyError:
                # Rasa's own read below goes through its fail-safe wrapper.
                logger.warning("prescreen channel: the short read of the offered buttons failed; reading the tracker")
        tracker = await agent.tracker_store.retrieve(sender_id)
        if tracker is None:
            return []
        return offered_buttons([event.as_dict() for event in tracker.events])

    async def _text_to_send(self, request: Request, sender_id: Text, body: Dict[Text, Any]) -> Optional[Text]:
        payload = body.get("payload")
        if isinstance(payload, str) and payload:
            if payload in [b["payload"] for b in await self._offered_buttons(request, sender_id)]:
                return payload
            # A payload the bot did not offer is treated like typed text.
            return neutralise_typed_text(payload)
        text = body.get("message")
        if isinstance(text, str):
            typed = neutralise_typed_text(text)
            # Short texts only: a title is a few words, and most messages need no tracker read.
            if typed and len(typed) <= MAX_TITLE_CHARS:
                chosen = typed_button(typed, await self._offered_buttons(request, sender_id))
                if chosen is not None:
                    return chosen
            return typed
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("prescreen_webhook", __name__)

        @webhook.listener("after_server_stop")
        async def close_sessions(_app: Any, _loop: Any) -> None:
            # The connections to the action server kept open (nlu/rasa_overrides.py).
            await rasa_overrides.close_kept_sessions()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:  # malformed JSON: say so, never a stack trace
                body = None
            if not isinstance(body, dict):
                return response.json({"error": "Send a JSON object."}, status=400)
            sender_id = body.get("sender")
            if not isinstance(sender_id, str) or not 0 < len(sender_id) <= 128:
                return response.json({"error": "A 'sender' id is required."}, status=400)
            text = await self._text_to_send(request, sender_id, body)
            if text is None:
                return response.json({"error": "Send 'message' or 'payload'."}, status=400)
            collector = WholeMessageCollector()
            try:
                await on_new_message(UserMessage(text, collector, sender_id, input_channel=self.name()))
            except Exception:
                # Log the kind of failure only: the text may hold health information.
                logger.error("prescreen channel: message handling failed", exc_info=False)
                return response.json({"error": "The assistant could not answer."}, status=503)
            if not collector.messages:
                # Rasa drops the reply of an action whose server died mid-way:
                # never leave the patient with nothing to read.
                logger.error("prescreen channel: the bot produced no reply")
                collector.messages.append({"recipient_id": sender_id, "text": self._technical_problem(request)})
            return response.json(collector.messages)

        return webhook
