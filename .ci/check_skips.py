"""Fail when a JUnit report has skipped tests, other than those whose reason starts with --allow."""

import argparse
import sys
import xml.etree.ElementTree as ET


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--allow", action="append", default=[])
    args = parser.parse_args()
    bad = []
    total = skipped = 0
    for case in ET.parse(args.report).iter("testcase"):  # noqa: S314 - our own pytest report
        total += 1
        skip = case.find("skipped")
        if skip is None:
            continue
        skipped += 1
        reason = skip.get("message", "")
        if not any(reason.startswith(prefix) or prefix in reason for prefix in args.allow):
            bad.append(f"{case.get('classname')}::{case.get('name')}: {reason}")
    print(f"{args.report}: {total} tests, {skipped} skipped, {len(bad)} not allowed")
    if total == 0:
        print("no tests ran", file=sys.stderr)
        return 1
    for line in bad:
        print(f"  skipped in CI: {line}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
