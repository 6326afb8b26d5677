"""Simulated patients talking to a chat server: ours through the public
gateway, the `rasa init` baseline over Rasa's REST channel.

A turn's time is what the person waits for: from sending a message to having
the bot's reply, including the re-sends the web page makes after a 503
`retry` answer. Runs in the API environment (httpx).
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable, Optional

import httpx

from actions.criteria import Trial
from bench.personas import CONFIRMING, Bank, Persona, Speaker
from bench.screen import Screen

TURN_TIMEOUT_S = 60
RETRIES = 8  # a 503 answer is re-sent after RETRY_WAIT_S, as the web page does
RETRY_WAIT_S = 1.0
MAX_TURNS = 45  # more than three times the longest pre-screen: past this it is a stall
MAX_SAME_QUESTION = 4  # asked this often, the persona gives up: a stall

Pauses = Optional[tuple[float, float]]  # (low, high) seconds of reading/typing, None = no pause


class GatewayError(Exception):
    pass


def _post(http: httpx.Client, path: str, body: Optional[dict[str, str]], screen: Screen) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        for _ in range(RETRIES):
            response = http.post(path, json=body) if body is not None else http.post(path)
            if response.status_code == 503 and response.json().get("retry"):
                screen.retries += 1
                time.sleep(RETRY_WAIT_S)
                continue
            if response.status_code >= 400:
                raise GatewayError(f"{path} answered {response.status_code}")
            return response.json()
        raise GatewayError(f"{path} kept answering 503")
    finally:
        screen.turn_s.append(time.perf_counter() - started)


Reply = dict[str, Any]  # {"messages", "asks", "outcome"}: the gateway's shape
Send = Callable[[Optional[dict[str, str]]], Reply]  # None starts the conversation


def _converse(persona: Persona, trial: Trial, bank: Bank, pauses: Pauses, screen: Screen, send: Send,
              typed_only: bool = False) -> Screen:
    """Answer whatever the bot asks until it gives an outcome (or asks the same thing too often)."""
    speaker = Speaker(trial, bank, persona, typed_only=typed_only)
    try:
        reply = send(None)
        while reply.get("outcome") is None:
            question = reply.get("asks")
            # A confirming question follows many questions: only a real question asked again and again is a stall.
            repeated = question not in CONFIRMING and screen.asks.count(question) >= MAX_SAME_QUESTION
            if question is None or len(screen.asks) >= MAX_TURNS or repeated:
                screen.stalled = True
                break
            screen.asks.append(question)
            buttons = [b for m in reply.get("messages") or [] for b in m.get("buttons") or []]
            texts = [m.get("text") or "" for m in reply.get("messages") or []]
            body = speaker.reply(question, buttons, texts)
            if pauses:
                time.sleep(speaker.pause_s(*pauses))
            reply = send(body)
        screen.outcome = reply.get("outcome")
    except Exception as exc:  # recorded, not raised: the benchmark reports
        screen.error = type(exc).__name__
    return screen


def screen_through_gateway(api_url: str, trial: Trial, bank: Bank, persona: Persona, pauses: Pauses,
                           typed_only: bool = False) -> Screen:
    """One whole pre-screen through the public gateway (/chat/*)."""
    screen = Screen(persona.name)
    with httpx.Client(base_url=api_url, timeout=TURN_TIMEOUT_S) as http:
        def send(body: Optional[dict[str, str]]) -> Reply:
            if body is None:
                reply = _post(http, "/chat/sessions", None, screen)
                screen.session_token = reply.get("session_id")
                http.headers["X-Chat-Session"] = screen.session_token or ""
                return reply
            return _post(http, "/chat/messages", body, screen)

        return _converse(persona, trial, bank, pauses, screen, send, typed_only)


def screen_straight_to_rasa(rasa_url: str, trial: Trial, bank: Bank, persona: Persona, pauses: Pauses) -> Screen:
    """The same pre-screen on our Rasa server's channel, without the gateway."""
    screen = Screen(persona.name)
    sender = uuid.uuid4().hex
    with httpx.Client(timeout=TURN_TIMEOUT_S) as http:
        def send(body: Optional[dict[str, str]]) -> Reply:
            # The channel calls typed text "message"; the gateway calls it "text".
            picked = {"message": "hello"} if body is None else {"message": body["text"]} if "text" in body else body
            started = time.perf_counter()
            response = http.post(f"{rasa_url}/webhooks/prescreen/webhook", json={"sender": sender, **picked})
            screen.turn_s.append(time.perf_counter() - started)
            response.raise_for_status()
            messages = response.json()
            custom = [m.get("custom") or {} for m in messages]
            return {
                "messages": messages,
                "outcome": next((c["outcome"] for c in custom if c.get("outcome")), None),
                "asks": next((c["asks"] for c in reversed(custom) if c.get("asks")), None),
            }

        return _converse(persona, trial, bank, pauses, screen, send)


# What a `rasa init` bot is told: greet, mood, a yes/no, goodbye. The words
# matter little; the number of turns and the pauses match our screens.
BASELINE_MESSAGES = ("hello there", "I am feeling a bit sad", "yes", "no", "I'm great", "good morning",
                     "not really", "perfect", "bye")


def baseline_conversation(rasa_url: str, turns: int, pauses: Pauses, seed: int) -> Screen:
    """`turns` messages to the `rasa init` bot over Rasa's REST channel."""
    import random

    rng = random.Random(seed)
    screen = Screen(f"baseline-{seed}")
    sender = uuid.uuid4().hex
    try:
        with httpx.Client(timeout=TURN_TIMEOUT_S) as http:
            for turn in range(turns):
                if pauses and turn:
                    time.sleep(rng.uniform(*pauses))
                started = time.perf_counter()
                response = http.post(f"{rasa_url}/webhooks/rest/webhook",
                                     json={"sender": sender, "message": BASELINE_MESSAGES[turn % len(BASELINE_MESSAGES)]})
                screen.turn_s.append(time.perf_counter() - started)
                response.raise_for_status()
                response.json()  # an empty list is a turn too: that bot may just listen
        screen.outcome = "done"
    except Exception as exc:
        screen.error = type(exc).__name__
    return screen
