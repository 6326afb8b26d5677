"""Bodies of the public chat gateway (/chat/...)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contract.names import OUTCOMES

# Machine-readable reason of a non-200 answer; `messages` holds the kind words.
ChatError = Literal[
    "session_unknown",  # 401: no or unknown session: start a new chat
    "button_not_offered",  # 409: a payload the bot did not just offer
    "too_long",  # 413 / 422: over settings.max_message_chars (or a body far too big)
    "empty",  # 422: nothing left after cleaning, or neither text nor payload
    "invalid_message",  # 415 / 422: not a JSON object {"text"} or {"payload"}
    "too_many",  # 429: rate limit (per session or per client address)
    "try_again",  # 503: the bot did not answer in time; re-send the same message
]


class ChatButton(BaseModel):
    title: str
    payload: str = Field(description="Send back unchanged as `payload` to press the button.")


class ChatBotMessage(BaseModel):
    text: str = Field(description="Plain text; render as text, never as HTML.")
    buttons: list[ChatButton] = Field(default_factory=list)


class ChatReply(BaseModel):
    """Every /chat/messages answer, whatever the status code."""

    messages: list[ChatBotMessage]
    asks: str | None = Field(
        default=None,
        description="Question id the bot is waiting for (kept on errors: nothing moved on).",
    )
    outcome: str | None = Field(
        default=None, description=f"{' | '.join(OUTCOMES)}, when given in this turn."
    )
    urgent: bool = Field(
        default=False, description="True when the bot says to get urgent care now."
    )
    retry: bool = Field(
        default=False, description="True when the same message can simply be sent again (429, 503)."
    )
    error: ChatError | None = Field(default=None, description="Null on success.")


class ChatStarted(ChatReply):
    """The answer of POST /chat/sessions: the first bot turn and the session token."""

    session_id: str | None = Field(
        default=None,
        description=(
            "Also set as the HttpOnly `chat_session` cookie. A page on another origin sends it back in the "
            "X-Chat-Session header. Null when no session was started (429, 503)."
        ),
    )


class ChatMessageIn(BaseModel):
    """Parsed by hand in the router (so every refusal gets the kind words); extra keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    text: str | None = None
    payload: str | None = None


# The request body as documented in OpenAPI (the router reads the body itself).
CHAT_MESSAGE_BODY_SCHEMA: dict[str, Any] = {
    "title": "ChatMessageIn",
    "type": "object",
    "description": (
        "Exactly one of `text` (what the patient typed; a leading '/' is dropped, it is never an intent) "
        "or `payload` (the payload of a button of the bot's last turn). Content-Type must be application/json."
    ),
    "properties": {
        "text": {
            "type": "string",
            "description": "At most settings.max_message_chars characters (default 500).",
        },
        "payload": {"type": "string"},
    },
    "oneOf": [{"required": ["text"]}, {"required": ["payload"]}],
}
