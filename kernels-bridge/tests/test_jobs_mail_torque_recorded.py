"""E-mail at a job's end on Torque, REPLAYED FROM RECORDED OUTPUTS: no Torque server can be
installed here, so the scheduler runs against tests/fake_torque (the recorded qsub, qstat, ...
of ../shared/fixtures/jobs/torque), which reads `-m` and `-M` as Torque's qsub does. Every test
name says `replayed`."""

from __future__ import annotations

import pytest

from espri_vre.jobs.torque import TorqueScheduler
from espri_vre.jobs.types import (
    ClusterConfig,
    JobKind,
    JobMail,
    JobSpec,
    JobValidationError,
    MailWhen,
)

ADDRESS = "ada.lovelace@climate-lab.example.org"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def torque(fake_torque, job_store, user_root):
    cluster = ClusterConfig(id="cpu", kind="torque", defaults={"queue": "batch"})
    return TorqueScheduler(cluster, job_store, [user_root])


def mailed(root, when: MailWhen, address: str = ADDRESS) -> JobSpec:
    (root / "mailed.sh").write_text("echo mailed\n")
    return JobSpec(
        kind=JobKind.SCRIPT, path="mailed.sh", name="mailed", mail=JobMail(address, when)
    )


# Each test runs its cases in a loop: pytest's parametrize does not reach the async tests of
# this suite (its anyio backend is a parameter already).
POINTS = {MailWhen.END: "ae", MailWhen.FAIL: "a", MailWhen.ALL: "abe"}
INJECTIONS = {
    "ada@example.org\n#PBS -u root": "line break",
    "ada@example.org,root@localhost": "not several",
    "-u@example.org": "read as an option",
    "$(reboot)@example.org": "holds",
}


@pytest.mark.anyio
async def test_replayed_qsub_gets_the_mail_points_and_the_address(torque, fake_torque, user_root):
    for when, points in POINTS.items():
        spec = mailed(user_root, when)
        script = torque.preview(spec).splitlines()
        assert [f"#PBS -m {points}", f"#PBS -M {ADDRESS}"] == [
            line for line in script if line.startswith(("#PBS -m", "#PBS -M"))
        ]
        _, argv = await torque.preview_submission(spec)
        assert argv[argv.index("-m") : argv.index("-m") + 4] == ["-m", points, "-M", ADDRESS]
        job = await torque.submit(spec)
        submitted = fake_torque.jobs()[job.id]
        assert (submitted["mail_points"], submitted["mail_users"]) == (points, ADDRESS)
        assert torque.store.get("cpu", job.id).spec.mail == JobMail(ADDRESS, when)


@pytest.mark.anyio
async def test_replayed_injections_are_refused_before_qsub(torque, fake_torque, user_root):
    for address, said in INJECTIONS.items():
        with pytest.raises(JobValidationError, match=said) as caught:
            await torque.submit(mailed(user_root, MailWhen.END, address))
        assert caught.value.fields == ["mail.address"]
    assert fake_torque.jobs() == {}
    assert torque.store.list("cpu") == []


@pytest.mark.anyio
async def test_replayed_torque_with_mail_false_refuses_mail_and_submits_nothing(
    fake_torque, job_store, user_root
):
    cluster = ClusterConfig(id="cpu", kind="torque", title="CPU", mail=False)
    torque = TorqueScheduler(cluster, job_store, [user_root])
    assert await torque.mail_refusal() == "the configuration of CPU says mail = false"
    with pytest.raises(JobValidationError, match="sends no e-mail") as caught:
        await torque.submit(mailed(user_root, MailWhen.END))
    assert caught.value.fields == ["mail"]
    assert job_store.list("cpu") == []
