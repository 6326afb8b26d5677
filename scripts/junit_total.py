"""Print one 'N passed, N failed, N skipped' line for several JUnit XML files."""

import sys
import xml.etree.ElementTree as ElementTree


def main(paths: list[str]) -> None:
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for path in paths:
        try:
            root = ElementTree.parse(path).getroot()
        except (OSError, ElementTree.ParseError):
            total["errors"] += 1  # a run that wrote no report counts as failed
            continue
        for suite in root.iter("testsuite"):
            for key in total:
                total[key] += int(suite.get(key, 0))
    failed = total["failures"] + total["errors"]
    passed = total["tests"] - failed - total["skipped"]
    print(f"total: {passed} passed, {failed} failed, {total['skipped']} skipped")


if __name__ == "__main__":
    main(sys.argv[1:])
