"""Sums the JUnit XML files of every suite into one closing line.

Also writes a one-case JUnit file for a check that is a command (a linter), so that
its result counts like a test.
"""

from __future__ import annotations

import argparse
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape


def count(path: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) of one JUnit file, counted from its test cases; a file that
    is not XML counts as one failure (its suite's report is broken), never a crash here."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        print(f"  {path.name}: not a readable JUnit report ({error})", file=sys.stderr)
        return 0, 1, 0
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        tags = {child.tag for child in case}
        if tags & {"failure", "error"}:
            failed += 1
        elif "skipped" in tags:
            skipped += 1
        else:
            passed += 1
    # A suite that errored before collecting any case (pytest collection error) counts as failed.
    for suite in root.iter("testsuite"):
        if int(suite.get("errors", 0)) and not any(True for _ in suite.iter("testcase")):
            failed += int(suite.get("errors", 0))
    return passed, failed, skipped


def write_check(out: Path, name: str, returncode: int, output: str) -> None:
    # Tools colour their output (ANSI escapes): control characters are not allowed in XML.
    output = re.sub(r"\x1b\[[0-9;]*[A-Za-z]|[\x00-\x08\x0b\x0c\x0e-\x1f]", "", output)
    failure = (
        f'<failure message="{escape(name)} exited {returncode}">{escape(output[-20000:])}</failure>'
        if returncode
        else ""
    )
    out.write_text(
        f'<testsuite name="lint" tests="1" failures="{int(bool(returncode))}">'
        f'<testcase classname="lint" name="{escape(name)}">{failure}</testcase></testsuite>\n'
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write-check", nargs=3, metavar=("OUT", "NAME", "RC"))
    parser.add_argument("--crashed", default="")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    if args.write_check:
        out, name, rc = args.write_check
        write_check(Path(out), name, int(rc), sys.stdin.read())
        return 0
    total = [0, 0, 0]
    for f in sorted(args.files):
        path = Path(f)
        if not path.exists():
            continue
        p, fl, s = count(path)
        print(f"  {path.stem:<16} {p:>5} passed {fl:>4} failed {s:>4} skipped")
        total = [total[0] + p, total[1] + fl, total[2] + s]
    crashed = args.crashed.split()
    for name in crashed:
        print(f"  {name:<16} did not run to the end (no JUnit report): counted as 1 failed")
    total[1] += len(crashed)
    print(f"{total[0]} passed, {total[1]} failed, {total[2]} skipped")
    return 1 if total[1] or total[0] == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
