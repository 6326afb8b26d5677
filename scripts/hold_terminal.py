"""Hold the terminal while the services run: exit 130 on Ctrl-C, 0 when one of them ends.

    python scripts/hold_terminal.py [--ready TEXT] PID...   # scripts/start.sh runs it last

Why: `make start` is `make` -> start.sh -> services. Ctrl-C goes to the
terminal's foreground process group, which holds make too, and make reports
any interrupted recipe as its own error. Taking the terminal into a process
group of its own, this program alone receives Ctrl-C, so start.sh can stop
the services, say "Stopped." and exit 0. Without a terminal (CI, nohup) it
only watches the services.
"""

from __future__ import annotations

import os
import signal
import sys
import time


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def take_terminal() -> tuple[int, int] | None:
    """(terminal fd, process group that had it), or None without a terminal."""
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        return None
    try:
        previous = os.tcgetpgrp(tty)
        os.setpgid(0, 0)
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background group may not set the terminal otherwise
        os.tcsetpgrp(tty, os.getpgrp())
    except OSError:
        os.close(tty)
        return None
    return tty, previous


def main(pids: list[int], ready: str = "") -> int:
    held = take_terminal()
    if ready:
        # Said only once the terminal is held: a Ctrl-C typed after it reaches this program.
        print(ready, flush=True)
    try:
        while all(running(pid) for pid in pids):
            time.sleep(0.5)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        if held is not None:
            tty, previous = held
            try:
                os.tcsetpgrp(tty, previous)  # give the terminal back to make / the shell
            except OSError:
                pass
            os.close(tty)


if __name__ == "__main__":
    args = sys.argv[1:]
    ready = ""
    if args[:1] == ["--ready"]:
        ready, args = args[1], args[2:]
    sys.exit(main([int(arg) for arg in args], ready))
