"""Operator commands: `python -m api.cli migrate | create-admin --email E | create-coordinator --email E`.

The password comes from ADMIN_PASSWORD (create-admin) or COORDINATOR_PASSWORD
(create-coordinator), or is asked for twice on the terminal.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Optional

from api.core.texts import text
from api.services.auth import MIN_PASSWORD_CHARS

PASSWORD_ENV = {"admin": "ADMIN_PASSWORD", "coordinator": "COORDINATOR_PASSWORD"}


def _migrate() -> int:
    from api.db import migrate

    migrate()
    print(text("database_migrated"))
    return 0


def _read_password(role: str) -> Optional[str]:
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
                session, email=email, password=password, role=role  # type: ignore[arg-type]
            )
        except ValueError as problem:
            print(text(str(problem)).format(minimum=MIN_PASSWORD_CHARS), file=sys.stderr)
            return 2
        key = "account_created" if created else "account_exists"
        print(text(key).format(email=account.email, role=role))
        return 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.cli", description="Pre-screener API operator commands.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply the database migrations")
    for role in ("admin", "coordinator"):
        sub = commands.add_parser(
            f"create-{role}", help=f"create a {role} account (password from {PASSWORD_ENV[role]} or a prompt)"
        )
        sub.add_argument("--email", required=True)
    args = parser.parse_args(argv)
    if args.command == "migrate":
        return _migrate()
    return _create_account(args.email, args.command.removeprefix("create-"))


if __name__ == "__main__":
    sys.exit(main())
