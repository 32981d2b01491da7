"""REST routes of Dask on the clusters (logic in espri_vre.dask; clusters are started, scaled
and stopped by dask-labextension's cluster manager, whose own routes stay under /dask/).

GET  /espri-vre/api/dask            DaskOverview: clusters with presets, running Dask clusters
POST /espri-vre/api/dask/clusters   DaskStartRequest -> 201 DaskRunning
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..dask.clusters import REGISTRY, SELECTION, Selection, Started, worker_jobs
from ..dask.presets import DaskConfigError, connect_code, requested_workers
from ..jobs.types import JobState, JobValidationError, SchedulerError
from .base import ApiError, EspriVreHandler

MAX_BODY_BYTES = 16 * 1024


def manager() -> Any:
    """dask-labextension's cluster manager; 409 with what to install when it is missing."""
    try:
        from dask_labextension.manager import manager as dask_manager
    except ImportError as e:
        raise ApiError(
            409,
            f"dask-labextension cannot be imported here ({e}): install it in the server's "
            "environment (pip install dask-labextension) and restart JupyterLab.",
            "dask-unavailable",
        ) from e
    return dask_manager


async def describe(model: dict[str, Any], started: Started | None) -> dict[str, Any]:
    """dask-labextension's model of one cluster, with the worker jobs and what is wrong."""
    out: dict[str, Any] = {
        "id": model["id"],
        "name": model["name"],
        "scheduler_address": model.get("scheduler_address", ""),
        "dashboard_link": model.get("dashboard_link", ""),
        "workers": int(model.get("workers", 0)),
        "adapt": adapt_range(model.get("adapt")),
        "cluster": None,
        "preset": None,
        "kind": type(started.dask_cluster).__name__ if started else "",
        "jobs": [],
        "problem": None,
        "code": connect_code(model.get("scheduler_address", "")),
    }
    if started is None:
        return out
    out["cluster"] = started.cluster
    out["preset"] = started.preset.id
    dask_cluster = started.dask_cluster
    current = {
        getattr(job, "job_id", None)
        for job in getattr(dask_cluster, "workers", {}).values()
        if getattr(job, "job_id", None)
    }
    scheduler = REGISTRY.schedulers.get(started.cluster)
    states: dict[str, str] = {}
    if scheduler is not None and current:

        async def state(job_id: str) -> tuple[str, str]:
            try:
                return job_id, str((await scheduler.status(job_id)).state)
            except SchedulerError:
                return job_id, str(JobState.UNKNOWN)

        states = dict(await asyncio.gather(*(state(j) for j in sorted(current))))
    out["jobs"] = [
        {"id": j, "state": states.get(j, "UNKNOWN") if j in current else "ENDED"}
        for j in started.job_ids
    ]
    gone = [j for j in sorted(current) if states.get(j) in {s.value for s in JobState if _ended(s)}]
    running = [j for j in sorted(current) if states.get(j) == JobState.RUNNING.value]
    if gone:
        out["problem"] = (
            f"{len(gone)} of the workers' jobs ended outside Dask ({', '.join(gone)}: "
            f"{', '.join(sorted({states[j] for j in gone}))}); their workers are gone. "
            "Scale the cluster again or stop it."
        )
    elif running and out["workers"] == 0 and time.time() - started.started > grace(started):
        out["problem"] = (
            f"{len(running)} worker jobs run but no worker connected back to the scheduler at "
            f"{dial_address(started, out['scheduler_address'])}: the nodes cannot reach that "
            "address. Set `interface` "
            f"or `contact_address` in the `dask` settings of cluster {started.cluster!r}."
        )
    return out


def adapt_range(adapt: Any) -> dict[str, int] | None:
    """dask-labextension's adaptive range, as whole numbers (None when scaled by hand)."""
    if not isinstance(adapt, dict):
        return None
    return {"minimum": int(adapt.get("minimum") or 0), "maximum": int(adapt.get("maximum") or 0)}


def started_for(model: dict[str, Any]) -> Started | None:
    """Ours among the manager's clusters, by scheduler address (the manager names a cluster
    started from its own New button itself)."""
    address = model.get("scheduler_address")
    for started in REGISTRY.started.values():
        if address and getattr(started.dask_cluster, "scheduler_address", None) == address:
            return started
    return None


def dial_address(started: Started, listening: str) -> str:
    """The address the workers were told to dial: the contact address when one is set."""
    settings = REGISTRY.settings.get(started.cluster)
    return (settings.contact_address if settings else None) or listening


def grace(started: Started) -> float:
    """Seconds after the start before running jobs with no worker mean a wrong address."""
    settings = REGISTRY.settings.get(started.cluster)
    return settings.connect_timeout if settings else 60.0


def _ended(state: JobState) -> bool:
    return state.finished


class DaskOverviewHandler(EspriVreHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        clusters = [
            {
                "id": cid,
                "title": s.cluster.title or cid,
                "kind": s.cluster.kind,
                "max_workers": s.max_workers,
                "presets": [p.to_dict() for p in s.presets],
                "problem": "; ".join(s.problems) or None,
            }
            for cid, s in REGISTRY.settings.items()
        ] + [
            {
                "id": cid,
                "title": cid,
                "kind": "local",
                "max_workers": 0,
                "presets": [],
                "problem": why,
            }
            for cid, why in REGISTRY.problems.items()
        ]
        running: list[dict[str, Any]] = []
        try:
            dask_manager = manager()
        except ApiError as e:
            self.respond("DaskOverview", {"clusters": clusters, "running": [], "problem": e.detail})
            return
        models = dask_manager.list_clusters()
        live = {m.get("scheduler_address") for m in models}
        for name, started in list(REGISTRY.started.items()):  # closed by the manager: forget
            if getattr(started.dask_cluster, "scheduler_address", None) not in live:
                REGISTRY.started.pop(name, None)
        running = list(await asyncio.gather(*(describe(m, started_for(m)) for m in models)))
        self.respond("DaskOverview", {"clusters": clusters, "running": running, "problem": None})


class DaskStartHandler(EspriVreHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body("DaskStartRequest", MAX_BODY_BYTES)
        dask_manager = manager()
        selection = Selection(cluster=body["cluster"], preset=body.get("preset"))
        try:
            settings, preset = REGISTRY.resolve(selection)
            workers = requested_workers(settings, preset, body.get("workers"))
        except (DaskConfigError, JobValidationError) as e:
            raise ApiError(400, f"The Dask cluster is refused: {e}.", "invalid-dask") from e
        name = REGISTRY.next_name(settings, preset)
        configuration: dict[str, Any] = {"name": name, "workers": workers}
        if body.get("adapt") or (preset.adapt_max is not None and body.get("workers") is None):
            adapt = body.get("adapt") or {"minimum": preset.adapt_min, "maximum": preset.adapt_max}
            configuration = {"name": name, "adapt": adapt}
        token = SELECTION.set(Selection(settings.cluster.id, preset.id, name))
        try:
            model = await dask_manager.start_cluster(configuration=configuration)
        except (DaskConfigError, JobValidationError) as e:
            raise ApiError(400, f"The Dask cluster is refused: {e}.", "invalid-dask") from e
        except Exception as e:  # dask-jobqueue's own errors: sbatch refusals, bad addresses
            self.log.exception("espri-vre: the Dask cluster %s could not start", name)
            raise ApiError(
                502,
                f"The Dask cluster could not start on {settings.cluster.id!r}: "
                f"{type(e).__name__}: {e}",
                "dask-start-failed",
            ) from e
        finally:
            SELECTION.reset(token)
        described = await describe(model, started_for(model))
        described["jobs_requested"] = worker_jobs(preset, workers)
        self.respond("DaskRunning", described, 201)
