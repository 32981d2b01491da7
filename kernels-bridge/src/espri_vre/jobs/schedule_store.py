"""The record of the schedules defined here: SQLite beside the job store (`schedules.sqlite` in
the same data directory), so that the definitions, the local back end's next firings and the runs
started by "Run now" survive a restart of the server.

On Slurm and Torque the scheduler's queue is the truth of a schedule's life (its waiting job);
this record keeps what the queue cannot say: the definition as the user wrote it, and where the
schedule's script and its list of runs are on the cluster's file system. Connections as in
`store.JobStore`: one per call, WAL, writers wait for each other."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STORE_FILE = "schedules.sqlite"
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    cluster TEXT NOT NULL,
    spec TEXT NOT NULL,
    cron TEXT NOT NULL,
    timezone TEXT NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    next_due REAL,
    job_name TEXT NOT NULL DEFAULT '',
    files TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS runs (
    schedule_id INTEGER NOT NULL,
    job_id TEXT NOT NULL,
    fired_at REAL NOT NULL,
    how TEXT NOT NULL,
    PRIMARY KEY (schedule_id, job_id)
);
"""


@dataclass(frozen=True)
class ScheduleRecord:
    id: str
    name: str
    cluster: str
    spec: Mapping[str, Any]
    """The job's description as the submission form sends it (kind, path, resources...)."""
    cron: str
    timezone: str
    paused: bool
    created_at: float
    updated_at: float
    next_due: float | None = None
    """The local back end's next firing (seconds since the epoch)."""
    job_name: str = ""
    """The name of the schedule's jobs on a cluster, by which its waiting job is found."""
    files: Mapping[str, Any] = field(default_factory=dict)
    """Where the schedule's script and its list of runs are on the cluster."""


@dataclass(frozen=True)
class RunRecord:
    schedule_id: str
    job_id: str
    fired_at: float
    how: str
    """'cron' (the schedule fired) or 'now' (Run now)."""


class ScheduleStore:
    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.path = Path(data_dir) / STORE_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)) as db:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.row_factory = sqlite3.Row
            with db:
                yield db

    def add(
        self,
        name: str,
        cluster: str,
        spec: Mapping[str, Any],
        cron: str,
        timezone: str,
        paused: bool = False,
    ) -> ScheduleRecord:
        now = time.time()
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO schedules (name, cluster, spec, cron, timezone, paused, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (name, cluster, json.dumps(dict(spec)), cron, timezone, int(paused), now, now),
            )
            new_id = str(cursor.lastrowid)
        record = self.get(new_id)
        assert record is not None
        return record

    def get(self, schedule_id: str) -> ScheduleRecord | None:
        if not schedule_id.isdigit():
            return None
        with self._connect() as db:
            row = db.execute("SELECT * FROM schedules WHERE id = ?", (int(schedule_id),)).fetchone()
        return _schedule(row) if row is not None else None

    def list(self, cluster: str | None = None) -> list[ScheduleRecord]:
        sql, args = "SELECT * FROM schedules", []
        if cluster is not None:
            sql += " WHERE cluster = ?"
            args.append(cluster)
        with self._connect() as db:
            return [_schedule(row) for row in db.execute(sql + " ORDER BY id", args)]

    def update(self, schedule_id: str, **values: Any) -> None:
        """Sets the given columns (spec and files as objects)."""
        for key in ("spec", "files"):
            if key in values:
                values[key] = json.dumps(dict(values[key]))
        if "paused" in values:
            values["paused"] = int(values["paused"])
        values["updated_at"] = time.time()
        columns = ", ".join(f"{k} = ?" for k in values)
        with self._connect() as db:
            db.execute(
                f"UPDATE schedules SET {columns} WHERE id = ?",
                (*values.values(), int(schedule_id)),
            )

    def claim_firing(self, schedule_id: str, due: float, following: float) -> bool:
        """Moves the schedule's next firing from `due` to `following` unless another server did
        it first: whether this caller fires it."""
        with self._connect() as db:
            return (
                db.execute(
                    "UPDATE schedules SET next_due = ?"
                    " WHERE id = ? AND next_due = ? AND paused = 0",
                    (following, int(schedule_id), due),
                ).rowcount
                > 0
            )

    def delete(self, schedule_id: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM schedules WHERE id = ?", (int(schedule_id),))
            db.execute("DELETE FROM runs WHERE schedule_id = ?", (int(schedule_id),))

    def add_run(self, schedule_id: str, job_id: str, fired_at: float, how: str) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO runs (schedule_id, job_id, fired_at, how)"
                " VALUES (?, ?, ?, ?)",
                (int(schedule_id), job_id, fired_at, how),
            )

    def runs(self, schedule_id: str) -> list[RunRecord]:
        """Newest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM runs WHERE schedule_id = ? ORDER BY fired_at DESC",
                (int(schedule_id),),
            ).fetchall()
        return [
            RunRecord(str(r["schedule_id"]), r["job_id"], r["fired_at"], r["how"]) for r in rows
        ]


def _schedule(row: sqlite3.Row) -> ScheduleRecord:
    return ScheduleRecord(
        id=str(row["id"]),
        name=row["name"],
        cluster=row["cluster"],
        spec=json.loads(row["spec"]),
        cron=row["cron"],
        timezone=row["timezone"],
        paused=bool(row["paused"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        next_due=row["next_due"],
        job_name=row["job_name"],
        files=json.loads(row["files"]),
    )
