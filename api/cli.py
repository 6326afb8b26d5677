"""Operator commands: `python -m api.cli migrate | create-admin --email E | create-coordinator --email E
| retention [--days N] [--now ISO]`.

The password comes from ADMIN_PASSWORD (create-admin) or COORDINATOR_PASSWORD
(create-coordinator), or is asked for twice on the terminal.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from api.core.texts import text
from api.services.auth import MIN_PASSWORD_CHARS

PASSWORD_ENV = {"admin": "ADMIN_PASSWORD", "coordinator": "COORDINATOR_PASSWORD"}


def _migrate() -> int:
    from api.db import migrate

    # Migrating needs the database and nothing else: a deployment's one-shot
    # migrate job (docker-compose.yml) gets DATABASE_URL only, no API secrets.
    migrate(os.environ.get("DATABASE_URL") or None)
    print(text("database_migrated"))
    return 0


def _read_password(role: str) -> str | None:
    from_env = os.environ.get(PASSWORD_ENV[role])
    if from_env is not None:
        return from_env
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        print(text("passwords_differ"), file=sys.stderr)
        return None
    return first


def _create_account(email: str, role: str) -> int:
    from api.db import get_sessionmaker
    from api.services import auth

    with get_sessionmaker()() as session:
        existing = auth.find_coordinator(session, email)
        if existing is not None:
            print(text("account_exists").format(email=existing.email))
            return 0
        password = _read_password(role)
        if password is None:
            return 2
        if len(password) < MIN_PASSWORD_CHARS:
            print(text("password_too_short").format(minimum=MIN_PASSWORD_CHARS), file=sys.stderr)
            return 2
        try:
            account, created = auth.create_account(
                session,
                email=email,
                password=password,
                role=role,  # type: ignore[arg-type]  # one of PASSWORD_ENV's keys, from the sub-command
            )
        except ValueError as problem:
            print(text(str(problem)).format(minimum=MIN_PASSWORD_CHARS), file=sys.stderr)
            return 2
        key = "account_created" if created else "account_exists"
        print(text(key).format(email=account.email, role=role))
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m api.cli", description="Pre-screener API operator commands."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply the database migrations")
    for role in ("admin", "coordinator"):
        sub = commands.add_parser(
            f"create-{role}",
            help=f"create a {role} account (password from {PASSWORD_ENV[role]} or a prompt)",
        )
        sub.add_argument("--email", required=True)
    _add_retention_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "migrate":
        return _migrate()
    if args.command == "retention":
        return _retention(args.days, args.now)
    return _create_account(args.email, args.command.removeprefix("create-"))


# --- retention (safety-security P3; what is deleted and kept: api/services/retention.py) ---------


def _add_retention_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser(
        "retention",
        help="delete conversations and unreferred answers older than N days (RETENTION_DAYS, default 30)",
    )
    sub.add_argument(
        "--days", type=int, default=None, help="keep this many days (default RETENTION_DAYS)"
    )
    sub.add_argument(
        "--now", default=None, help="ISO date-time to count the days back from (default: now, UTC)"
    )


def _retention(days: int | None, now_text: str | None) -> int:
    from datetime import datetime

    from api.services.retention import run_retention

    if days is not None and days < 1:
        print("--days must be at least 1", file=sys.stderr)
        return 2
    try:
        now = datetime.fromisoformat(now_text) if now_text else None
    except ValueError:
        print("--now must be an ISO date-time, e.g. 2025-03-01T12:00:00+00:00", file=sys.stderr)
        return 2
    result = run_retention(days=days, now=now)
    print(result.summary())
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
