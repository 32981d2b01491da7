"""The record of the jobs submitted through the suite: SQLite in the user's data directory.

What was submitted (the spec, the script), where its logs and output notebook are, and the last
state a scheduler reported survive a restart of the server and a scheduler that forgets
finished jobs (Slurm drops them after MinJobAge, Torque after keep_completed). The local back end
keeps its jobs' whole state here. The batch script kept with each job is the one submitted (cut
at MAX_SCRIPT_BYTES, its hash and size those of the whole): Torque does not give a job's script
back to its user, so the crate of a batch run takes it from here (provenance/batch_script.py,
through `submitted_scripts`, which only reads).

Safe under concurrent access: every call opens its own connection (threads, the local back
end's supervisor processes and a second server may write at once), the database is in WAL mode
and writers wait for each other (busy_timeout) instead of failing."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .types import JobInfo, JobKind, JobMail, JobSpec, JobState

SCHEMA_VERSION = 1
"""Columns added since (nullable, added when missing: ADDED_COLUMNS) keep the version, so that an
older espri-vre still reads the file."""
BUSY_TIMEOUT_MS = 30_000
STORE_FILE = "jobs.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    cluster TEXT NOT NULL,
    job_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    spec TEXT NOT NULL,
    script TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    state TEXT NOT NULL,
    info TEXT NOT NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    process TEXT NOT NULL DEFAULT '{}',
    updated_at REAL NOT NULL,
    PRIMARY KEY (cluster, job_id)
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (cluster, state);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
ADDED_COLUMNS = {"script_sha256": "TEXT", "script_size": "INTEGER"}
"""The kept script's whole hash and size (NULL in records written before they were kept)."""
MAX_SCRIPT_BYTES = 1 << 20
"""The kept script is cut there. Those rendered here are far shorter (a job's parameters are
limited to 64 KiB); the bound is for a script a caller completed (a pipeline step's values)."""


def default_store_dir() -> Path:
    """The user's Jupyter data directory ($JUPYTER_DATA_DIR, ~/.local/share/jupyter)."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "espri-vre"


@dataclass(frozen=True)
class JobRecord:
    cluster: str
    job_id: str
    spec: JobSpec
    script: str
    submitted_at: float
    info: JobInfo
    """The last state seen (never UNKNOWN: a silent scheduler does not overwrite it)."""
    cancel_requested: bool = False
    process: Mapping[str, Any] = field(default_factory=dict)
    """The back end's own bookkeeping (the local back end's pids, Torque's full job id)."""
    updated_at: float = 0.0
    script_sha256: str | None = None
    """Of the whole script submitted; None in records older than the kept scripts."""
    script_size: int | None = None

    @property
    def script_truncated(self) -> bool:
        return self.script_size is not None and len(self.script.encode()) < self.script_size

    @property
    def state(self) -> JobState:
        return self.info.state


class JobStore:
    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_store_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / STORE_FILE
        with self._connect() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} was written by a newer espri-vre (schema {version}); "
                    "upgrade espri-vre or move the file away"
                )
            db.executescript(_SCHEMA)
            have = {row["name"] for row in db.execute("PRAGMA table_info(jobs)")}
            for column, kind in ADDED_COLUMNS.items():
                if column not in have:
                    db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)) as db:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.row_factory = sqlite3.Row
            with db:  # one transaction, committed or rolled back
                yield db

    def add(
        self,
        cluster: str,
        info: JobInfo,
        spec: JobSpec,
        script: str,
        *,
        process: Mapping[str, Any] | None = None,
    ) -> JobRecord:
        """Records a job just submitted with `script`, the batch script as submitted."""
        now = time.time()
        whole = script.encode()
        record = JobRecord(
            cluster=cluster,
            job_id=info.id,
            spec=spec,
            # cut on a character's boundary: what is kept stays text
            script=whole[:MAX_SCRIPT_BYTES].decode(errors="ignore"),
            submitted_at=info.submit_time or now,
            info=info,
            process=dict(process or {}),
            updated_at=now,
            script_sha256=hashlib.sha256(whole).hexdigest(),
            script_size=len(whole),
        )
        with self._connect() as db:
            db.execute(
                "INSERT INTO jobs (cluster, job_id, name, kind, spec, script, submitted_at, state,"
                " info, process, updated_at, script_sha256, script_size)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cluster,
                    info.id,
                    info.name,
                    spec.kind.value,
                    json.dumps(spec.to_dict()),
                    record.script,
                    record.submitted_at,
                    info.state.value,
                    json.dumps(info.to_dict()),
                    json.dumps(record.process),
                    now,
                    record.script_sha256,
                    record.script_size,
                ),
            )
        return record

    def get(self, cluster: str, job_id: str) -> JobRecord | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM jobs WHERE cluster = ? AND job_id = ?", (cluster, job_id)
            ).fetchone()
        return _record(row) if row is not None else None

    def list(
        self,
        cluster: str | None = None,
        states: Collection[JobState] | None = None,
        *,
        limit: int | None = None,
    ) -> list[JobRecord]:
        """Newest first."""
        sql, args = "SELECT * FROM jobs", []
        where = []
        if cluster is not None:
            where.append("cluster = ?")
            args.append(cluster)
        if states is not None:
            where.append(f"state IN ({', '.join('?' for _ in states)})")
            args += [s.value for s in states]
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY submitted_at DESC, rowid DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._connect() as db:
            return [_record(row) for row in db.execute(sql, args)]

    def stamp(self, cluster: str) -> tuple[int, float, float]:
        """Changes whenever a record of the cluster is added, updated or deleted: a cheap
        check that a list built from the records is still current."""
        with self._connect() as db:
            row = db.execute(
                "SELECT count(*), max(updated_at), sum(updated_at) FROM jobs WHERE cluster = ?",
                (cluster,),
            ).fetchone()
        return int(row[0]), float(row[1] or 0.0), float(row[2] or 0.0)

    def update_info(
        self, cluster: str, job_id: str, info: JobInfo, *, only_from: JobState | None = None
    ) -> bool:
        """Stores what a scheduler said of a job. UNKNOWN is never stored: the last real state
        stays. With `only_from`, changes the record only while it is in that state (for the
        local back end's transitions, which concurrent servers may race for). Returns whether
        the record changed."""
        if info.state is JobState.UNKNOWN:
            return False
        sql = "UPDATE jobs SET state = ?, info = ?, updated_at = ? WHERE cluster = ? AND job_id = ?"
        args: list[Any] = [info.state.value, json.dumps(info.to_dict()), time.time()]
        args += [cluster, job_id]
        if only_from is not None:
            sql += " AND state = ?"
            args.append(only_from.value)
        with self._connect() as db:
            return db.execute(sql, args).rowcount > 0

    def update_process(self, cluster: str, job_id: str, **values: Any) -> None:
        """Merges values into the record's process bookkeeping, atomically."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT process FROM jobs WHERE cluster = ? AND job_id = ?", (cluster, job_id)
            ).fetchone()
            if row is None:
                return
            process = {**json.loads(row["process"]), **values}
            db.execute(
                "UPDATE jobs SET process = ?, updated_at = ? WHERE cluster = ? AND job_id = ?",
                (json.dumps(process), time.time(), cluster, job_id),
            )

    def request_cancel(self, cluster: str, job_id: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET cancel_requested = 1, updated_at = ? "
                "WHERE cluster = ? AND job_id = ?",
                (time.time(), cluster, job_id),
            )

    def next_id(self, counter: str) -> int:
        """1, 2, 3... for each counter name, never twice, across processes."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1) "
                "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
                (counter,),
            ).fetchone()
            return int(row[0])

    def delete(self, cluster: str, job_id: str) -> bool:
        with self._connect() as db:
            return (
                db.execute(
                    "DELETE FROM jobs WHERE cluster = ? AND job_id = ?", (cluster, job_id)
                ).rowcount
                > 0
            )


def submitted_scripts(
    job_id: str, data_dir: str | os.PathLike[str] | None = None
) -> list[JobRecord]:
    """The records of job id `job_id` (of any cluster) in the store of `data_dir` (the user's by
    default), read without writing anything: for a kernel inside the job, on a compute node,
    which must neither create the store nor wait on it. None found, or no store: []."""
    path = Path(data_dir if data_dir is not None else default_store_dir()) / STORE_FILE
    if not path.is_file():
        return []
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5)) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchall()
            return [_record(row) for row in rows]
    except sqlite3.Error:
        return []  # a store being migrated or locked for long: the caller does without


def _record(row: sqlite3.Row) -> JobRecord:
    columns = set(row.keys())  # `in row` would look among the values
    known = set(JobSpec.__dataclass_fields__)
    spec_data = {k: v for k, v in json.loads(row["spec"]).items() if k in known}
    spec = JobSpec(
        **{
            **spec_data,
            "kind": JobKind(spec_data["kind"]),
            "afterok": tuple(spec_data.get("afterok", ())),
            "arguments": tuple(spec_data.get("arguments", ())),
            "mail": JobMail.from_dict(spec_data["mail"]) if spec_data.get("mail") else None,
        }
    )
    info = JobInfo.from_dict(json.loads(row["info"]))
    if info.state.value != row["state"]:
        info = replace(info, state=JobState(row["state"]))
    return JobRecord(
        cluster=row["cluster"],
        job_id=row["job_id"],
        spec=spec,
        script=row["script"],
        submitted_at=row["submitted_at"],
        info=info,
        cancel_requested=bool(row["cancel_requested"]),
        process=json.loads(row["process"]),
        updated_at=row["updated_at"],
        # a store not opened by this version's JobStore yet lacks the columns
        script_sha256=row["script_sha256"] if "script_sha256" in columns else None,
        script_size=row["script_size"] if "script_size" in columns else None,
    )
