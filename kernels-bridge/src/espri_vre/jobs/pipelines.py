"""Pipelines: several steps (notebooks, scripts, Python files), each with its own cluster
resources, run in order or in parallel branches, defined in a small YAML file next to the
notebooks (versionable, shareable in a course):

    name: monthly-analysis
    cluster: slurm            # the steps' cluster unless a step names its own
    steps:
      - id: download
        path: download.sh
        resources: {cpus: 1, walltime: "10"}
      - id: process
        path: process.ipynb
        after: [download]
        parameters: {source: "{steps.download.stdout}"}
      - id: plot
        path: plot.py
        after: [process]

Every step is submitted at once, in dependency order, with the schedulers' own dependencies
(Slurm `--dependency=afterok`, Torque `depend=afterok`, the local back end's afterok), so the
pipeline keeps running when JupyterLab is closed. A parameter or argument may name another
step's output, known once that step is submitted: `{steps.ID.output_notebook}`,
`{steps.ID.stdout}`, `{steps.ID.job_id}`; a notebook step's parameter may name a value another
notebook step recorded in its output notebook, `{steps.ID.outputs.NAME}`, read when the step
starts (`step_values`). A step whose dependency did not complete never runs:
Slurm would keep it pending forever (DependencyNeverSatisfied), so it is cancelled and says
which step it waited for."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

import yaml

from ..errors import EspriVreError
from .service import JobService
from .step_values import VALUE_REF, with_values
from .types import JobInfo, JobState, JobValidationError, SchedulerError
from .validation import resolve_user_path, spec_from_dict

STORE_FILE = "pipelines.sqlite"
MAX_STEPS = 50
MAX_FILE_BYTES = 64 * 1024
STEP_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
OUTPUT_REF = re.compile(r"\{steps\.([A-Za-z][A-Za-z0-9_-]*)\.(output_notebook|stdout|job_id)\}")
NEVER_RUNS = "DependencyNeverSatisfied"


class PipelineRefused(JobValidationError):
    """A pipeline file that cannot be run; nothing was submitted. `problems` names each wrong
    field, as 'steps[2].after'."""

    code = "invalid-pipeline"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems)
        said = "; ".join(message for _, message in self.problems)
        self.detail = f"The pipeline was refused: {said}."


class UnknownPipelineRun(EspriVreError):
    status = 404
    code = "unknown-pipeline-run"

    def __init__(self, run_id: str) -> None:
        super().__init__(f"There is no pipeline run {run_id!r}.")


@dataclass(frozen=True)
class Step:
    id: str
    spec: Mapping[str, Any]
    """The job's description as the submission form sends it, its path made relative to the
    server's root."""
    cluster: str
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pipeline:
    name: str
    path: str
    steps: tuple[Step, ...]
    """In an order where every step comes after those it waits for."""


def parse_pipeline(text: str, path: str, default_cluster: str) -> Pipeline:
    """Reads a pipeline file (`path` relative to the server's root, the steps' paths relative
    to its folder); PipelineRefused naming every wrong field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise PipelineRefused([("pipeline", f"{path} is not YAML: {e}")]) from e
    if not isinstance(data, Mapping) or not isinstance(data.get("steps"), list):
        raise PipelineRefused([("steps", f"{path} must hold a mapping with a list of steps")])
    problems: list[tuple[str, str]] = []
    folder = Path(path).parent
    cluster = str(data.get("cluster") or default_cluster)
    raw_steps = data["steps"]
    if not raw_steps or len(raw_steps) > MAX_STEPS:
        problems.append(("steps", f"a pipeline has from 1 to {MAX_STEPS} steps"))
    steps: dict[str, Step] = {}
    for n, raw in enumerate(raw_steps[:MAX_STEPS]):
        where = f"steps[{n}]"
        if not isinstance(raw, Mapping):
            problems.append((where, "a step is a mapping (id, path, after, resources...)"))
            continue
        step_id = str(raw.get("id", ""))
        if not STEP_ID.fullmatch(step_id):
            problems.append((f"{where}.id", f"the step id {step_id!r} is not a name"))
            continue
        if step_id in steps:
            problems.append((f"{where}.id", f"two steps are called {step_id!r}"))
            continue
        after = raw.get("after") or []
        after = [after] if isinstance(after, str) else after
        resources = raw.get("resources") or {}
        if not isinstance(after, list) or not isinstance(resources, Mapping):
            problems.append((where, "after is a list of step ids, resources a mapping"))
            continue
        step_path = str(raw.get("path", ""))
        spec = {
            **resources,
            "kind": raw.get("kind") or _kind(step_path),
            "path": str(folder / step_path) if step_path else "",
            "name": raw.get("name") or f"{data.get('name') or 'pipeline'}-{step_id}",
            **{k: raw[k] for k in ("parameters", "arguments") if k in raw},
        }
        steps[step_id] = Step(
            step_id, spec, str(raw.get("cluster") or cluster), tuple(map(str, after))
        )
    for step in steps.values():
        for other in step.after:
            if other not in steps:
                problems.append((f"{step.id}.after", f"there is no step {other!r} to wait for"))
        said = json.dumps(dict(step.spec))
        for ref, _ in OUTPUT_REF.findall(said) + VALUE_REF.findall(said):
            if ref not in step.after:
                problems.append(
                    (f"{step.id}", f"it uses the output of {ref!r}: add {ref!r} to its after")
                )
        problems += _value_problems(step, steps)
    if problems:
        raise PipelineRefused(problems)
    try:
        order = list(TopologicalSorter({s.id: s.after for s in steps.values()}).static_order())
    except CycleError as e:
        raise PipelineRefused([("steps", f"the steps wait for each other: {e.args[1]}")]) from e
    name = str(data.get("name") or Path(path).stem.removesuffix(".pipeline"))
    return Pipeline(name, path, tuple(steps[s] for s in order))


def _value_problems(step: Step, steps: Mapping[str, Step]) -> list[tuple[str, str]]:
    """Values are read by a notebook step, from its parameters, and recorded by notebook steps:
    a script has no output notebook to record them in, nor papermill to give them to."""
    problems = []
    if VALUE_REF.search(json.dumps(list(step.spec.get("arguments") or []))):
        problems.append(
            (f"{step.id}.arguments", "a recorded value is passed as a notebook's parameter")
        )
    parameters = json.dumps(dict(step.spec.get("parameters") or {}))
    if step.spec["kind"] != "notebook" and VALUE_REF.search(parameters):
        problems.append((f"{step.id}.parameters", "only a notebook step reads recorded values"))
    for ref, _ in VALUE_REF.findall(json.dumps(dict(step.spec))):
        if ref in steps and steps[ref].spec["kind"] != "notebook":
            problems.append(
                (f"{step.id}.parameters", f"step {ref!r} is not a notebook: it records no value")
            )
    return problems


def _kind(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return {".ipynb": "notebook", ".py": "python"}.get(suffix, "script")


@dataclass
class PipelineService:
    jobs: JobService
    path: Path = field(init=False)

    def __post_init__(self) -> None:
        assert self.jobs.store is not None
        self.path = Path(self.jobs.store.data_dir) / STORE_FILE
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                " name TEXT NOT NULL, path TEXT NOT NULL, created_at REAL NOT NULL,"
                " steps TEXT NOT NULL)"
            )

    @classmethod
    def open(cls, jobs: JobService, log: logging.Logger) -> PipelineService | None:
        """None when the job record or the pipelines' record cannot be opened."""
        if jobs.store is None:
            return None
        try:
            return cls(jobs)
        except (OSError, sqlite3.Error) as e:
            log.error("espri-vre: the pipelines' record cannot be opened: %s", e)
            return None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute("PRAGMA journal_mode = WAL")
            db.row_factory = sqlite3.Row
            with db:
                yield db

    async def run(self, path: str, cluster: str | None) -> dict[str, Any]:
        """Reads the pipeline file and submits every step, in dependency order; the run."""
        root = self.jobs.roots[0]
        file = resolve_user_path(path, self.jobs.roots, "file")
        if file.stat().st_size > MAX_FILE_BYTES:
            raise PipelineRefused([("path", f"{path} is larger than {MAX_FILE_BYTES} bytes")])
        relative = os.path.relpath(file, root) if file.is_relative_to(root) else str(file)
        default = cluster or (self.jobs.clusters[0][0] if self.jobs.clusters else "local")
        pipeline = parse_pipeline(file.read_text(), relative, default)
        problems: list[tuple[str, str]] = []
        for step in pipeline.steps:  # every step checked before any is submitted
            scheduler = self.jobs.scheduler(step.cluster)
            try:
                scheduler.prepare(
                    spec_from_dict({**_filled(step.spec, {}), "cluster": step.cluster})
                )
            except JobValidationError as e:
                problems += [(f"{step.id}.{f}", m) for f, m in e.problems]
        if problems:
            raise PipelineRefused(problems)
        submitted: dict[str, JobInfo] = {}
        for step in pipeline.steps:
            spec = _filled(step.spec, submitted)
            spec["afterok"] = [submitted[other].id for other in step.after]
            submitted[step.id] = await self._submit(step, spec, submitted)
        steps = [
            {"id": s.id, "cluster": s.cluster, "after": list(s.after), "job_id": submitted[s.id].id}
            for s in pipeline.steps
        ]
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO runs (name, path, created_at, steps) VALUES (?, ?, ?, ?)",
                (pipeline.name, pipeline.path, time.time(), json.dumps(steps)),
            )
        return await self.get(str(cursor.lastrowid))

    async def _submit(
        self, step: Step, spec: dict[str, Any], submitted: Mapping[str, JobInfo]
    ) -> JobInfo:
        """Submits one step; one that reads recorded values with its script completed to read
        them when it starts."""
        template = {
            k: v
            for k, v in (spec.get("parameters") or {}).items()
            if VALUE_REF.search(json.dumps(v))
        }
        if not template:
            return await self.jobs.submit(step.cluster, spec)
        scheduler = self.jobs.scheduler(step.cluster)
        sources = {
            ref: str(submitted[ref].output_notebook)
            for ref, _ in VALUE_REF.findall(json.dumps(template))
        }
        prepared = scheduler.prepare(spec_from_dict({**spec, "cluster": step.cluster}))
        python = scheduler.cluster.python_command
        script = with_values(prepared.script, template, sources, python)
        return await scheduler.submit_prepared(replace(prepared, script=script))

    async def list(self) -> list[dict[str, Any]]:
        with self._connect() as db:
            ids = [str(r["id"]) for r in db.execute("SELECT id FROM runs ORDER BY id DESC")]
        return [await self.get(run_id) for run_id in ids[:20]]

    async def get(self, run_id: str) -> dict[str, Any]:
        """The run with each step's state; a step whose dependency ended other than COMPLETED
        is cancelled, and says which step it waited for."""
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM runs WHERE id = ?", (int(run_id) if run_id.isdigit() else -1,)
            ).fetchone()
        if row is None:
            raise UnknownPipelineRun(run_id)
        steps = json.loads(row["steps"])
        states: dict[str, JobInfo] = {}
        store = self.jobs.store
        for step in steps:
            # A step seen ending is read from the job record: the list of runs asks the
            # scheduler only of the steps still under way.
            kept = store.get(step["cluster"], step["job_id"]) if store is not None else None
            if kept is not None and kept.info.finished:
                states[step["id"]] = kept.info
                continue
            try:
                states[step["id"]] = await self.jobs.status(step["cluster"], step["job_id"])
            except SchedulerError as e:
                states[step["id"]] = JobInfo(
                    step["job_id"], "", JobState.UNKNOWN, "", reason=str(e)
                )
        shown = []
        for step in steps:
            info = states[step["id"]]
            failed = [
                a
                for a in step["after"]
                if states[a].finished and states[a].state is not JobState.COMPLETED
            ]
            if failed and info.state in (JobState.PENDING, JobState.HELD, JobState.CANCELLED):
                info = await self._never(step, info, failed, states)
            shown.append(
                {
                    "id": step["id"],
                    "cluster": step["cluster"],
                    "after": step["after"],
                    "job_id": step["job_id"],
                    "state": info.state.value,
                    "reason": info.reason,
                    "output_notebook": info.output_notebook,
                }
            )
        return {
            "id": str(row["id"]),
            "name": row["name"],
            "path": row["path"],
            "created_at": row["created_at"],
            "state": _run_state([s["state"] for s in shown]),
            "steps": shown,
        }

    async def _never(
        self, step: Mapping[str, Any], info: JobInfo, failed: list[str], states: dict[str, JobInfo]
    ) -> JobInfo:
        """The step as never run: cancelled (Slurm keeps it waiting forever otherwise), with the
        steps it waited for in its reason, also once the scheduler shows it cancelled."""
        why = ", ".join(f"step {a} ended {states[a].state.value}" for a in failed)
        if not info.finished:
            # Already gone: it is shown as never run all the same.
            with contextlib.suppress(SchedulerError):
                await self.jobs.control(step["cluster"], step["job_id"], "cancel")
        return replace(info, state=JobState.CANCELLED, reason=f"{NEVER_RUNS}: {why}")


def _filled(spec: Mapping[str, Any], submitted: Mapping[str, JobInfo]) -> dict[str, Any]:
    """The step's spec with the outputs of the steps it names put in; before they are
    submitted (the check of every step), a placeholder path."""

    def value(m: re.Match[str]) -> str:
        info = submitted.get(m.group(1))
        if info is None:
            return "pending"
        found = {
            "output_notebook": info.output_notebook,
            "stdout": info.stdout_path,
            "job_id": info.id,
        }
        return str(found[m.group(2)] or "")

    def fill(item: Any) -> Any:
        if isinstance(item, str):
            return OUTPUT_REF.sub(value, item)
        if isinstance(item, list):
            return [fill(i) for i in item]
        if isinstance(item, Mapping):
            return {k: fill(v) for k, v in item.items()}
        return item

    return fill(dict(spec))


def _run_state(states: list[str]) -> str:
    if any(s in ("PENDING", "RUNNING", "HELD", "UNKNOWN") for s in states):
        return "running"
    return "completed" if all(s == "COMPLETED" for s in states) else "failed"
