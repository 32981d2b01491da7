"""A notebook's provenance folder (`.espri-vre-provenance/<stem>/`) follows it when JupyterLab
renames or moves it (PATCH /api/contents on a real Jupyter server with the espri_vre
extension): the runs route then lists its runs under the new name, a running kernel keeps
recording into the moved log, a kernel still waiting for its first cell records under the new
name, an existing target folder gets the runs without anything replaced, a `<stem>.provenance`
folder of the earlier layout is read and migrated on rename, and what is not a notebook, has
no folder or would leave the root is not moved while the user's rename still succeeds."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import KERNEL_TIMEOUT
from test_provenance_lazy_log import run_kernel
from test_provenance_waiting import new_notebook_kernel, runs

from espri_vre.provenance.follow import FollowError, follow_rename
from espri_vre.provenance.layout import HIDDEN_FOLDER as H
from espri_vre.provenance.store import read_log, verify


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """analysis.ipynb and its runs' folder as a real kernel that recorded one cell left
    them (a clean exit: the log ends and its last hash is kept beside it)."""
    base = tmp_path_factory.mktemp("follow")
    run_kernel(base, ["1 + 1"])
    return base / "work"


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"espri_vre": True}}}


@pytest.fixture
def root(jp_root_dir: Path, recorded: Path) -> Path:
    """The server's root holding the recorded notebook and its folder, as a user's files."""
    root = Path(jp_root_dir)
    shutil.copy(recorded / "analysis.ipynb", root / "analysis.ipynb")
    shutil.copytree(recorded / H / "analysis", root / H / "analysis")
    return root


async def rename(jp_fetch: Any, jp_serverapp: Any, old: str, new: str) -> str:
    """Renames as JupyterLab does, then waits for the server's event listeners to finish."""
    response = await jp_fetch(
        "api", "contents", *old.split("/"), method="PATCH", body=json.dumps({"path": new})
    )
    await jp_serverapp.event_logger.gather_listeners()
    return json.loads(response.body)["path"]


def names(folder: Path) -> list[str]:
    """A folder's entries but Jupyter's own checkpoints folder (its rename creates one)."""
    return sorted(p.name for p in folder.iterdir() if p.name != ".ipynb_checkpoints")


async def test_a_renamed_notebook_takes_its_runs_and_the_runs_route_lists_them(
    jp_fetch, jp_serverapp, root
):
    (log,) = (root / H / "analysis").glob("*.jsonl")
    recorded = log.read_bytes()
    assert await rename(jp_fetch, jp_serverapp, "analysis.ipynb", "results.ipynb") == (
        "results.ipynb"
    )
    assert names(root) == [H, "results.ipynb"]
    assert names(root / H) == ["results"]
    assert (root / H / "results" / log.name).read_bytes() == recorded
    answer = await runs(jp_fetch, "results.ipynb", "")
    (run,) = answer["runs"]
    assert run["run"] == log.stem
    assert run["log"] == f"{H}/results/{log.name}"
    assert (run["state"], run["problems"]) == ("ended", [])


async def test_a_notebook_moved_into_another_folder_takes_its_runs_there(
    jp_fetch, jp_serverapp, root
):
    (log,) = (root / H / "analysis").glob("*.jsonl")
    (root / "final").mkdir()
    await rename(jp_fetch, jp_serverapp, "analysis.ipynb", "final/paper.ipynb")
    assert names(root) == ["final"]
    assert names(root / "final") == [H, "paper.ipynb"]
    assert names(root / "final" / H / "paper") == [log.name, f"{log.stem}.last-hash"]
    answer = await runs(jp_fetch, "final/paper.ipynb", "")
    assert [r["log"] for r in answer["runs"]] == [f"final/{H}/paper/{log.name}"]


async def test_an_existing_target_folder_gets_the_runs_and_loses_nothing(
    jp_fetch, jp_serverapp, root
):
    (log,) = (root / H / "analysis").glob("*.jsonl")
    # an earlier notebook of the new name (deleted since) left its run behind
    earlier = root / H / "results" / "20200101T000000Z-0123abcd.jsonl"
    earlier.parent.mkdir()
    shutil.copy(log, earlier)
    await rename(jp_fetch, jp_serverapp, "analysis.ipynb", "results.ipynb")
    assert names(root) == [H, "results.ipynb"]
    assert names(root / H) == ["results"]
    assert names(root / H / "results") == sorted([earlier.name, log.name, f"{log.stem}.last-hash"])
    assert earlier.read_bytes() == (root / H / "results" / log.name).read_bytes()
    answer = await runs(jp_fetch, "results.ipynb", "")
    assert [r["run"] for r in answer["runs"]] == [log.stem, earlier.stem]


async def test_a_taken_name_in_the_target_is_never_replaced_and_the_rest_stays(
    jp_fetch, jp_serverapp, root, caplog
):
    (log,) = (root / H / "analysis").glob("*.jsonl")
    recorded = log.read_bytes()
    taken = root / H / "results" / log.name
    taken.parent.mkdir()
    taken.write_bytes(b"another run of the same name\n")
    with caplog.at_level(logging.WARNING):
        await rename(jp_fetch, jp_serverapp, "analysis.ipynb", "results.ipynb")
    assert taken.read_bytes() == b"another run of the same name\n"
    # the run whose name is taken stays in the old folder, whole; its last hash moved
    assert names(root / H / "analysis") == [log.name]
    assert (root / H / "analysis" / log.name).read_bytes() == recorded
    assert names(root / H / "results") == [log.name, f"{log.stem}.last-hash"]
    assert f"{H}/results already holds {log.name}: left in {H}/analysis" in caplog.text


async def test_a_notebook_without_runs_is_renamed_and_nothing_is_created(
    jp_fetch, jp_serverapp, jp_root_dir
):
    root = Path(jp_root_dir)
    nbformat.write(nbformat.v4.new_notebook(), root / "opened.ipynb")
    await rename(jp_fetch, jp_serverapp, "opened.ipynb", "kept.ipynb")
    assert names(root) == ["kept.ipynb"]


async def test_a_file_that_is_not_a_notebook_moves_no_provenance_folder(
    jp_fetch, jp_serverapp, root
):
    # analysis.csv shares its stem with the recorded notebook: the folder is the notebook's
    (root / "analysis.csv").write_text("a,b\n1,2\n")
    await rename(jp_fetch, jp_serverapp, "analysis.csv", "table.csv")
    assert names(root) == [H, "analysis.ipynb", "table.csv"]


async def test_a_symlinked_folder_leading_out_of_the_root_is_not_followed(
    jp_fetch, jp_serverapp, jp_root_dir, tmp_path, caplog
):
    root = Path(jp_root_dir)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jsonl").write_text("not the user's run\n")
    nbformat.write(nbformat.v4.new_notebook(), root / "analysis.ipynb")
    (root / H).mkdir()
    (root / H / "analysis").symlink_to(outside, target_is_directory=True)
    with caplog.at_level(logging.WARNING):
        # the user's rename succeeds; ours is refused and said in the server's log
        assert await rename(jp_fetch, jp_serverapp, "analysis.ipynb", "b.ipynb") == "b.ipynb"
    assert names(root) == [H, "b.ipynb"]
    assert names(root / H) == ["analysis"]
    assert names(outside) == ["secret.jsonl"]
    assert f"{H}/analysis is a link or not a folder: it did not follow the notebook" in (
        caplog.text
    )


def test_paths_that_leave_the_root_are_refused_and_nothing_moves(tmp_path: Path):
    root = tmp_path / "root"
    (root / H / "analysis").mkdir(parents=True)
    (root / H / "analysis" / "run.jsonl").write_text("{}\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "escape").symlink_to(outside, target_is_directory=True)
    for source, target in [
        ("analysis.ipynb", "../stolen.ipynb"),
        ("analysis.ipynb", "escape/stolen.ipynb"),
        ("../root/analysis.ipynb", "moved.ipynb"),
        ("analysis.ipynb", "a//b.ipynb"),
    ]:
        with pytest.raises(FollowError, match="root"):
            follow_rename(root, source, target)
    assert names(root / H / "analysis") == ["run.jsonl"]
    assert names(outside) == []
    # a target name taken by a file is refused too, the runs stay
    (root / H / "moved").write_text("a file")
    with pytest.raises(FollowError, match=f"{H}/moved exists and is not a folder"):
        follow_rename(root, "analysis.ipynb", "moved.ipynb")
    assert names(root / H / "analysis") == ["run.jsonl"]
    # a dot-folder that is a link out of the root is refused, on either side
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.ipynb").write_text("{}")
    (elsewhere / H).symlink_to(outside, target_is_directory=True)
    (outside / "a").mkdir()
    with pytest.raises(FollowError, match="outside the server's root"):
        follow_rename(elsewhere, "a.ipynb", "b.ipynb")
    assert names(outside) == ["a"]


async def test_a_running_kernel_keeps_recording_into_the_moved_folder(
    jp_fetch, jp_serverapp, jp_root_dir, tmp_path, monkeypatch
):
    root = Path(jp_root_dir)
    (root / "final").mkdir()
    draft = new_notebook_kernel(jp_fetch, jp_serverapp, "draft.ipynb", tmp_path, monkeypatch, True)
    async with draft as (kernel_id, client):  # left with a clean exit of the kernel
        reply = await client.execute_interactive("x = 20", timeout=KERNEL_TIMEOUT)
        assert reply["content"]["status"] == "ok"
        (log,) = (root / H / "draft").glob("*.jsonl")
        await rename(jp_fetch, jp_serverapp, "draft.ipynb", "final/paper.ipynb")
        assert names(root) == ["final"]
        moved = root / "final" / H / "paper" / log.name
        reply = await client.execute_interactive("y = x + 1", timeout=KERNEL_TIMEOUT)
        assert reply["content"]["status"] == "ok"
        answer = await runs(jp_fetch, "final/paper.ipynb", kernel_id)
        (run,) = answer["runs"]
        assert (run["kernel_id"], run["state"]) == (kernel_id, "recording")
        assert run["log"] == f"final/{H}/paper/{log.name}"
        assert "waiting" not in answer
    events = list(read_log(moved).events())
    sources = [e["text"] for e in events if e["kind"] == "source"]
    assert sources == ["x = 20", "y = x + 1"]
    assert (events[-1]["kind"], events[-1]["action"]) == ("control", "end")
    # the kernel's exit recreated nothing at the old place; the hash it keeps at exit went to
    # the log's old path, so the moved log is checked without it
    assert names(root) == ["final"]
    assert names(moved.parent) == [log.name]
    checked = verify(moved)
    assert (checked.ok, checked.ended, checked.problems) == (True, True, [])


async def test_a_folder_of_the_earlier_layout_is_read_then_migrated_on_rename(
    jp_fetch, jp_serverapp, jp_root_dir, recorded
):
    """`analysis.provenance/` beside the notebook, as the earlier version wrote it, beside a
    newer run in the hidden folder: both are listed, and a rename gathers both, whole, in the
    hidden folder of the new name."""
    root = Path(jp_root_dir)
    shutil.copy(recorded / "analysis.ipynb", root / "analysis.ipynb")
    shutil.copytree(recorded / H / "analysis", root / "analysis.provenance")
    (log,) = (root / "analysis.provenance").glob("*.jsonl")
    newer = root / H / "analysis" / "20990101T000000Z-0123abcd.jsonl"
    newer.parent.mkdir(parents=True)
    shutil.copy(log, newer)
    answer = await runs(jp_fetch, "analysis.ipynb", "")
    assert [r["log"] for r in answer["runs"]] == [
        f"{H}/analysis/{newer.name}",
        f"analysis.provenance/{log.name}",
    ]
    assert answer["runs"][1]["problems"] == []
    recorded_bytes = log.read_bytes()
    await rename(jp_fetch, jp_serverapp, "analysis.ipynb", "results.ipynb")
    assert names(root) == [H, "results.ipynb"]
    assert names(root / H) == ["results"]
    assert names(root / H / "results") == sorted([newer.name, log.name, f"{log.stem}.last-hash"])
    assert (root / H / "results" / log.name).read_bytes() == recorded_bytes
    answer = await runs(jp_fetch, "results.ipynb", "")
    assert [r["run"] for r in answer["runs"]] == [newer.stem, log.stem]


async def test_a_notebook_renamed_before_its_first_cell_records_under_its_new_name(
    jp_fetch, jp_serverapp, jp_root_dir, tmp_path, monkeypatch
):
    """The kernel started for draft.ipynb waits for its first cell (no log yet); the notebook
    is moved to final/paper.ipynb; the first cell's log opens beside the new name, and its
    session names the new notebook."""
    root = Path(jp_root_dir)
    (root / "final").mkdir()
    draft = new_notebook_kernel(jp_fetch, jp_serverapp, "draft.ipynb", tmp_path, monkeypatch, True)
    async with draft as (kernel_id, client):
        assert "waiting" in await runs(jp_fetch, "draft.ipynb", kernel_id)
        await rename(jp_fetch, jp_serverapp, "draft.ipynb", "final/paper.ipynb")
        reply = await client.execute_interactive("x = 20", timeout=KERNEL_TIMEOUT)
        assert reply["content"]["status"] == "ok"
        answer = await runs(jp_fetch, "final/paper.ipynb", kernel_id)
        (run,) = answer["runs"]
        assert run["log"].startswith(f"final/{H}/paper/")
        assert (run["kernel_id"], run["state"]) == (kernel_id, "recording")
    assert names(root) == ["final"]
    assert not (tmp_path / "fallback").exists()
    (log,) = (root / "final" / H / "paper").glob("*.jsonl")
    session = next(read_log(log).events())
    assert session["notebook"] == str((root / "final" / "paper.ipynb").resolve())
