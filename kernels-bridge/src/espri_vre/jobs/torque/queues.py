"""The current load of a Torque cluster's queues, for the submission form (issue 21): jobs queued
and running in each execution queue from `qstat -Q -f` (its state_count), and the cluster's cores
busy and free from `pbsnodes -x` (nodes down, offline or unknown count for neither). Torque's
queues share the cluster's nodes unless a site restricts them, so every queue shows the same cores
(as `parse_qstat_queues` counts them).

Both commands run through the cluster's transport with a time-out; `queue_load` raises
SchedulerError when qstat fails or prints what cannot be read, and passes over a pbsnodes that
fails (the queues' jobs are still known, the cores are not)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..probe import short_error
from ..transport import CommandResult, Transport
from ..types import CommandTimeout, SchedulerError, TransientSchedulerError, TransportError
from .parse import TorqueNode, parse_pbsnodes_xml_nodes, parse_qstat_f_blocks

LOAD_TIMEOUT = 15.0
"""Seconds qstat -Q -f or pbsnodes -x may take: the form waits for them, it must not hang."""

RUNNING = ("Running", "Exiting")
WAITING = ("Transit", "Queued", "Held", "Waiting")
"""state_count's words (qstat(1B)) for jobs that hold cores and jobs that wait for them."""
DOWN = ("down", "offline", "unknown")
"""Node states (as `torque_node_state` gives them) whose cores no job can get."""
_COUNT = re.compile(r"(?P<state>[A-Za-z]+):(?P<count>\d+)")


class QueueOutputError(SchedulerError):
    """qstat -Q -f answered, but not in a form this parser reads: the load is unknown."""

    code = "torque-output"


@dataclass(frozen=True)
class QueueLoad:
    name: str
    jobs_running: int
    jobs_waiting: int


@dataclass(frozen=True)
class NodeLoad:
    """The cores of the cluster's nodes that are up (not down, offline or unknown), from
    pbsnodes -x, and how many of them jobs hold."""

    cores_total: int
    cores_busy: int


def parse_state_count(queue: str, text: str) -> dict[str, int]:
    """'Transit:0 Queued:27 Held:13 ...' -> {'Queued': 27, ...}; QueueOutputError naming the
    queue for any word that is not 'State:count'."""
    counts: dict[str, int] = {}
    for word in text.split():
        m = _COUNT.fullmatch(word)
        if m is None:
            raise QueueOutputError(f"qstat -Q -f: queue {queue}'s state_count has {word!r}")
        counts[m["state"]] = int(m["count"])
    if "Queued" not in counts or "Running" not in counts:
        raise QueueOutputError(f"qstat -Q -f: queue {queue}'s state_count is {text!r}")
    return counts


def parse_queue_load(text: str) -> list[QueueLoad]:
    """The execution queues of `qstat -Q -f` with their running and waiting jobs (routing queues
    only pass jobs on, as `parse_qstat_queues` leaves them out). QueueOutputError when an answer
    that is not empty holds no queue, or a queue has no state_count that can be read."""
    blocks = parse_qstat_f_blocks(text, "Queue")
    if not blocks and text.strip():
        first = text.strip().splitlines()[0]
        raise QueueOutputError(f"qstat -Q -f printed no queue (it began with {first!r})")
    loads = []
    for name, attributes in blocks:
        if attributes.get("queue_type", "Execution").lower().startswith("route"):
            continue
        if "state_count" not in attributes:
            raise QueueOutputError(f"qstat -Q -f printed no state_count for queue {name}")
        counts = parse_state_count(name, attributes["state_count"])
        running = sum(counts.get(s, 0) for s in RUNNING)
        waiting = sum(counts.get(s, 0) for s in WAITING)
        loads.append(QueueLoad(name, running, waiting))
    return loads


def node_load(nodes: Sequence[TorqueNode]) -> NodeLoad:
    up = [n for n in nodes if n.state not in DOWN]
    # A node's busy cores never count above its own: Torque may list a core twice while a job
    # ends and the next one starts on it.
    busy = sum(min(n.cores_busy, n.np) for n in up)
    return NodeLoad(cores_total=sum(n.np for n in up), cores_busy=busy)


async def _run(transport: Transport, argv: list[str], timeout: float) -> CommandResult:
    try:
        return await transport.run(argv, timeout=timeout)
    except CommandTimeout as e:
        raise TransientSchedulerError(f"{argv[0]} did not answer within {e.timeout:g} s") from e
    except TransportError as e:
        raise TransientSchedulerError(f"{argv[0]} could not be run: {e}") from e


async def queue_load(
    transport: Transport, *, timeout: float = LOAD_TIMEOUT
) -> tuple[list[QueueLoad], NodeLoad | None, str]:
    """The queues' load, the nodes' cores (None when pbsnodes failed) and a note saying why
    they are missing ('' when they are not). SchedulerError (TransientSchedulerError when it did
    not answer) when qstat -Q -f fails or cannot be read."""
    ran = await _run(transport, ["qstat", "-Q", "-f"], timeout)
    if not ran.ok:
        said = short_error(ran.stderr_text) or f"exit status {ran.returncode}"
        raise SchedulerError(f"qstat -Q -f failed: {said}")
    queues = parse_queue_load(ran.stdout_text)
    try:
        nodes = await _run(transport, ["pbsnodes", "-x"], timeout)
        if not nodes.ok:
            said = short_error(nodes.stderr_text) or f"exit status {nodes.returncode}"
            return queues, None, f"no node counts: pbsnodes -x failed: {said}"
        return queues, node_load(parse_pbsnodes_xml_nodes(nodes.stdout_text)), ""
    except (SchedulerError, ValueError) as e:
        return queues, None, f"no node counts: {e}"
