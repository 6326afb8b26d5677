"""Wait until every URL given answers 200, or fail after a timeout."""

import sys
import time
import urllib.request

TIMEOUT_S = 180


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def main(urls: list[str]) -> int:
    deadline = time.monotonic() + TIMEOUT_S
    waiting = list(urls)
    while waiting and time.monotonic() < deadline:
        waiting = [url for url in waiting if not ready(url)]
        if waiting:
            time.sleep(0.5)
    if waiting:
        print("Not ready after %ss: %s" % (TIMEOUT_S, ", ".join(waiting)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
