"""Is a configured cluster reachable? One cheap scheduler command, with a timeout, turned into a
sentence for the status endpoint: `{"reachable", "detail", "latency_ms"}`.

Parsing is done by the pure functions below; `probe_cluster` only runs the command."""

from __future__ import annotations

import os
import re
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .ssh import transport_for
from .transport import LocalTransport, Transport
from .types import CommandNotFound, CommandTimeout, TransportError

SINFO_ARGV = ("sinfo", "--noheader", "--Node", "--format=%N|%P|%a|%T|%G")
"""One line per node and partition: node, partition (`*` marks the default), availability,
long state with its flag suffix, gres. Node-oriented so that nodes are counted once."""

PBSNODES_ARGV = ("pbsnodes", "-x")


MAX_DETAIL = 200
_LISTED_PARTITIONS = 5
# Slurm's state suffixes (sinfo(1), NODE STATE CODES): `*` not responding, `~` powered off,
# `#` powering up, `!` pending power down, `%` powering down, `$` maintenance, `@` pending reboot,
# `^` reboot issued, `-` planned by the backfill scheduler. Only "not responding" matters here.
_STATE_FLAGS = "*~#!%$@^-+"
# Lines Slurm's clients add that say nothing about the failure itself.
_ADVICE = re.compile(r"^If munged is up, restart with --num-threads")
_PREFIX = re.compile(r"^(?:[A-Za-z_][\w.-]*: )(?:(?:error|fatal|warning): )?")


@dataclass(frozen=True)
class SinfoSummary:
    partitions: tuple[str, ...]
    default_partition: str | None
    unavailable_partitions: tuple[str, ...]
    node_states: Mapping[str, int] = field(default_factory=dict)
    """Nodes per state, each node counted once."""
    gpus: int = 0

    @property
    def nodes(self) -> int:
        return sum(self.node_states.values())


@dataclass(frozen=True)
class PbsnodesSummary:
    node_states: Mapping[str, int]
    gpus: int = 0

    @property
    def nodes(self) -> int:
        return sum(self.node_states.values())


def slurm_node_state(raw: str) -> str:
    """'mixed-' -> 'mixed', 'drained*' -> 'drained (not responding)', 'IDLE' -> 'idle'."""
    text = raw.strip().lower()
    base = text.rstrip(_STATE_FLAGS)
    return f"{base} (not responding)" if "*" in text[len(base) :] else base


def split_gres(gres: str) -> list[str]:
    """Splits a gres list at the commas outside parentheses: 'gpu:a100:2(S:2,7),vis:1'."""
    items, depth, current = [], 0, []
    for ch in gres:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return [i.strip() for i in items if i.strip()]


def count_gpus(gres: str) -> int:
    """GPUs declared in one node's gres: 'gpu:2' -> 2, 'gpu:a100:4(S:0-3),vis:0' -> 4."""
    total = 0
    for item in split_gres(gres):
        parts = item.split("(", 1)[0].split(":")
        if parts[0] == "gpu" and len(parts) >= 2 and parts[-1].isdigit():
            total += int(parts[-1])
    return total


def parse_sinfo_nodes(text: str) -> SinfoSummary:
    """Parses the output of SINFO_ARGV. Raises ValueError on lines of another shape."""
    partitions: list[str] = []
    unavailable: list[str] = []
    default: str | None = None
    node_state: dict[str, str] = {}
    node_gpus: dict[str, int] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 5:
            raise ValueError(f"unexpected sinfo line: {line[:80]!r}")
        node, partition, avail, state, gres = (f.strip() for f in fields)
        if partition.endswith("*"):
            partition = partition[:-1]
            default = partition
        if partition not in partitions:
            partitions.append(partition)
            if avail.rstrip("*") != "up":
                unavailable.append(partition)
        node_state.setdefault(node, slurm_node_state(state))
        node_gpus.setdefault(node, count_gpus(gres))
    return SinfoSummary(
        partitions=tuple(partitions),
        default_partition=default,
        unavailable_partitions=tuple(unavailable),
        node_states=_ordered_counts(node_state.values()),
        gpus=sum(node_gpus.values()),
    )


def describe_sinfo(summary: SinfoSummary) -> str:
    """'2 partitions (debug, gpu), 1 node: 1 idle, 2 GPUs'"""
    names = ", ".join(summary.partitions[:_LISTED_PARTITIONS])
    if len(summary.partitions) > _LISTED_PARTITIONS:
        names += ", …"
    if summary.unavailable_partitions:
        names += f"; {len(summary.unavailable_partitions)} not up"
    text = f"{_plural(len(summary.partitions), 'partition')} ({names}), "
    text += f"{_plural(summary.nodes, 'node')}: {_states(summary.node_states)}"
    if summary.gpus:
        text += f", {_plural(summary.gpus, 'GPU')}"
    return text


def torque_node_state(raw: str) -> str:
    """Torque lists several states ('offline,job-exclusive'); the one that stops jobs wins."""
    states = [s.strip() for s in raw.split(",") if s.strip()]
    for blocking in ("down", "offline", "unknown"):
        if blocking in states:
            return blocking
    return states[0] if states else "unknown"


def parse_pbsnodes_xml(text: str) -> PbsnodesSummary:
    """Parses `pbsnodes -x`. Raises ValueError when it is not pbsnodes XML."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise ValueError(f"pbsnodes -x did not answer XML: {e}") from e
    if root.tag != "Data":
        raise ValueError(f"pbsnodes -x answered <{root.tag}>, expected <Data>")
    states: list[str] = []
    gpus = 0
    for node in root.iter("Node"):
        states.append(torque_node_state(node.findtext("state", "")))
        gpus_text = (node.findtext("gpus") or "0").strip()
        gpus += int(gpus_text) if gpus_text.isdigit() else 0
    return PbsnodesSummary(node_states=_ordered_counts(states), gpus=gpus)


def describe_pbsnodes(summary: PbsnodesSummary) -> str:
    """'5 nodes: 2 job-exclusive, 1 down, 1 free, 1 offline'"""
    text = f"{_plural(summary.nodes, 'node')}: {_states(summary.node_states)}"
    if summary.gpus:
        text += f", {_plural(summary.gpus, 'GPU')}"
    return text


def short_error(stderr: str, limit: int = MAX_DETAIL) -> str:
    """The scheduler's own words, without the `sinfo: error:`-style prefixes and the advice lines:
    'slurm_load_partitions: Unable to contact slurm controller (connect failure)'
    -> 'Unable to contact slurm controller (connect failure)'."""
    seen: list[str] = []
    for line in stderr.splitlines():
        text = line.strip()
        while (m := _PREFIX.match(text)) and len(text) > m.end():
            text = text[m.end() :]
        if text and not _ADVICE.match(text) and text not in seen:
            seen.append(text)
    return _clip("; ".join(seen), limit)


# The words of a scheduler client whose credential could not be made or was refused: Slurm's
# munge plugin, Torque's trqauthd.
_AUTH_FAILED = re.compile(
    r"Munge (?:encode|decode) failed|Protocol authentication error|"
    r"Invalid authentication credential|auth_g_(?:create|verify)|authentication error|"
    r"trqauthd",
    re.IGNORECASE,
)
# The words of a client whose server (slurmctld, pbs_server) is not there or not answering.
_NO_CONTROLLER = re.compile(
    r"Unable to contact slurm controller|Slurm controller not responding|connect failure|"
    r"Connection refused|Socket timed out|Connection timed out|"
    r"Cannot connect to (?:specified )?server|cannot connect to server|pbs_connect",
    re.IGNORECASE,
)
AUTH_ADVICE = (
    "Authentication with the scheduler failed (munge): munged must run on the machine that runs "
    "the commands (this server or the login node) with the cluster's key; ask the "
    "administrators if it does. Jobs show as unknown meanwhile; they keep running."
)
NO_CONTROLLER_ADVICE = (
    "The scheduler's controller cannot be reached: it may be restarting or down. Jobs show as "
    "unknown until it answers again; they keep running and nothing is lost."
)


def scheduler_advice(said: str) -> str | None:
    """What the user can make of a scheduler's failure, in a sentence, from the scheduler's
    words: authentication (munge) or an unreachable controller. None for other words, which
    then speak for themselves."""
    if _AUTH_FAILED.search(said):
        return AUTH_ADVICE
    if _NO_CONTROLLER.search(said):
        return NO_CONTROLLER_ADVICE
    return None


def result(reachable: bool, detail: str, latency_ms: float | None) -> dict[str, Any]:
    return {"reachable": reachable, "detail": _clip(detail), "latency_ms": latency_ms}


async def probe_cluster(
    cluster: Mapping[str, Any], timeout: float, *, transport: Transport | None = None
) -> dict[str, Any]:
    """Never raises: every failure is an unreachable result that says why."""
    kind = cluster.get("kind")
    via = cluster.get("transport", "local")
    if kind == "local":
        return result(True, f"jobs run as processes on this server ({_cpus()})", None)
    if kind not in ("slurm", "torque"):
        return result(
            False, f"unknown cluster kind {kind!r}: expected local, slurm or torque", None
        )
    if via not in ("local", "ssh"):
        return result(False, f"unknown transport {via!r}: expected local or ssh", None)
    ssh = None
    if via == "ssh" and transport is None:
        try:
            ssh = transport_for("ssh", cluster)
        except ValueError as e:
            return result(False, str(e), None)
    runner: Transport = transport or ssh or LocalTransport()
    try:
        if kind == "slurm":
            return await _probe(runner, SINFO_ARGV, timeout, _judge_sinfo, "Slurm")
        return await _probe(runner, PBSNODES_ARGV, timeout, _judge_pbsnodes, "Torque")
    finally:
        if ssh is not None:
            await ssh.close()


def _judge_sinfo(stdout: str) -> tuple[bool, str]:
    summary = parse_sinfo_nodes(stdout)
    if not summary.partitions:
        return False, "the Slurm controller answered but lists no partition"
    return True, describe_sinfo(summary)


def _judge_pbsnodes(stdout: str) -> tuple[bool, str]:
    summary = parse_pbsnodes_xml(stdout)
    if not summary.nodes:
        return False, "the Torque server answered but lists no node"
    return True, describe_pbsnodes(summary)


async def _probe(
    runner: Transport,
    argv: tuple[str, ...],
    timeout: float,
    judge: Callable[[str], tuple[bool, str]],
    scheduler: str,
) -> dict[str, Any]:
    command = argv[0]
    started = time.monotonic()

    def elapsed() -> float:
        return round((time.monotonic() - started) * 1000, 1)

    try:
        ran = await runner.run(argv, timeout=timeout)
    except CommandNotFound:
        return result(
            False,
            f"{scheduler} client commands ({command}) are not installed on this server",
            None,
        )
    except CommandTimeout as e:
        said = short_error(e.stderr.decode("utf-8", errors="replace"), 120)
        detail = f"no answer from {command} within {timeout:g} s"
        return result(False, f"{detail} ({said})" if said else detail, elapsed())
    except (TransportError, OSError) as e:
        return result(False, f"{command} could not be run: {e}", None)
    if not ran.ok:
        said = short_error(ran.stderr_text) or short_error(ran.stdout_text)
        return result(False, said or f"{command} failed with exit code {ran.returncode}", elapsed())
    try:
        reachable, detail = judge(ran.stdout_text)
    except ValueError as e:
        return result(False, f"{command} answered something unexpected: {e}", elapsed())
    return result(reachable, detail, elapsed())


def _ordered_counts(values: Iterable[str]) -> dict[str, int]:
    """Counts, most frequent first, then by name, so that details read the same every time."""
    counts = Counter(values)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _states(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {state}" for state, n in counts.items()) or "none"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _clip(text: str, limit: int = MAX_DETAIL) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _cpus() -> str:
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return _plural(n or 1, "CPU")
