"""A small client for the guarded REST channel, used by tests and benchmarks.

It reads the machine-readable contract: `asks` (the question id a bot
message asks) and `outcome`, both in each message's `custom` payload.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

from tests.personas import Answer


@dataclass
class Chat:
    base_url: str
    sender: str = field(default_factory=lambda: uuid.uuid4().hex)
    last: list[dict[str, Any]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def _post(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        request = urllib.request.Request(
            f"{self.base_url}/webhooks/prescreen/webhook",
            data=json.dumps({"sender": self.sender, **body}).encode(),
            headers={"Content-Type": "application/json"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            self.last = json.loads(response.read())
        self.latencies.append(time.perf_counter() - started)
        return self.last

    def say(self, text: str) -> list[dict[str, Any]]:
        return self._post({"message": text})

    def click(self, title: str) -> list[dict[str, Any]]:
        """Press the button with this title in the bot's last messages."""
        for message in self.last:
            for button in message.get("buttons") or []:
                if button["title"].lower() == title.lower():
                    return self._post({"payload": button["payload"]})
        raise AssertionError(f"no button {title!r} in {self.texts()}")

    def answer(self, reply: Answer) -> list[dict[str, Any]]:
        """Type a string; press the button a one-item tuple names."""
        return self.click(reply[0]) if isinstance(reply, tuple) else self.say(reply)

    def converse(self, answers: dict[str, Answer], until: Optional[str] = None, max_turns: int = 40) -> list[str]:
        """Answer what the bot asks until it stops asking (or asks `until`); the question ids asked."""
        asked: list[str] = []
        for _ in range(max_turns):
            question = self.asks
            if question is None or question == until:
                return asked
            assert question in answers, f"unexpected question {question}: {self.texts()}"
            asked.append(question)
            self.answer(answers[question])
        raise AssertionError(f"the conversation did not end; asked {asked}")

    def texts(self) -> list[str]:
        return [m["text"] for m in self.last if m.get("text")]

    @property
    def asks(self) -> Optional[str]:
        found = [m["custom"]["asks"] for m in self.last if (m.get("custom") or {}).get("asks")]
        return found[-1] if found else None

    @property
    def outcome(self) -> Optional[str]:
        found = [m["custom"]["outcome"] for m in self.last if (m.get("custom") or {}).get("outcome")]
        return found[-1] if found else None
