"""Files a replayed cell wrote, compared by kind when their hash differs from the recorded one:
real NetCDF files written by xarray, CSV tables by pandas, figures rendered by matplotlib, text.
And the variability a cell declares (`"espri-vre": {"replay": ...}`)."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from espri_vre.provenance.replay import Declared, accepted, declared
from espri_vre.provenance.replay_compare import Tolerance, compare_files, compare_outputs, ssim
from espri_vre.provenance.replay_report import CellVerdict, ReplayReport


def netcdf(path: Path, values: np.ndarray) -> Path:
    xr.Dataset({"tas": (("lat", "lon"), values)}).to_netcdf(path)
    return path


def test_netcdf_files_compare_by_their_values_within_the_tolerance(tmp_path: Path):
    values = np.linspace(250.0, 300.0, 12).reshape(3, 4)
    recorded = netcdf(tmp_path / "recorded.nc", values)
    close = netcdf(tmp_path / "close.nc", values * (1 + 1e-12))
    far = netcdf(tmp_path / "far.nc", values + np.eye(3, 4) * 0.5)
    assert recorded.read_bytes() != close.read_bytes()

    verdict, why = compare_files(recorded, close, Tolerance())
    assert verdict == "equivalent" and why == "values within atol=1e-12, rtol=1e-09 (xarray)"
    verdict, why = compare_files(recorded, far, Tolerance())
    assert verdict == "differs" and why.startswith("values differ (xarray):") and "tas" in why
    verdict, _ = compare_files(recorded, far, Tolerance(atol=1.0))
    assert verdict == "equivalent"
    verdict, why = compare_files(None, far, Tolerance())
    assert verdict == "differs" and "the recorded file is not at hand" in why


def test_tables_and_text_compare_by_their_numbers(tmp_path: Path):
    import pandas as pd

    pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]}).to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame({"x": [1.0, 2.0000001], "y": ["a", "b"]}).to_csv(tmp_path / "b.csv", index=False)
    pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "c"]}).to_csv(tmp_path / "c.csv", index=False)
    a, b, c = (tmp_path / f"{n}.csv" for n in "abc")
    assert compare_files(a, b, Tolerance(rtol=1e-6))[0] == "equivalent"
    verdict, why = compare_files(a, c, Tolerance())
    assert verdict == "differs" and why.startswith("table differs (pandas):")

    (tmp_path / "a.txt").write_text("mean 1.0000000001\n")
    (tmp_path / "b.txt").write_text("mean 1.0\n")
    (tmp_path / "c.txt").write_text("max 1.0\n")
    text_a, text_b, text_c = (tmp_path / f"{n}.txt" for n in "abc")
    assert compare_files(text_a, text_b, Tolerance(atol=1e-6))[0] == "equivalent"
    verdict, why = compare_files(text_a, text_c, Tolerance())
    assert verdict == "differs" and "-mean 1.0000000001" in why and "+max 1.0" in why


def bars(path: Path, heights: list[float]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4, 3), dpi=80)
    axes.bar(range(len(heights)), heights)
    axes.set_ylim(0, 2.5)
    figure.savefig(path, format="png", metadata={"Software": None})
    plt.close(figure)
    return path


def test_a_figure_whose_tallest_bar_changed_differs_by_structural_similarity(tmp_path: Path):
    import matplotlib  # noqa: F401  (pinned in the environment lock: these tests never skip)

    heights = [0.02, 0.05, 0.07, 0.04]
    recorded = bars(tmp_path / "recorded.png", heights)
    same = bars(tmp_path / "same.png", heights)
    changed = bars(tmp_path / "changed.png", [0.02, 0.05, 2.07, 0.04])
    nudged = bars(tmp_path / "nudged.png", [0.02, 0.05, 0.0705, 0.04])

    assert compare_files(recorded, same, Tolerance()) == (
        "equivalent",
        "the same pixels, encoded differently",
    )
    verdict, why = compare_files(recorded, changed, Tolerance())
    assert verdict == "differs" and why.startswith("structural similarity 0.")
    verdict, why = compare_files(recorded, nudged, Tolerance())
    assert verdict == "equivalent", why


def test_a_shown_plot_whose_tallest_bar_changed_differs(tmp_path: Path):
    import matplotlib  # noqa: F401  (pinned in the environment lock: these tests never skip)

    def shown(path: Path) -> list[dict]:
        png = base64.b64encode(path.read_bytes()).decode()
        return [{"output_type": "display_data", "data": {"image/png": png}, "metadata": {}}]

    recorded = shown(bars(tmp_path / "recorded.png", [0.02, 0.05, 0.07, 0.04]))
    changed = shown(bars(tmp_path / "changed.png", [0.02, 0.05, 2.07, 0.04]))
    verdict, _, diff = compare_outputs(recorded, changed, Tolerance())
    assert verdict == "differs" and "[image" in diff


def test_structural_similarity_is_one_for_equal_images_and_falls_with_a_change():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 40)).astype(float)
    assert ssim(image, image) == pytest.approx(1.0)
    changed = image.copy()
    changed[10:30, 10:30] = 255.0
    assert ssim(image, changed) < 0.8


def test_a_declared_variation_is_read_from_the_cell_then_the_notebook():
    varies = {"metadata": {"espri-vre": {"replay": "varies", "reason": "an unseeded draw"}}}
    assert declared(varies, {}) == Declared(varies=True, reason="an unseeded draw")
    loose = {"metadata": {"espri-vre": {"replay": "rtol=1e-3, atol=0"}}}
    assert declared(loose, {}) == Declared(tolerance={"rtol": 1e-3, "atol": 0.0})
    notebook = {"espri-vre": {"replay": "varies", "reason": "the current time"}}
    assert declared({"metadata": {}}, notebook).reason == "the current time"
    assert declared({"metadata": {}}, {}) == Declared()
    with pytest.raises(ValueError, match='neither "varies" nor tolerances'):
        declared({"metadata": {"espri-vre": {"replay": "sometimes"}}}, {})


def test_a_replay_is_accepted_when_every_difference_is_declared_to_vary():
    def report(*cells: tuple[str, str | None]) -> ReplayReport:
        found = ReplayReport(run_id="r", notebook="n", log="l", started="now")
        found.cells = [
            CellVerdict(i, f"c{i}", "0" * 64, verdict, declared=why)
            for i, (verdict, why) in enumerate(cells)
        ]
        return found

    assert accepted(report(("identical", None), ("differs", "varies: an unseeded draw")))
    assert not accepted(report(("identical", None), ("differs", None)))
    # a declared tolerance is a tolerance, not a licence to differ beyond it
    assert not accepted(report(("differs", "rtol=0.001")))
    assert not accepted(report(("unverifiable", "varies")))
