"""The gateway's only way to the bot: the guarded Rasa channel (nlu/channel.py).

POST {RASA_URL}/webhooks/prescreen/webhook with {"sender", "message"} or
{"sender", "payload"}; the answer is a list of whole bot messages
{"text"?, "buttons"?, "custom"?}.

Every call has a short total deadline (settings.rasa_timeout_s, never more
than 5 s: safety-security pitfall 4). A timeout, a refused connection, an HTTP
error or an answer of the wrong shape all become `RasaUnavailable`, which
carries only the kind of failure, never the message.

No HTTP client exists at import time. The application keeps one
`RasaConnections` (on app.state, made on first use): one `httpx.AsyncClient`
per event loop, whose kept-alive connections every message reuses. A new
client and connection per message cost a measurable share of the API's CPU
per message (issue 14). Idle connections are dropped after
KEEPALIVE_EXPIRY_S, below the Sanic server's own keep-alive timeout (5 s), so
the gateway does not reuse a connection Rasa is closing. The lifespan closes
the clients (api/main.py). The TLS context is built once too: building one
loads every CA certificate. Tests replace the dependency with a `RasaClient`
on an `httpx.MockTransport` (or a real socket that never answers); a
`RasaClient` made without connections opens a client per call.

Turns in progress at one Rasa server are limited per API process
(settings.rasa_max_in_flight): Rasa answers a turn in several steps (reading,
understanding, each action-server call, saving) on one event loop, and every
step waits behind the steps of every other turn in progress. With fifty turns
in progress some waited past the deadline (a 503 to the patient) while Rasa
was busy with the rest. A turn over the limit waits here, in arrival order,
within its own deadline; Rasa then finishes each turn soon after starting it.

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
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from functools import cache
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request

from api.deps import SettingsDep

WEBHOOK_PATH = "/webhooks/prescreen/webhook"
# Pitfall 4: outbound timeouts stay short whatever the configuration says.
MAX_TIMEOUT_S = 5.0
# A bot turn is a handful of messages; anything bigger is not our bot.
MAX_RESPONSE_BYTES = 256 * 1024
# Below Sanic's KEEP_ALIVE_TIMEOUT (5 s), so an idle connection is dropped here first.
KEEPALIVE_EXPIRY_S = 2.0


@cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process (Rasa may be reached over https)."""
    return ssl.create_default_context()


def _new_client(transport: httpx.AsyncBaseTransport | None, timeout_s: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout_s),
        limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_S),
        follow_redirects=False,
        trust_env=False,  # never through an HTTP proxy from the environment
        verify=tls_context(),
    )


class RasaConnections:
    """One application's HTTP clients to Rasa: one per event loop, kept between messages.

    Per loop, because a client's connections belong to the loop that opened
    them (a test client runs each app on a loop of its own).
    """

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )
        self._slots: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]
        ] = weakref.WeakKeyDictionary()

    def slots(self, url: str, in_flight: int) -> AbstractAsyncContextManager[Any]:
        """A place among the `in_flight` turns sent to `url` at once (asyncio wakes waiters in order)."""
        if in_flight <= 0:
            return nullcontext()
        per_loop = self._slots.setdefault(asyncio.get_running_loop(), {})
        found = per_loop.get(url)
        if found is None:
            found = per_loop[url] = asyncio.Semaphore(in_flight)
        return found

    def client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None or found.is_closed:
            found = self._clients[loop] = _new_client(self._transport, MAX_TIMEOUT_S)
        return found

    async def aclose(self) -> None:
        """Close this loop's client (the others went with their loops)."""
        found = self._clients.pop(asyncio.get_running_loop(), None)
        if found is not None:
            await found.aclose()


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
        connections: RasaConnections | None = None,
        in_flight: int = 0,
    ) -> None:
        self.urls = [url + WEBHOOK_PATH for url in base_urls(base_url)]
        self.in_flight = in_flight
        self.url = self.urls[0]
        self.timeout_s = min(max(float(timeout_s), 0.001), MAX_TIMEOUT_S)
        self._transport = transport
        self._connections = connections

    @asynccontextmanager
    async def _client(self, limit: float) -> AsyncIterator[httpx.AsyncClient]:
        """The application's kept-alive client, else one for this call only."""
        if self._connections is not None:
            yield self._connections.client()
            return
        async with _new_client(self._transport, limit) as client:
            yield client

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
                async with self._client(limit) as client:
                    response = await self._post(client, conversation_id, body, limit)
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
        self, client: httpx.AsyncClient, conversation_id: str, body: dict[str, str], limit: float
    ) -> httpx.Response:
        """POST to the conversation's server; on a refused connection, to the next one."""
        order = self.urls_for(conversation_id)
        timeout = httpx.Timeout(limit)
        for url in order[:-1]:
            try:
                return await self._post_one(client, url, body, timeout)
            except httpx.ConnectError:
                continue  # nothing reached that server: another replica serves the turn
        return await self._post_one(client, order[-1], body, timeout)

    async def _post_one(
        self, client: httpx.AsyncClient, url: str, body: dict[str, str], timeout: httpx.Timeout
    ) -> httpx.Response:
        if self._connections is None:  # a client for this call only: nothing shared to limit
            return await client.post(url, json=body, timeout=timeout)
        async with self._connections.slots(url, self.in_flight):
            return await client.post(url, json=body, timeout=timeout)


async def get_rasa_connections(request: Request) -> RasaConnections:
    """The application's connections to Rasa (async, so no thread hop, and no race to make them)."""
    state = request.app.state
    connections: RasaConnections | None = getattr(state, "rasa_connections", None)
    if connections is None:
        connections = state.rasa_connections = RasaConnections()
    return connections


async def close_rasa_connections(app: Any) -> None:
    """At shutdown (the lifespan in api/main.py)."""
    connections: RasaConnections | None = getattr(app.state, "rasa_connections", None)
    if connections is not None:
        await connections.aclose()


async def get_rasa_client(
    settings: SettingsDep,
    connections: Annotated[RasaConnections, Depends(get_rasa_connections)],
) -> RasaClient:
    """Request dependency; override it in tests to talk to a fake Rasa."""
    return RasaClient(
        settings.rasa_url,
        settings.rasa_timeout_s,
        connections=connections,
        in_flight=settings.rasa_max_in_flight,
    )


RasaDep = Annotated[RasaClient, Depends(get_rasa_client)]
