"""Where the suite's time goes: seconds per test file, from a JUnit XML report of a pytest run.

    PYTEST_ADDOPTS=--junitxml=/tmp/junit.xml make test    # any run of the suite, then:
    python -m bench.test_times /tmp/junit.xml             # prints JSON: seconds per file, slowest first

docs/tests.md quotes these figures for a fresh clone's `make test` (issue 31); `make test` itself prints its
25 slowest tests every run.
"""

import json
import sys
import xml.etree.ElementTree as ElementTree
from collections import defaultdict


def seconds_per_file(report):
    """{test file: seconds} over every test case of a JUnit XML report (setup and teardown included)."""
    totals = defaultdict(float)
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "").split(".")
        name = next((part for part in module if part.startswith("test_")), module[0] if module else "?")
        totals[f"tests/{name}.py"] += float(case.get("time", 0))
    return dict(sorted(((name, round(seconds, 1)) for name, seconds in totals.items()), key=lambda item: -item[1]))


def main(argv=None):
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 1:
        print("usage: python -m bench.test_times JUNIT.xml", file=sys.stderr)
        return 2
    try:
        files = seconds_per_file(arguments[0])
    except (OSError, ElementTree.ParseError) as error:
        print(f"error: {arguments[0]}: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"files": files, "total_s": round(sum(files.values()), 1)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
