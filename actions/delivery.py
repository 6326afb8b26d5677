"""Deliver referrals from the outbox to the API until each is acknowledged.

    python -m actions.delivery          # runs beside the action server (scripts/start.sh)

A separate process on purpose: a crash or restart of the action server never
loses a referral (it is already in the outbox), and a slow or stopped API
never delays the patient's reply. Each referral is sent with its id as the
Idempotency-Key, so a delivery repeated after a lost acknowledgement is
stored once by the API.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from actions.outbox import Outbox
from actions.retention import prune_delivered

logger = logging.getLogger("actions.delivery")

TIMEOUT_S = 5.0
POLL_S = 1.0
# Delivered referrals stay in the outbox only RETENTION_DAYS (the API holds them).
PRUNE_EVERY_S = 3600.0


@dataclass(frozen=True)
class Target:
    url: str
    token: str

    @classmethod
    def from_env(cls) -> "Target":
        base = os.environ.get("API_URL", "http://127.0.0.1:8000").rstrip("/")
        return cls(f"{base}/referrals", os.environ.get("SERVICE_TOKEN", ""))


def send(target: Target, referral_id: str, payload: dict[str, Any]) -> int:
    """POST one referral; the HTTP status, or 0 when the API could not be reached."""
    request = urllib.request.Request(
        target.url,
        data=json.dumps(payload).encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {target.token}",
            "Idempotency-Key": referral_id,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError):
        return 0


def deliver_due(outbox: Outbox, target: Target) -> dict[str, int]:
    """One pass over the due referrals; counts of delivered and postponed."""
    counts = {"delivered": 0, "postponed": 0}
    for referral_id, payload in outbox.due():
        status = send(target, referral_id, payload)
        if status in (200, 201):
            outbox.mark_delivered(referral_id)
            counts["delivered"] += 1
        else:
            # 4xx other than success means the API refused this body: keep it
            # for a person to look at, retrying slowly. Ids only in the log.
            wait = outbox.postpone(referral_id)
            logger.warning("referral %s not delivered (status %s); next try in %.0fs", referral_id, status or "unreachable", wait)
            counts["postponed"] += 1
    return counts


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    outbox, target = Outbox(), Target.from_env()
    running = True

    def stop(*_: Any) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("delivering referrals to %s", target.url)
    keep_days = int(os.environ.get("RETENTION_DAYS", "30"))
    last_prune = float("-inf")
    while running:
        deliver_due(outbox, target)
        if time.monotonic() - last_prune > PRUNE_EVERY_S:
            prune_delivered(outbox.path, datetime.now(timezone.utc) - timedelta(days=keep_days))
            last_prune = time.monotonic()
        time.sleep(POLL_S)


if __name__ == "__main__":
    main()
