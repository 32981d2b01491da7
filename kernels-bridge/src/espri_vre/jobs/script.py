"""The batch script of a job, and the scheduler options it is submitted with: what the form's
preview shows is exactly what is submitted.

A job runs a shell script (with bash), a Python file, or a notebook through papermill with its
parameters; the output notebook is written next to the input, named after the job and its id
('analysis-1234.ipynb'), so that no run overwrites another or the input. The options (resources,
name, logs) are written as `#SBATCH`/`#PBS` lines for the reader and given again on the
command line, where nothing can be read as a new directive; both come from the same list."""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .scheduler import LOG_DIR_NAME, ClusterConfig, JobKind, JobSpec
from .validation import CheckedSpec, format_walltime, validate_spec

JOB_ID_VARIABLE = {
    "slurm": '"${SLURM_JOB_ID}"',
    # Torque's ids carry the server ('123.server', '123[4].server'): keep the job's own part.
    "torque": '"${PBS_JOBID%%.*}"',
    "local": '"${ESPRI_VRE_JOB_ID}"',
}
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


def prepare_job(
    spec: JobSpec, cluster: ClusterConfig, roots: Sequence[str | os.PathLike[str]]
) -> PreparedJob:
    """Validates the spec (with the cluster's defaults filled in) and writes its script."""
    checked = validate_spec(spec.with_defaults(cluster.defaults), roots)
    log_dir = checked.working_dir / LOG_DIR_NAME
    name = checked.name
    if cluster.kind == "slurm":
        pattern = "%A_%a" if checked.spec.array else "%j"
        stdout, stderr = f"{log_dir}/{name}-{pattern}.out", f"{log_dir}/{name}-{pattern}.err"
        options = slurm_options(checked, stdout, stderr)
        directives = [f"#SBATCH {word}" for word in option_argv("slurm", options)]
    elif cluster.kind == "torque":
        stdout, stderr = f"{log_dir}/{name}.o$PBS_JOBID", f"{log_dir}/{name}.e$PBS_JOBID"
        options = torque_options(checked, stdout, stderr)
        directives = [f"#PBS {flag} {value or ''}".rstrip() for flag, value in options]
    else:
        stdout = f"{log_dir}/{name}-{JOB_ID_PLACEHOLDER}.out"
        stderr = f"{log_dir}/{name}-{JOB_ID_PLACEHOLDER}.err"
        options, directives = (), []
    output = None
    if checked.spec.kind is JobKind.NOTEBOOK:
        output = str(checked.path.parent / f"{name}-{JOB_ID_PLACEHOLDER}.ipynb")
    script = render_script(checked, cluster, directives, output)
    return PreparedJob(
        checked=checked,
        options=tuple(options),
        script=script,
        log_dir=log_dir,
        stdout=stdout,
        stderr=stderr,
        output_notebook=output,
    )


def slurm_options(checked: CheckedSpec, stdout: str, stderr: str) -> list[tuple[str, str | None]]:
    spec = checked.spec
    options: list[tuple[str, str | None]] = [("--job-name", checked.name)]
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
    options += [
        ("--chdir", str(checked.working_dir)),
        ("--output", stdout),
        ("--error", stderr),
    ]
    if spec.hold:
        options.append(("--hold", None))
    return options


def torque_options(checked: CheckedSpec, stdout: str, stderr: str) -> list[tuple[str, str | None]]:
    spec = checked.spec
    options: list[tuple[str, str | None]] = [("-N", checked.name)]
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
    options += [("-d", str(checked.working_dir)), ("-o", stdout), ("-e", stderr)]
    if spec.hold:
        options.append(("-h", None))
    return options


def option_argv(kind: str, options: Sequence[tuple[str, str | None]]) -> list[str]:
    """Options as argv words: Slurm's '--flag=value', Torque's '-f', 'value'."""
    argv: list[str] = []
    for flag, value in options:
        if value is None:
            argv.append(flag)
        elif kind == "slurm":
            argv.append(f"{flag}={value}")
        else:
            argv += [flag, value]
    return argv


def render_script(
    checked: CheckedSpec,
    cluster: ClusterConfig,
    directives: Sequence[str],
    output_notebook: str | None,
) -> str:
    spec = checked.spec
    q = shlex.quote
    lines = [
        "#!/bin/bash",
        f"# espri-vre {spec.kind.value} job {checked.name}: {q(str(checked.path))}",
        *directives,
        f"job_id={JOB_ID_VARIABLE.get(cluster.kind, JOB_ID_VARIABLE['local'])}",
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
