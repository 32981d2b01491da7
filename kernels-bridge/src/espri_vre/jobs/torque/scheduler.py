"""The Torque (PBS) back end: `qsub` to submit (`-l nodes=N:ppn=M,mem=...,walltime=...`); `qstat -x`
XML to list, falling back to `qstat -f` text and then to the plain `qstat` table when a server
writes XML that does not parse; `qdel`, `qhold`, `qrls`; `qstat -Qf` and `pbsnodes -x` for queues,
nodes and GPUs."""

from __future__ import annotations

import re
import time
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..probe import short_error
from ..scheduler import (
    CliScheduler,
    Options,
    array_summary,
    complete_from_record,
    retry_transient,
    unknown,
)
from ..script import PreparedJob
from ..store import JobRecord
from ..transport import CommandResult
from ..types import (
    JobInfo,
    JobListing,
    JobNotFound,
    JobState,
    MailWhen,
    Partition,
    SchedulerError,
    TransientSchedulerError,
)
from ..validation import CheckedSpec, check_job_id, format_walltime
from .moab import PendingStarts
from .parse import (
    CutAnswer,
    is_transient_error,
    parse_pbsnodes_xml_nodes,
    parse_qstat_f,
    parse_qstat_queues,
    parse_qstat_table,
    parse_qstat_xml,
    parse_qsub,
    short_job_id,
)

FORGOTTEN = "Torque no longer lists this job and its end was not seen"
"""What a recorded job shows once the scheduler has dropped it before its end was seen."""
PARTITIONS_TTL = 30.0

_UNKNOWN_JOB = re.compile(r"Unknown Job Id", re.IGNORECASE)


TORQUE_MAIL_POINTS = {MailWhen.END: "ae", MailWhen.FAIL: "a", MailWhen.ALL: "abe"}
"""qsub -m for each choice of `JobMail.when`: a (aborted), b (began), e (ended)."""


class TorqueScheduler(CliScheduler):
    """Jobs are known by their short id ('1584224', '673175[19]' for an array task), as users
    and the API may give them; commands get the full id ('1584224.server') when it was recorded
    at submission."""

    kind = "torque"
    title = "Torque"
    # Torque's ids carry the server ('123.server', '123[4].server'): keep the job's own part.
    job_id_variable = '"${PBS_JOBID%%.*}"'
    submit_command = ("qsub",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._partitions: tuple[float, list[Partition]] | None = None
        self.pending_starts = PendingStarts(self.transport) if self.cluster.moab else None
        """Moab's expected starts of waiting jobs, where the configuration says moab: true."""

    def is_transient(self, said: str) -> bool:
        return is_transient_error(said)

    def _full_id(self, job_id: str) -> tuple[str, JobRecord | None]:
        """The short id and the record; commands get the recorded full id."""
        short = short_job_id(check_job_id(job_id, "job_id"))
        return short, self.store.get(self.cluster.id, short)

    def _command_id(self, short: str, record: JobRecord | None) -> str:
        if record is not None and record.process.get("torque_id"):
            return str(record.process["torque_id"])
        return short

    def log_patterns(self, checked: CheckedSpec, log_dir: Path) -> tuple[str, str]:
        name = checked.name
        return f"{log_dir}/{name}.o$PBS_JOBID", f"{log_dir}/{name}.e$PBS_JOBID"

    def options(self, checked: CheckedSpec, stdout: str, stderr: str) -> Options:
        spec = checked.spec
        options: Options = [("-N", checked.name)]
        if spec.partition:
            options.append(("-q", spec.partition))
        # One -l, as `qstat -f` shows it back: nodes=N:ppn=M[:gpus=G],mem=...,walltime=...
        node = f"nodes={checked.nodes}:ppn={checked.cores // max(checked.nodes, 1) or 1}"
        if checked.gpus:
            node += f":gpus={checked.gpus}"
        resources = [node]
        if checked.memory_mb is not None:
            resources.append(f"mem={checked.memory_mb}mb")
        if checked.walltime is not None:
            resources.append(f"walltime={format_walltime(checked.walltime)}")
        options.append(("-l", ",".join(resources)))
        if spec.account:
            options.append(("-A", spec.account))
        if spec.array:
            options.append(("-t", spec.array))
        if spec.afterok:
            options.append(("-W", "depend=afterok:" + ":".join(spec.afterok)))
        if spec.mail is not None:
            options.append(("-m", TORQUE_MAIL_POINTS[spec.mail.when]))
            options.append(("-M", spec.mail.address))
        options += [("-d", str(checked.working_dir)), ("-o", stdout), ("-e", stderr)]
        if spec.hold:
            options.append(("-h", None))
        return options

    def option_argv(self, options: Options) -> list[str]:
        """'-f', 'value' words, as qsub reads them."""
        argv: list[str] = []
        for flag, value in options:
            argv += [flag] if value is None else [flag, value]
        return argv

    def directives(self, options: Options) -> list[str]:
        return [f"#PBS {flag} {value or ''}".rstrip() for flag, value in options]

    def submitted(self, prepared: PreparedJob, stdout: str) -> tuple[JobInfo, dict[str, str]]:
        full_id = parse_qsub(stdout)
        raw_state = "H" if prepared.spec.hold else "Q"
        info = self.new_job(prepared, short_job_id(full_id), full_id, raw_state)
        return info, {"torque_id": full_id}

    async def _jobs(self, job_id: str | None = None) -> list[JobInfo]:
        """All jobs (or one): qstat -x, then qstat -f and the plain table when the XML is bad.
        Raises JobNotFound for an id the server does not know."""
        tail = [job_id] if job_id else []
        for argv, parse in (
            (["qstat", "-x", *tail], parse_qstat_xml),
            (["qstat", "-f", *tail], parse_qstat_f),
            (["qstat", *tail], parse_qstat_table),
        ):
            ran = await self._query(argv)
            if not ran.ok:
                if _UNKNOWN_JOB.search(ran.stderr_text) and job_id:
                    raise JobNotFound(job_id, self.cluster.id)
                raise SchedulerError(short_error(ran.stderr_text) or f"{argv[0]} failed")
            try:
                return parse(ran.stdout_text)
            except CutAnswer as e:
                raise SchedulerError(str(e)) from e
            except ValueError:
                continue
        raise SchedulerError("qstat answered nothing that could be read")

    async def list(
        self, *, mine: bool = True, states: Collection[JobState] | None = None
    ) -> JobListing:
        try:
            jobs = await retry_transient(self._jobs)
        except TransientSchedulerError as e:
            return self._silent_listing(e, states)
        user = self.cluster.user_name
        seen = {
            j.id: replace(j, cluster=self.cluster.id)
            for j in jobs
            if not mine or j.user in (None, user)
        }
        tasks: dict[str, list[JobInfo]] = {}
        for job in jobs:
            if job.array_job_id and not job.id.endswith("[]"):
                tasks.setdefault(f"{job.array_job_id}[]", []).append(job)
        for array_id, members in tasks.items():
            if array_id in seen:
                seen[array_id] = array_summary(seen[array_id], members)

        def forgotten(record: JobRecord) -> JobInfo:
            return unknown(record.info, FORGOTTEN)

        listed = self.merge_recorded(seen, states, forgotten=forgotten)
        if self.pending_starts is not None:
            listed = await self.pending_starts.fill(listed, user)
        return JobListing(listed)

    async def status(self, job_id: str) -> JobInfo:
        short, record = self._full_id(job_id)
        try:
            jobs = await retry_transient(lambda: self._jobs(self._command_id(short, record)))
        except TransientSchedulerError as e:
            return self._silent_status(e, short, record)
        except JobNotFound:
            if record is not None:
                return unknown(record.info, FORGOTTEN)
            raise
        info = next((j for j in jobs if j.id == short), None)
        if info is None:
            if record is not None:
                return unknown(record.info, FORGOTTEN)
            raise JobNotFound(short, self.cluster.id)
        if info.id.endswith("[]"):
            members = [j for j in jobs if j.array_job_id and j is not info]
            if members:
                info = array_summary(info, members)
        info = replace(info, cluster=self.cluster.id)
        if record is not None:
            info = complete_from_record(info, record)
            if info != record.info:
                self.store.update_info(self.cluster.id, short, info)
        if self.pending_starts is not None:
            (info,) = await self.pending_starts.fill([info], self.cluster.user_name)
        return info

    async def _control(self, command: str, job_id: str) -> None:
        short, record = self._full_id(job_id)
        ran = await self._run([command, self._command_id(short, record)])
        if ran.ok:
            return
        if _UNKNOWN_JOB.search(ran.stderr_text):
            raise JobNotFound(short, self.cluster.id)
        raise self._failure(command, ran)

    async def cancel(self, job_id: str) -> None:
        short = short_job_id(check_job_id(job_id, "job_id"))
        self.store.request_cancel(self.cluster.id, short)
        await self._control("qdel", job_id)

    async def hold(self, job_id: str) -> None:
        await self._control("qhold", job_id)

    async def release(self, job_id: str) -> None:
        await self._control("qrls", job_id)

    async def partitions(self) -> list[Partition]:
        now = time.monotonic()
        if self._partitions is not None and now - self._partitions[0] < PARTITIONS_TTL:
            return self._partitions[1]

        async def query() -> tuple[CommandResult, CommandResult]:
            return await self._query(["qstat", "-Q", "-f"]), await self._query(["pbsnodes", "-x"])

        queues, nodes = await retry_transient(query)
        if not queues.ok:
            raise SchedulerError(short_error(queues.stderr_text) or "qstat -Q failed")
        try:
            node_list = parse_pbsnodes_xml_nodes(nodes.stdout_text) if nodes.ok else []
        except ValueError as e:
            raise SchedulerError(str(e)) from e
        default = self.cluster.defaults.get("queue", self.cluster.defaults.get("partition"))
        queue_list = parse_qstat_queues(queues.stdout_text, node_list)
        partitions = [replace(p, default=p.name == default) for p in queue_list]
        self._partitions = (now, partitions)
        return partitions
