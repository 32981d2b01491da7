"""Benchmark harness: runs every bench_*.py beside this file and writes docs/benchmarks.md.

`python bench/harness.py` runs every benchmark; `python bench/harness.py jobs catalog` runs
only the modules whose name contains one of the words and keeps the other modules' rows from
the last run: the rows are kept by module in docs/benchmarks.json (written under a file lock,
so that two partial runs at once do not lose each other's rows) and docs/benchmarks.md is
rendered from it.

Each benchmark module has `run(ctx) -> list[Row]`. A row compares our figure with an
anchor (another tool doing the same job) measured in the same run, on the same machine,
so that only the ratio is read: these machines are shared and noisy. Timing thresholds
never go into tests; they live here, as targets written next to the measured ratio.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import fcntl
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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

    @property
    def ratio(self) -> float:
        """How many times better we are than the anchor (>1 means better)."""
        if self.lower_is_better:
            return self.anchor / self.ours if self.ours else float("inf")
        return self.ours / self.anchor if self.anchor else float("inf")


@dataclass
class Context:
    root: Path
    work: Path
    repeat: int


def median_time(fn: Callable[[], object], repeat: int, warmup: int = 1) -> float:
    """Median wall time in milliseconds of `repeat` calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def discover(only: list[str]) -> list[Path]:
    files = sorted(Path(__file__).parent.glob("bench_*.py"))
    return [f for f in files if not only or any(o in f.stem for o in only)]


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fmt(value: float) -> str:
    return f"{value:,.3g}" if value < 100 else f"{value:,.0f}"


def merge(store: Path, fresh: dict[str, dict], failed: dict[str, str]) -> dict:
    """Replace the stored rows of the modules that ran; keep the others with their run time."""
    old = json.loads(store.read_text()) if store.exists() else {"modules": {}}
    modules: dict = old.get("modules", {})
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    host = (
        f"{platform.node() or 'this machine'}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
    for name, rows in fresh.items():
        modules[name] = {"run": now, "host": host, "rows": rows, "failure": None}
    for name, why in failed.items():
        kept = modules.get(name, {"rows": []})
        modules[name] = {**kept, "run": now, "host": host, "failure": why}
    return {"modules": dict(sorted(modules.items()))}


def render(rows: list[Row], failures: list[str], runs: dict[str, str] | None = None) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        "Written by `npm run bench` (bench/harness.py); do not edit by hand.",
        f"Last run: {now} on {platform.node() or 'this machine'}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.platform()}.",
        "",
        "Each row measures our figure and an anchor (another tool doing the same job) in the "
        "same run; read the ratio, not the absolute times (the machines are shared). "
        "Ratio > 1 means we are better than the anchor.",
        "",
    ]
    if runs:
        lines += [
            "Modules and when each last ran (a partial run keeps the other modules' rows): "
            + ", ".join(f"`{m}` {when}" for m, when in sorted(runs.items()))
            + ".",
            "",
        ]
    lines += [
        "| issue | task | ours | anchor | anchor's figure | unit | ratio | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r.issue} | {r.task} | {fmt(r.ours)} | {r.anchor_name} | {fmt(r.anchor)} "
            f"| {r.unit} | {r.ratio:.2f} | {r.target or '-'} |"
        )
    notes = [f"- {r.task}: {r.note}" for r in rows if r.note]
    if notes:
        lines += ["", "## Notes", "", *notes]
    if failures:
        lines += ["", "## Benchmarks that failed in this run", "", *[f"- {f}" for f in failures]]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help="run only benchmarks whose name contains this")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    work = ROOT / ".test-runtime" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    ctx = Context(root=ROOT, work=work, repeat=args.repeat)
    fresh: dict[str, list[dict]] = {}
    failed: dict[str, str] = {}
    for path in discover(args.only):
        print(f"[bench] {path.stem} ...", flush=True)
        try:
            got = load(path).run(ctx)
        except Exception as exc:  # one broken benchmark must not hide the others
            failed[path.stem] = f"{type(exc).__name__}: {exc}"
            print(f"[bench] {path.stem} failed: {exc}", file=sys.stderr)
            continue
        fresh[path.stem] = [dataclasses.asdict(r) for r in got]
        for r in got:
            print(
                f"[bench]   {r.task}: ours {fmt(r.ours)} {r.unit}, {r.anchor_name} "
                f"{fmt(r.anchor)} {r.unit}, ratio {r.ratio:.2f}"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    store = args.out.with_suffix(".json")
    with open(args.out.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        merged = merge(store, fresh, failed)
        store.write_text(json.dumps(merged, indent=1) + "\n")
        rows = [Row(**r) for m in merged["modules"].values() for r in m["rows"]]
        failures = [f"{n}: {m['failure']}" for n, m in merged["modules"].items() if m["failure"]]
        runs = {n: m["run"] for n, m in merged["modules"].items()}
        args.out.write_text(render(rows, failures, runs))
    print(f"[bench] wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
