"""What the user has been told of the jobs that ended: the notifications of the Jobs panel.

A job submitted here (or a run of a schedule) that ends is told once, in whichever JupyterLab
page asks first, also when it ended while no page was open: the server remembers which ends were
told (`notifications.sqlite` beside the job record; one server per user, so one user's). Asking
first refreshes each cluster's list, which records the ends the schedulers report.

Jobs that had already ended when this record was made are not told: a user's history is not
replayed as a burst of notifications."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path

from .service import JobService
from .types import FINISHED_STATES, JobInfo

STORE_FILE = "notifications.sqlite"
BUSY_TIMEOUT_MS = 30_000
MAX_TOLD = 50
"""Ends told in one answer at most, the newest; the others on the next ask."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS told (
    cluster TEXT NOT NULL,
    job_id TEXT NOT NULL,
    told_at REAL NOT NULL,
    PRIMARY KEY (cluster, job_id)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value REAL NOT NULL);
"""


class Notifications:
    def __init__(
        self,
        jobs: JobService,
        data_dir: str | os.PathLike[str],
        before: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.jobs = jobs
        self.before = before
        """Called before the ends are read: the schedules adopt the runs their clusters started."""
        self.path = Path(data_dir) / STORE_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('since', ?)", (time.time(),)
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)) as db:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            with db:
                yield db

    @classmethod
    def open(
        cls,
        jobs: JobService,
        log: logging.Logger,
        before: Callable[[], Awaitable[object]] | None = None,
    ) -> Notifications | None:
        """None when the job record or this one cannot be opened (nothing is then told)."""
        if jobs.store is None:
            return None
        try:
            return cls(jobs, jobs.store.data_dir, before)
        except (OSError, sqlite3.Error) as e:
            log.error("espri-vre: the record of told job ends cannot be opened: %s", e)
            return None

    def since(self) -> float:
        with self._connect() as db:
            return float(db.execute("SELECT value FROM meta WHERE key = 'since'").fetchone()[0])

    async def untold(self) -> list[JobInfo]:
        """The recorded jobs that ended and were not told yet, newest end first. Each usable
        cluster is asked for its jobs first; one that does not answer is asked again next time."""
        store = self.jobs.store
        if store is None:
            return []
        if self.before is not None:
            await self.before()
        await asyncio.gather(
            *(s.list(mine=True) for s in self.jobs.schedulers.values()), return_exceptions=True
        )
        since = self.since()
        with self._connect() as db:
            told = set(db.execute("SELECT cluster, job_id FROM told").fetchall())
        ended = [
            r.info if r.info.cluster else _with_cluster(r.info, r.cluster)
            for r in store.list(states=FINISHED_STATES)
            if r.submitted_at >= since and (r.cluster, r.job_id) not in told
        ]
        ended.sort(key=lambda j: j.end_time or 0.0, reverse=True)
        return ended[:MAX_TOLD]

    def tell(self, jobs: Iterable[tuple[str, str]]) -> int:
        """Marks these (cluster, job id) ends as told; how many were not told before."""
        now = time.time()
        with self._connect() as db:
            return sum(
                db.execute(
                    "INSERT OR IGNORE INTO told (cluster, job_id, told_at) VALUES (?, ?, ?)",
                    (cluster, job_id, now),
                ).rowcount
                for cluster, job_id in jobs
            )


def _with_cluster(info: JobInfo, cluster: str) -> JobInfo:
    return replace(info, cluster=cluster)
