"""The test run's own tooling: scripts/junit_summary.py (flaky tests and undeclared skips fail
the run) and scripts/check_paths.py (no absolute machine path in tracked files), run as
scripts/test.sh runs them, on hand-made JUnit reports and a throwaway git repository."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO_ROOT

SUMMARY = REPO_ROOT / "scripts" / "junit_summary.py"
CHECK_PATHS = REPO_ROOT / "scripts" / "check_paths.py"


def summarize(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SUMMARY), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def report(folder: Path, stem: str, cases: str) -> Path:
    path = folder / f"{stem}.xml"
    path.write_text(f'<testsuites><testsuite name="{stem}">{cases}</testsuite></testsuites>')
    return path


def declare(folder: Path, skips: dict[str, dict[str, str]]) -> Path:
    path = folder / "expected-skips.json"
    path.write_text(json.dumps({"$comment": "a test's declaration", **skips}))
    return path


PASSED = '<testcase classname="tests.test_a" name="test_ok"/>'
SKIPPED = (
    '<testcase classname="tests.test_a" name="test_needs_shared">'
    '<skipped type="pytest.skip" message="../shared is absent"/></testcase>'
)
# As Playwright's JUnit reporter writes a test that failed once and passed on its retry.
FLAKY = (
    '<testcase classname="jobs.spec.ts" name="Jobs › cancels a job">'
    '<flakyFailure message="Timed out 30000ms" type="FAILURE"><stackTrace>at x</stackTrace>'
    "</flakyFailure></testcase>"
)


def test_a_test_that_passed_on_a_retry_counts_as_failed_and_flaky(tmp_path: Path):
    galata = report(tmp_path, "galata", PASSED + FLAKY)
    done = summarize("--expected-skips", declare(tmp_path, {}), galata)
    assert done.returncode == 1
    assert (
        "FAILED (flaky: passed after 1 failed attempt(s))  jobs.spec.ts::Jobs › cancels a job"
        in (done.stdout)
    )
    assert done.stdout.splitlines()[-1] == "1 passed, 1 failed, 0 skipped"


def test_an_undeclared_skip_fails_the_run_and_says_its_reason(tmp_path: Path):
    pytest_xml = report(tmp_path, "pytest", PASSED + SKIPPED)
    done = summarize("--expected-skips", declare(tmp_path, {"pytest": {}}), pytest_xml)
    assert done.returncode == 1
    assert (
        "FAILED (undeclared skip: ../shared is absent)  tests.test_a::test_needs_shared"
        in done.stdout
    )
    assert done.stdout.splitlines()[-1] == "1 passed, 1 failed, 0 skipped"


def test_a_declared_skip_counts_as_skipped_with_both_reasons(tmp_path: Path):
    pytest_xml = report(tmp_path, "pytest", PASSED + SKIPPED)
    skips = declare(tmp_path, {"pytest": {"tests.test_a::test_needs_*": "no mount(8) in CI"}})
    done = summarize("--expected-skips", skips, pytest_xml)
    assert done.returncode == 0, done.stdout
    assert (
        "skipped (../shared is absent; declared: no mount(8) in CI)  "
        "tests.test_a::test_needs_shared" in done.stdout
    )
    assert done.stdout.splitlines()[-1] == "1 passed, 0 failed, 1 skipped"


def test_a_skip_declared_for_another_suite_does_not_count(tmp_path: Path):
    vitest = report(tmp_path, "vitest", SKIPPED)
    skips = declare(tmp_path, {"pytest": {"tests.test_a::test_needs_shared": "why"}})
    done = summarize("--expected-skips", skips, vitest)
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == "0 passed, 1 failed, 0 skipped"


def test_a_playwright_skip_gives_its_annotation_as_reason(tmp_path: Path):
    galata = report(
        tmp_path,
        "galata",
        PASSED + '<testcase classname="globe.spec.ts" name="Globe › CMIP6"><properties>'
        '<property name="skip" value="the shared CMIP6 sample is absent"/></properties>'
        "<skipped/></testcase>",
    )
    done = summarize("--expected-skips", declare(tmp_path, {}), galata)
    assert "undeclared skip: the shared CMIP6 sample is absent" in done.stdout


def test_each_suite_line_shows_its_wall_time_and_the_closing_line_comes_last(tmp_path: Path):
    vitest = report(tmp_path, "vitest", PASSED)
    done = summarize(
        "--expected-skips",
        declare(tmp_path, {}),
        "--time",
        "vitest=41.25",
        "--time",
        "total=60",
        vitest,
    )
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["vitest", "1", "passed", "0", "failed", "0", "skipped", "41.2", "s"]
    assert lines[-2].split()[-2:] == ["60.0", "s"]
    assert lines[-1] == "1 passed, 0 failed, 0 skipped"


def test_the_repository_declares_its_skips_per_suite():
    declared = json.loads((REPO_ROOT / "scripts" / "expected-skips.json").read_text())
    assert {"vitest", "pytest", "galata"} <= declared.keys()
    assert all(
        isinstance(reason, str) and reason
        for suite in ("vitest", "pytest", "galata")
        for reason in declared[suite].values()
    )


def git_repo(folder: Path, files: dict[str, str]) -> Path:
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    subprocess.run(["git", "-C", str(folder), "add", *files], check=True)
    return folder


def check_paths(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK_PATHS)], cwd=cwd, capture_output=True, text=True, check=False
    )


# A machine path as a test value, put together here so that this file holds none itself.
CLONE_PYTHON = "/" + "/".join(("work", "main", ".venv", "bin", "python"))
HOME_DATA = "/" + "/".join(("home", "alice", "data"))
CLONE = "/" + "/".join(("work", "main"))


def test_a_machine_path_in_a_tracked_test_is_named_by_file_and_line(tmp_path: Path):
    repo = git_repo(
        tmp_path,
        {
            "tests/test_x.py": f"import os\nPYTHON = '{CLONE_PYTHON}'\n",
            "src/a.ts": f"const HOME = '{HOME_DATA}';\nconst UP = '../root/x';\n",
            "docs/setup.md": f"The bench machine keeps the clone in {CLONE}.\n",
            "src/b.py": "PATH = '/home/jovyan/work'  # the images' user\n",
        },
    )
    done = check_paths(repo)
    assert done.returncode == 1
    # git ls-files order; the docs' prose, the images' user and a relative ../root are no hits.
    assert done.stdout.splitlines()[:-1] == [
        f"src/a.ts:1: const HOME = '{HOME_DATA}';",
        f"tests/test_x.py:2: PYTHON = '{CLONE_PYTHON}'",
    ]
    assert done.stdout.splitlines()[-1].startswith("2 absolute machine path(s)")


def test_a_tree_with_paths_relative_to_the_clone_passes(tmp_path: Path):
    repo = git_repo(
        tmp_path,
        {"tests/test_x.py": "SHARED = REPO_ROOT.parent / 'shared'\nURL = 'http://h/work/x'\n"},
    )
    done = check_paths(repo)
    assert (done.returncode, done.stdout) == (0, "")
