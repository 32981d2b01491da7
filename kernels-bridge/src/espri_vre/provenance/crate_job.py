"""The batch job a recorded notebook ran in (a notebook job: papermill under Slurm or Torque, or
run by the local back end), as the crate links it: the scheduler sets its variables in the job's
environment, the kernel inherits them, and the session record keeps those of events.ENV_ALLOW
(ids, node, partition, CPUs; never the user's other variables), and the batch script of the job
(batch_script.py), which the crate holds as `job/<job id>.sh`, `subjectOf` the job's entity.

A local job sets no such variables but its id, which the session does not keep: the job is the
one of the kept script (batch_script.py found it by that id), its host the session's, and its
resources (what the job asked for and the local back end granted) those of its record in the
job store, read at export (jobs/store.py), on the machine that ran it."""

from __future__ import annotations

from typing import Any

from ..jobs.store import JobRecord, submitted_scripts

SLURM_DETAILS = (
    ("SLURM_JOB_NAME", "job name"),
    ("SLURM_JOB_PARTITION", "partition"),
    ("SLURMD_NODENAME", "node"),
    ("SLURM_JOB_NODELIST", "nodes"),
    ("SLURM_CPUS_ON_NODE", "CPUs on the node"),
    ("SLURM_MEM_PER_NODE", "memory per node (MB)"),
    ("SLURM_SUBMIT_DIR", "submitted from"),
)
PBS_DETAILS = (
    ("PBS_JOBNAME", "job name"),
    ("PBS_QUEUE", "queue"),
    ("PBS_O_WORKDIR", "submitted from"),
)


def job_entities(session: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(id, properties) of a PropertyValue per job the session ran in: none outside a job."""
    env = session.get("env") or {}
    found = []
    if job := env.get("SLURM_JOB_ID"):
        cluster = env.get("SLURM_CLUSTER_NAME")
        found.append(("slurm", cluster, job, SLURM_DETAILS))
    if job := env.get("PBS_JOBID"):
        found.append(("torque", None, job, PBS_DETAILS))
    entities = []
    for scheduler, cluster, job, details in found:
        known = [f"{label} {env[name]}" for name, label in details if env.get(name)]
        where = f" on cluster {cluster}" if cluster else ""
        entities.append(
            (
                f"#job/{scheduler}/{cluster + '/' if cluster else ''}{job}",
                {
                    "@type": "PropertyValue",
                    "propertyID": f"{scheduler}_job_id",
                    "name": f"{scheduler.capitalize()} job {job}{where}",
                    "value": job,
                    "description": "the batch job the notebook ran in"
                    + (f": {', '.join(known)}" if known else ""),
                },
            )
        )
    if (local := _local_job(session)) is not None:
        entities.append(local)
    return entities


def _local_job(session: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    script = session.get("job_script")
    if not isinstance(script, dict) or script.get("scheduler") != "local":
        return None
    job, host = script["job_id"], session.get("hostname") or "unknown host"
    known = [f"node {host}"]
    if (record := _local_record(job, script.get("sha256"))) is not None:
        info = record.info
        known = [
            f"{label} {value}"
            for label, value in (
                ("job name", info.name),
                ("cluster", record.cluster),
                ("node", info.nodes or host),
                ("CPUs", info.cpus),
                ("memory", info.memory),
                ("time limit (s)", info.time_limit),
                ("submitted from", info.working_dir),
            )
            if value
        ]
    return (
        f"#job/local/{host}/{job}",
        {
            "@type": "PropertyValue",
            "propertyID": "local_job_id",
            "name": f"Local job {job} on host {host}",
            "value": job,
            "description": f"the batch job the notebook ran in: {', '.join(known)}",
        },
    )


def _local_record(job: str, sha256: str | None) -> JobRecord | None:
    """The local back end's record of job `job` whose script is the kept one (ids are per local
    cluster: the script's hash tells them apart); None when the store is elsewhere or two match."""
    found = [
        r
        for r in submitted_scripts(job)
        if "script" in r.process and sha256 is not None and r.script_sha256 == sha256
    ]
    return found[0] if len(found) == 1 else None


def job_script_file(
    session: dict[str, Any], job_id: str, entity_id: str
) -> tuple[str, str, dict[str, Any]] | None:
    """(path in the crate, text, properties) of the batch script of job `job_id`, when the
    session kept it; None otherwise."""
    script = session.get("job_script")
    if not isinstance(script, dict) or script.get("job_id") != job_id:
        return None
    # A script cut at 1 MiB keeps its whole hash in the description: the file's `sha256` would
    # not match what the crate holds, and `verify` checks each file against it.
    cut = (
        f" (cut at 1 MiB; the whole one has sha256 {script['sha256']})"
        if script.get("truncated")
        else ""
    )
    return (
        f"job/{job_id}.sh",
        script["text"],
        {
            "name": f"batch script of {script['scheduler'].capitalize()} job {job_id}",
            "encodingFormat": "text/x-shellscript",
            "contentSize": str(script["size"]),
            **({} if script.get("truncated") else {"sha256": script["sha256"]}),
            "about": {"@id": entity_id},
            "description": f"the script the batch job ran, as submitted{cut}",
        },
    )
