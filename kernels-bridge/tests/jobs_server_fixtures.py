"""pytest plugin: the set-up the job API tests share (a real Jupyter server with espri_vre, the
local back end and the real Slurm of the `slurm` fixture, a job store in the test's folder) and
their one request helper. The job handler, mail, schedule and pipeline tests used to repeat it.

Loaded by conftest.py (`pytest_plugins`). pytest-jupyter's own `jp_server_config` is not
replaced here, as the other server tests keep theirs: a module takes this one with

    @pytest.fixture
    def jp_server_config(jobs_server_config): return jobs_server_config

and names its clusters by overriding `jobs_clusters`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from espri_vre.jobs.store import JobStore

JOB_CLUSTERS: list[dict[str, Any]] = [
    {"id": "local", "title": "This server", "kind": "local", "max_running": 2},
    {"id": "slurm", "title": "Local Slurm", "kind": "slurm", "transport": "local"},
]
"""The clusters of most job API tests: the local back end and the real Slurm."""


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """The server's job store (`job_store_dir`): the job and schedule records."""
    return tmp_path / "job-store"


@pytest.fixture
def jobs_clusters() -> list[dict[str, Any]]:
    """The server's `clusters`; a module overrides this fixture to configure others."""
    return JOB_CLUSTERS


@pytest.fixture
def root(jp_root_dir: Path) -> Path:
    """The server's root folder: the job files."""
    return Path(jp_root_dir)


@pytest.fixture
def jobs_server_config(
    request: pytest.FixtureRequest, store_dir: Path, jobs_clusters: list[dict[str, Any]]
) -> dict[str, Any]:
    """The jp_server_config of a job API test: espri_vre with these clusters and store. The
    real Slurm is started first when a cluster is a Slurm one (only then)."""
    if any(c.get("kind") == "slurm" for c in jobs_clusters):
        request.getfixturevalue("slurm")
    return {
        "ServerApp": {"jpserver_extensions": {"espri_vre": True}},
        "EspriVreApp": {"clusters": jobs_clusters, "job_store_dir": str(store_dir)},
    }


@pytest.fixture
def slurm_jobs_cancelled(store_dir: Path, slurm: Any) -> Iterator[None]:
    """Cancels the test's unfinished jobs of the cluster `slurm` afterwards: the real Slurm is
    shared by the whole session."""
    yield
    if (store_dir / "jobs.sqlite").exists():
        live = [r.job_id for r in JobStore(store_dir).list("slurm") if not r.info.finished]
        if live:
            subprocess.run(
                ["scancel", *live], check=False, capture_output=True, timeout=30, env=slurm.env
            )


async def api(
    jp_fetch: Any,
    *parts: str,
    method: str | None = None,
    body: Any = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """(status, JSON body or None) of a request to /espri-vre/api/<parts>: a GET, or a POST
    when `body` is given (a str is sent as is); PUT and DELETE by `method`. Error answers are
    returned, not raised, so that tests assert on their bodies."""
    kwargs: dict[str, Any] = {"params": params, "headers": headers}
    if body is not None:
        kwargs["method"] = method or "POST"
        kwargs["body"] = body if isinstance(body, str) else json.dumps(body)
    elif method is not None:
        kwargs["method"] = method
        if method in ("POST", "PUT"):
            kwargs["body"] = "{}"
    try:
        response = await jp_fetch("espri-vre", "api", *parts, **kwargs)
    except HTTPClientError as e:
        assert e.response is not None
        return e.code, json.loads(e.response.body)
    if response.body:
        assert response.headers["Content-Type"].startswith("application/json")
    return response.code, json.loads(response.body) if response.body else None
