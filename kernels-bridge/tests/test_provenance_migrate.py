"""`espri-vre provenance migrate [PATH]` (issue 20), run as a user runs it (a subprocess of the
real command line) on folders of the earlier layout, `<stem>.provenance/`, holding the log a
real kernel recorded: each folder moves whole into `.espri-vre-provenance/<stem>/` and its
chain is checked there; `--dry-run` moves nothing; a folder whose target exists, or whose log a
recorder still holds, is refused and left as it was, as is everything else; a PATH that cannot
be searched is an error that moves nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_provenance_lazy_log import run_kernel

from espri_vre.cli import main
from espri_vre.provenance.layout import HIDDEN_FOLDER as H
from espri_vre.provenance.store import EventLog, verify


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's folder a real kernel left beside analysis.ipynb after one cell (its log and
    the last hash kept when it closed it)."""
    base = tmp_path_factory.mktemp("migrate")
    run_kernel(base, ["1 + 1"])
    return base / "work" / H / "analysis"


def espri_vre_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line as a user runs it, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "espri_vre.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by path relative to it, with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def earlier(tmp_path: Path, recorded: Path) -> Path:
    """A user's folder as the earlier version left it: two notebooks' `<stem>.provenance`
    folders, one in a subfolder, and a checkpoints folder that is not searched."""
    root = tmp_path / "notebooks"
    shutil.copytree(recorded, root / "analysis.provenance")
    shutil.copytree(recorded, root / "course" / "week1.provenance")
    shutil.copytree(recorded, root / ".ipynb_checkpoints" / "old.provenance")
    return root


def run_name(recorded: Path) -> str:
    (log,) = recorded.glob("*.jsonl")
    return log.name


def test_migrate_moves_each_earlier_folder_whole_and_checks_its_chain(earlier, recorded, capsys):
    before = files(earlier)
    log = run_name(recorded)
    answer = espri_vre_cli("provenance", "migrate", str(earlier))
    assert (answer.returncode, answer.stderr) == (0, "")
    events = verify(recorded / log).events
    assert answer.stdout.splitlines() == [
        f"moved analysis.provenance -> {H}/analysis",
        f"  {log}: {events} events, intact",
        f"moved course/week1.provenance -> course/{H}/week1",
        f"  {log}: {events} events, intact",
        "2 moved",
    ]
    # Every byte kept, under its new name; no earlier folder left; the dot-folder untouched.
    renamed = {
        name.replace("analysis.provenance", f"{H}/analysis").replace(
            "week1.provenance", f"{H}/week1"
        ): data
        for name, data in before.items()
    }
    assert files(earlier) == renamed
    assert sorted(p.name for p in earlier.iterdir()) == sorted([".ipynb_checkpoints", H, "course"])
    # Run again: nothing left to do.
    assert migrate_cli(capsys, str(earlier)) == (0, "nothing found\n", "")


def migrate_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The same command line in this process (espri_vre.cli.main, the `espri-vre` script's
    entry point): a subprocess costs seconds of imports each."""
    code = main(["provenance", "migrate", *args])
    said = capsys.readouterr()
    return code, said.out, said.err


def test_a_dry_run_says_what_would_move_checks_in_place_and_moves_nothing(earlier, capsys):
    before = files(earlier)
    code, out, _ = migrate_cli(capsys, "--dry-run", str(earlier))
    assert code == 0
    assert out.splitlines()[0] == f"would move analysis.provenance -> {H}/analysis"
    assert out.splitlines()[-1] == "2 would move"
    assert out.count(", intact") == 2
    assert files(earlier) == before


def test_an_existing_target_is_refused_and_both_folders_stay_as_they_were(earlier, capsys):
    target = earlier / H / "analysis"
    target.mkdir(parents=True)
    (target / "20990101T000000Z-0123abcd.jsonl").write_text("")
    before = files(earlier)
    code, out, _ = migrate_cli(capsys, str(earlier))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        f"refused analysis.provenance -> {H}/analysis: {H}/analysis exists; both left as they were"
    )
    assert lines[-1] == "1 moved, 1 refused"
    # The refused pair untouched, the other folder migrated.
    after = files(earlier)
    assert {k: v for k, v in after.items() if "analysis" in k} == {
        k: v for k, v in before.items() if "analysis" in k
    }
    assert not (earlier / "course" / "week1.provenance").exists()


def test_a_log_a_recorder_still_holds_is_refused_and_left_where_it_is(earlier, recorded, capsys):
    log = earlier / "analysis.provenance" / run_name(recorded)
    recording = EventLog.open(log)  # the store's writer, as a kernel still running holds it
    try:
        before = files(earlier / "analysis.provenance")
        code, out, _ = migrate_cli(capsys, str(earlier))
        assert files(earlier / "analysis.provenance") == before
    finally:
        recording.close()
    assert code == 1
    assert out.splitlines()[0] == (
        f"refused analysis.provenance -> {H}/analysis: a kernel is still recording into it; "
        "both left as they were"
    )
    assert not (earlier / H / "analysis").exists()


def test_a_changed_log_is_moved_and_said_not_intact(earlier, recorded, capsys):
    log = earlier / "analysis.provenance" / run_name(recorded)
    changed = log.read_bytes().replace(b'"1 + 1"', b'"1 + 2"', 1)
    assert changed != log.read_bytes()
    log.write_bytes(changed)
    code, out, _ = migrate_cli(capsys, str(earlier))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"moved analysis.provenance -> {H}/analysis"
    assert lines[1].startswith(f"  {log.name}: ") and lines[1].endswith("events, NOT intact")
    assert lines[2].startswith("    problem: ")
    assert (earlier / H / "analysis" / log.name).read_bytes() == changed


def test_a_path_that_is_not_a_folder_or_is_the_fallback_folder_moves_nothing(
    earlier, tmp_path, capsys, monkeypatch
):
    before = files(earlier)
    code, out, err = migrate_cli(capsys, str(tmp_path / "nowhere"))
    assert (code, out) == (2, "")
    assert err == (
        f"espri-vre provenance: {tmp_path / 'nowhere'} is not a folder: "
        "give the folder of the notebooks.\n"
    )
    monkeypatch.setenv("ESPRI_VRE_PROVENANCE_DIR", str(earlier))
    code, out, err = migrate_cli(capsys, str(earlier / "course"))
    assert (code, out) == (2, "")
    assert f"{earlier / 'course'} is the kernels' fallback folder ({earlier})" in err
    assert files(earlier) == before
