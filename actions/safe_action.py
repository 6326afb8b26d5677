"""A base class that never leaves a patient without a reply.

Rasa drops the events of an action that raises and the patient hears nothing.
Every action here derives from SafeAction: if its work fails, the patient gets
a kind message and the error is logged by type only (the tracker may hold
health information, so no values and no message text reach the log).
"""

from __future__ import annotations

import logging
from abc import ABCMeta, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

logger = logging.getLogger(__name__)


class SafeAction(Action, metaclass=ABCMeta):
    """An action whose failures still answer the patient (safety-security R4)."""

    # What an action is sent (issue 14, nlu/rasa_overrides.py): the slots, the
    # latest message, the active loop and this turn's events, from the latest
    # user message on; not the conversation's earlier events. Keep what an
    # action must remember in a slot.
    #
    # Whether the action reads the domain. Rasa sends the domain (about 50 KB)
    # only to actions whose domain entry says `send_domain: true` (selective
    # domain, bot/endpoints.yml); the others get {}. This must match that
    # entry: tests/unit/test_selective_domain.py checks it.
    needs_domain = False

    # Abstract classes are not registered by the SDK, so this base is never
    # served as an action of its own.
    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """The action's work; may raise."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        try:
            return await self.act(dispatcher, tracker, domain)
        except Exception as error:  # the patient must hear something, whatever failed
            logger.error("action %s failed: %s", self.name(), type(error).__name__)
            dispatcher.messages.clear()
            dispatcher.utter_message(response="utter_technical_problem")
            try:
                return self.events_on_failure(tracker)
            except Exception as recovery_error:  # the reply above must still go out
                logger.error("action %s could not recover: %s", self.name(), type(recovery_error).__name__)
                return []

    def events_on_failure(self, tracker: Tracker) -> list[dict[str, Any]]:
        """Events that keep the conversation usable after a failure."""
        return []
