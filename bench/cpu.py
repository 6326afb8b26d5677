"""CPU seconds a process (and its descendants) has used, from /proc: a cost per
message that does not depend on how busy or fast the machine is.

Wall-clock latency on a shared 2-core machine moves with whatever else runs;
the CPU a server spends per patient message does much less. `CpuMeter` takes
the utime + stime of each named process tree before and after a load, so
"ms of CPU per message" can be compared between our stack and the `rasa init`
bot over the same run (issue 14). Children that exited during the load are
counted through the kernel's cutime/cstime of their parent.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from bench.memory import children

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def own_cpu_s(pid: int) -> float:
    """utime + stime + cutime + cstime of one process, in seconds (0.0 when it has exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # The command name (field 2) may hold spaces and brackets: split after its closing ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17.
    return sum(int(v) for v in fields[11:15]) / CLOCK_TICKS


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process plus its living descendants (Sanic may fork workers)."""
    return own_cpu_s(pid) + sum(tree_cpu_s(child) for child in children(pid))


class CpuMeter:
    """CPU seconds each named process tree spent between __enter__ and __exit__."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self.start: dict[str, float] = {}
        self.spent: dict[str, float] = {}

    def __enter__(self) -> "CpuMeter":
        self.start = {name: tree_cpu_s(pid) for name, pid in self.pids.items()}
        return self

    def __exit__(self, *_: Any) -> None:
        self.spent = {name: max(0.0, tree_cpu_s(pid) - self.start[name]) for name, pid in self.pids.items()}

    def per_message_ms(self, messages: int) -> dict[str, float]:
        """{name: CPU ms per patient message, ..., "total": all processes together}."""
        if messages <= 0:
            return {}
        per = {name: seconds * 1000 / messages for name, seconds in self.spent.items()}
        per["total"] = sum(self.spent.values()) * 1000 / messages
        return per
