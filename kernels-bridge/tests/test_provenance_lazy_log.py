"""The log opens with the first thing worth recording, not with the kernel: real kernels that
load espri_vre at start-up as the VRE's kernels do (IPKernelApp.extensions in the IPython
profile), started beside a notebook by jupyter_client with JPY_SESSION_NAME as jupyter_server
sets it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from conftest import KERNEL_TIMEOUT
from jupyter_client.manager import KernelManager

from espri_vre.provenance.store import read_log, verify

STATUS = "__import__('espri_vre.kernel', fromlist=['status']).status()"


def kernel_env(tmp_path: Path, notebook: Path) -> dict[str, str]:
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_kernel_config.py").write_text("c.IPKernelApp.extensions = ['espri_vre']\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "ESPRI_VRE_"))}
    environ.update(
        IPYTHONDIR=str(tmp_path / "ipython"),
        JPY_SESSION_NAME=str(notebook),
        ESPRI_VRE_PROVENANCE_DIR=str(tmp_path / "fallback"),
    )
    return environ


def run_kernel(tmp_path: Path, cells: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Starts a kernel beside analysis.ipynb, asks its recording state without running a cell
    (a silent request's user expression, as a front end does), runs `cells`, shuts it down
    cleanly; returns the state and the cells' replies."""
    work = tmp_path / "work"
    work.mkdir()
    notebook = work / "analysis.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(work), env=kernel_env(tmp_path, notebook))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=KERNEL_TIMEOUT)
        msg_id = client.execute("", silent=True, user_expressions={"s": STATUS})
        reply = client.get_shell_msg(timeout=KERNEL_TIMEOUT)
        while reply["parent_header"].get("msg_id") != msg_id:  # wait_for_ready's kernel_info
            reply = client.get_shell_msg(timeout=KERNEL_TIMEOUT)
        expression = reply["content"]["user_expressions"]["s"]
        assert expression["status"] == "ok", expression
        status = eval(expression["data"]["text/plain"])  # a dict's repr, from our own kernel
        replies = [
            client.execute_interactive(cell, timeout=KERNEL_TIMEOUT)["content"] for cell in cells
        ]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=False)  # a clean exit: the recorder closes its log
    return status, replies


def test_a_kernel_started_and_stopped_without_running_code_leaves_no_provenance(tmp_path: Path):
    status, _ = run_kernel(tmp_path, [])
    assert status["state"] == "recording"
    assert status["notebook"] == str(tmp_path / "work" / "analysis.ipynb")
    assert status["log"] is None
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["analysis.ipynb"]
    assert not (tmp_path / "fallback").exists()


def test_one_cell_run_leaves_a_complete_record(tmp_path: Path):
    data = tmp_path / "input.txt"
    data.write_text("42\n")
    cell = f"value = int(open({str(data)!r}).read())\nvalue * 2"
    status, replies = run_kernel(tmp_path, [cell])
    assert [r["status"] for r in replies] == ["ok"]
    (log,) = (tmp_path / "work" / ".espri-vre-provenance/analysis").glob("*.jsonl")
    check = verify(log, schema=True)
    assert check.ok, check.problems
    events = list(read_log(log).events())
    assert [e["kind"] for e in events] == [
        "session",
        "source",
        "cell_start",
        "file",
        "cell_end",
        "control",
    ]
    session, source, start, file, end, control = events
    assert session["notebook"] == status["notebook"]
    assert source["text"] == cell
    assert start["order"] == end["order"] == 1
    assert (end["status"], end["execution_count"]) == ("ok", 1)
    assert (file["path"], file["op"], file["cell"]) == (str(data), "read", 1)
    assert file["size"] == 3
    assert (control["action"], control["reason"]) == ("end", "kernel exit")
    assert not (tmp_path / "fallback").exists()
