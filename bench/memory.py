"""Resident memory of a process (and its children) from /proc, in MB.

/proc is read directly because psutil is not in the pinned Rasa environment
and must not be installed there.
"""

from __future__ import annotations

from pathlib import Path


def rss_mb(pid: int) -> float:
    """VmRSS of one process in MB (0.0 when it has exited)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # the kernel reports kB
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """Direct children of a process, over all its threads."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def tree_rss_mb(pid: int) -> float:
    """RSS of a process plus its descendants: a server that forks workers
    (Sanic can) would otherwise look smaller than it is."""
    return rss_mb(pid) + sum(tree_rss_mb(child) for child in children(pid))
