"""The public chat gateway: the browser's only way to the bot.

POST /chat/sessions  starts a conversation (server-issued token; cookie + body)
POST /chat/messages  {"text": ...} or {"payload": ...} -> the bot's answer

Every answer, success or refusal, has the same shape (ChatReply; ChatStarted
adds `session_id`), so the page always has something kind to show:

| status | error              | when                                                             |
|--------|--------------------|------------------------------------------------------------------|
| 201    | -                  | session started (POST /chat/sessions)                            |
| 200    | -                  | the bot answered                                                 |
| 401    | session_unknown    | no session, unknown or malformed token                           |
| 409    | button_not_offered | a payload that is not a button of the bot's last turn; nothing   |
|        |                    | is sent to the bot and `asks` is the question still open         |
| 413    | too_long           | body far larger than any allowed message                         |
| 415    | invalid_message    | Content-Type is not application/json                             |
| 422    | too_long / empty / | text over settings.max_message_chars; nothing left after         |
|        | invalid_message    | cleaning; not a JSON object with exactly one of text / payload   |
| 429    | too_many           | rate limit per session or per client address (Retry-After set)   |
| 503    | try_again          | Rasa down, failing or slower than settings.rasa_timeout_s;       |
|        |                    | `retry: true`, `asks` unchanged, the session stays valid         |

Order of checks on /chat/messages: client rate limit, session (401), session
rate limit, body (413/415/422), then under the conversation lock: payload
offered (409), Rasa (503), record the turn.

Privacy: message text and payloads are never logged, never echoed back in a
refusal, and never stored; the Rasa sender id never leaves the server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyCookie, APIKeyHeader
from pydantic import ValidationError

from api.core.client_address import client_address
from api.core.config import Settings
from api.core.security import token_hash
from api.core.texts import text as kind_text
from api.deps import SessionDep, SettingsDep, public
from api.models import ChatSession
from api.schemas_chat import CHAT_MESSAGE_BODY_SCHEMA, ChatMessageIn, ChatReply, ChatStarted
from api.services import chat_sessions as sessions
from api.services.bot_turns import BotTurn, summarise_turn
from api.services.chat_runtime import ChatRuntime, LateTurns, RuntimeDep
from api.services.chat_sessions import CHAT_COOKIE, CHAT_HEADER, START_MESSAGE
from api.services.rasa_client import RasaDep, RasaUnavailable
from contract.typed_text import neutralise_text

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/chat", tags=["chat"])

# Documented as OpenAPI security schemes; either one carries the session token.
_header_token = APIKeyHeader(
    name=CHAT_HEADER,
    auto_error=False,
    scheme_name="ChatSessionHeader",
    description="The `session_id` from POST /chat/sessions (the page and the embed frame send it; no cookie needed).",
)
_cookie_token = APIKeyCookie(
    name=CHAT_COOKIE,
    auto_error=False,
    scheme_name="ChatSessionCookie",
    description="HttpOnly cookie set by POST /chat/sessions.",
)

RATE_WINDOW_S = 60.0
# JSON may spell one character as up to 12 bytes ("\ud83d\ude00"); beyond this a
# body cannot hold an acceptable message and is not even parsed.
_BYTES_PER_CHAR = 12
_BODY_OVERHEAD = 1024

_REFUSALS = {
    401: "Your chat session is missing or unknown.",
    409: "Not one of the buttons just offered; nothing was sent to the bot.",
    413: "Body far too large.",
    415: "Content-Type must be application/json.",
    422: "Too long, empty, or not exactly one of text / payload.",
    429: "Too many messages; see Retry-After.",
    503: "The bot did not answer in time; send the same message again.",
}


def _responses(model: type[ChatReply], codes: tuple[int, ...]) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": model, "description": _REFUSALS[code]} for code in codes}


def _reply(
    status_code: int,
    *,
    messages: list[dict[str, Any]] | None = None,
    key: str | None = None,
    asks: str | None = None,
    outcome: str | None = None,
    urgent: bool = False,
    retry: bool = False,
    start: bool = False,
    session_id: str | None = None,
    headers: dict[str, str] | None = None,
    **fmt: Any,
) -> JSONResponse:
    """One response shape for everything; refusals say `key`'s kind words from messages/en.yml."""
    if key is not None:
        messages = [{"text": kind_text(key).format(**fmt), "buttons": []}]
    body: dict[str, Any] = {
        "messages": messages or [],
        "asks": asks,
        "outcome": outcome,
        "urgent": urgent,
        "retry": retry,
        "error": key if status_code >= 400 else None,
    }
    if start:
        body["session_id"] = session_id
    model = ChatStarted if start else ChatReply
    return JSONResponse(
        model.model_validate(body).model_dump(mode="json"),
        status_code=status_code,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _turn_reply(status_code: int, turn: BotTurn, **extra: Any) -> JSONResponse:
    return _reply(
        status_code,
        messages=turn.messages,
        asks=turn.asks,
        outcome=turn.outcome,
        urgent=turn.urgent,
        **extra,
    )


def _client_key(request: Request, settings: Settings) -> str:
    # The patient's address, through TRUSTED_PROXIES only (api/core/client_address.py).
    return "client:" + client_address(request, settings.trusted_proxies)


def _too_many(runtime: ChatRuntime, key: str, **extra: Any) -> JSONResponse:
    wait = max(1, math.ceil(runtime.limiter.retry_after(key, RATE_WINDOW_S)))
    return _reply(429, key="too_many", retry=True, headers={"Retry-After": str(wait)}, **extra)


class _Refused(Exception):
    def __init__(self, status_code: int, key: str, **fmt: Any) -> None:
        super().__init__(key)
        self.status_code, self.key, self.fmt = status_code, key, fmt


async def _read_message(request: Request, settings: Settings) -> tuple[str | None, str | None]:
    """(text to send, payload to check); exactly one is not None. Raises _Refused."""
    limit = settings.max_message_chars
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        # Also keeps cross-site "simple" form posts (which cannot set this type) away.
        raise _Refused(415, "invalid_message")
    cap = limit * _BYTES_PER_CHAR + _BODY_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise _Refused(413, "too_long", limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise _Refused(413, "too_long", limit=limit)
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks).decode("utf-8"))
        body = ChatMessageIn.model_validate(data)
    except (
        ValueError,
        RecursionError,
        ValidationError,
    ):  # bad UTF-8, bad JSON, not an object, wrong types
        raise _Refused(422, "invalid_message") from None
    if body.text is not None and body.payload is not None:
        raise _Refused(422, "invalid_message")
    if body.payload is not None:
        if not body.payload:
            raise _Refused(422, "empty")
        return None, body.payload
    if body.text is None:
        raise _Refused(422, "empty")
    if len(body.text) > limit:
        raise _Refused(422, "too_long", limit=limit)
    cleaned = neutralise_text(body.text)
    if not cleaned:
        raise _Refused(422, "empty")
    return cleaned, None


@router.post(
    "/sessions",
    dependencies=[Depends(public)],
    response_model=ChatStarted,
    status_code=status.HTTP_201_CREATED,
    responses=_responses(ChatStarted, (429, 503)),
)
async def start_chat(
    request: Request, db: SessionDep, settings: SettingsDep, rasa: RasaDep, runtime: RuntimeDep
) -> JSONResponse:
    """Start a new conversation and return the bot's first messages.

    Sets the HttpOnly `chat_session` cookie (SameSite=Lax; Secure when served
    over TLS) and returns the same token as `session_id`. Any request body is
    ignored; a client cannot choose its conversation. On 503 no session is
    created: call this again.
    """
    client_key = _client_key(request, settings)
    if not runtime.limiter.hit(client_key, settings.client_messages_per_minute, RATE_WINDOW_S):
        return _too_many(runtime, client_key, start=True)
    conversation_id = sessions.new_conversation_id()
    try:
        raw = await rasa.send(conversation_id, message=START_MESSAGE)
    except RasaUnavailable as failure:
        logger.warning("chat: could not start a conversation: rasa unavailable (%s)", failure.kind)
        return _reply(503, key="try_again", retry=True, start=True)
    turn = summarise_turn(raw)
    token, _ = await run_in_threadpool(sessions.create_session, db, conversation_id, turn)
    response = _turn_reply(201, turn, start=True, session_id=token)
    response.set_cookie(
        CHAT_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    return response


@router.post(
    "/messages",
    dependencies=[Depends(public)],
    response_model=ChatReply,
    responses=_responses(ChatReply, (401, 409, 413, 415, 422, 429, 503)),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": CHAT_MESSAGE_BODY_SCHEMA}},
        }
    },
)
async def send_message(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    rasa: RasaDep,
    runtime: RuntimeDep,
    header_token: Annotated[str | None, Depends(_header_token)],
    cookie_token: Annotated[str | None, Depends(_cookie_token)],
) -> JSONResponse:
    """Send what the patient typed (`text`) or the button they pressed (`payload`).

    The session comes from the X-Chat-Session header, else the `chat_session`
    cookie. Messages of one conversation are handled one at a time.
    """
    client_key = _client_key(request, settings)
    if not runtime.limiter.hit(client_key, settings.client_messages_per_minute, RATE_WINDOW_S):
        return _too_many(runtime, client_key)

    token = header_token or cookie_token
    if not sessions.valid_token(token):
        return _reply(401, key="session_unknown")
    # One lock per session token, which names exactly one conversation; held
    # from here, so the lock can tell whether the read below is still fresh.
    turn_lock = runtime.locks.get(token_hash(token))
    mark = turn_lock.mark()
    chat = await run_in_threadpool(sessions.find_session, db, token)
    if chat is None:
        return _reply(401, key="session_unknown")
    found_hash = chat.token_hash
    session_key = f"session:{chat.id}"
    if not runtime.limiter.hit(session_key, settings.session_messages_per_minute, RATE_WINDOW_S):
        return _too_many(runtime, session_key, asks=chat.last_asks)

    try:
        text, payload = await _read_message(request, settings)
    except _Refused as refused:
        return _reply(refused.status_code, key=refused.key, asks=chat.last_asks, **refused.fmt)

    async with turn_lock:
        if not turn_lock.still_fresh(mark):
            # Read again under the lock: the message before this one may have changed the buttons.
            fresh: ChatSession | None = await run_in_threadpool(sessions.reload_session, db, chat)
            if fresh is None or fresh.token_hash != found_hash:
                # Deleted or unlinked meanwhile (a withdrawal cuts the token off).
                return _reply(401, key="session_unknown")
            chat = fresh
        sent = ("payload", payload) if payload is not None else ("text", text or "")
        late = runtime.late.take(chat.conversation_id)
        if late is not None:
            task, late_sent = late
            try:
                late_raw: list[dict[str, Any]] | None = await asyncio.wait_for(
                    asyncio.shield(task), rasa.timeout_s
                )
            except asyncio.TimeoutError:
                runtime.late.keep(chat.conversation_id, task, late_sent)
                return _reply(503, key="try_again", asks=chat.last_asks, retry=True)
            except RasaUnavailable:
                late_raw = None  # Rasa never answered it: this message is sent afresh
            if late_raw is not None:
                late_turn = summarise_turn(late_raw)
                await run_in_threadpool(sessions.record_turn, db, chat, late_turn)
                if late_sent == sent:
                    # The patient re-sent what Rasa has now answered: answer once.
                    return _turn_reply(200, late_turn)
        if payload is not None and payload not in (chat.offered_payloads or []):
            return _reply(409, key="button_not_offered", asks=chat.last_asks)
        task = asyncio.ensure_future(
            rasa.send(
                chat.conversation_id,
                message=text,
                payload=payload,
                deadline_s=LateTurns.BACKGROUND_S,
            )
        )
        try:
            raw = await asyncio.wait_for(asyncio.shield(task), rasa.timeout_s)
        except asyncio.TimeoutError:
            # Slow, not lost: the turn finishes in the background and the next
            # message collects it, so a re-send is not answered twice.
            runtime.late.keep(chat.conversation_id, task, sent)
            logger.warning("chat: rasa unavailable (timeout)")
            await run_in_threadpool(sessions.touch, db, chat)
            return _reply(503, key="try_again", asks=chat.last_asks, retry=True)
        except RasaUnavailable as failure:
            # The kind of failure only: never the message.
            logger.warning("chat: rasa unavailable (%s)", failure.kind)
            await run_in_threadpool(sessions.touch, db, chat)
            return _reply(503, key="try_again", asks=chat.last_asks, retry=True)
        turn = summarise_turn(raw)
        await run_in_threadpool(sessions.record_turn, db, chat, turn)
    return _turn_reply(200, turn)
