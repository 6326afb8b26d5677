"""Deliver referrals from the outbox to the API until each is acknowledged.

    python -m actions.delivery          # runs beside the action server (scripts/start.sh)

A separate process on purpose: a crash or restart of the action server never
loses a referral (it is already in the outbox), and a slow or stopped API
never delays the patient's reply. Each referral is sent with its id as the
Idempotency-Key, so a delivery repeated after a lost acknowledgement is
stored once by the API.

What each answer does to the outbox row (actions/outbox.py):

| answer | row | why |
|---|---|---|
| 200, 201 | delivered, payload cleared | the API holds the referral now |
| 422 with `"kept": true` | refused, payload cleared | the API kept the refused body as a dead letter for an admin (/staff/dead-letters) |
| 400, 413, 422 without `kept` | refused, payload kept here | the same body would be refused again; `--status` shows it |
| anything else (401, 403, 408, 429, 5xx, unreachable) | pending, retried with backoff | a configuration or a passing problem: the next try may work |

    python -m actions.delivery --status          # pending, delivered and refused counts; refused ids and reasons
    python -m actions.delivery --resolve ID      # a refused referral was dealt with by hand: clear its payload
    python -m actions.delivery --retry ID        # send a refused referral again (its payload is still here)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from actions.outbox import Outbox, OutboxError
from actions.retention import prune_delivered

logger = logging.getLogger("actions.delivery")

TIMEOUT_S = 5.0
POLL_S = 1.0
# Refusals a retry cannot fix: the same body gets the same answer. 401/403 (a
# wrong token), 408, 429 and 5xx are configuration or passing trouble: retried.
REFUSED_FOR_GOOD = frozenset({400, 413, 422})
# An answer body larger than this is not read (the API's refusals are small).
ANSWER_MAX_BYTES = 16_384
# Delivered rows (id and times only) are pruned after RETENTION_DAYS; the
# action side owns the outbox, so this worker prunes it, not the API.
PRUNE_EVERY_S = 3600.0


@dataclass(frozen=True)
class Target:
    url: str
    token: str

    @classmethod
    def from_env(cls) -> "Target":
        base = os.environ.get("API_URL", "http://127.0.0.1:8000").rstrip("/")
        return cls(f"{base}/referrals", os.environ.get("SERVICE_TOKEN", ""))


@dataclass(frozen=True)
class Answer:
    """The API's answer: the HTTP status (0 when unreachable) and its JSON object ({} when none)."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def kept_by_api(self) -> bool:
        return self.status == 422 and self.body.get("kept") is True

    def refusal(self) -> str:
        """Why it was refused, from the API's answer: JSON paths and rules, never values."""
        fields = self.body.get("fields")
        named = "; ".join(str(f) for f in fields) if isinstance(fields, list) and fields else ""
        head = "kept by the API as a dead letter" if self.kept_by_api else f"status {self.status}"
        return f"{head}: {named}" if named else head


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        found = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def send(target: Target, referral_id: str, payload: dict[str, Any]) -> Answer:
    """POST one referral; the API's answer (status 0 when it could not be reached)."""
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
            return Answer(response.status)
    except urllib.error.HTTPError as error:
        try:
            body = _json_object(error.read(ANSWER_MAX_BYTES))
        except OSError:
            body = {}
        return Answer(error.code, body)
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError):
        return Answer(0)


def deliver_due(outbox: Outbox, target: Target) -> dict[str, int]:
    """One pass over the due referrals; counts of delivered, refused and postponed."""
    counts = {"delivered": 0, "refused": 0, "postponed": 0}
    for referral_id, payload in outbox.due():
        answer = send(target, referral_id, payload)
        if answer.status in (200, 201):
            outbox.mark_delivered(referral_id)
            counts["delivered"] += 1
        elif answer.status in REFUSED_FOR_GOOD:
            outbox.mark_refused(referral_id, answer.refusal(), kept_by_api=answer.kept_by_api)
            # Ids only in the log: the payload and the reason's context stay in the outbox or the API.
            logger.error(
                "referral %s refused by the API (status %s, %s); not retried, see `python -m actions.delivery --status`",
                referral_id,
                answer.status,
                "kept there as a dead letter" if answer.kept_by_api else "kept in the outbox",
            )
            counts["refused"] += 1
        else:
            wait = outbox.postpone(referral_id)
            logger.warning(
                "referral %s not delivered (status %s); next try in %.0fs", referral_id, answer.status or "unreachable", wait
            )
            counts["postponed"] += 1
    return counts


def print_status(outbox: Outbox) -> None:
    """Counts, then each refused referral's id, time and reason (never a payload)."""
    counts = outbox.counts()
    print(
        f"outbox {outbox.path}: {counts['pending']} pending, {counts['delivered']} delivered, "
        f"{counts['refused']} refused ({counts['refused_payload_here']} with the referral still here)"
    )
    for row in outbox.refused():
        where = "referral here: resolve by hand" if row.holds_payload else "the API keeps it (/staff/dead-letters)"
        print(f"refused {row.referral_id} at {row.refused_at}: {row.refusal} [{where}]")


def command(argv: Optional[list[str]] = None) -> Optional[int]:
    """The one-off commands (--status, --resolve, --retry); None when the worker should run."""
    parser = argparse.ArgumentParser(prog="python -m actions.delivery", description="Deliver referrals from the outbox.")
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--status", action="store_true", help="print pending/delivered/refused counts and refused ids")
    chosen.add_argument("--resolve", metavar="ID", help="a refused referral was dealt with by hand: clear its payload")
    chosen.add_argument("--retry", metavar="ID", help="deliver a refused referral again (its payload must be here)")
    args = parser.parse_args(argv)
    outbox = Outbox()
    if args.status:
        print_status(outbox)
        return 0
    if args.resolve:
        done = outbox.resolve(args.resolve)
        print(f"refused referral {args.resolve}: payload cleared" if done else f"no refused referral {args.resolve}")
        return 0 if done else 1
    if args.retry:
        done = outbox.retry(args.retry)
        print(f"refused referral {args.retry}: pending again" if done else f"cannot retry {args.retry} (not refused, or its payload is gone)")
        return 0 if done else 1
    return None


def main(argv: Optional[list[str]] = None) -> None:
    finished = command(sys.argv[1:] if argv is None else argv)
    if finished is not None:
        sys.exit(finished)
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
        try:
            deliver_due(outbox, target)
            if time.monotonic() - last_prune > PRUNE_EVERY_S:
                prune_delivered(outbox.path, datetime.now(timezone.utc) - timedelta(days=keep_days))
                last_prune = time.monotonic()
                counts = outbox.counts()
                # The refused count is the action side's dead-letter signal: a person must look.
                log = logger.warning if counts["refused_payload_here"] else logger.info
                log("outbox: %(pending)s pending, %(refused)s refused (%(refused_payload_here)s held here)", counts)
        except OutboxError as error:  # a locked or broken file: say so (no values) and try again next round
            logger.error("%s", error)
        time.sleep(POLL_S)


if __name__ == "__main__":
    main()
