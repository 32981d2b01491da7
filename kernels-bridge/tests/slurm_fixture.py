"""pytest plugin: a real one-node Slurm 22.05 for the tests that ask for it.

Load it with `pytest_plugins = ["slurm_fixture"]` in conftest.py (or `pytest -p slurm_fixture`).
The session fixture `slurm` runs scripts/slurm/start.sh, which installs the Debian packages when
missing (as root), starts munged, slurmctld and slurmd, and returns at once when they already
run. Only the tests that request `slurm` start it. When Slurm cannot be started the fixture
fails with the script's output: a job test never passes by skipping. The daemons are left
running after the session (the next start is then instant, and the demo uses them).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
START_SCRIPT = REPO_ROOT / "scripts" / "slurm" / "start.sh"
DEFAULT_STATE_DIR = "/tmp/espri-vre-slurm"
# Installing the Debian packages takes about 7 s; starting the daemons about 1 s.
START_TIMEOUT = 300


@dataclass(frozen=True)
class SlurmCluster:
    state_dir: Path
    conf: Path
    """slurm.conf of the running cluster; SLURM_CONF points at it for the whole session."""
    partitions: tuple[str, ...]
    default_partition: str
    ready_line: str

    @property
    def env(self) -> dict[str, str]:
        """The environment a Slurm client command needs, for subprocesses given their own env."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}


def _start(state_dir: Path) -> str:
    env = {**os.environ, "ESPRI_SLURM_DIR": str(state_dir)}
    try:
        done = subprocess.run(
            ["bash", str(START_SCRIPT)],
            env=env,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        # TimeoutExpired carries bytes even with text=True.
        said = "".join(
            x.decode(errors="replace") if isinstance(x, bytes) else x
            for x in (e.stdout, e.stderr)
            if x
        )
        pytest.fail(
            f"{START_SCRIPT} did not finish within {START_TIMEOUT} s:\n{said}", pytrace=False
        )
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        pytest.fail(
            f"Slurm could not be started ({START_SCRIPT} exited {done.returncode}):\n{output}",
            pytrace=False,
        )
    return output.splitlines()[-1] if output else ""


def _partitions(conf: Path) -> tuple[tuple[str, ...], str]:
    done = subprocess.run(
        ["sinfo", "--noheader", "--format=%P"],
        env={**os.environ, "SLURM_CONF": str(conf)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    names = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not names:
        pytest.fail(
            f"Slurm started but sinfo lists no partition: {done.stderr.strip()}", pytrace=False
        )
    default = next((n.rstrip("*") for n in names if n.endswith("*")), names[0])
    return tuple(n.rstrip("*") for n in names), default


@pytest.fixture(scope="session")
def slurm() -> Iterator[SlurmCluster]:
    state_dir = Path(os.environ.get("ESPRI_SLURM_DIR", DEFAULT_STATE_DIR))
    ready_line = _start(state_dir)
    conf = state_dir / "slurm.conf"
    partitions, default = _partitions(conf)
    with pytest.MonkeyPatch.context() as mp:
        # Client commands run by the code under test (sinfo, sbatch, squeue) find this cluster
        # even when /etc/slurm/slurm.conf belongs to another one.
        mp.setenv("SLURM_CONF", str(conf))
        yield SlurmCluster(
            state_dir=state_dir,
            conf=conf,
            partitions=partitions,
            default_partition=default,
            ready_line=ready_line,
        )
