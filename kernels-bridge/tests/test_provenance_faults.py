"""Faults around a recording and its crate (issue 19), and `espri-vre verify`: a kernel killed
mid-cell (a real kernel, SIGKILL), a disk that fills while a crate is written (a real 1 MiB
tmpfs, mounted by the test as root), a log or crate changed or cut after the fact."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from conftest import tmpfs

from espri_vre.cli import main
from espri_vre.provenance import events
from espri_vre.provenance.crate import CrateWriteError, export_crate, load_run
from espri_vre.provenance.hashing import FileHasher
from espri_vre.provenance.replay import Kernel
from espri_vre.provenance.store import EventLog, read_log
from espri_vre.provenance.verification import check_target

KILL_WAIT = 120.0
"""How long to wait for the kernel to log the start of the cell it is killed in (a deadline for
a slow machine, not a measure)."""


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command line, run in this process: (exit status, stdout, stderr)."""
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def new_notebook(path: Path) -> Path:
    nbformat.write(nbformat.v4.new_notebook(), path)
    return path


def test_a_kernel_killed_mid_cell_leaves_its_log_intact_and_says_the_cell_did_not_finish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    notebook = new_notebook(tmp_path / "killed.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "ESPRI_VRE_"))}
    env["JPY_SESSION_NAME"] = str(notebook)
    kernel = Kernel(tmp_path, env)
    try:
        assert kernel.run("%load_ext espri_vre").status == "ok"
        assert kernel.run("x = 41", "cell-a").status == "ok"
        content = {"code": "open('partial.txt', 'w').write('a')\nimport time\ntime.sleep(600)"}
        kernel.client.shell_channel.send(
            kernel.client.session.msg("execute_request", content, metadata={"cellId": "cell-b"})
        )
        (log,) = (tmp_path / ".espri-vre-provenance/killed").glob("*.jsonl")
        deadline = time.monotonic() + KILL_WAIT
        while not any(e.get("cell_id") == "cell-b" for e in read_log(log).events()):
            assert time.monotonic() < deadline, "the kernel never logged the cell's start"
            time.sleep(0.1)
        kernel.manager.signal_kernel(signal.SIGKILL)  # as the OOM killer does
        assert kernel.manager.provisioner.process.wait(timeout=KILL_WAIT) == -signal.SIGKILL
    finally:
        kernel.client.stop_channels()
        kernel.manager.shutdown_kernel(now=True)  # its connection file and ports

    checked = check_target(log)
    assert checked.ok and checked.verification.problems == []
    assert not checked.verification.ended
    kinds = [e["kind"] for e in read_log(log).events()]
    assert kinds[-2:] == ["source", "cell_start"] and kinds.count("cell_end") == 1
    (unfinished,) = checked.unfinished
    assert unfinished.startswith("2 (cell-b) started ")
    run = load_run(log)
    assert [(e.cell_id, e.status) for e in run.executions] == [("cell-a", "ok"), ("cell-b", None)]

    status, out, _ = cli(capsys, "verify", str(log))
    assert status == 0, out
    assert "cell 2 (cell-b) started" in out and "did not finish" in out
    assert "no end event" in out and out.rstrip().endswith("intact")


def recorded_run(folder: Path, input_size: int) -> tuple[Path, Path, Path]:
    """A notebook, a closed log of one cell reading `input.bin` (of `input_size` bytes) and
    the input: (notebook, log, input)."""
    folder.mkdir(parents=True, exist_ok=True)
    notebook = new_notebook(folder / "analysis.ipynb")
    data = folder / "input.bin"
    data.write_bytes(os.urandom(input_size))
    source = events.source("data = open('input.bin', 'rb').read()")
    start = events.utc_now()
    log = folder / "analysis.provenance" / "20260101T000000Z-0000abcd.jsonl"
    with EventLog.open(log) as writer:
        writer.append(events.session(str(notebook), manifest_above=2**30, chunk_size=2**20))
        writer.append(source)
        writer.append(events.CellStart(1, "cell-a", source.sha256, start))
        writer.append(
            events.file_access(
                cell=1, op="read", opener="open", path=str(data), digest=FileHasher().digest(data)
            )
        )
        writer.append(events.CellEnd(1, "cell-a", 1, source.sha256, start, events.utc_now(), "ok"))
        writer.append(events.Control("end", "kernel exit"))
    return notebook, log, data


def test_verify_checks_the_chain_of_a_log_and_of_a_crate_and_the_crate_s_copies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    notebook, log, _ = recorded_run(tmp_path / "run", 1000)
    crate = export_crate(notebook, tmp_path / "crate", log=log)
    for target in (log, crate):
        status, out, _ = cli(capsys, "verify", str(target))
        assert status == 0, out
        assert "6 events" in out and out.rstrip().endswith("intact")

    copied = crate / "provenance" / log.name
    copied.write_bytes(b"".join(copied.read_bytes().splitlines(keepends=True)[:-1]))
    (data,) = (crate / "data").iterdir()
    data.write_bytes(b"changed")
    status, out, _ = cli(capsys, "verify", str(crate))
    assert status == 1, out
    assert "kept when the log was closed: the end of the log was changed or cut" in out
    assert f"problem: data/{data.name}: its sha256 is not the" in out
    assert "NOT intact" in out

    status, _, err = cli(capsys, "verify", str(tmp_path / "nothing.jsonl"))
    assert status == 2 and "No such file" in err


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB file system."""
    with tmpfs(tmp_path / "small", "1m") as mount:
        yield mount


def test_a_disk_filling_up_while_a_crate_is_written_leaves_no_half_crate(
    small_tmpfs: Path, tmp_path: Path
):
    small_notebook, small_log, _ = recorded_run(tmp_path / "small-run", 1000)
    earlier = export_crate(small_notebook, small_tmpfs / "crate", log=small_log)
    metadata = (earlier / "ro-crate-metadata.json").read_bytes()
    notebook, log, _ = recorded_run(tmp_path / "big-run", 2 * 2**20)

    with pytest.raises(CrateWriteError) as replaced:
        export_crate(notebook, small_tmpfs / "crate", log=log)
    assert replaced.value.status == 507 and "The earlier crate is kept" in str(replaced.value)
    with pytest.raises(CrateWriteError) as new:
        export_crate(notebook, small_tmpfs / "new-crate", log=log)
    assert "No space left on device" in str(new.value) and "Nothing was left there" in str(
        new.value
    )

    # the earlier crate whole and unchanged, and nothing else: no partial folder
    assert sorted(p.name for p in small_tmpfs.iterdir()) == ["crate"]
    assert (earlier / "ro-crate-metadata.json").read_bytes() == metadata
    assert check_target(earlier).ok
    assert json.loads(metadata)["@graph"]


def test_a_crate_or_report_is_never_written_over_a_folder_that_is_not_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    notebook, log, _ = recorded_run(tmp_path / "run", 100)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    # a hand-made crate, and a folder that happens to hold a report.json among other files
    hand_made = tmp_path / "hand-made"
    hand_made.mkdir()
    (hand_made / "ro-crate-metadata.json").write_text('{"@graph": [{"@id": "./"}]}')
    (hand_made / "figure.png").write_bytes(b"not ours")
    (precious / "report.json").write_text("{}")
    before = snapshot(tmp_path / "precious", hand_made)

    for folder in (precious, hand_made):
        with pytest.raises(CrateWriteError, match="is not a crate exported by espri-vre"):
            export_crate(notebook, folder, log=log)
        status, _, err = cli(
            capsys, "replay", str(notebook), "--log", str(log), "--report", str(folder)
        )
        assert status == 2 and "is not an earlier replay report" in err
    assert snapshot(tmp_path / "precious", hand_made) == before


def snapshot(*folders: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for f in folders for p in sorted(f.rglob("*")) if p.is_file()}
