"""Issue 21 against jupyter-scheduler, the notebook-job tool users would otherwise pick: the same
work on both sides, on this machine. A job definition is created for a parameterised notebook
(a daily cron schedule) and run once at once, and the time is taken from the creating request
until the run's notebook has been executed and the job says so:

- ours: a real `jupyter server` of the espri_vre extension (this venv), the local back end:
  POST /espri-vre/api/schedules, POST /schedules/<id>/run, GET /jobs/local/<job> until
  COMPLETED (the notebook run by papermill in a subprocess);
- the anchor: a real `jupyter server` of jupyter-scheduler 2.12 in its own venv under
  .test-runtime/bench/anchors/ (harness.anchor_venv): POST /scheduler/job_definitions, POST
  /scheduler/job_definitions/<id>/jobs, GET /scheduler/jobs/<job> until COMPLETED (the notebook
  run by nbconvert in a subprocess).

Interleaved rounds (ours, the anchor, ...); each round deletes its definition afterwards, so
that no cron firing falls into a later round.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from harness import Context, Row, anchor_venv, interleaved_rounds, poll_until
from serverproc import ours_config, request, running

ANCHOR = "jupyter-scheduler"
ANCHOR_PACKAGES = ("jupyter-scheduler==2.12.1", "ipykernel")
WAIT = 180.0
"""Seconds one run may take at most before the round is reported as failed."""
CRON = "0 6 * * *"


def notebook() -> dict:
    """A small parameterised notebook: a parameters cell (papermill's tag), some work, a print."""

    def cell(source: str, tags: list[str] | None = None) -> dict:
        meta = {"tags": tags} if tags else {}
        return {
            "cell_type": "code",
            "execution_count": None,
            "metadata": meta,
            "outputs": [],
            "source": source,
        }

    return {
        "cells": [
            cell("n = 200000", ["parameters"]),
            cell("total = sum(i * i for i in range(int(n)))"),
            cell("print(total)"),
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def ours_round(base: str, token: str) -> float:
    """Seconds from creating the schedule to its run-now job COMPLETED."""
    start = time.perf_counter()
    made = json.loads(
        request(
            f"{base}/espri-vre/api/schedules",
            token,
            {
                "cluster": "local",
                "spec": {"kind": "notebook", "path": "report.ipynb", "parameters": {"n": 200000}},
                "cron": CRON,
                "timezone": "UTC",
            },
        )
    )
    job = json.loads(request(f"{base}/espri-vre/api/schedules/{made['id']}/run", token, {}))
    info = poll_until(
        lambda: json.loads(request(f"{base}/espri-vre/api/jobs/local/{job['id']}", token)),
        lambda j: j["state"] in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"),
        "our run",
        WAIT,
    )
    took = time.perf_counter() - start
    request(f"{base}/espri-vre/api/schedules/{made['id']}", token, method="DELETE")
    if info["state"] != "COMPLETED":
        raise RuntimeError(f"our run ended {info['state']}: {info}")
    return took


def anchor_round(base: str, token: str, environment: str) -> float:
    """Seconds from creating the job definition to its run COMPLETED."""
    start = time.perf_counter()
    made = json.loads(
        request(
            f"{base}/scheduler/job_definitions",
            token,
            {
                "input_uri": "report.ipynb",
                "runtime_environment_name": environment,
                "name": "report",
                "output_formats": ["ipynb"],
                "parameters": {"n": "200000"},
                "schedule": CRON,
                "timezone": "UTC",
            },
        )
    )
    definition = made["job_definition_id"]
    job = json.loads(request(f"{base}/scheduler/job_definitions/{definition}/jobs", token, {}))
    info = poll_until(
        lambda: json.loads(request(f"{base}/scheduler/jobs/{job['job_id']}", token)),
        # Not STOPPED: jupyter-scheduler's record says so until its subprocess has started.
        lambda j: j["status"] in ("COMPLETED", "FAILED"),
        "jupyter-scheduler's run",
        WAIT,
    )
    took = time.perf_counter() - start
    request(f"{base}/scheduler/job_definitions/{definition}", token, method="DELETE")
    if info["status"] != "COMPLETED":
        raise RuntimeError(f"jupyter-scheduler's run ended {info['status']}: {info}")
    return took


def run(ctx: Context) -> list[Row]:
    anchor_python, problem = anchor_venv(ctx, ANCHOR, ANCHOR_PACKAGES)
    if anchor_python is None:
        raise RuntimeError(f"{ANCHOR} cannot be installed: {problem}")
    work = ctx.work / "scheduler"
    sides = {"ours": work / "ours", "anchor": work / "anchor"}
    for folder in sides.values():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.ipynb").write_text(json.dumps(notebook()))
    rounds = max(5, min(ctx.repeat, 7))
    ours_cfg = ours_config(
        clusters=[{"id": "local", "title": "This server", "kind": "local"}],
        job_store_dir=str(work / "ours-store"),
    )
    # jupyter-scheduler keeps its database and staging area in the Jupyter data dir: its own.
    anchor_env = dict(os.environ, JUPYTER_DATA_DIR=str(work / "anchor-data"))
    anchor_cfg = {"ServerApp": {"jpserver_extensions": {"jupyter_scheduler": True}}}
    ours = running(
        Path(sys.executable), ours_cfg, sides["ours"], work / "ours.log", dict(os.environ)
    )
    anchor = running(anchor_python, anchor_cfg, sides["anchor"], work / "anchor.log", anchor_env)
    with ours as (base, token), anchor as (abase, atoken):
        environments = json.loads(request(f"{abase}/scheduler/runtime_environments", atoken))
        environment = environments[0]["name"]
        # One untimed run of each: kernels, papermill and nbconvert imported once.
        ours_round(base, token)
        anchor_round(abase, atoken, environment)
        got = interleaved_rounds(
            {
                "ours": lambda _: ours_round(base, token),
                "anchor": lambda _: anchor_round(abase, atoken, environment),
            },
            rounds,
        )
    return [
        Row.measured(
            "21",
            "job definition + one notebook run, created to completed (local machine)",
            got["ours"],
            f"{ANCHOR} 2.12 (local execution)",
            got["anchor"],
            "s",
            target="informational: the anchor users would otherwise pick",
            note=f"{rounds} interleaved rounds after one untimed run of each; a 3-cell "
            "parameterised notebook; ours: the local back end (papermill), "
            "jupyter-scheduler: its default local execution (nbconvert)",
        )
    ]
