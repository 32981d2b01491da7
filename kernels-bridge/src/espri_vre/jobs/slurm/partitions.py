"""Pure parsers of what Slurm says of its partitions, nodes and load: `sinfo` (text and
`--json`), the partitions' default memory (`scontrol show partition`), the GPUs in use on each
node, `sdiag`. Text in, `Partition` / `NodeGres` / `SchedulerLoad` out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from ..probe import count_gpus
from ..types import Partition, int_or_none
from .parse import (
    NO_VALUE,
    first_word,
    gpus_in,
    json_number,
    parse_scontrol_record,
    parse_time_limit,
)


def parse_sinfo_partitions(text: str) -> list[Partition]:
    """Output of SINFO_PARTITIONS_ARGV: one line per partition and node configuration
    (name|avail|timelimit|default time|nodes|cpus per node|memory per node|gres|job size)."""
    merged: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 9:
            raise ValueError(f"unexpected sinfo line: {line[:80]!r}")
        name, avail, limit, default_time, nodes, cpus, memory, gres, size = (
            f.strip() for f in fields
        )
        default = name.endswith("*")
        name = name.rstrip("*")
        n = int_or_none(nodes) or 0
        cpus_per_node = int_or_none(cpus.rstrip("+")) or 0
        p = merged.setdefault(
            name,
            {
                "name": name,
                "default": default,
                "available": avail.rstrip("*") == "up",
                "max_time": parse_time_limit(limit),
                "default_time": parse_time_limit(default_time),
                "max_nodes": _job_size_max(size),
                "nodes": 0,
                "cpus": 0,
                "max_cpus_per_node": 0,
                "max_memory": 0,
                "gpus": 0,
                "gres": [],
            },
        )
        p["nodes"] += n
        p["cpus"] += n * cpus_per_node
        p["max_cpus_per_node"] = max(p["max_cpus_per_node"], cpus_per_node)
        p["max_memory"] = max(p["max_memory"], int_or_none(memory.rstrip("+")) or 0)
        p["gpus"] += n * count_gpus(gres) if gres not in NO_VALUE else 0
        if gres not in NO_VALUE and gres not in p["gres"]:
            p["gres"].append(gres)
    return [
        Partition(
            **{
                **p,
                "gres": tuple(p["gres"]),
                "max_cpus_per_node": p["max_cpus_per_node"] or None,
                "max_memory": p["max_memory"] or None,
            }
        )
        for p in merged.values()
    ]


class DefaultMemory(NamedTuple):
    mb: int | None
    per_cpu: bool


def parse_scontrol_partitions(text: str) -> dict[str, DefaultMemory]:
    """`scontrol --oneliner show partition`: each partition's default memory, from its
    DefMemPerNode=4096 or DefMemPerCPU=2048 word (MB; UNLIMITED is none)."""
    memory = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = parse_scontrol_record(line)
        if "PartitionName" not in fields:
            raise ValueError(f"scontrol show partition answered {line[:80]!r}, not a partition")
        per_cpu = "DefMemPerCPU" in fields
        mb = int_or_none(fields.get("DefMemPerCPU" if per_cpu else "DefMemPerNode")) or None
        memory[fields["PartitionName"]] = DefaultMemory(mb, per_cpu and mb is not None)
    return memory


def with_default_memory(
    partitions: Iterable[Partition], memory: Mapping[str, DefaultMemory]
) -> list[Partition]:
    listed = []
    for p in partitions:
        default = memory.get(p.name, DefaultMemory(None, False))
        listed.append(replace(p, default_memory=default.mb, default_memory_per_cpu=default.per_cpu))
    return listed


@dataclass(frozen=True)
class NodeGres:
    node: str
    gres: str
    gres_used: str
    state: str
    partition: str | None = None

    @property
    def gpus(self) -> int:
        return count_gpus(self.gres)

    @property
    def gpus_used(self) -> int:
        return gpus_in(self.gres_used)


def parse_sinfo_gres(
    text: str, columns: Sequence[str] = ("node", "gres", "gres_used", "state")
) -> list[NodeGres]:
    """`sinfo -hNO NodeHost,Gres,GresUsed,StateLong` (Open OnDemand's form; with Partition too
    when `columns` says so): blank-separated columns, none of which holds a blank."""
    rows = []
    for line in text.splitlines():
        values = line.split()
        if not values:
            continue
        if len(values) != len(columns):
            raise ValueError(f"expected {len(columns)} columns in sinfo line {line[:80]!r}")
        row = dict(zip(columns, values, strict=True))
        if "partition" in row:
            row["partition"] = row["partition"].rstrip("*")
        rows.append(NodeGres(**row))
    return rows


def parse_sinfo_json(text: str) -> list[NodeGres]:
    """`sinfo --json` (openapi v0.0.37+): one NodeGres per node and partition."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"sinfo --json did not answer JSON: {e}") from e
    if not isinstance(data, Mapping) or not isinstance(data.get("nodes"), list):
        raise ValueError("sinfo --json answered JSON without a nodes list")
    rows = []
    for node in data["nodes"]:
        state = first_word(node.get("state")) or ""
        for partition in node.get("partitions") or [None]:
            rows.append(
                NodeGres(
                    node=node.get("name", ""),
                    gres=node.get("gres") or "",
                    gres_used=node.get("gres_used") or "",
                    state=state.lower(),
                    partition=partition,
                )
            )
    return rows


@dataclass(frozen=True)
class SchedulerLoad:
    """How busy the controller is (sdiag): for a hint such as 'Slurm is busy: 13455 pending'."""

    jobs_pending: int | None
    jobs_running: int | None
    server_threads: int | None
    agent_queue: int | None
    cycle_mean_us: int | None
    """Mean main scheduling cycle, microseconds."""
    backfill_cycle_mean_us: int | None


def parse_sdiag_json(text: str) -> SchedulerLoad:
    """`sdiag --json` (23.02 and later; 22.05's sdiag has no --json)."""
    try:
        stats = json.loads(text)["statistics"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ValueError(f"sdiag --json answered something else: {e}") from e
    return SchedulerLoad(
        jobs_pending=json_number(stats.get("jobs_pending")),
        jobs_running=json_number(stats.get("jobs_running")),
        server_threads=json_number(stats.get("server_thread_count")),
        agent_queue=json_number(stats.get("agent_queue_size")),
        cycle_mean_us=json_number(stats.get("schedule_cycle_mean")),
        backfill_cycle_mean_us=json_number(stats.get("bf_cycle_mean")),
    )


def parse_sdiag_text(text: str) -> SchedulerLoad:
    """Plain `sdiag`: 'Jobs pending:   0', and 'Mean cycle:' once under the main scheduler's
    statistics and once under backfilling's."""
    values: dict[str, int] = {}
    section = "main"
    for line in text.splitlines():
        if line.startswith("Backfilling stats"):
            section = "backfill"
        key, sep, value = line.strip().partition(":")
        number = value.strip().split(" ")[0] if sep else ""
        if number.isdigit():
            values.setdefault(f"{section}:{key}" if key == "Mean cycle" else key, int(number))
    return SchedulerLoad(
        jobs_pending=values.get("Jobs pending"),
        jobs_running=values.get("Jobs running"),
        server_threads=values.get("Server thread count"),
        agent_queue=values.get("Agent queue size"),
        cycle_mean_us=values.get("main:Mean cycle"),
        backfill_cycle_mean_us=values.get("backfill:Mean cycle"),
    )


def with_gpus_used(partitions: Iterable[Partition], nodes: Iterable[NodeGres]) -> list[Partition]:
    used: dict[str, int] = {}
    for node in nodes:
        if node.partition:
            used[node.partition] = used.get(node.partition, 0) + node.gpus_used
    return [replace(p, gpus_used=used.get(p.name, 0)) for p in partitions]


def _job_size_max(size: str) -> int | None:
    """'1-infinite' -> None, '1-4' -> 4."""
    high = size.rsplit("-", 1)[-1]
    return int(high) if high.isdigit() else None
