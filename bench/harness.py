"""Benchmark harness: runs every bench_*.py beside this file and writes docs/benchmarks.md.

`python bench/harness.py` runs every benchmark; `python bench/harness.py jobs catalog` runs
only the modules whose name contains one of the words and keeps the other modules' rows from
the last run: the rows are kept by module in docs/benchmarks.json (written under a file lock,
so that two partial runs at once do not lose each other's rows) and docs/benchmarks.md is
rendered from it. `python bench/harness.py --render` runs nothing and renders the page again.

Each benchmark module has `run(ctx) -> list[Row]`. A row compares our figure with an
anchor (another tool doing the same work) measured in the same run, on the same machine, in
interleaved rounds (ours, anchor, ours, anchor, ...), so that a burst of load on this shared
machine falls on both sides: each figure is the median of its rounds, shown with their
min–max, and only the ratio is read. No figure is clamped: an overhead below zero is shown as
measured, "within noise" when its rounds cross zero. Timing thresholds never go into tests;
they live here, as targets evaluated against the measured ratio and its spread.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import fcntl
import importlib.util
import itertools
import json
import os
import platform
import reprlib
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

K = TypeVar("K")
T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent

COMPARE = "compare"
"""Ours and the anchor doing the same work: ratio = how many times better we are."""
OVERHEAD = "overhead"
"""Ours and the anchor are overheads (%, lower is better), which can be zero or negative."""
CACHE_HIT = "cache hit"
"""Ours answered from a cache the anchor does not have: shown for what it is, never a target."""


@dataclass
class Row:
    issue: str
    task: str
    ours: float
    anchor_name: str
    anchor: float
    unit: str
    target: str = ""
    lower_is_better: bool = True
    note: str = ""
    goal: float | None = None
    """The ratio the target asks for (met when the ratio is at least this); None: no target.
    For an OVERHEAD row, met when ours x goal <= the anchor's overhead."""
    ours_runs: list[float] = field(default_factory=list)
    anchor_runs: list[float] = field(default_factory=list)
    kind: str = COMPARE

    @classmethod
    def measured(
        cls, issue: str, task: str, ours_runs: list[float], anchor_name: str,
        anchor_runs: list[float], unit: str, **kw: object,
    ) -> Row:  # fmt: skip
        """A row whose figures are the medians of the rounds it was given."""
        return cls(
            issue=issue,
            task=task,
            ours=statistics.median(ours_runs),
            anchor_name=anchor_name,
            anchor=statistics.median(anchor_runs),
            unit=unit,
            ours_runs=list(ours_runs),
            anchor_runs=list(anchor_runs),
            **kw,
        )

    def ratio_of(self, ours: float, anchor: float) -> float:
        """How many times better `ours` is than `anchor` (>1 means better); nan when the
        quotient means nothing (an overhead of ours at or below zero, a zero figure)."""
        if self.kind == OVERHEAD and ours <= 0:
            return float("nan")
        num, den = (anchor, ours) if self.lower_is_better else (ours, anchor)
        return num / den if den else float("nan")

    @property
    def ratio(self) -> float:
        return self.ratio_of(self.ours, self.anchor)

    def pairs(self, extremes: bool) -> list[tuple[float, float]]:
        """(ours, anchor) round by round when both sides ran the same rounds (interleaved);
        else every combination of the two sides' figures (or of their extremes only)."""
        if len(self.ours_runs) == len(self.anchor_runs):
            return list(zip(self.ours_runs, self.anchor_runs, strict=True))
        sides = [self.ours_runs, self.anchor_runs]
        if extremes:
            sides = [[min(r), max(r)] for r in sides]
        return list(itertools.product(*sides))

    def ratio_spread(self) -> tuple[float, float] | None:
        """The ratio's min and max over the rounds: paired round by round when both sides ran
        the same rounds, else over the extremes of each side. None without rounds."""
        if not self.ours_runs or not self.anchor_runs:
            return None
        got = [self.ratio_of(o, a) for o, a in self.pairs(extremes=True)]
        if any(r != r for r in got):  # nan: some round has no ratio
            return None
        return min(got), max(got)

    def meets(self, ours: float, anchor: float) -> bool:
        assert self.goal is not None
        if self.kind == OVERHEAD:
            return ours * self.goal <= anchor
        return self.ratio_of(ours, anchor) >= self.goal

    def verdict(self) -> str:
        """'met', 'missed', '... (spread crosses the target)', or why there is none."""
        if self.kind == CACHE_HIT:
            return "cache hit (no target)"
        if self.goal is None:
            if not self.target or self.target.startswith("informational"):
                return self.target or "informational"
            if not self.ours_runs:
                return f"{self.target}: not evaluated (a row of an older harness, no rounds)"
            return f"{self.target}: not evaluated (the row gives no goal)"
        state = "met" if self.meets(self.ours, self.anchor) else "missed"
        if not self.ours_runs or not self.anchor_runs:
            return f"{self.target}: {state} (no rounds recorded)"
        if len({self.meets(o, a) for o, a in self.pairs(extremes=False)}) > 1:
            state += " (spread crosses the target)"
        return f"{self.target}: {state}"

    def within_noise(self) -> bool:
        """The rounds do not say which side is better (an overhead whose rounds cross zero,
        or a ratio whose rounds cross 1)."""
        if self.kind == OVERHEAD:
            return bool(self.ours_runs) and min(self.ours_runs) <= 0 <= max(self.ours_runs)
        spread = self.ratio_spread()
        return spread is not None and spread[0] < 1 < spread[1]


@dataclass
class Context:
    root: Path
    work: Path
    repeat: int


def timed_ms(fn: Callable[[], object]) -> Callable[[], float]:
    """`fn` as a function returning its wall time in milliseconds."""

    def run() -> float:
        start = time.perf_counter()
        fn()
        return (time.perf_counter() - start) * 1000

    return run


def interleaved_rounds(sides: Mapping[K, Callable[[int], T]], count: int) -> dict[K, list[T]]:
    """`count` rounds; each calls every side once, in the order given, with the round's number
    (from 0): each side's results in round order. The one round loop of every bench module, so
    that a burst of load on this shared machine falls on every side alike."""
    got: dict[K, list[T]] = {name: [] for name in sides}
    for n in range(count):
        for name, side in sides.items():
            got[name].append(side(n))
    return got


def interleave(
    ours: Callable[[], float], anchor: Callable[[], float], rounds: int
) -> tuple[list[float], list[float]]:
    """Rounds of ours then the anchor, each call returning its own figure: both samples."""
    got = interleaved_rounds({"ours": lambda _: ours(), "anchor": lambda _: anchor()}, rounds)
    return got["ours"], got["anchor"]


def poll_until(
    get: Callable[[], T], done: Callable[[T], bool], what: str, wait: float, every: float = 0.1
) -> T:
    """`get`'s first answer for which `done` holds, asked every `every` seconds; after `wait`
    seconds a RuntimeError naming `what` and the last answer (shortened). The one waiting loop
    of the bench modules that watch a server's route until a job gets somewhere."""
    deadline = time.monotonic() + wait
    while True:
        got = get()
        if done(got):
            return got
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not done after {wait:.0f} s: {reprlib.repr(got)}")
        time.sleep(every)


def driver_answer(
    done: subprocess.CompletedProcess[str], driver: str, stderr_tail: int = 2000
) -> Any:
    """What a driver (a Node or browser script run by a bench module) printed last as one
    `BENCH_JSON <json>` line; a RuntimeError with the end of its output when it failed or
    printed none."""
    lines = [x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"{driver} failed ({done.returncode}): {done.stderr[-stderr_tail:]}{done.stdout[-500:]}"
        )
    return json.loads(lines[-1].removeprefix("BENCH_JSON "))


def median_range(values: Iterable[float]) -> tuple[float, float, float]:
    """(median, min, max) of a figure's rounds: what a row or a note reports of them."""
    got = list(values)
    return statistics.median(got), min(got), max(got)


def interleaved_times(
    ours: Callable[[], object], anchor: Callable[[], object], rounds: int, warmup: int = 1
) -> tuple[list[float], list[float]]:
    """Wall times (ms) of `rounds` interleaved calls of each, after `warmup` calls of each."""
    for _ in range(warmup):
        ours()
        anchor()
    return interleave(timed_ms(ours), timed_ms(anchor), rounds)


def median_time(fn: Callable[[], object], repeat: int, warmup: int = 1) -> float:
    """Median wall time in milliseconds of `repeat` calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    return statistics.median(timed_ms(fn)() for _ in range(repeat))


def anchor_venv(ctx: Context, name: str, packages: Iterable[str]) -> tuple[Path | None, str]:
    """A venv of the system's Python holding an anchor's `packages`, made once under
    ctx.work/anchors/`name` and reused: (its python, '') or (None, why it could not be made).
    The anchor never touches the repository's .venv."""
    venv = ctx.work / "anchors" / name
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if marker.exists():
        return python, ""
    packages = list(packages)
    log = ctx.work / "anchors" / f"{name}-install.log"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        made = subprocess.run(
            ["python3", "-m", "venv", "--clear", str(venv)], stdout=out, stderr=out
        )
        if made.returncode == 0:
            made = subprocess.run(
                [str(python), "-m", "pip", "install", "-q", *packages], stdout=out, stderr=out
            )
    if made.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return None, f"pip install {' '.join(packages)} failed: {tail[0]}"
    marker.write_text("ok\n")
    return python, ""


def machine() -> dict:
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        memory = 0
    return {
        "node": platform.node() or "this machine",
        "cores": os.cpu_count(),
        "memory_gb": round(memory / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def discover(only: list[str]) -> list[Path]:
    files = sorted(Path(__file__).parent.glob("bench_*.py"))
    return [f for f in files if not only or any(o in f.stem for o in only)]


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored(row: dict) -> dict:
    """A row as JSON holds it: a figure that was not measured (nan) becomes null."""
    return {k: None if isinstance(v, float) and v != v else v for k, v in row.items()}


def run_module(path: Path, ctx: Context) -> dict:
    """One module's stored entry: its rows (or its failure), the machine, the load average
    before and after, when it started and how long it took."""
    before = load_average()
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    rows, failure = [], None
    try:
        rows = [stored(dataclasses.asdict(r)) for r in load(path).run(ctx)]
    except Exception as exc:  # one broken benchmark must not hide the others
        failure = f"{type(exc).__name__}: {exc}"
    return {
        "run": started.strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(time.perf_counter() - clock, 1),
        "machine": machine(),
        "load": {"before": before, "after": load_average()},
        "rows": rows,
        "failure": failure,
    }


def fmt(value: float) -> str:
    if value != value:
        return "n/a"
    return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"


def with_spread(value: float, runs: list[float]) -> str:
    """'1,464 (1,301–1,702)': the median with the rounds' min–max."""
    if len(runs) < 2:
        return fmt(value)
    return f"{fmt(value)} ({fmt(min(runs))}–{fmt(max(runs))})"


def ratio_cell(row: Row) -> str:
    if row.ratio != row.ratio:
        text = "n/a (ours ≤ 0)" if row.kind == OVERHEAD else "n/a"
    else:
        text = f"{row.ratio:.2f}"
        spread = row.ratio_spread()
        if spread is not None and len(row.ours_runs) > 1:
            text += f" ({spread[0]:.2f}–{spread[1]:.2f})"
    return text + (", within noise" if row.within_noise() else "")


def ours_cell(row: Row) -> str:
    text = with_spread(row.ours, row.ours_runs)
    if row.kind == OVERHEAD and row.within_noise():
        text += ", within noise"
    return text


def merge(store: Path, fresh: dict[str, dict]) -> dict:
    """Replace the stored entries of the modules that ran; a failed module keeps its last rows
    beside its failure. The others are kept as they were, with their run time."""
    old = json.loads(store.read_text()) if store.exists() else {"modules": {}}
    modules: dict = old.get("modules", {})
    for name, entry in fresh.items():
        if entry["failure"]:
            entry = {**entry, "rows": modules.get(name, {}).get("rows", [])}
        modules[name] = entry
    return {"modules": dict(sorted(modules.items()))}


def rows_of(entry: dict) -> list[Row]:
    fields = {f.name for f in dataclasses.fields(Row)}
    nan = float("nan")
    return [
        Row(**{k: nan if k in ("ours", "anchor") and v is None else v for k, v in r.items()
               if k in fields})
        for r in entry["rows"]
    ]  # fmt: skip


def row_id(module: str, index: int) -> str:
    """The id docs use to point at a row: `catalog-2` is bench_catalog's second row."""
    return f"{module.removeprefix('bench_')}-{index + 1}"


def machine_line(entry: dict) -> str:
    m = entry.get("machine")
    if m:
        where = (
            f"{m['node']}: {m['cores']} cores, {m['memory_gb']:g} GB of memory, "
            f"{m['platform']}, Python {m['python']}"
        )
    else:
        where = entry.get("host", "machine not recorded")
    load = entry.get("load")
    if load:
        said = (
            f"load average (1, 5, 15 min) {', '.join(map(str, load['before']))} before the "
            f"module, {', '.join(map(str, load['after']))} after"
        )
    else:
        said = (
            "load average not recorded: these rows come from the harness before issue 15 "
            "(no rounds, not all like for like) and wait for a new run"
        )
    took = f" for {entry['seconds'] / 60:.1f} min" if entry.get("seconds") is not None else ""
    return f"Run {entry.get('run', '?')}{took} on {where}; {said}."


def render(modules: dict[str, dict]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `npm run bench` (bench/harness.py); do not edit by hand. Other pages quote "
        "no figure: they link to the rows here by their id (`catalog-2` is the second row of "
        "`bench_catalog`).",
        "",
        "Each row measures our figure and an anchor (another tool doing the same work) in the "
        "same run, in interleaved rounds (ours, anchor, ours, anchor, ...); each figure is the "
        "median of its rounds with their min–max in brackets. Read the ratio, not the absolute "
        "times (the machines are shared): ratio > 1 means we are better than the anchor; its "
        "brackets are the ratio's min–max over the rounds, and 'within noise' says that the "
        "rounds do not tell which side is better. A target is met when the median ratio meets "
        "it; '(spread crosses the target)' says that some rounds are on the other side. No "
        "figure is clamped; a 'cache hit' row is ours answered from a cache the anchor does not "
        "have, and carries no target.",
        "",
    ]
    targets = []
    for name, entry in modules.items():
        for i, r in enumerate(rows_of(entry)):
            if r.goal is not None and r.kind != CACHE_HIT:
                targets.append(
                    f"| {row_id(name, i)} | {r.task} | {ratio_cell(r)} | {r.verdict()} |"
                )
    if targets:
        lines += [
            "## Targets",
            "",
            "| row | task | ratio | target |",
            "| --- | --- | --- | --- |",
            *targets,
            "",
        ]
    for name, entry in modules.items():
        lines += [f"## {name}", "", machine_line(entry), ""]
        if entry.get("failure"):
            lines += [f"This module failed in its last run: {entry['failure']}", ""]
        rows = rows_of(entry)
        if not rows:
            continue
        lines += [
            "| row | issue | task | ours | anchor | anchor's figure | unit | ratio | target |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for i, r in enumerate(rows):
            lines.append(
                f"| {row_id(name, i)} | {r.issue} | {r.task} | {ours_cell(r)} | {r.anchor_name} "
                f"| {with_spread(r.anchor, r.anchor_runs)} | {r.unit} | {ratio_cell(r)} "
                f"| {r.verdict()} |"
            )
        notes = [f"- {row_id(name, i)}: {r.note}" for i, r in enumerate(rows) if r.note]
        lines += ["", *notes, ""] if notes else [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def write(out: Path, fresh: dict[str, dict]) -> dict:
    """Merge `fresh` into the JSON beside `out` and render `out`, under the file lock."""
    out.parent.mkdir(parents=True, exist_ok=True)
    store = out.with_suffix(".json")
    with open(out.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        merged = merge(store, fresh)
        store.write_text(json.dumps(merged, indent=1, ensure_ascii=False) + "\n")
        out.write_text(render(merged["modules"]))
    return merged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help="run only benchmarks whose name contains this")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--render", action="store_true", help="run nothing; render the page")
    args = parser.parse_args()
    work = ROOT / ".test-runtime" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    ctx = Context(root=ROOT, work=work, repeat=args.repeat)
    fresh: dict[str, dict] = {}
    for path in [] if args.render else discover(args.only):
        print(f"[bench] {path.stem} ...", flush=True)
        entry = fresh[path.stem] = run_module(path, ctx)
        if entry["failure"]:
            print(f"[bench] {path.stem} failed: {entry['failure']}", file=sys.stderr)
        for r in rows_of(entry):
            print(
                f"[bench]   {r.task}: ours {ours_cell(r)} {r.unit}, {r.anchor_name} "
                f"{with_spread(r.anchor, r.anchor_runs)} {r.unit}, ratio {ratio_cell(r)}; "
                f"{r.verdict()}"
            )
        # Written after each module: a run cut short keeps the modules it finished.
        write(args.out, {path.stem: entry})
    if args.render:
        write(args.out, fresh)
    print(f"[bench] wrote {args.out}")
    return 1 if any(e["failure"] for e in fresh.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
