"""Sums the JUnit XML files of every suite into one closing line, `N passed, N failed, N skipped`.

A green line must mean every test ran and passed once:
- a test that failed and then passed on a retry (`flakyFailure`/`flakyError`, as Playwright
  writes them with `includeRetries`, and Maven Surefire) counts as failed, labelled flaky;
- a skipped test is listed with its reason; it counts as skipped only when
  scripts/expected-skips.json declares it for its suite, otherwise as failed.

Also writes a one-case JUnit file for a check that is a command (a linter), so that its
result counts like a test.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from xml.sax.saxutils import escape

EXPECTED_SKIPS = Path(__file__).with_name("expected-skips.json")
FLAKY_TAGS = {"flakyFailure", "flakyError"}


@dataclass
class SuiteResult:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)
    """One line per test worth a look: failed, flaky, skipped (declared or not)."""


def case_id(case: ET.Element) -> str:
    """`classname::name`, the key of expected-skips.json (the file or module, then the title)."""
    return f"{case.get('classname', '')}::{case.get('name', '')}"


def skip_reason(case: ET.Element) -> str:
    """pytest puts the reason in <skipped message>; Playwright in a `skip` annotation property;
    vitest writes none (its describe titles say why)."""
    skipped = case.find("skipped")
    if skipped is not None:
        reason = skipped.get("message") or (skipped.text or "").strip()
        if reason:
            return reason
    for prop in case.iter("property"):
        if prop.get("name") in {"skip", "fixme"} and prop.get("value"):
            return prop.get("value", "")
    return "no reason in the report"


def declared_reason(declared: dict[str, str], cid: str) -> str | None:
    for pattern, reason in declared.items():
        if fnmatchcase(cid, pattern):
            return reason
    return None


def count(path: Path, declared: dict[str, str] | None = None) -> SuiteResult:
    """The cases of one JUnit file, judged against the skips `declared` for its suite; a file
    that is not XML counts as one failure (its suite's report is broken), never a crash here."""
    declared = declared or {}
    result = SuiteResult()
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        result.failed = 1
        result.notes.append(f"not a readable JUnit report ({error})")
        return result
    for case in root.iter("testcase"):
        cid = case_id(case)
        tags = {child.tag for child in case}
        if tags & {"failure", "error"}:
            result.failed += 1
            result.notes.append(f"FAILED  {cid}")
        elif tags & FLAKY_TAGS:
            attempts = sum(1 for child in case if child.tag in FLAKY_TAGS)
            result.failed += 1
            result.notes.append(f"FAILED (flaky: passed after {attempts} failed attempt(s))  {cid}")
        elif "skipped" in tags:
            reason = skip_reason(case)
            allowed = declared_reason(declared, cid)
            if allowed is None:
                result.failed += 1
                result.notes.append(f"FAILED (undeclared skip: {reason})  {cid}")
            else:
                result.skipped += 1
                result.notes.append(f"skipped ({reason}; declared: {allowed})  {cid}")
        else:
            result.passed += 1
    # A suite that errored before collecting any case (pytest collection error) counts as failed.
    for suite in root.iter("testsuite"):
        if int(suite.get("errors", 0)) and not any(True for _ in suite.iter("testcase")):
            result.failed += int(suite.get("errors", 0))
            result.notes.append(f"FAILED  {suite.get('errors')} error(s) before any test case")
    return result


def load_declared(path: Path) -> dict[str, dict[str, str]]:
    """{suite: {test id pattern: why it may skip}}; keys starting with `$` are comments."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {suite: dict(tests) for suite, tests in data.items() if not suite.startswith("$")}


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


def parse_times(pairs: list[str]) -> dict[str, float]:
    times = {}
    for pair in pairs:
        name, _, seconds = pair.partition("=")
        times[name] = float(seconds)
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write-check", nargs=3, metavar=("OUT", "NAME", "RC"))
    parser.add_argument("--crashed", default="")
    parser.add_argument("--expected-skips", type=Path, default=EXPECTED_SKIPS)
    parser.add_argument(
        "--time",
        action="append",
        default=[],
        metavar="SUITE=SECONDS",
        help="wall time of a suite (the stem of its JUnit file), printed on its line",
    )
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    if args.write_check:
        out, name, rc = args.write_check
        write_check(Path(out), name, int(rc), sys.stdin.read())
        return 0
    declared = load_declared(args.expected_skips)
    times = parse_times(args.time)
    total = [0, 0, 0]
    for f in sorted(args.files):
        path = Path(f)
        if not path.exists():
            continue
        r = count(path, declared.get(path.stem))
        took = f"{times[path.stem]:>8.1f} s" if path.stem in times else ""
        counts = f"{r.passed:>5} passed {r.failed:>4} failed {r.skipped:>4} skipped"
        print(f"  {path.stem:<24} {counts}{took}")
        for note in r.notes:
            print(f"      {note}")
        total = [total[0] + r.passed, total[1] + r.failed, total[2] + r.skipped]
    crashed = args.crashed.split()
    for name in crashed:
        print(f"  {name:<24} did not run to the end (no JUnit report): counted as 1 failed")
    total[1] += len(crashed)
    if "total" in times:
        print(f"  {'wall time of the run':<24} {times['total']:.1f} s")
    print(f"{total[0]} passed, {total[1]} failed, {total[2]} skipped")
    return 1 if total[1] or total[0] == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
