"""The batch script of a job: what the form's preview shows is exactly what is submitted.

A job runs a shell script (with bash), a Python file, or a notebook through papermill with its
parameters; the output notebook is written next to the input, named after the job and its id
('analysis-1234.ipynb'), so that no run overwrites another or the input. The scheduler options
(resources, name, logs) come from each scheduler (`Scheduler.prepare`): written as
`#SBATCH`/`#PBS` lines for the reader and given again on the command line, where nothing can be
read as a new directive; both come from the same list."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .types import ClusterConfig, JobKind, JobSpec
from .validation import CheckedSpec

JOB_ID_PLACEHOLDER = "{job_id}"


@dataclass(frozen=True)
class PreparedJob:
    checked: CheckedSpec
    options: tuple[tuple[str, str | None], ...]
    """(flag, value) pairs: ('--partition', 'gpu') for Slurm, ('-q', 'batch') for Torque."""
    script: str
    log_dir: Path
    stdout: str
    """Log path as the scheduler reads it ('%j' for Slurm, '$PBS_JOBID' for Torque, the
    placeholder '{job_id}' for the local back end)."""
    stderr: str
    output_notebook: str | None
    """With the placeholder '{job_id}'."""

    @property
    def spec(self) -> JobSpec:
        return self.checked.spec

    @property
    def name(self) -> str:
        return self.checked.name


def render_script(
    checked: CheckedSpec,
    cluster: ClusterConfig,
    directives: Sequence[str],
    output_notebook: str | None,
    job_id_variable: str,
) -> str:
    spec = checked.spec
    q = shlex.quote
    lines = [
        "#!/bin/bash",
        f"# espri-vre {spec.kind.value} job {checked.name}: {q(str(checked.path))}",
        *directives,
        f"job_id={job_id_variable}",
        f"cd {q(str(checked.working_dir))} || exit 1",
    ]
    python = q(cluster.python_command)
    if spec.conda_env:
        lines += [
            "conda_hook=$(conda shell.bash hook) || exit 1",
            'eval "$conda_hook"',
            f"conda activate {q(spec.conda_env)} || exit 1",
        ]
        python = "python"
    args = " ".join(q(a) for a in spec.arguments)
    if spec.kind is JobKind.SCRIPT:
        command = f"exec /bin/bash {q(str(checked.path))}"
    elif spec.kind is JobKind.PYTHON:
        command = f"exec {python} {q(str(checked.path))}"
    else:
        assert output_notebook is not None
        before, _, after = output_notebook.partition(JOB_ID_PLACEHOLDER)
        output = f'{q(before)}"${{job_id}}"{q(after)}'
        command = (
            f"exec {python} -m papermill {q(str(checked.path))} {output}"
            f" --cwd {q(str(checked.working_dir))} --log-output --no-progress-bar"
        )
        if spec.kernel:
            command += f" -k {q(spec.kernel)}"
        if spec.parameters:
            # JSON is YAML: papermill keeps each value's type (a string stays a string).
            command += f" -y {q(json.dumps(dict(spec.parameters), ensure_ascii=False))}"
    lines.append(f"{command} {args}".rstrip())
    return "\n".join(lines) + "\n"


def expand_job_paths(prepared: PreparedJob, job_id: str) -> dict[str, str | None]:
    """The log and output notebook paths of the job once its id is known; Slurm's and Torque's
    patterns are expanded as they will expand them ('%A_%a' stays until a task is known)."""
    own = job_id.split(".", 1)[0]
    paths: dict[str, str | None] = {}
    for key, pattern in (("stdout_path", prepared.stdout), ("stderr_path", prepared.stderr)):
        paths[key] = (
            pattern.replace("%j", own)
            .replace("%A", own)
            .replace("$PBS_JOBID", job_id)
            .replace(JOB_ID_PLACEHOLDER, own)
        )
    paths["output_notebook"] = (
        prepared.output_notebook.replace(JOB_ID_PLACEHOLDER, own)
        if prepared.output_notebook
        else None
    )
    return paths
