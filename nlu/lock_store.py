"""A Redis lock store whose lock changes are atomic, for several Rasa servers (bot/endpoints.replicas.yml)."""
from __future__ import annotations

import json
from typing import Any, Callable, Optional

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's RedisLockStore reads the ticket lock, changes it and writes it back
    in separate commands, so two servers can issue the same ticket or drop each
    other's (RasaHQ/rasa#9213). Here every change is one WATCH/MULTI/EXEC
    transaction, retried when another server changed the lock meanwhile."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _change(self, conversation_id: str, change: Callable[[TicketLock], Any], create: bool = False) -> Any:
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> Any:
            raw = pipe.get(key)
            if raw:
                lock = TicketLock.from_dict(json.loads(raw))
            elif create:
                lock = TicketLock(conversation_id)
            else:
                return None
            result = change(lock)
            pipe.multi()
            if lock.is_someone_waiting() or create:
                pipe.set(key, lock.dumps())
            else:
                pipe.delete(key)
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return self._change(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime), create=True)
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}")

    def update_lock(self, conversation_id: str) -> None:
        self._change(conversation_id, lambda lock: lock.remove_expired_tickets())

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # Removing the ticket and deleting an empty lock is one transaction.
        self.finish_serving(conversation_id, ticket_number)
