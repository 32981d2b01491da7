"""Comparing a replayed cell with its recording: the outputs the notebook saved, and the files
the cell wrote.

Cell outputs:
- identical: the same outputs (text, images, errors) byte for byte;
- equivalent: text equal once numbers are compared within atol/rtol (numpy's isclose rule,
  so a printed array compares like `allclose`) and whitespace runs collapsed; images of the
  same size whose decoded grayscale pixels have a structural similarity (SSIM) of at least
  `image_ssim` (an average hash missed a plot's tallest bar going from 0.07 to 2.07);
- differs: with a unified diff of the outputs as text.

Files written: re-hashed by the replayed kernel's own recording; when the hash differs, compared
by kind (`compare_files`)."""

from __future__ import annotations

import base64
import difflib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_ATOL = 1e-12
DEFAULT_RTOL = 1e-9
DEFAULT_IMAGE_SSIM = 0.99
"""Structural similarity above which two renderings of a figure are the same figure: a bar chart
whose tallest bar went from 0.07 to 2.07 scores 0.94 (tests/test_provenance_outputs.py)."""
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Tolerance:
    atol: float = DEFAULT_ATOL
    rtol: float = DEFAULT_RTOL
    image_ssim: float = DEFAULT_IMAGE_SSIM


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def output_blocks(outputs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Outputs as (kind, content) pairs: text, image (base64 PNG/JPEG), error."""
    blocks: list[tuple[str, str]] = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            blocks.append((f"stream:{out.get('name')}", _text(out.get("text", ""))))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            for mime in ("image/png", "image/jpeg"):
                if mime in data:
                    blocks.append(("image", _text(data[mime]).replace("\n", "")))
                    break
            else:
                if "text/plain" in data:
                    blocks.append(("text", _text(data["text/plain"])))
        elif kind == "error":
            blocks.append(("error", f"{out.get('ename')}: {_ANSI.sub('', str(out.get('evalue')))}"))
    return blocks


def numbers_close(a: str, b: str, atol: float, rtol: float) -> bool:
    """Same text once numbers are taken out and whitespace removed (numpy pads columns to the
    widest number), and every pair of numbers close (isclose rule, nan equal to nan)."""
    numbers_a, numbers_b = _NUMBER.findall(a), _NUMBER.findall(b)
    skeleton_a = "".join(_NUMBER.sub("\x00", a).split())
    skeleton_b = "".join(_NUMBER.sub("\x00", b).split())
    if skeleton_a != skeleton_b or len(numbers_a) != len(numbers_b):
        return False
    for x_text, y_text in zip(numbers_a, numbers_b, strict=True):
        x, y = float(x_text), float(y_text)
        if math.isnan(x) and math.isnan(y):
            continue
        if not (x == y or abs(x - y) <= atol + rtol * abs(y)):
            return False
    return True


def compare_images(recorded: bytes, replayed: bytes, tolerance: Tolerance) -> tuple[str, str]:
    """(equivalent or differs, why) for two encoded images (PNG, JPEG...), by their decoded
    grayscale pixels: the same pixels, else their structural similarity."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(io.BytesIO(recorded)) as a, Image.open(io.BytesIO(replayed)) as b:
            if a.size != b.size:
                return "differs", f"image size {b.size} instead of {a.size}"
            before = np.asarray(a.convert("L"), dtype=float)
            after = np.asarray(b.convert("L"), dtype=float)
    except (OSError, ValueError) as error:
        return "differs", f"an image cannot be decoded: {error}"
    if np.array_equal(before, after):
        return "equivalent", "the same pixels, encoded differently"
    score = ssim(before, after)
    verdict = "equivalent" if score >= tolerance.image_ssim else "differs"
    return verdict, f"structural similarity {score:.4f} of the pixels (1 is the same image)"


def compare_outputs(
    recorded: list[dict[str, Any]], replayed: list[dict[str, Any]], tolerance: Tolerance
) -> tuple[str, str | None, str | None]:
    """(verdict, reason, diff) for two output lists."""
    a, b = output_blocks(recorded), output_blocks(replayed)
    if a == b:
        return "identical", None, None
    reasons = []
    same = len(a) == len(b)
    if same:
        for (kind_a, x), (kind_b, y) in zip(a, b, strict=True):
            if kind_a != kind_b:
                same = False
            elif x == y:
                continue
            elif kind_a == "image":
                verdict, why = compare_images(base64.b64decode(x), base64.b64decode(y), tolerance)
                reasons.append(why)
                same = same and verdict == "equivalent"
            elif numbers_close(x, y, tolerance.atol, tolerance.rtol):
                reasons.append(f"numbers within atol={tolerance.atol:g}, rtol={tolerance.rtol:g}")
            else:
                same = False
    if same:
        return "equivalent", "; ".join(dict.fromkeys(reasons)), None
    return "differs", None, _diff(a, b)


def _diff(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> str:
    def lines(blocks: list[tuple[str, str]]) -> list[str]:
        text = []
        for kind, content in blocks:
            if kind == "image":
                text.append(f"[image sha-prefix {content[:16]}... {len(content)} base64 chars]")
            else:
                text.extend(f"[{kind}] {line}" for line in content.splitlines() or [""])
        return text

    return "\n".join(difflib.unified_diff(lines(a), lines(b), "recorded", "replayed", lineterm=""))


# --- files written -------------------------------------------------------------------------

NETCDF = (".nc", ".nc4", ".netcdf", ".cdf", ".h5", ".hdf5", ".zarr")
TABLES = {".csv": "read_csv", ".tsv": "read_csv", ".parquet": "read_parquet"}
IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
TEXT = (".txt", ".json", ".md", ".log", ".yaml", ".yml", ".xml", ".html", ".geojson")


def compare_files(recorded: Path | None, replayed: Path, tol: Tolerance) -> tuple[str, str]:
    """(equivalent or differs, why) for a file written with another content than recorded:
    NetCDF/HDF5/Zarr values with xarray and the tolerance, CSV/Parquet tables with pandas,
    images by structural similarity of their pixels, text by numbers and diff."""
    if recorded is None:
        return "differs", "its content hash differs, and the recorded file is not at hand"
    suffix = replayed.suffix.lower()
    try:
        if suffix in NETCDF:
            return _compare_datasets(recorded, replayed, tol)
        if suffix in TABLES:
            return _compare_tables(recorded, replayed, tol, TABLES[suffix])
        if suffix in IMAGES:
            return compare_images(recorded.read_bytes(), replayed.read_bytes(), tol)
        if suffix in TEXT:
            return _compare_text(recorded, replayed, tol)
    except (OSError, ValueError, ImportError) as error:
        return "differs", f"its content hash differs and it cannot be compared: {error}"
    return "differs", "its content hash differs"


def _compare_datasets(recorded: Path, replayed: Path, tol: Tolerance) -> tuple[str, str]:
    import xarray as xr

    opener = xr.open_zarr if recorded.suffix.lower() == ".zarr" else xr.open_dataset
    with opener(recorded) as before, opener(replayed) as after:
        try:
            xr.testing.assert_allclose(before, after, rtol=tol.rtol, atol=tol.atol)
        except AssertionError as error:
            return "differs", _first_lines(f"values differ (xarray): {error}")
    return "equivalent", f"values within atol={tol.atol:g}, rtol={tol.rtol:g} (xarray)"


def _compare_tables(recorded: Path, replayed: Path, tol: Tolerance, reader: str) -> tuple[str, str]:
    import pandas as pd

    read = getattr(pd, reader)
    before, after = read(recorded), read(replayed)
    try:
        pd.testing.assert_frame_equal(
            before, after, check_exact=False, rtol=tol.rtol, atol=tol.atol
        )
    except AssertionError as error:
        return "differs", _first_lines(f"table differs (pandas): {error}")
    return "equivalent", f"table values within atol={tol.atol:g}, rtol={tol.rtol:g} (pandas)"


def ssim(a: Any, b: Any, window: int = 7) -> float:
    """The mean structural similarity (Wang et al. 2004) of two grayscale images in 0..255,
    with a uniform window, as scikit-image's default. Written here with scipy's filter because
    scikit-image is not among the environment's packages."""
    import numpy as np
    from scipy.ndimage import uniform_filter

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    n = window * window
    correction = n / (n - 1)  # the sample covariance, as scikit-image
    mean_a, mean_b = uniform_filter(a, window), uniform_filter(b, window)
    var_a = correction * (uniform_filter(a * a, window) - mean_a * mean_a)
    var_b = correction * (uniform_filter(b * b, window) - mean_b * mean_b)
    cov = correction * (uniform_filter(a * b, window) - mean_a * mean_b)
    index = ((2 * mean_a * mean_b + c1) * (2 * cov + c2)) / (
        (mean_a**2 + mean_b**2 + c1) * (var_a + var_b + c2)
    )
    edge = (window - 1) // 2  # the border, where the window is cut, is left out
    return float(np.mean(index[edge:-edge, edge:-edge]))


def _compare_text(recorded: Path, replayed: Path, tol: Tolerance) -> tuple[str, str]:
    before = recorded.read_text("utf-8", errors="replace")
    after = replayed.read_text("utf-8", errors="replace")
    if numbers_close(before, after, tol.atol, tol.rtol):
        return "equivalent", f"numbers within atol={tol.atol:g}, rtol={tol.rtol:g}"
    diff = difflib.unified_diff(
        before.splitlines(), after.splitlines(), "recorded", "replayed", lineterm=""
    )
    return "differs", _first_lines("text differs:\n" + "\n".join(diff))


def _first_lines(text: str, count: int = 12) -> str:
    lines = text.splitlines()
    return "\n".join(lines[:count] + (["..."] if len(lines) > count else []))
