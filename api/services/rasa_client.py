"""The gateway's only way to the bot: the guarded Rasa channel (nlu/channel.py).

POST {RASA_URL}/webhooks/prescreen/webhook with {"sender", "message"} or
{"sender", "payload"}; the answer is a list of whole bot messages
{"text"?, "buttons"?, "custom"?}.

Every call has a short total deadline (settings.rasa_timeout_s, never more
than 5 s: safety-security pitfall 4). A timeout, a refused connection, an HTTP
error or an answer of the wrong shape all become `RasaUnavailable`, which
carries only the kind of failure, never the message.

No HTTP client exists at import time: `get_rasa_client` builds a small
`RasaClient` per request and each call opens its own `httpx.AsyncClient`, so
nothing is bound to an event loop or a process before it is used. The TLS
context is the exception: building one loads every CA certificate, and a
profile under load (`make bench`) found that work taking over half of the
API's time, so it is built once and shared (it is not tied to a loop). Tests
replace the dependency with a `RasaClient` on an `httpx.MockTransport` (or a
real socket that never answers).

Several Rasa servers (replicas sharing the tracker store and the Redis lock
store, bot/endpoints.replicas.yml) are listed in RASA_URL separated by commas.
Each conversation goes to one of them, chosen from its id the same way in
every API process, so a replica's recent reads of it stay useful
(nlu/tracker_store.py); any replica could serve it, so when the chosen one
refuses the connection (down, restarting) the next one in the list is tried.
Nothing else is retried: a turn that timed out may still be running.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import Sequence
from functools import cache
from typing import Annotated, Any

import httpx
from fastapi import Depends

from api.core.config import Settings, get_settings

WEBHOOK_PATH = "/webhooks/prescreen/webhook"
# Pitfall 4: outbound timeouts stay short whatever the configuration says.
MAX_TIMEOUT_S = 5.0
# A bot turn is a handful of messages; anything bigger is not our bot.
MAX_RESPONSE_BYTES = 256 * 1024


@cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process (Rasa may be reached over https)."""
    return ssl.create_default_context()


class RasaUnavailable(Exception):
    """Rasa did not give a usable answer in time. `kind` names the failure, nothing else."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def base_urls(setting: str | Sequence[str]) -> list[str]:
    """RASA_URL as a list: one URL, or several separated by commas."""
    parts = setting.split(",") if isinstance(setting, str) else list(setting)
    urls = [part.strip().rstrip("/") for part in parts if part.strip()]
    if not urls:
        raise ValueError("RASA_URL names no Rasa server")
    return urls


class RasaClient:
    def __init__(
        self,
        base_url: str | Sequence[str],
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.urls = [url + WEBHOOK_PATH for url in base_urls(base_url)]
        self.url = self.urls[0]
        self.timeout_s = min(max(float(timeout_s), 0.001), MAX_TIMEOUT_S)
        self._transport = transport

    def urls_for(self, conversation_id: str) -> list[str]:
        """The servers to try for this conversation: its own first, then the others in turn."""
        # sha256, not hash(): the same choice in every API process and after a restart.
        first = int.from_bytes(hashlib.sha256(conversation_id.encode()).digest()[:8], "big") % len(
            self.urls
        )
        return self.urls[first:] + self.urls[:first]

    async def send(
        self,
        conversation_id: str,
        *,
        message: str | None = None,
        payload: str | None = None,
        deadline_s: float | None = None,
    ) -> list[dict[str, Any]]:
        """Send one user turn; return the bot's messages (dicts, shape checked).

        `deadline_s` overrides the patient-facing timeout, for a turn that is
        left to finish in the background (see chat_runtime.LateTurns).
        """
        limit = self.timeout_s if deadline_s is None else deadline_s
        if (message is None) == (payload is None):
            raise ValueError("send exactly one of message or payload")
        body: dict[str, str] = {"sender": conversation_id}
        if message is not None:
            body["message"] = message
        elif payload is not None:
            body["payload"] = payload
        try:
            # One deadline for the whole exchange (connect, send, wait, read):
            # httpx's own timeouts apply per phase and per read, not in total.
            async with asyncio.timeout(limit):
                async with httpx.AsyncClient(
                    transport=self._transport,
                    timeout=httpx.Timeout(limit),
                    follow_redirects=False,
                    trust_env=False,  # never through an HTTP proxy from the environment
                    verify=tls_context(),
                ) as client:
                    response = await self._post(client, conversation_id, body)
        except (TimeoutError, httpx.TimeoutException):
            raise RasaUnavailable("timeout") from None
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"connection ({type(error).__name__})") from None
        if response.status_code != 200:
            raise RasaUnavailable(f"status {response.status_code}")
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise RasaUnavailable("answer too large")
        try:
            data = response.json()
        except ValueError:
            raise RasaUnavailable("answer is not JSON") from None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise RasaUnavailable("answer is not a list of messages")
        return data

    async def _post(
        self, client: httpx.AsyncClient, conversation_id: str, body: dict[str, str]
    ) -> httpx.Response:
        """POST to the conversation's server; on a refused connection, to the next one."""
        order = self.urls_for(conversation_id)
        for url in order[:-1]:
            try:
                return await client.post(url, json=body)
            except httpx.ConnectError:
                continue  # nothing reached that server: another replica serves the turn
        return await client.post(order[-1], json=body)


def get_rasa_client(settings: Annotated[Settings, Depends(get_settings)]) -> RasaClient:
    """Request dependency; override it in tests to talk to a fake Rasa."""
    return RasaClient(settings.rasa_url, settings.rasa_timeout_s)


RasaDep = Annotated[RasaClient, Depends(get_rasa_client)]
