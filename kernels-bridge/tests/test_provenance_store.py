"""The provenance log on disk: the hash chain, a torn last line, an edited log, two writers at
once, a full disk (a real 64 KiB tmpfs); and what goes into it: file hashes with chunk
manifests, CMIP6 identifiers from a real file's attributes, every event kind against the one
JSON Schema."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import pytest
from conftest import SHARED

from espri_vre.provenance import events, store
from espri_vre.provenance.hashing import FileHasher, manifest_text
from espri_vre.provenance.identifiers import identifiers_from_attributes, identifiers_from_file
from espri_vre.provenance.store import (
    EventLog,
    LogBusyError,
    RecordingStoppedWarning,
    kept_hash,
    kept_hash_path,
    new_run_id,
    read_log,
    recover_directory,
    verify,
)

CMIP6_FILE = (
    SHARED
    / "data/cmip6-sample/CMIP6/CMIP/CNRM-CERFACS/CNRM-CM6-1/historical/r4i1p1f2/Amon/prsn/gr"
    / "v20190125/prsn/prsn_Amon_CNRM-CM6-1_historical_r4i1p1f2_gr_185001-201412.nc"
)
needs_cmip6 = pytest.mark.skipif(
    not CMIP6_FILE.is_file(), reason=f"the real CMIP6 sample file is absent: {CMIP6_FILE}"
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def session_event() -> events.Session:
    return events.session(None, manifest_above=1024, chunk_size=256)


def one_of_each_kind(tmp_path: Path) -> list[events.Event]:
    data = tmp_path / "input.csv"
    data.write_text("a,b\n1,2\n")
    digest = FileHasher().digest(data)
    source = events.source("x = open('input.csv').read()")
    start = events.utc_now()
    return [
        session_event(),
        source,
        events.CellStart(1, "cell-a", source.sha256, start),
        events.file_access(cell=1, op="read", opener="open", path=str(data), digest=digest),
        events.file_access(
            cell=1, op="read", opener="xarray.open_dataset", url="https://x/y.nc", note="remote"
        ),
        events.DatasetSeen(
            cell=1,
            path=str(data),
            url=None,
            sha256=digest.sha256,
            identifiers=identifiers_from_attributes({"tracking_id": "hdl:21.14100/abc"}),
        ),
        events.job_submitted(
            "4242", {"kind": "notebook", "path": "/home/u/run.ipynb", "cluster": "slurm", "cpus": 4}
        ),
        events.CellEnd(
            1,
            "cell-a",
            3,
            source.sha256,
            start,
            events.utc_now(),
            "error",
            events.cell_error(ZeroDivisionError("division by zero")),
        ),
        events.Control("pause", "%provenance pause"),
        events.Control("end", "kernel exit"),
    ]


def write_log(path: Path, count: int = 5) -> list[bytes]:
    with EventLog.open(path) as log:
        assert log.append(session_event())
        for i in range(count - 1):
            assert log.append(events.source(f"cell {i}"))
    return path.read_bytes().splitlines()


def test_each_line_holds_the_sha256_of_the_line_before_it(tmp_path: Path):
    path = tmp_path / f"{new_run_id()}.jsonl"
    with EventLog.open(path, fsync="event") as log:
        for event in one_of_each_kind(tmp_path):
            assert log.append(event)
        last_hash = log.last_hash
    lines = path.read_bytes().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["seq"] for r in records] == list(range(10))
    assert records[0]["prev"] is None
    for before, record in zip(lines, records[1:], strict=False):
        assert record["prev"] == sha256(before)
    assert {r["run"] for r in records} == {path.stem}
    assert last_hash == sha256(lines[-1])
    result = verify(path, last_hash=last_hash, schema=True)
    assert result.ok, result.problems
    assert result.events == 10 and result.ended and result.torn_bytes == 0


def test_every_event_kind_validates_against_the_one_schema(tmp_path: Path):
    path = tmp_path / "run-1.jsonl"
    with EventLog.open(path) as log:
        for event in one_of_each_kind(tmp_path):
            log.append(event)
    kinds = set()
    for record in read_log(path).events():
        assert events.validation_errors(record) == [], record["kind"]
        kinds.add(record["kind"])
    schema_kinds = {
        d["properties"]["kind"]["const"]
        for d in events.event_schema()["definitions"].values()
        if "kind" in d.get("properties", {})
    }
    assert kinds == schema_kinds
    broken = dict(next(read_log(path).events()), python={"version": 3})
    assert any("python" in e for e in events.validation_errors(broken))


def test_a_reopened_log_continues_its_chain(tmp_path: Path):
    path = tmp_path / "run-1.jsonl"
    write_log(path, 3)
    with EventLog.open(path) as log:
        assert log.seq == 3
        log.append(events.Control("end", None))
    assert verify(path).ok
    assert [r["seq"] for r in read_log(path).events()] == [0, 1, 2, 3]


def test_a_torn_last_line_is_set_aside_and_nothing_before_it_is_lost(tmp_path: Path):
    path = tmp_path / "run-1.jsonl"
    complete = write_log(path, 4)
    # What a kernel killed inside write(2) leaves: part of the next line, no newline.
    torn = b'{"seq":4,"prev":"' + sha256(complete[-1]).encode()[:20]
    with path.open("ab") as f:
        f.write(torn)

    before = verify(path)
    assert before.ok and before.events == 4 and before.torn_bytes == len(torn)
    assert not before.ended

    with EventLog.open(path) as log:
        assert log.recovery is not None
        assert log.recovery.torn_bytes == len(torn)
        assert log.recovery.set_aside.read_bytes() == torn
        assert log.seq == 4
        assert log.append(events.Control("end", "after recovery"))
    lines = path.read_bytes().splitlines()
    assert lines[:4] == complete
    after = verify(path, schema=True)
    assert after.ok and after.events == 5 and after.torn_bytes == 0


def test_torn_logs_of_dead_kernels_are_recovered_but_live_logs_left_alone(tmp_path: Path):
    dead, live = tmp_path / "run-dead.jsonl", tmp_path / "run-live.jsonl"
    write_log(dead, 2)
    with dead.open("ab") as f:
        f.write(b'{"seq":2,')
    with EventLog.open(live) as writer:
        writer.append(session_event())
        with live.open("ab") as f:  # a write in progress, as another process sees it
            f.write(b'{"seq":1')
        recovered = recover_directory(tmp_path)
        assert [r.log for r in recovered] == [dead]
        assert live.read_bytes().endswith(b'{"seq":1')
    assert verify(dead).torn_bytes == 0 and verify(dead).events == 2
    assert (tmp_path / f"run-dead.jsonl.torn-{dead.stat().st_size}").read_bytes() == b'{"seq":2,'


def test_an_edited_line_is_detected_at_the_next_one(tmp_path: Path):
    path = tmp_path / "run-1.jsonl"
    lines = write_log(path, 5)
    edited = lines[2].replace(b"cell 1", b"cell X")
    path.write_bytes(b"\n".join([*lines[:2], edited, *lines[3:]]) + b"\n")
    result = verify(path)
    assert not result.ok
    assert result.problems == ["line 4: prev does not match the hash of line 3"]


def test_a_removed_line_is_detected(tmp_path: Path):
    path = tmp_path / "run-1.jsonl"
    lines = write_log(path, 5)
    path.write_bytes(b"\n".join([*lines[:2], *lines[3:]]) + b"\n")
    problems = verify(path).problems
    assert "line 3: seq 3, expected 2" in problems
    assert "line 3: prev does not match the hash of line 2" in problems


def test_a_changed_last_line_is_caught_by_the_last_hash_kept_elsewhere(tmp_path: Path):
    path = tmp_path / "run-1.jsonl"
    lines = write_log(path, 5)
    kept = sha256(lines[-1])
    kept_hash_path(path).unlink()  # as if the hash kept at close were lost with the end
    path.write_bytes(b"\n".join([*lines[:-1], lines[-1].replace(b"cell 3", b"cell 9")]) + b"\n")
    assert verify(path).ok  # the chain alone cannot see it
    problems = verify(path, last_hash=kept).problems
    assert len(problems) == 1 and "the end of the log was changed or cut" in problems[0]
    path.write_bytes(b"\n".join(lines[:-1]) + b"\n")
    assert not verify(path, last_hash=kept).ok


def test_the_hash_kept_at_close_covers_the_final_event(tmp_path: Path):
    path = tmp_path / f"{new_run_id()}.jsonl"
    with EventLog.open(path, fsync="event") as log:
        assert log.append(session_event())
        assert log.append(events.source("print(1)"))
        saved = log.last_hash  # what the notebook keeps when it is saved mid-run
        assert log.append(events.Control("end", "kernel shutdown"))
    lines = path.read_bytes().splitlines()
    assert kept_hash(path) == sha256(lines[-1])
    assert json.loads(kept_hash_path(path).read_text())["events"] == 3
    intact = verify(path, last_hash=saved)
    assert intact.ok and intact.ended, intact.problems

    path.write_bytes(b"\n".join(lines[:-1]) + b"\n")  # the final event cut off
    cut = verify(path)
    assert not cut.ok and not cut.ended
    assert len(cut.problems) == 1 and "the end of the log was changed or cut" in cut.problems[0]
    assert not verify(path, last_hash=saved).ok

    path.write_bytes(b"\n".join(lines) + b"\n")
    # a log continued by another kernel drops the hash of its last close until it closes again
    with EventLog.open(path) as log:
        assert kept_hash(path) is None
        assert log.append(events.Control("resume", "continued"))
        assert verify(path).ok
    assert kept_hash(path) == sha256(path.read_bytes().splitlines()[-1])
    assert verify(path, last_hash=saved).ok


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from espri_vre.provenance import events
    from espri_vre.provenance.store import EventLog, LogBusyError

    mine, other, barrier = (Path(a) for a in sys.argv[1:4])
    count = int(sys.argv[4])

    def wait_for(name):
        (barrier / f"{mine.stem}.{name}").touch()
        deadline = time.monotonic() + 30
        while not (barrier / f"{other.stem}.{name}").exists():
            assert time.monotonic() < deadline, name
            time.sleep(0.005)

    with EventLog.open(mine, fsync="none") as log:
        log.append(events.session(None, manifest_above=1, chunk_size=1))
        wait_for("open")
        for i in range(count):
            assert log.append(events.source(f"{mine.stem} {i}"))
        try:
            EventLog.open(other)
            print("other log opened")
        except LogBusyError:
            print("other log busy")
        wait_for("done")
    """
)


def test_two_processes_recording_at_once_do_not_mix(tmp_path: Path):
    logs = tmp_path / "analysis.provenance"
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    a, b = logs / f"{new_run_id()}.jsonl", logs / f"{new_run_id()}.jsonl"
    count = 400
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(mine), str(other), str(barrier), str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mine, other in ((a, b), (b, a))
    ]
    outputs = [w.communicate(timeout=60) for w in writers]
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
        assert out.strip() == "other log busy"
    for log in (a, b):
        result = verify(log, schema=True)
        assert result.ok, result.problems
        assert result.events == count + 1
        texts = [e["text"] for e in read_log(log).events() if e["kind"] == "source"]
        assert texts == [f"{log.stem} {i}" for i in range(count)]
        assert {e["run"] for e in read_log(log).events()} == {log.stem}


def test_a_second_writer_of_the_same_log_is_refused(tmp_path: Path):
    path = tmp_path / "run-1.jsonl"
    with EventLog.open(path) as log:
        log.append(session_event())
        with pytest.raises(LogBusyError):
            EventLog.open(path)
    with EventLog.open(path) as again:
        assert again.seq == 1


def test_a_full_disk_stops_recording_with_a_warning_and_never_raises(tiny_tmpfs: Path):
    path = tiny_tmpfs / "run-1.jsonl"
    log = EventLog.open(path)
    assert log.append(session_event())
    appended = 1
    with pytest.warns(RecordingStoppedWarning, match=r"No space left on device \(errno 28\)"):
        while log.append(events.source(f"{appended} " + "x" * 3000)):
            appended += 1
            assert appended < 100, "a 64 KiB file system should be full by now"
    assert log.stopped is not None and "errno 28" in log.stopped
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, then silent
        assert not log.append(events.Control("end", None))
        log.checkpoint()
        log.close()
    result = verify(path)
    assert result.ok and result.torn_bytes == 0  # the partial line was taken back
    assert result.events == appended >= 15


def test_the_cell_policy_syncs_in_the_background_and_close_waits_for_it(tmp_path: Path):
    path = tmp_path / "run-1.jsonl"
    log = EventLog.open(path, fsync="cell")
    log.append(session_event())
    for i in range(50):
        log.append(events.source(f"cell {i}"))
        log.checkpoint_soon()
    syncers = [t for t in threading.enumerate() if t.name == f"provenance-fsync-{log.run_id}"]
    assert len(syncers) == 1
    log.close()
    assert not syncers[0].is_alive()
    assert verify(path).events == 51


def test_the_cell_policy_shares_one_fsync_between_the_cells_that_end_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(store, "SYNC_DELAY", 0.3)
    monkeypatch.setattr(store.os, "fsync", counting_fsync)
    log = EventLog.open(tmp_path / "run-1.jsonl", fsync="cell")
    synced.clear()  # the directory's fsync on creation
    for i in range(20):
        log.append(events.source(f"cell {i}"))
        log.checkpoint_soon()
    assert synced == []  # nothing yet: the fsync waits for the cells that end meanwhile
    deadline = time.monotonic() + 30
    while not synced and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(synced) == 1  # one fsync for the 20 cells
    log.append(events.source("late"))
    log.close()  # close syncs what came after, without waiting for the delay
    # two fsyncs of the log, then one of the hash kept beside it (written after the last event)
    assert len(synced) == 3 and synced[0] == synced[1] != synced[2]
    assert verify(tmp_path / "run-1.jsonl").events == 21


def test_a_batch_goes_out_in_one_write_and_chains_like_single_appends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    writes: list[bytes] = []
    real_write = os.write

    def counting_write(fd: int, data: bytes) -> int:
        writes.append(bytes(data))
        return real_write(fd, data)

    path = tmp_path / "run-1.jsonl"
    with EventLog.open(path, fsync="none") as log:
        log.append(session_event())
        monkeypatch.setattr(store.os, "write", counting_write)
        assert log.append_many([events.source(f"cell {i}") for i in range(5)])
        monkeypatch.undo()
        assert log.seq == 6
        last = log.last_hash
    assert len(writes) == 1 and writes[0].count(b"\n") == 5
    result = verify(path)
    assert result.ok and result.events == 6
    assert last == sha256(path.read_bytes().splitlines()[-1])


def test_a_batch_with_an_event_that_is_not_json_writes_nothing(tmp_path: Path):
    path = tmp_path / "run-1.jsonl"
    with EventLog.open(path, fsync="none") as log:
        log.append(session_event())
        bad = events.Control("end", float("nan"))  # type: ignore[arg-type]
        with pytest.raises((TypeError, ValueError)):
            log.append_many([events.source("fine"), bad])
        assert log.seq == 1
    assert verify(path).events == 1


def test_an_unknown_fsync_policy_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="fsync policy"):
        EventLog.open(tmp_path / "run-1.jsonl", fsync="sometimes")  # type: ignore[arg-type]


def test_files_above_the_manifest_size_get_a_chunk_manifest(tmp_path: Path):
    data = os.urandom(2500)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    digest = FileHasher(manifest_above=1000, chunk_size=400).digest(path)
    assert digest.sha256 is None and digest.size == 2500
    assert digest.manifest is not None
    chunks = tuple(sha256(data[i : i + 400]) for i in range(0, 2500, 400))
    assert digest.manifest.chunk_sha256 == chunks
    assert digest.manifest.sha256 == sha256(manifest_text(400, chunks).encode())
    small = FileHasher(manifest_above=2500).digest(path)
    assert small.sha256 == sha256(data) and small.manifest is None


def test_hashes_are_cached_until_the_file_changes(tmp_path: Path):
    path = tmp_path / "a.txt"
    path.write_text("one")
    hasher = FileHasher()
    first = hasher.digest(path)
    assert hasher.digest(path) is first
    time.sleep(0.01)
    path.write_text("two")
    assert hasher.digest(path).sha256 == sha256(b"two")


def test_a_directory_gets_the_hash_of_its_listing(tmp_path: Path):
    store = tmp_path / "store.zarr"
    (store / "tas" / "c").mkdir(parents=True)
    (store / "zarr.json").write_text("{}")
    chunk = bytes(10)
    (store / "tas" / "c" / "0").write_bytes(chunk)
    digest = FileHasher().digest(store)
    assert digest.tree is not None and digest.tree.files == 2 and digest.size == 12
    listing = "\n".join(
        [
            "sha256-tree/1",
            f"tas/c/0\t10\t{sha256(chunk)}",
            f"zarr.json\t2\t{sha256(b'{}')}",
        ]
    )
    assert digest.tree.sha256 == sha256((listing + "\n").encode())


@needs_cmip6
def test_cmip6_identifiers_come_from_the_files_own_attributes():
    import netCDF4

    with netCDF4.Dataset(CMIP6_FILE) as ds:
        tracking_id = ds.getncattr("tracking_id")
        further_info_url = ds.getncattr("further_info_url")
    found = identifiers_from_file(CMIP6_FILE)
    assert found.tracking_id == tracking_id and found.pid == tracking_id
    assert found.further_info_url == further_info_url
    assert found.dataset_id == "CMIP6.CMIP.CNRM-CERFACS.CNRM-CM6-1.historical.r4i1p1f2.Amon.prsn.gr"
    assert found.version == "v20190125"
    assert found.instance_id == f"{found.dataset_id}.v20190125"
    assert found.facets["source_id"] == "CNRM-CM6-1"


def test_identifiers_of_a_multi_activity_experiment_and_a_sub_experiment():
    attrs = {
        "mip_era": b"CMIP6",
        "activity_id": "ScenarioMIP AerChemMIP",
        "institution_id": "IPSL",
        "source_id": "IPSL-CM6A-LR",
        "experiment_id": "ssp370",
        "sub_experiment_id": "s1960",
        "variant_label": "r1i1p1f1",
        "table_id": "Amon",
        "variable_id": "tas",
        "grid_label": "gr",
        "doi": "https://doi.org/10.22033/ESGF/CMIP6.1532",
    }
    path = "/bdd/CMIP6/AerChemMIP/IPSL/IPSL-CM6A-LR/ssp370/s1960-r1i1p1f1/Amon/tas/gr/v20190119"
    path += "/tas_Amon_IPSL-CM6A-LR_ssp370_s1960-r1i1p1f1_gr_201501-210012.nc"
    found = identifiers_from_attributes(attrs, path)
    assert found.instance_id == (
        "CMIP6.AerChemMIP.IPSL.IPSL-CM6A-LR.ssp370.s1960-r1i1p1f1.Amon.tas.gr.v20190119"
    )
    assert found.doi == "10.22033/ESGF/CMIP6.1532"
    assert not identifiers_from_attributes({"title": "a demo field"})


def test_the_package_lock_equals_importlib_metadata_for_every_distribution_here():
    # package_lock reads only the metadata's headers; importlib's parser reads it all.
    from importlib.metadata import distributions

    from espri_vre import __version__

    expected: dict[str, dict[str, str]] = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name:
            key = name.lower().replace("_", "-").replace(".", "-")
            expected.setdefault(key, {"name": name, "version": dist.version})
    lock = events.package_lock()
    assert len(lock) > 100  # this venv: jupyterlab, xarray, ...
    assert lock == [expected[k] for k in sorted(expected)]
    assert {"name": "espri-vre", "version": __version__} in lock
