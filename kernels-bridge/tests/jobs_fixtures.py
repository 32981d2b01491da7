"""pytest plugin: fixtures of the job back-end tests (test_jobs_*.py).

Load it with `pytest_plugins = [..., "jobs_fixtures"]` in conftest.py. It gives a user root folder,
a job store, the recorded scheduler outputs of ../shared/fixtures/jobs (tests skip, saying why,
when ../shared is absent), the fake Torque CLI of tests/fake_torque on PATH, and `poll`, which
waits for a job with a bounded deadline (the tests assert states, never durations)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from espri_vre.jobs.service import JobService
from espri_vre.jobs.store import JobStore
from espri_vre.jobs.torque import TorqueScheduler
from espri_vre.jobs.types import ClusterConfig

TESTS = Path(__file__).resolve().parent
SHARED_JOBS = TESTS.parents[2] / "shared" / "fixtures" / "jobs"
FAKE_TORQUE = TESTS / "fake_torque"

T = TypeVar("T")


def recorded_path(relative: str) -> Path:
    path = SHARED_JOBS / relative
    if not path.exists():
        pytest.skip(f"recorded scheduler output {path} is absent (../shared is not mounted)")
    return path


@pytest.fixture
def recorded() -> Callable[[str], Path]:
    """recorded('slurm/squeue/x.json'): a file of ../shared/fixtures/jobs; skips the test, saying
    so, when ../shared is absent."""
    return recorded_path


async def poll_until(
    get: Callable[[], Awaitable[T]],
    until: Callable[[T], bool],
    *,
    timeout: float = 90,
    interval: float = 0.25,
    seen: list[T] | None = None,
) -> T:
    """Calls get() until until(value) holds; fails with the last value after `timeout` seconds.
    Each value is appended to `seen`, for tests that check the states a job went through."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await get()
        if seen is not None:
            seen.append(value)
        if until(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"still waiting after {timeout:g} s; last value: {value!r}")
        await asyncio.sleep(interval)


@pytest.fixture
def poll() -> Callable[..., Awaitable[Any]]:
    """await poll(get, until, timeout=...): see poll_until."""
    return poll_until


@pytest.fixture
def user_root(tmp_path: Path) -> Path:
    """The user's files: the only folder job paths may be in."""
    root = tmp_path / "home"
    root.mkdir()
    return root


@pytest.fixture
def job_store(tmp_path: Path) -> JobStore:
    return JobStore(tmp_path / "data")


@pytest.fixture
def local_cluster() -> ClusterConfig:
    return ClusterConfig(id="local", kind="local", title="This server", max_running=2)


@dataclass
class FakeTorque:
    """Steers the fake Torque CLI (see tests/fake_torque/faketorque.py)."""

    state_dir: Path

    def set_outcome(self, job_name: str, exit_status: int) -> None:
        path = self.state_dir / "outcomes.json"
        outcomes = json.loads(path.read_text()) if path.exists() else {}
        outcomes[job_name] = exit_status
        path.write_text(json.dumps(outcomes))

    def fail_next(self, count: int, stderr: str) -> None:
        """The next `count` qstat calls fail with this stderr."""
        (self.state_dir / "fail_next").write_text(f"{count}\n{stderr}")

    def break_xml(self) -> None:
        (self.state_dir / "xml_broken").touch()

    def jobs(self) -> dict:
        path = self.state_dir / "state.json"
        return json.loads(path.read_text())["jobs"] if path.exists() else {}


@pytest.fixture
def fake_torque(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTorque:
    """qsub, qstat, qdel, qhold, qrls and pbsnodes on PATH, replaying recorded Torque outputs."""
    fixtures = recorded_path("torque")
    state_dir = tmp_path / "fake-torque"
    state_dir.mkdir()
    monkeypatch.setenv("PATH", os.pathsep.join([str(FAKE_TORQUE), os.environ["PATH"]]))
    monkeypatch.setenv("FAKE_TORQUE_DIR", str(state_dir))
    monkeypatch.setenv("FAKE_TORQUE_FIXTURES", str(fixtures))
    return FakeTorque(state_dir)


@pytest.fixture
def torque_jobs(fake_torque: FakeTorque, job_store: JobStore, user_root: Path) -> JobService:
    """The job service of one Torque cluster `cpu` (queue `batch`) on the fake Torque CLI: what
    the recorded schedule and pipeline tests build their services on."""
    cluster = ClusterConfig(id="cpu", kind="torque", defaults={"queue": "batch"})
    return JobService(
        clusters=[("cpu", "Torque", "torque", "local")],
        schedulers={"cpu": TorqueScheduler(cluster, job_store, [user_root])},
        store=job_store,
        roots=(str(user_root),),
    )


@pytest.fixture
def notebook_kernel() -> str:
    """papermill and a python3 kernel in this environment, which notebook jobs run with."""
    pytest.importorskip("papermill", reason="notebook jobs need papermill in the environment")
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():
        pytest.fail("no python3 kernel: install ipykernel in the test environment")
    return "python3"


@pytest.fixture
def write_notebook() -> Callable[[Path, list[str], str], Path]:
    return make_notebook


def make_notebook(path: Path, cells: list[str], parameters: str) -> Path:
    """A notebook with a cell tagged `parameters` (as papermill expects) and code cells."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    tagged = nbformat.v4.new_code_cell(parameters)
    tagged.metadata["tags"] = ["parameters"]
    nb.cells = [tagged, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)
    return path
