"""The load of a Torque cluster's queues in the submission form's estimate (issue 21), FROM
RECORDED OUTPUTS: no Torque runs here. `qstat -Q -f` is read from a real server's answer
(fake_torque/qstat_Qf, its source in its header) and from the fake Torque CLI, which counts the
jobs a test submits in that format; the cores from the recorded `pbsnodes -x` and `pbsnodes` of
../shared/fixtures/jobs/torque."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_fixtures import recorded_path

from espri_vre.jobs.estimate import PartitionLoad, estimate_start
from espri_vre.jobs.torque.parse import parse_pbsnodes_text, parse_pbsnodes_xml_nodes
from espri_vre.jobs.torque.queues import (
    NodeLoad,
    QueueLoad,
    QueueOutputError,
    node_load,
    parse_queue_load,
    queue_load,
)
from espri_vre.jobs.transport import LocalTransport
from espri_vre.jobs.types import SchedulerError, TransientSchedulerError

QSTAT_QF = Path(__file__).resolve().parent / "fake_torque" / "qstat_Qf"
NO_MOAB = "cpu gives no start estimate (Torque alone has none; no Moab here)"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def recorded_qstat_qf() -> str:
    """The real answer's output, after its header's last line '# ---'."""
    text = (QSTAT_QF / "qstat_Qf__buildtest_lbl_cluster.txt").read_text()
    return text.split("# ---\n", 1)[1]


def test_a_real_qstat_qf_answer_is_read_recorded() -> None:
    assert parse_queue_load(recorded_qstat_qf()) == [QueueLoad("lbl-cluster", 0, 0)]


def test_state_counts_wrapped_and_routing_queues_recorded() -> None:
    # Torque wraps a long state_count onto a TAB line; a routing queue holds no job for long.
    text = recorded_qstat_qf().replace(
        "Queued:0 Held:0 Waiting:0 Running:0 Exiting:0 Complete:0",
        "Queued:27 Held:13 Waiting:2 Running:5 Exit\n\ting:1 Complete:40",
    )
    text += "Queue: route\n    queue_type = Route\n    route_destinations = lbl-cluster\n"
    assert parse_queue_load(text) == [QueueLoad("lbl-cluster", 6, 42)]
    assert parse_queue_load("") == []  # a server with no queue prints nothing


def test_malformed_qstat_qf_gets_clear_errors_recorded() -> None:
    real = recorded_qstat_qf()
    cases = {
        "qstat: Unknown queue\n": "printed no queue (it began with 'qstat: Unknown queue')",
        real.replace("    state_count", "    x_count"): "no state_count for queue lbl-cluster",
        real.replace("Queued:0", "Queued:lots"): "lbl-cluster's state_count has 'Queued:lots'",
        real.replace("Queued:0 ", ""): "lbl-cluster's state_count is 'Transit:0 Held:0",
    }
    for text, said in cases.items():
        with pytest.raises(QueueOutputError) as refused:
            parse_queue_load(text)
        assert said in str(refused.value)
        assert isinstance(refused.value, SchedulerError)


def test_cores_of_the_recorded_nodes_recorded() -> None:
    fixtures = recorded_path("torque")
    xml = (fixtures / "pbsnodes_x__torque__qhost__output_00.xml").read_text()
    # node1 free, node150 and node164 job-exclusive (12 cores each); node14 down and node163
    # offline count for nothing.
    assert node_load(parse_pbsnodes_xml_nodes(xml)) == NodeLoad(cores_total=36, cores_busy=24)
    # Torque 6's ranges: 18-26, 0-8 and 9-17 hold 27 of r22g35's 36 cores.
    text = (fixtures / "vsc__pbsnodes_gpu.txt").read_text()
    assert node_load(parse_pbsnodes_text(text)) == NodeLoad(cores_total=36, cores_busy=27)


@pytest.mark.anyio
async def test_the_form_gets_each_queues_load_recorded(torque_jobs, fake_torque, user_root):
    (user_root / "run.sh").write_text("echo run\n")
    spec = {"kind": "script", "path": "run.sh"}
    await torque_jobs.submit("cpu", spec)
    await torque_jobs.submit("cpu", {**spec, "hold": True})
    await torque_jobs.submit("cpu", {**spec, "partition": "long"})
    estimate = await estimate_start(torque_jobs, "cpu", spec)
    assert (estimate.start_time, estimate.detail) == (None, NO_MOAB)
    assert estimate.partitions == [
        PartitionLoad("batch", 24, 12, 36, jobs_running=0, jobs_pending=2),
        PartitionLoad("long", 24, 12, 36, jobs_running=0, jobs_pending=1),
    ]
    assert {j["state"] for j in fake_torque.jobs().values()} == {"Q", "H"}  # none moved on


@pytest.mark.anyio
async def test_a_failing_or_unreadable_load_leaves_the_estimate_recorded(
    torque_jobs, fake_torque, user_root
):
    (user_root / "run.sh").write_text("echo run\n")
    spec = {"kind": "script", "path": "run.sh"}
    steer = fake_torque.state_dir
    (steer / "pbsnodes_fails").write_text("pbsnodes: cannot connect to server pbsserver")
    estimate = await estimate_start(torque_jobs, "cpu", spec)
    assert estimate.detail == (
        NO_MOAB + "; no node counts: pbsnodes -x failed: cannot connect to server pbsserver"
    )
    # The queues' jobs are still known; the cores are not.
    assert estimate.partitions == [PartitionLoad(q, 0, 0, 0, 0, 0) for q in ("batch", "long")]

    (steer / "qstat_qf_output").write_text(recorded_qstat_qf().replace("Queued:0", "Queued:x"))
    estimate = await estimate_start(torque_jobs, "cpu", spec)
    assert (estimate.start_time, estimate.partitions) == (None, [])
    assert estimate.detail == (
        NO_MOAB + "; no queue load: qstat -Q -f: queue lbl-cluster's state_count has 'Queued:x'"
    )

    (steer / "qstat_qf_fails").write_text("qstat: Unauthorized Request")
    estimate = await estimate_start(torque_jobs, "cpu", spec)
    assert estimate.partitions == []
    assert estimate.detail == (
        NO_MOAB + "; no queue load: qstat -Q -f failed: Unauthorized Request"
    )


@pytest.mark.anyio
async def test_queue_load_runs_through_the_transport_recorded(fake_torque) -> None:
    queues, nodes, missing = await queue_load(LocalTransport(), timeout=30)
    assert queues == [QueueLoad("batch", 0, 0), QueueLoad("long", 0, 0)]
    assert (nodes, missing) == (NodeLoad(36, 24), "")


@pytest.mark.anyio
async def test_a_qstat_that_hangs_is_killed_recorded(fake_torque) -> None:
    (fake_torque.state_dir / "qstat_qf_hangs").touch()
    with pytest.raises(TransientSchedulerError, match="qstat did not answer within 0.5 s"):
        await queue_load(LocalTransport(), timeout=0.5)
