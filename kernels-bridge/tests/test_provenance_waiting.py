"""A kernel that records says so before its log exists: the notebook's indicator asks the
server for the runs of the notebook's kernel, and a real kernel started by the real server
(loading espri_vre at start-up, as the VRE's kernels do) is "waiting" until its first cell,
then has its run and waits no more; a kernel that does not record never waits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import KERNEL_TIMEOUT

from espri_vre.provenance.waiting import waiting


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"espri_vre": True}}}


def profile(tmp_path: Path, load: bool) -> Path:
    """An IPython folder whose kernels load espri_vre at start-up, or load nothing."""
    folder = tmp_path / "ipython"
    config = folder / "profile_default" / "ipython_kernel_config.py"
    config.parent.mkdir(parents=True)
    config.write_text("c.IPKernelApp.extensions = ['espri_vre']\n" if load else "")
    return folder


async def runs(jp_fetch: Any, path: str, kernel_id: str) -> dict[str, Any]:
    response = await jp_fetch(
        "espri-vre", "api", "provenance", "runs", params={"path": path, "kernel": kernel_id}
    )
    return json.loads(response.body)


async def start_session(jp_fetch: Any, path: str) -> str:
    """A notebook session as JupyterLab opens one (its name is the file's): the server starts
    its kernel, which names the notebook it records for."""
    name = Path(path).name
    body = {"path": path, "type": "notebook", "name": name, "kernel": {"name": "python3"}}
    response = await jp_fetch("api", "sessions", method="POST", body=json.dumps(body))
    return json.loads(response.body)["kernel"]["id"]


async def ready(jp_serverapp: Any, kernel_id: str) -> Any:
    client = jp_serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    await client.wait_for_ready(timeout=KERNEL_TIMEOUT)
    return client


@asynccontextmanager
async def new_notebook_kernel(
    jp_fetch: Any, jp_serverapp: Any, path: str, tmp_path: Path, monkeypatch: Any, load: bool
) -> AsyncIterator[tuple[str, Any]]:
    """An empty notebook at `path` under the server's root, opened as JupyterLab opens one:
    (its kernel's id, a client of the ready kernel), which loads espri_vre at start-up when
    `load` (a fallback provenance folder under tmp_path); the kernel shut down cleanly on leaving
    the block."""
    monkeypatch.setenv("IPYTHONDIR", str(profile(tmp_path, load)))
    monkeypatch.setenv("ESPRI_VRE_PROVENANCE_DIR", str(tmp_path / "fallback"))
    nbformat.write(nbformat.v4.new_notebook(), Path(jp_serverapp.root_dir) / path)
    kernel_id = await start_session(jp_fetch, path)
    client = await ready(jp_serverapp, kernel_id)
    try:
        yield kernel_id, client
    finally:
        client.stop_channels()
        await jp_serverapp.kernel_manager.shutdown_kernel(kernel_id)


@pytest.mark.parametrize("load", [True, False], ids=["recording kernel", "plain kernel"])
async def test_a_kernel_waits_for_its_first_cell_then_has_its_run(
    jp_fetch, jp_serverapp, jp_root_dir, tmp_path, monkeypatch, load
):
    notebook = new_notebook_kernel(
        jp_fetch, jp_serverapp, "analysis.ipynb", tmp_path, monkeypatch, load
    )
    async with notebook as (kernel_id, client):
        # The extension loads before the kernel answers its first request.
        answer = await runs(jp_fetch, "analysis.ipynb", kernel_id)
        assert answer["runs"] == []
        if load:
            assert answer["waiting"]["kernel_id"] == kernel_id
            assert answer["waiting"]["since"] > 0
        else:
            assert "waiting" not in answer
        # a notebook only opened: nothing beside it, not even the hidden folder
        assert [p.name for p in Path(jp_root_dir).iterdir()] == ["analysis.ipynb"]

        reply = await client.execute_interactive("1 + 1", timeout=KERNEL_TIMEOUT)
        assert reply["content"]["status"] == "ok"
        answer = await runs(jp_fetch, "analysis.ipynb", kernel_id)
        assert "waiting" not in answer
        if load:
            (run,) = answer["runs"]
            assert (run["kernel_id"], run["state"]) == (kernel_id, "recording")
            assert run["events"] >= 3  # session, source, cell start and end
            assert run["log"].startswith(".espri-vre-provenance/analysis/")  # beside the notebook
        else:
            assert answer["runs"] == []
    connection_dir = Path(jp_serverapp.kernel_manager.connection_dir)
    assert not list(connection_dir.glob("espri-vre-waiting-*"))


async def test_a_recording_kernel_stopped_before_any_cell_leaves_nothing(
    jp_fetch, jp_serverapp, jp_root_dir, tmp_path, monkeypatch
):
    connection_dir = Path(jp_serverapp.kernel_manager.connection_dir)
    notebook = new_notebook_kernel(
        jp_fetch, jp_serverapp, "opened.ipynb", tmp_path, monkeypatch, True
    )
    async with notebook as (kernel_id, _):
        assert [p.name for p in connection_dir.glob("espri-vre-waiting-*")] == [
            f"espri-vre-waiting-{kernel_id}.json"
        ]
    for _ in range(50):  # the kernel's exit handlers run after the shutdown reply
        if not list(connection_dir.glob("espri-vre-waiting-*")):
            break
        await asyncio.sleep(0.1)
    assert not list(connection_dir.glob("espri-vre-waiting-*"))
    assert sorted(p.name for p in Path(jp_root_dir).iterdir()) == ["opened.ipynb"]


def test_what_a_kernel_said_is_read_only_when_it_is_its_own_and_well_formed(tmp_path: Path):
    kernel = "5f1c2a4e-0000-4000-8000-000000000001"
    said = tmp_path / f"espri-vre-waiting-{kernel}.json"
    said.write_text(json.dumps({"kernel_id": kernel, "notebook": "/a.ipynb", "since": 1.5}))
    assert waiting(tmp_path, kernel) == {"kernel_id": kernel, "notebook": "/a.ipynb", "since": 1.5}
    # another kernel's file under this name, broken JSON, a wrong type: nothing is waiting
    for body in (
        json.dumps({"kernel_id": "other", "notebook": None, "since": 1}),
        "{not json",
        json.dumps({"kernel_id": kernel, "notebook": None, "since": "soon"}),
        json.dumps([kernel]),
    ):
        said.write_text(body)
        assert waiting(tmp_path, kernel) is None
    # ids that are not kernel ids never name a file
    assert waiting(tmp_path, "../../etc/passwd") is None
    assert waiting(tmp_path, "") is None
    assert waiting(tmp_path / "absent", kernel) is None


def test_a_notebook_renamed_while_its_kernel_started_records_under_its_new_name(tmp_path):
    """JupyterLab's new notebook: "Untitled.ipynb" is renamed at once, before its kernel
    (loading espri_vre at start-up) looked for it. The kernel announces the name it was given
    all the same, the rename (`retarget`, what the server's rename listener calls) reaches
    it, and its first cell's log opens beside the new name instead of the fallback folder."""
    from espri_vre.provenance.replay import fresh_kernel
    from espri_vre.provenance.store import read_log
    from espri_vre.provenance.waiting import retarget

    work = tmp_path / "work"
    work.mkdir()
    named = work / "Untitled.ipynb"  # gone before the kernel looked
    renamed = work / "analysis.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), renamed)
    env = {
        "IPYTHONDIR": str(profile(tmp_path, True)),
        "JPY_SESSION_NAME": str(named),
        "ESPRI_VRE_PROVENANCE_DIR": str(tmp_path / "fallback"),
    }
    with fresh_kernel(work, **env) as kernel:
        runtime = Path(kernel.manager.connection_file).parent
        told = retarget(runtime, named.resolve(), renamed.resolve())
        assert told == [kernel.manager.kernel_id]
        assert kernel.run("x = 1").status == "ok"
    (log,) = (work / ".espri-vre-provenance" / "analysis").glob("*.jsonl")
    assert next(read_log(log).events())["notebook"] == str(renamed.resolve())
    assert not (tmp_path / "fallback").exists()
    assert sorted(p.name for p in work.iterdir()) == [".espri-vre-provenance", "analysis.ipynb"]

    # The rename came first, before the kernel announced itself (what JupyterLab does with a
    # new notebook): the server's note of it is read when the log opens.
    later = work / "Untitled1.ipynb"
    final = work / "final.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), final)
    env["JPY_SESSION_NAME"] = str(later)
    retarget(runtime, later.resolve(), final.resolve())  # no kernel was waiting for it
    with fresh_kernel(work, **env) as kernel:
        assert kernel.run("y = 2").status == "ok"
    (log,) = (work / ".espri-vre-provenance" / "final").glob("*.jsonl")
    assert next(read_log(log).events())["notebook"] == str(final.resolve())
    # a new notebook of a name renamed before is another notebook: the old note does not apply
    nbformat.write(nbformat.v4.new_notebook(), later)
    with fresh_kernel(work, **env) as kernel:
        assert kernel.run("z = 3").status == "ok"
    assert len(list((work / ".espri-vre-provenance" / "Untitled1").glob("*.jsonl"))) == 1
    assert not (tmp_path / "fallback").exists()
