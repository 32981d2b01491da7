"""The Slurm back end: `sbatch --parsable` to submit; `squeue` to list (`-o` with the list's
fields first, then `-O`, `--json`, and a plainer `-o` for clients that refuse the others),
through one snapshot of the queue that every list refresh of this server shares; `scontrol show
job` for one job and the exit codes squeue does not give; `sacct --json` for jobs the controller
has forgotten, when accounting is on; `sinfo` for partitions and their GPUs;
`scancel` and `scontrol hold|release`."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Collection, Sequence
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
from .commands import (
    SCONTROL_PARTITIONS_ARGV,
    SDIAG_ARGV,
    SDIAG_JSON_ARGV,
    SINFO_GRES_ARGV,
    SINFO_GRES_COLUMNS,
    SINFO_JSON_ARGV,
    SINFO_PARTITIONS_ARGV,
    SQUEUE_JSON_ARGV,
    squeue_fields_argv,
    squeue_lines_argv,
    squeue_rows_argv,
)
from .mail import NO_MAIL_PROG, SCONTROL_CONFIG_ARGV, parse_mail_prog
from .parse import (
    accounting_disabled,
    is_transient_error,
    parse_sacct_json,
    parse_sbatch_parsable,
    parse_scontrol_show_job,
    parse_squeue_fields,
    parse_squeue_json,
    parse_squeue_lines,
)
from .partitions import (
    SchedulerLoad,
    parse_scontrol_partitions,
    parse_sdiag_json,
    parse_sdiag_text,
    parse_sinfo_gres,
    parse_sinfo_json,
    parse_sinfo_partitions,
    with_default_memory,
    with_gpus_used,
)
from .unreadable import BadRow, unreadable_problem

FORGOTTEN = "Slurm no longer lists this job and its end was not seen"
"""What a recorded job shows once the scheduler has dropped it before its end was seen."""
QUEUE_TTL = 2.0
"""Seconds one `squeue` answer serves every list refresh (all panels of all users of this
server share it, and slurmctld is asked at most once per TTL); an action here clears it."""
EXIT_CODE_READS = 16
"""Ended jobs whose exit code one list refresh reads with scontrol (the others on the next):
only jobs submitted here, once each, as squeue has no exit code."""
QUEUE_FORMS = ("rows", "fields", "json", "lines")
"""The forms of squeue tried in turn, from the cheapest: -o, -O, --json, the plainer -o."""
PARTITIONS_TTL = 30.0
"""Seconds a partition listing is reused for (the submission form asks for it often)."""
_INVALID_JOB = re.compile(r"Invalid job id", re.IGNORECASE)
_UNSUPPORTED = re.compile(
    r"unrecognized option|invalid option|Invalid job format specification|"
    r"Invalid job format field|is not a valid format|not supported",
    re.IGNORECASE,
)


SLURM_MAIL_TYPES = {
    MailWhen.END: "END,FAIL",
    MailWhen.FAIL: "FAIL",
    MailWhen.ALL: "BEGIN,END,FAIL",
}
"""--mail-type for each choice of `JobMail.when`: 'end' asks for END and FAIL, so that the mail
of a failed job says it failed; 'all' is the start and the end, not Slurm's ALL, which adds
requeues and stage-out (and Torque's `-m abe` means the same three)."""


class SlurmScheduler(CliScheduler):
    kind = "slurm"
    title = "Slurm"
    job_id_variable = '"${SLURM_JOB_ID}"'
    submit_command = ("sbatch", "--parsable")

    accounting: bool | None = None
    """Whether sacct answers (None until asked)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `squeue -o` first: on 22.05 `squeue --json` ignores every filter and answers about
        # 6 KB a job (62 MB for 10,000 queued tasks), while -o gives the fields the list needs
        # in about 120 bytes a job and filters by user in slurmctld. --json stays a fallback.
        self._queue_form = QUEUE_FORMS[0]
        self._mail_prog: str | None = None
        """slurmctld's MailProg once read ('' when it has none)."""
        self._rows: dict[str | None, dict[str, JobInfo]] = {}
        """For each user filter, the last refresh's squeue rows, parsed (parse_squeue_fields)."""
        self._answers: dict[str | None, tuple[str, bytes, list[JobInfo], list[BadRow]]] = {}
        """For each user filter, the last -o or -O answer (form, bytes) and the jobs read from
        it: the same answer gives the same list object, so that the listing built from it is
        kept."""
        self._unreadable: dict[str | None, list[BadRow]] = {}
        """For each user filter, the jobs of the last squeue answer that could not be read."""
        self._snapshot: dict[str | None, tuple[float, list[JobInfo]]] = {}
        self._inflight: dict[str | None, asyncio.Future[list[JobInfo]]] = {}
        self._listings: dict[Any, tuple[list[JobInfo], tuple[int, float, float], JobListing]] = {}
        """The last listing for each (mine, states), with the queue answer and the store stamp
        it was made from: the same listing object while neither changed."""
        self._partitions: tuple[float, list[Partition]] | None = None

    def is_transient(self, said: str) -> bool:
        return is_transient_error(said)

    def log_patterns(self, checked: CheckedSpec, log_dir: Path) -> tuple[str, str]:
        pattern = "%A_%a" if checked.spec.array else "%j"
        name = checked.name
        return f"{log_dir}/{name}-{pattern}.out", f"{log_dir}/{name}-{pattern}.err"

    def options(self, checked: CheckedSpec, stdout: str, stderr: str) -> Options:
        spec = checked.spec
        options: Options = [("--job-name", checked.name)]
        if spec.partition:
            options.append(("--partition", spec.partition))
        if spec.nodes is not None:
            options.append(("--nodes", str(checked.nodes)))
        if spec.tasks is not None:
            options.append(("--ntasks", str(checked.tasks)))
        if spec.cpus is not None:
            options.append(("--cpus-per-task", str(checked.cpus)))
        if checked.memory_mb is not None:
            options.append(("--mem", f"{checked.memory_mb}M"))
        if checked.walltime is not None:
            options.append(("--time", format_walltime(checked.walltime)))
        if checked.gpus:
            kind = f"gpu:{spec.gpu_type}" if spec.gpu_type else "gpu"
            options.append(("--gres", f"{kind}:{checked.gpus}"))
        if spec.account:
            options.append(("--account", spec.account))
        if spec.array:
            options.append(("--array", spec.array))
        if spec.afterok:
            options.append(("--dependency", "afterok:" + ":".join(spec.afterok)))
        if spec.mail is not None:
            options.append(("--mail-type", SLURM_MAIL_TYPES[spec.mail.when]))
            options.append(("--mail-user", spec.mail.address))
        options += [
            ("--chdir", str(checked.working_dir)),
            ("--output", stdout),
            ("--error", stderr),
        ]
        if spec.hold:
            options.append(("--hold", None))
        return options

    def option_argv(self, options: Options) -> list[str]:
        """'--flag=value' words: a value is never read as an option of its own."""
        return [flag if value is None else f"{flag}={value}" for flag, value in options]

    def directives(self, options: Options) -> list[str]:
        return [f"#SBATCH {word}" for word in self.option_argv(options)]

    def submitted(self, prepared: PreparedJob, stdout: str) -> tuple[JobInfo, None]:
        job_id, _ = parse_sbatch_parsable(stdout)
        gpus = prepared.checked.gpus
        info = self.new_job(
            prepared, job_id, job_id, "SUBMITTED", gres=f"gpu:{gpus}" if gpus else None
        )
        return info, None

    def invalidate(self) -> None:
        self._snapshot.clear()

    async def _shared_queue(self, user: str | None) -> list[JobInfo]:
        """The queue as `_queue` reads it, shared: an answer younger than QUEUE_TTL is reused,
        and refreshes that arrive while squeue runs wait for that same call."""
        hit = self._snapshot.get(user)
        if hit is not None and time.monotonic() - hit[0] < QUEUE_TTL:
            return hit[1]
        running = self._inflight.get(user)
        if running is not None:
            return await asyncio.shield(running)
        future = asyncio.ensure_future(self._queue(user))
        self._inflight[user] = future
        try:
            queue = await asyncio.shield(future)
        finally:
            self._inflight.pop(user, None)
        self._snapshot[user] = (time.monotonic(), queue)
        return queue

    async def _queue(self, user: str | None = None) -> list[JobInfo]:
        """Every job the controller knows (of `user` only, when given and the form filters), in
        the first form this squeue accepts. The caller filters again: --json ignores filters."""
        for form in QUEUE_FORMS[QUEUE_FORMS.index(self._queue_form) :]:
            if form == "rows":
                ran = await self._query(squeue_rows_argv(user))
            elif form == "fields":
                ran = await self._query(squeue_fields_argv(user))
            elif form == "json":
                ran = await self._query(SQUEUE_JSON_ARGV)
            else:
                ran = await self._query(squeue_lines_argv(user))
            if not ran.ok and _UNSUPPORTED.search(ran.stderr_text):
                continue
            if not ran.ok:
                raise SchedulerError(short_error(ran.stderr_text) or "squeue failed")
            self._queue_form = form
            try:
                queue, self._unreadable[user] = self._parse_queue(form, user, ran)
                return queue
            except ValueError as e:
                raise SchedulerError(f"squeue answered what cannot be read: {e}") from e
        raise SchedulerError("this squeue accepts neither -o, -O nor --json")

    def _parse_queue(
        self, form: str, user: str | None, ran: CommandResult
    ) -> tuple[list[JobInfo], list[BadRow]]:
        """The jobs read from squeue's answer, and those it could not read (left out)."""
        bad: list[BadRow] = []
        if form == "json":
            return parse_squeue_json(ran.stdout_text, bad), bad
        if form == "lines":
            return parse_squeue_lines(ran.stdout_text, bad)[0], bad
        # The text forms' answers are kept (about 120 bytes a job; --json's 6 KB are not).
        last = self._answers.get(user)
        if last is not None and last[0] == form and last[1] == ran.stdout:
            return last[2], last[3]
        rows = self._rows.setdefault(user, {})
        queue = parse_squeue_fields(
            ran.stdout_text, cache=rows, cluster=self.cluster.id, unreadable=bad
        )
        self._answers[user] = (form, ran.stdout, queue, bad)
        return queue, bad

    async def list(
        self, *, mine: bool = True, states: Collection[JobState] | None = None
    ) -> JobListing:
        try:
            queue = await retry_transient(
                lambda: self._shared_queue(self.cluster.user_name if mine else None)
            )
        except TransientSchedulerError as e:
            return self._silent_listing(e, states)
        here = self.cluster.id
        key = (mine, None if states is None else frozenset(states))
        last = self._listings.get(key)
        if last is not None and last[0] is queue and last[1] == self.store.stamp(here):
            return last[2]
        user = self.cluster.user_name
        seen = {
            j.id: j if j.cluster == here else replace(j, cluster=here)
            for j in queue
            if not mine or j.user in (None, user)
        }
        # --json answers every user's jobs: only this user's unreadable ones are this listing's.
        bad = [
            b
            for b in self._unreadable.get(user if mine else None, [])
            if not mine or b.user in (None, user)
        ]
        records = self.store.list(here)
        # A job of ours whose row could not be read is still in the queue: it keeps its last
        # known record rather than be looked for in sacct or shown as forgotten.
        unread = {b.job_id for b in bad} | {b.job_id.split("_", 1)[0] for b in bad}
        for r in records:
            if r.job_id in unread and r.job_id not in seen and not r.info.finished:
                seen[r.job_id] = r.info
        gone = [r.job_id for r in records if r.job_id not in seen and not r.info.finished]
        found = await self._accounted(gone) if gone else {}
        for job_id, info in found.items():
            seen[job_id] = replace(info, cluster=here)
        if await self._read_exit_codes(seen, records):
            records = self.store.list(here)  # status() recorded what it read
        tasks_by_array: dict[str, list[JobInfo]] | None = None

        def forgotten(record: JobRecord) -> JobInfo:
            nonlocal tasks_by_array
            if tasks_by_array is None:  # only when a recorded job is no longer listed
                tasks_by_array = {}
                for info in queue:
                    task = info.array_task_id
                    if info.array_job_id and task and task.isdigit():
                        tasks_by_array.setdefault(info.array_job_id, []).append(info)
            tasks = tasks_by_array.get(record.job_id)
            if tasks and not record.info.finished:
                return array_summary(record.info, tasks)
            return unknown(record.info, FORGOTTEN)

        listing = JobListing(
            self.merge_recorded(seen, states, forgotten=forgotten, records=records),
            problem=unreadable_problem(bad),
            partial=bool(bad),
        )
        self._listings[key] = (queue, self.store.stamp(here), listing)
        return listing

    async def _read_exit_codes(self, seen: dict[str, JobInfo], records: list[JobRecord]) -> bool:
        """squeue has no exit code: the jobs submitted here that ended without one on record are
        read once with `scontrol show job` (which records it), a few at a time. Whether any was
        read."""
        need = [
            r.job_id
            for r in records
            if r.info.exit_code is None
            and (info := seen.get(r.job_id)) is not None
            and info.finished
            and info.exit_code is None
        ][:EXIT_CODE_READS]
        if not need:
            return False
        got = await asyncio.gather(*(self.status(j) for j in need), return_exceptions=True)
        for job_id, info in zip(need, got, strict=True):
            if isinstance(info, JobInfo) and info.finished:
                seen[job_id] = info
        return True

    async def _accounted(self, job_ids: Sequence[str]) -> dict[str, JobInfo]:
        """Jobs the controller has forgotten, from the accounting database when there is one."""
        if self.accounting is False or not job_ids:
            return {}
        try:
            ran = await retry_transient(
                lambda: self._query(["sacct", "--json", "-j", ",".join(job_ids)])
            )
        except TransientSchedulerError:
            return {}
        if accounting_disabled(ran.stderr_text + ran.stdout_text):
            self.accounting = False
            return {}
        if not ran.ok:
            return {}
        self.accounting = True
        try:
            return {j.id: j for j in parse_sacct_json(ran.stdout_text)}
        except ValueError:
            return {}

    async def status(self, job_id: str) -> JobInfo:
        check_job_id(job_id, "job_id")
        record = self.store.get(self.cluster.id, job_id)
        try:
            ran = await retry_transient(lambda: self._query(["scontrol", "show", "job", job_id]))
        except TransientSchedulerError as e:
            return self._silent_status(e, job_id, record)
        if ran.ok:
            try:
                jobs = parse_scontrol_show_job(ran.stdout_text)
            except ValueError as e:
                raise SchedulerError(f"scontrol answered what cannot be read: {e}") from e
            info = next((j for j in jobs if j.id == job_id), None)
            if info is None and jobs:
                info = array_summary(jobs[0], jobs) if len(jobs) > 1 else jobs[0]
            if info is not None:
                info = replace(info, id=job_id, cluster=self.cluster.id)
                if record is not None:
                    info = complete_from_record(info, record)
                    if info != record.info:
                        self.store.update_info(self.cluster.id, job_id, info)
                return info
        elif not _INVALID_JOB.search(ran.stderr_text):
            raise SchedulerError(short_error(ran.stderr_text) or "scontrol show job failed")
        accounted = (await self._accounted([job_id])).get(job_id)
        if accounted is not None:
            info = replace(accounted, cluster=self.cluster.id)
            if record is not None:
                self.store.update_info(self.cluster.id, job_id, info)
            return info
        if record is not None:
            return unknown(record.info, FORGOTTEN)
        raise JobNotFound(job_id, self.cluster.id)

    async def _control(self, argv: Sequence[str], job_id: str) -> None:
        check_job_id(job_id, "job_id")
        ran = await self._run(argv)
        # scancel exits 0 for an id it does not know; with --verbose it says so on stderr.
        if _INVALID_JOB.search(ran.stderr_text):
            raise JobNotFound(job_id, self.cluster.id)
        if not ran.ok:
            raise self._failure(argv[0], ran)

    async def cancel(self, job_id: str) -> None:
        self.invalidate()
        check_job_id(job_id, "job_id")
        self.store.request_cancel(self.cluster.id, job_id)
        await self._control(["scancel", "--verbose", job_id], job_id)

    async def hold(self, job_id: str) -> None:
        self.invalidate()
        info = await self.status(job_id)
        # scontrol accepts a hold on a running job and does nothing with it until a requeue.
        if info.state not in (JobState.PENDING, JobState.HELD, JobState.UNKNOWN):
            raise SchedulerError(
                f"job {job_id} is {info.state.value.lower()}: only a pending job can be held"
            )
        await self._control(["scontrol", "hold", job_id], job_id)

    async def release(self, job_id: str) -> None:
        self.invalidate()
        await self._control(["scontrol", "release", job_id], job_id)

    async def partitions(self) -> list[Partition]:
        now = time.monotonic()
        if self._partitions is not None and now - self._partitions[0] < PARTITIONS_TTL:
            return self._partitions[1]

        async def query() -> tuple[CommandResult, CommandResult, CommandResult]:
            return await asyncio.gather(
                self._query(SINFO_PARTITIONS_ARGV),
                self._query(SINFO_JSON_ARGV),
                self._query(SCONTROL_PARTITIONS_ARGV),
            )

        summary, nodes, settings = await retry_transient(query)
        if not summary.ok:
            raise SchedulerError(short_error(summary.stderr_text) or "sinfo failed")
        partitions = parse_sinfo_partitions(summary.stdout_text)
        # The default memory is a hint for the form: without scontrol the partitions are listed.
        if settings.ok:
            partitions = with_default_memory(
                partitions, parse_scontrol_partitions(settings.stdout_text)
            )
        if nodes.ok:
            usage = parse_sinfo_json(nodes.stdout_text)
        else:  # a sinfo without --json
            nodes = await self._query(SINFO_GRES_ARGV)
            usage = parse_sinfo_gres(nodes.stdout_text, SINFO_GRES_COLUMNS) if nodes.ok else []
        partitions = with_gpus_used(partitions, usage)
        self._partitions = (now, partitions)
        return partitions

    async def load(self) -> SchedulerLoad | None:
        """The controller's load (sdiag), or None when sdiag is not allowed to this user."""
        ran = await self._query(SDIAG_JSON_ARGV)
        if ran.ok:
            return parse_sdiag_json(ran.stdout_text)
        ran = await self._query(SDIAG_ARGV)
        return parse_sdiag_text(ran.stdout_text) if ran.ok else None

    async def mail_refusal(self) -> str | None:
        """The configuration's word when it gives one; else e-mail needs slurmctld's MailProg,
        read once. A scheduler that does not answer refuses nothing: sbatch says its own."""
        if self.cluster.mail is not None or self.known_mail_refusal is not None:
            return self.known_mail_refusal
        if self._mail_prog is None:
            try:
                ran = await self._query(SCONTROL_CONFIG_ARGV)
            except TransientSchedulerError:
                return None
            self._mail_prog = parse_mail_prog(ran.stdout_text) if ran.ok else None
            if self._mail_prog is None:
                return None
        self.known_mail_refusal = None if self._mail_prog else NO_MAIL_PROG
        return self.known_mail_refusal
