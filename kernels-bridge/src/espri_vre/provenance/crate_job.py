"""The batch job a recorded notebook ran in (a notebook job: papermill under Slurm or Torque),
as the crate links it: the scheduler sets its variables in the job's environment, the kernel
inherits them, and the session record keeps those of events.ENV_ALLOW (ids, node, partition,
CPUs; never the user's other variables)."""

from __future__ import annotations

from typing import Any

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
    return entities
