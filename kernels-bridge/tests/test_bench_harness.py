"""The benchmark harness (bench/harness.py) on fake modules and rows, the pure parts of the
bench modules, and the README's state column against its one source, docs/state.json.

No benchmark runs here: the figures are made up, what is checked is how they are kept and
shown (medians with their min–max, met or missed with the spread, no clamping, cache hits,
the machine and load average of each module)."""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))

import harness  # noqa: E402
from harness import CACHE_HIT, OVERHEAD, Row  # noqa: E402


def test_interleave_alternates_ours_and_the_anchor_and_returns_both_samples():
    calls: list[str] = []

    def side(name: str, value: float):
        def run() -> float:
            calls.append(name)
            return value + len(calls)

        return run

    ours, anchor = harness.interleave(side("ours", 0), side("anchor", 100), 3)
    assert calls == ["ours", "anchor"] * 3
    assert ours == [1, 3, 5]
    assert anchor == [102, 104, 106]


def test_interleaved_times_warms_both_sides_up_then_times_each_round():
    calls: list[str] = []
    ours, anchor = harness.interleaved_times(
        lambda: calls.append("o"), lambda: calls.append("a"), rounds=4, warmup=2
    )
    assert calls == ["o", "a"] * 6
    assert len(ours) == len(anchor) == 4
    assert all(t >= 0 for t in ours + anchor)


def test_a_measured_row_shows_the_median_with_the_rounds_min_max():
    row = Row.measured("#3", "load", [1464, 1301, 1702], "intake-esm", [2999, 2800, 3100], "ms")
    assert row.ours == 1464 and row.anchor == 2999
    assert harness.with_spread(row.ours, row.ours_runs) == "1,464 (1,301–1,702)"
    page = harness.render({"bench_fake": {"run": "now", "rows": [harness.stored(vars(row))]}})
    assert "| fake-1 | #3 | load | 1,464 (1,301–1,702) | intake-esm | 2,999 (2,800–3,100) |" in page
    # The ratio's spread is paired round by round: 2999/1464, 2800/1301, 3100/1702.
    assert "2.05 (1.82–2.15)" in page


def test_a_target_is_met_only_when_the_median_ratio_meets_it():
    met = Row.measured("#3", "t", [10, 11, 12], "a", [30, 33, 36], "ms", goal=2, target="≥ 2")
    assert met.verdict() == "≥ 2: met"
    missed = Row.measured("#3", "t", [20, 21, 22], "a", [30, 33, 36], "ms", goal=2, target="≥ 2")
    assert missed.verdict() == "≥ 2: missed"
    # Median ratio 2.2 meets 2; the round with 30 against 20 does not.
    crossing = Row.measured("#3", "t", [15, 20, 14], "a", [33, 30, 33], "ms", goal=2, target="≥ 2")
    assert crossing.verdict() == "≥ 2: met (spread crosses the target)"
    lower = Row.measured("#3", "t", [20, 14, 21], "a", [30, 33, 36], "ms", goal=2, target="≥ 2")
    assert lower.verdict() == "≥ 2: missed (spread crosses the target)"


def test_a_higher_is_better_row_divides_ours_by_the_anchor():
    row = Row.measured(
        "#6", "fps", [0.2, 0.3], "lonboard", [0.1, 0.1], "frames/s", lower_is_better=False
    )
    assert row.ratio == pytest.approx(2.5)
    assert row.ratio_spread() == pytest.approx((2.0, 3.0))


def test_an_overhead_below_zero_is_reported_as_measured_within_noise():
    row = Row.measured(
        "#7", "overhead", [-1.3, 0.8, -3.0], "noWorkflow", [1094, 1000, 1200], "% overhead",
        goal=10, target="ours >= 10x lower", kind=OVERHEAD,
    )  # fmt: skip
    assert row.ours == -1.3
    assert row.within_noise()
    assert harness.ours_cell(row) == "-1.3 (-3–0.8), within noise"
    # No ratio of a negative overhead; the target compares the overheads themselves.
    assert harness.ratio_cell(row) == "n/a (ours ≤ 0), within noise"
    assert row.verdict() == "ours >= 10x lower: met"
    high = Row.measured(
        "#7", "overhead", [150, 90, 80], "noWorkflow", [1000, 1000, 1000], "% overhead",
        goal=10, target="ours >= 10x lower", kind=OVERHEAD,
    )  # fmt: skip
    assert high.verdict() == "ours >= 10x lower: met (spread crosses the target)"
    assert not high.within_noise()


def test_a_ratio_whose_rounds_cross_one_is_within_noise():
    row = Row.measured("#7", "per cell", [17.8, 19.0, 18.0], "none", [18.5, 18.0, 18.4], "ms")
    assert row.within_noise()
    assert harness.ratio_cell(row).endswith(", within noise")
    clear = Row.measured("#7", "per cell", [10, 11, 12], "none", [18.5, 18.0, 18.4], "ms")
    assert not clear.within_noise()


def test_a_cache_hit_row_is_labelled_and_has_no_target():
    row = Row.measured(
        "#3", "reload", [80, 90], "intake-esm", [990, 1000], "ms", goal=1, kind=CACHE_HIT
    )
    assert row.verdict() == "cache hit (no target)"
    page = harness.render({"bench_fake": {"run": "now", "rows": [harness.stored(vars(row))]}})
    assert "| cache hit (no target) |" in page
    assert "## Targets" not in page


def test_the_targets_table_lists_each_row_with_a_goal():
    rows = [
        Row.measured("#5", "first", [600, 700], "h5web", [690, 700], "ms", goal=2, target="≥ 2x"),
        Row.measured("#5", "next", [280, 290], "h5web", [410, 420], "ms", target="informational"),
    ]
    page = harness.render(
        {"bench_p": {"run": "now", "rows": [harness.stored(vars(r)) for r in rows]}}
    )
    targets = page.split("## Targets")[1].split("## bench_p")[0]
    assert "| p-1 | first |" in targets and "≥ 2x: missed" in targets
    assert "p-2" not in targets


def test_a_target_without_a_goal_is_not_evaluated_and_says_why():
    old = Row("#4", "refresh", 333, "jupyterlab-slurm", 171, "ms", target="ours >= 5x faster")
    assert (
        old.verdict() == "ours >= 5x faster: not evaluated (a row of an older harness, no rounds)"
    )
    new = Row.measured("#4", "refresh", [1, 2], "slurm", [3, 4], "ms", target="ours >= 2x faster")
    assert new.verdict() == "ours >= 2x faster: not evaluated (the row gives no goal)"


def test_rounds_of_different_counts_are_compared_every_way():
    row = Row.measured("#3", "t", [10, 20], "a", [30, 40, 50], "ms", goal=2, target="≥ 2")
    assert row.ratio_spread() == pytest.approx((1.5, 5.0))
    assert row.verdict() == "≥ 2: met (spread crosses the target)"


def test_a_row_not_measured_is_stored_as_null_and_shown_as_na():
    row = Row("#7", "vs noWorkflow", -1.0, "noWorkflow (n/a)", float("nan"), "% overhead")
    kept = json.loads(json.dumps(harness.stored(vars(row))))
    assert kept["anchor"] is None
    back = harness.rows_of({"rows": [kept]})[0]
    assert harness.fmt(back.anchor) == "n/a"


FAKE_MODULE = """
from harness import Row, interleave

def run(ctx):
    figures = iter([10.0, 30.0, 12.0, 29.0, 11.0, 35.0]).__next__
    ours, anchor = interleave(figures, figures, 3)
    return [Row.measured("#0", "fake work", ours, "fake anchor", anchor, "ms", goal=2,
                         target="≥ 2x")]
"""


def test_each_module_records_the_machine_and_the_load_average_before_and_after(
    tmp_path, monkeypatch
):
    (tmp_path / "bench_fake.py").write_text(FAKE_MODULE)
    loads = iter([(1.5, 1.2, 1.0), (3.25, 1.8, 1.1)])
    monkeypatch.setattr(harness.os, "getloadavg", lambda: next(loads))
    ctx = harness.Context(root=tmp_path, work=tmp_path, repeat=3)
    entry = harness.run_module(tmp_path / "bench_fake.py", ctx)
    assert entry["failure"] is None
    assert entry["load"] == {"before": [1.5, 1.2, 1.0], "after": [3.25, 1.8, 1.1]}
    assert entry["machine"]["cores"] >= 1 and entry["machine"]["memory_gb"] > 0
    assert entry["machine"]["platform"]
    out = tmp_path / "docs" / "benchmarks.md"
    harness.write(out, {"bench_fake": entry})
    stored = json.loads(out.with_suffix(".json").read_text())["modules"]["bench_fake"]
    assert stored["load"]["after"] == [3.25, 1.8, 1.1]
    assert stored["rows"][0]["ours_runs"] == [10.0, 12.0, 11.0]
    page = out.read_text()
    assert (
        "load average (1, 5, 15 min) 1.5, 1.2, 1.0 before the module, 3.25, 1.8, 1.1 after" in page
    )
    assert f"{entry['machine']['cores']} cores" in page
    assert "| fake-1 | #0 | fake work | 11 (10–12) | fake anchor | 30 (29–35) |" in page
    assert "| 2.73 (2.42–3.18) | ≥ 2x: met |" in page


def test_a_failed_module_keeps_its_last_rows_beside_the_failure(tmp_path):
    (tmp_path / "bench_fake.py").write_text(FAKE_MODULE)
    (tmp_path / "bench_broken.py").write_text("def run(ctx):\n    raise OSError('no slurm')\n")
    ctx = harness.Context(root=tmp_path, work=tmp_path, repeat=3)
    out = tmp_path / "benchmarks.md"
    harness.write(out, {"bench_broken": harness.run_module(tmp_path / "bench_fake.py", ctx)})
    harness.write(out, {"bench_broken": harness.run_module(tmp_path / "bench_broken.py", ctx)})
    kept = json.loads(out.with_suffix(".json").read_text())["modules"]["bench_broken"]
    assert kept["failure"] == "OSError: no slurm"
    assert kept["rows"][0]["task"] == "fake work"
    assert "This module failed in its last run: OSError: no slurm" in out.read_text()


def test_no_bench_module_clamps_a_figure():
    clamp = re.compile(r"\bmax\([^()]*,\s*0(\.0)?\s*\)|\bmin\([^()]*,\s*0(\.0)?\s*\)")
    for path in BENCH.glob("*.py"):
        found = clamp.findall(path.read_text())
        assert not found, f"{path.name} clamps a figure"


def test_the_catalogue_rows_compare_the_whole_table_and_report_the_first_query():
    catalog = harness.load(BENCH / "bench_catalog.py")

    def ours(k: float) -> dict:
        load = {
            "totalMs": 1400 * k, "completeMs": 3200 * k, "serverMs": 1200 * k,
            "transferMs": 110.0, "decodeMs": 20.0, "encodeMs": 14.0,
        }  # fmt: skip
        return {
            "node": "v20", "rows": catalog.ROWS, "bytes": 12e6, "firstLoad": load,
            "warmLoads": [dict(load, completeMs=870.0 * k)] * catalog.LOADS,
            "firstQueryMs": 150 * k, "queryMedianMs": 20 * k, "plainQueryMedianMs": 12.0,
            "matches": 6524,
        }  # fmt: skip

    def anchor(k: float) -> dict:
        return {
            "firstLoadMs": 3000 * k, "loadMedianMs": 990.0, "loadTimesMs": [990.0] * 3,
            "openOnlyMs": 210.0, "firstQueryMs": 390 * k, "queryMedianMs": 430 * k,
        }  # fmt: skip

    rows = catalog.rows([(ours(k), anchor(k)) for k in (1.0, 1.1, 0.9)])
    whole, search, reload, first, warm = rows
    assert whole.goal == 1 and whole.ours_runs == pytest.approx([3200, 3520, 2880])
    assert whole.anchor_runs == pytest.approx([3000, 3300, 2700])
    assert search.goal is None and search.target.startswith("informational")
    assert reload.kind == CACHE_HIT and reload.verdict() == "cache hit (no target)"
    assert first.goal == 5 and first.ours_runs == pytest.approx([150, 165, 135])
    assert first.verdict() == "≥ 5x faster: missed"
    assert warm.goal == 20 and warm.verdict() == "≥ 20: met"


def fake_globe_run(tool: str, points: int, imagery: bool, ms: float, removed: int | None):
    return {
        "tool": tool, "points": points, "imagery": imagery, "firstFrameMs": ms,
        "fps": 0.1, "imageryLayersRemoved": removed, "error": None,
    }  # fmt: skip


def globe_results(globe, removed: int) -> list[dict]:
    small = globe.IPYLEAFLET_POINTS
    out = []
    for k in (1.0, 1.2):
        out += [
            fake_globe_run("ours", globe.POINTS, False, 20_000 * k, removed),
            fake_globe_run("lonboard", globe.POINTS, True, 60_000 * k, None),
            fake_globe_run("ours", globe.POINTS, True, 28_000 * k, None),
            fake_globe_run("ours", small, False, 5_000 * k, removed),
            fake_globe_run("ipyleaflet", small, True, 40_000 * k, None),
        ]
    return out


def test_the_globe_rows_with_a_target_compare_both_sides_without_basemap():
    globe = harness.load(BENCH / "bench_globe.py")
    bare, shipped, leaflet, fps = globe.rows(globe_results(globe, 1), 2, "0.9.0", "0.8.0")
    assert bare.goal == 1 and bare.ours_runs == [20_000, 24_000]
    assert "taken off by the bench driver" in bare.note and "basemap=None" in bare.note
    assert shipped.goal is None and shipped.ours_runs == [28_000, 33_600]
    assert leaflet.goal == 10 and leaflet.anchor_runs == [40_000, 48_000]
    assert f"{globe.IPYLEAFLET_POINTS:,} points" in leaflet.task
    assert fps.goal is None and not fps.lower_is_better


def test_the_globe_rows_are_informational_when_the_imagery_could_not_be_taken_off():
    globe = harness.load(BENCH / "bench_globe.py")
    bare, _, leaflet, _ = globe.rows(globe_results(globe, -1), 2, "0.9.0", "0.8.0")
    assert bare.goal is None and leaflet.goal is None
    assert "could not take our globe's imagery off" in bare.note


def test_the_preview_rows_carry_each_rounds_figures():
    preview = harness.load(BENCH / "bench_preview.py")
    measured = []
    for k in (1.0, 1.5):
        for side, label in (("ours", "nc"), ("h5web", "nc"), ("ours", "zarr")):
            ours = side == "ours"
            measured.append(
                {
                    "side": side, "label": label, "firstMs": (200 if ours else 600) * k,
                    "nextMs": 300 * k, "fullMs": 400 * k if ours else None,
                    "firstBytes": (0.5e6 if ours else 4.15e6), "nextBytes": 2.26e6,
                    "fullBytes": 2.3e6, "aheadBytes": 0.5e6,
                    "resolution": "overview 1:2" if ours else "full",
                    "firstRequests": [["data/info", 600]],
                }
            )  # fmt: skip
    data = {"raw": 1514e6, "nc_bytes": 826e6, "zarr_bytes": 826e6}
    rows = preview.rows(data, measured[:3], measured, 2, 135.0)
    first, full, _, size, *_ = rows
    assert first.ours_runs == [200, 300] and first.anchor_runs == [600, 900]
    assert first.verdict() == "≥ 3x faster: met"
    # full resolution: the overview's time plus the click's, against h5web's first picture
    assert full.ours_runs == [600, 900] and full.anchor_runs == [600, 900]
    assert size.goal == 4 and size.ours_runs == [0.5, 0.5] and size.anchor_runs == [4.15, 4.15]
    assert "overview 1:2" in first.note


def readme_states() -> dict[str, str]:
    states = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.split("|")]
        if (
            line.startswith("|")
            and len(cells) == 5
            and cells[1] not in ("part", "")
            and not set(cells[1]) <= {"-"}
        ):
            states[cells[1]] = cells[3]
    return states


def test_the_readme_state_column_is_the_one_in_docs_state_json():
    source = json.loads((ROOT / "docs" / "state.json").read_text())["parts"]
    assert readme_states() == source


def test_no_state_quotes_a_figure():
    figure = re.compile(r"\d[\d.,]*\s*(x\b|×|times|ms\b|s\b|%)")
    for part, state in json.loads((ROOT / "docs" / "state.json").read_text())["parts"].items():
        assert not figure.search(state), f"{part}: {state!r} quotes a figure"


def test_the_docs_link_to_benchmark_sections_that_exist():
    modules = {p.stem for p in BENCH.glob("bench_*.py")}
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for anchor in re.findall(r"benchmarks\.md#([\w-]+)", page.read_text()):
            assert anchor in modules or anchor == "targets", f"{page.name}: #{anchor}"


def test_the_provenance_overheads_are_per_round_and_may_be_negative():
    provenance = harness.load(BENCH / "bench_provenance.py")

    def notebook_run(total: float, cells: list[float]):
        run = provenance.NotebookRun("x")
        run.total_ms, run.cell_ms = total, cells
        return run

    ours = [notebook_run(4760, [17.0, 18.0]), notebook_run(5100, [19.0, 20.0])]
    none = [notebook_run(4820, [18.0, 19.0]), notebook_run(5000, [18.0, 19.0])]
    assert provenance.overheads(ours, none) == pytest.approx([-1.2448, 2.0], abs=1e-3)
    assert len(provenance.analysis_cells(Path("data"))) == provenance.N_CELLS


def test_interleaved_rounds_call_every_side_in_turn_with_the_round_number():
    calls: list[tuple[str, int, int]] = []

    def side(name: str):
        def run(n: int) -> int:
            stamp = time.perf_counter_ns()
            calls.append((name, n, stamp))
            return stamp

        return run

    got = harness.interleaved_rounds({"ours": side("ours"), ("anchor", 1): side("anchor")}, 3)
    assert [(name, n) for name, n, _ in calls] == [
        ("ours", 0), ("anchor", 0), ("ours", 1), ("anchor", 1), ("ours", 2), ("anchor", 2)
    ]  # fmt: skip
    assert list(got) == ["ours", ("anchor", 1)]
    # Each side's results are its own calls' clock readings, in round order.
    assert got["ours"] == [stamp for name, _, stamp in calls if name == "ours"]
    assert got[("anchor", 1)] == [stamp for name, _, stamp in calls if name == "anchor"]
    assert [stamp for *_, stamp in calls] == sorted(stamp for *_, stamp in calls)
    assert harness.interleaved_rounds({"ours": side("ours")}, 0) == {"ours": []}


def test_the_pipeline_gaps_of_interleaved_rounds_come_from_the_step_scripts_own_stamps(tmp_path):
    """The benchmark's step.sh run for real by bash (no Slurm): two chains a round, ours then
    the floor, their gaps read from the stamps the scripts wrote."""
    pipelines = harness.load(BENCH / "bench_pipelines.py")
    (tmp_path / "step.sh").write_text(pipelines.STEP)

    def chain(prefix: str):
        def run(n: int) -> list[float]:
            for step in pipelines.STEPS:
                label = f"{prefix}{n}-{step}"
                subprocess.run(["bash", "step.sh", label], cwd=tmp_path, check=True)
            return pipelines.gaps(pipelines.stamps(tmp_path), f"{prefix}{n}")

        return run

    got = harness.interleaved_rounds({"ours": chain("pipe"), "floor": chain("floor")}, 2)
    assert [len(r) for r in got["ours"] + got["floor"]] == [2, 2, 2, 2]
    # The stamps file is the order the scripts ran in: each round's chain of ours, then the floor's.
    labels = [label for label, what, _ in pipelines.stamp_lines(tmp_path) if what == "start"]
    assert labels == [
        f"{prefix}{n}-{step}" for n in (0, 1) for prefix in ("pipe", "floor")
        for step in pipelines.STEPS
    ]  # fmt: skip
    seen = pipelines.stamps(tmp_path)
    first = got["ours"][0][0]
    assert first == pytest.approx((seen[("pipe0-b", "start")] - seen[("pipe0-a", "end")]) * 1000)
    gaps = [g for r in got["ours"] for g in r]
    median, low, high = harness.median_range(gaps)
    assert low == min(gaps) and high == max(gaps) and low <= median <= high
    assert all(g > 0 for g in gaps)  # a step starts after the one before ended, on one clock


def test_median_range_gives_the_median_with_the_rounds_extremes():
    assert harness.median_range([1464, 1301, 1702]) == (1464, 1301, 1702)
    assert harness.median_range(iter([3.0, 1.0, 2.0, 10.0])) == (2.5, 1.0, 10.0)
    with pytest.raises(statistics.StatisticsError):
        harness.median_range([])


def test_an_anchor_venv_already_made_is_reused_without_pip(tmp_path):
    ctx = harness.Context(root=tmp_path, work=tmp_path, repeat=1)
    venv = tmp_path / "anchors" / "noworkflow"
    venv.mkdir(parents=True)
    (venv / ".installed").write_text("ok\n")
    assert harness.anchor_venv(ctx, "noworkflow", ["no-such-package"]) == (
        venv / "bin" / "python",
        "",
    )
    assert not (tmp_path / "anchors" / "noworkflow-install.log").exists()


def test_poll_until_returns_the_first_answer_that_is_done_and_names_what_never_was():
    answers = iter(["queued", "running", "done", "never asked"])
    asked: list[str] = []

    def get() -> str:
        asked.append(next(answers))
        return asked[-1]

    assert harness.poll_until(get, lambda a: a == "done", "the run", wait=60, every=0) == "done"
    assert asked == ["queued", "running", "done"]
    with pytest.raises(RuntimeError, match=r"^the job: not done after 0 s: 'PENDING'$"):
        harness.poll_until(lambda: "PENDING", lambda a: a == "done", "the job", wait=0)


def test_a_drivers_last_bench_json_line_is_its_answer_and_a_failure_shows_its_output():
    def driver(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    printed = driver("print('loading'); print('BENCH_JSON [1]'); print('BENCH_JSON {\"ms\": 2}')")
    assert harness.driver_answer(printed, "d.mjs") == {"ms": 2}
    crashed = driver("import sys; print('BENCH_JSON [1]'); sys.exit('no browser')")
    with pytest.raises(RuntimeError, match=r"^d\.mjs failed \(1\): no browser\nBENCH_JSON \[1\]"):
        harness.driver_answer(crashed, "d.mjs")
    # no answer line: a failure too, with only the end of a long stderr
    silent = driver("import sys; sys.stderr.write('e' * 50 + 'END'); print('done')")
    with pytest.raises(RuntimeError, match=r"^d\.mjs failed \(0\): e{7}ENDdone\n$"):
        harness.driver_answer(silent, "d.mjs", stderr_tail=10)
