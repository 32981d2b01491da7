"""The StatusResponse of `GET /espri-vre/api/status`: every configured catalogue, cluster and data
root with a reachability check. The checks run concurrently, each bounded by the configured
timeout; a check that fails, hangs or raises becomes `reachable: false` with a sentence."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import asdict
from typing import Any

from ..catalogs.reachability import check_catalog, result, run_bounded
from ..config import CatalogEntry, ClusterEntry, DataRootEntry, Validated
from ..data.roots import check_data_root

GRACE = 0.5
"""Seconds a check may overrun its own timeout before it is cut: the checks bound themselves and
say why they stopped, this is the safety net for one that does not."""


async def collect_status(config: Validated, timeout: float, version: str) -> dict[str, Any]:
    catalogs = [_catalog(entry, timeout) for entry in config.catalogs]
    clusters = [_cluster(entry, timeout) for entry in config.clusters]
    roots = [_data_root(entry, timeout) for entry in config.data_roots]
    answers = await asyncio.gather(*catalogs, *clusters, *roots)
    n_cat, n_clu = len(catalogs), len(clusters)
    return {
        "version": version,
        "catalogs": list(answers[:n_cat]),
        "clusters": list(answers[n_cat : n_cat + n_clu]),
        "data_roots": list(answers[n_cat + n_clu :]),
    }


async def _catalog(entry: CatalogEntry, timeout: float) -> dict[str, Any]:
    described = {k: v for k, v in asdict(entry).items() if k != "problem" and v is not None}
    if entry.problem:
        return {**described, **result(False, entry.problem, None)}
    return {**described, **await bounded(check_catalog(entry.kind, entry.url, timeout), timeout)}


async def _cluster(entry: ClusterEntry, timeout: float) -> dict[str, Any]:
    described = {
        "id": entry.id,
        "title": entry.title,
        "kind": entry.kind,
        "transport": entry.transport,
    }
    if entry.problem:
        return {**described, **result(False, entry.problem, None)}
    return {**described, **await bounded(_probe_cluster(entry, timeout), timeout)}


async def _probe_cluster(entry: ClusterEntry, timeout: float) -> dict[str, Any]:
    # Imported here so that a broken job back end shows as an unreachable cluster, not as a
    # server extension that fails to load.
    from ..jobs.probe import probe_cluster

    return await probe_cluster(dict(entry.settings), timeout)


async def _data_root(entry: DataRootEntry, timeout: float) -> dict[str, Any]:
    described = {"id": entry.id, "title": entry.title, "path": entry.path}
    if entry.problem:
        return {**described, **result(False, entry.problem, None)}
    return {**described, **await run_bounded(lambda: check_data_root(entry.path), timeout)}


async def bounded(check: Awaitable[dict[str, Any]], timeout: float) -> dict[str, Any]:
    """The check's own answer, or an unreachable one when it overruns or raises."""
    started = time.monotonic()
    try:
        answer = await asyncio.wait_for(check, timeout + GRACE)
    except TimeoutError:
        return result(False, f"no answer within {timeout:g} s", _since(started))
    except Exception as e:  # a check must report, never raise
        return result(False, f"the check failed: {type(e).__name__}: {e}", _since(started))
    return {
        "reachable": bool(answer.get("reachable")),
        "detail": str(answer.get("detail", "")),
        "latency_ms": answer.get("latency_ms"),
    }


def _since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
