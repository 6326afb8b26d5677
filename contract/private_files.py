"""Files that hold patient data are readable by their owner only (security review, finding 7).

The API database, the tracker store and the referral outbox are SQLite files
in the data folder on a single machine. Created with the process's umask they
would be world-readable (0644 in 0755) to every account on the machine. So the
folder is made 0700 and each database file 0600 before SQLite opens it (SQLite
gives its -wal and -shm files the database file's mode). scripts/lib.sh also
sets umask 077 for everything the scripts start, which covers the files Rasa
creates itself. Standard library only (imported by Python 3.10 and 3.11).
"""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_file(path: str | os.PathLike[str]) -> Path:
    """Make `path`'s folder (0700) and the file itself (0600, empty) when missing; tighten them when ours."""
    file = Path(path)
    folder = file.parent
    if not folder.exists():
        folder.mkdir(parents=True, mode=FOLDER_MODE, exist_ok=True)
    _tighten(folder, FOLDER_MODE)
    if not file.exists():
        os.close(os.open(file, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    _tighten(file, FILE_MODE)
    return file


def _tighten(path: Path, mode: int) -> None:
    # Only what this account owns: a shared folder (a container volume's root,
    # /tmp) is not ours to change, and its files are still created 0600.
    try:
        if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except OSError:
        pass
