"""A screen-sized overview of a 2-D slice, and the exact value of one grid cell (issue 17).

The first picture of a large field needs the pixels of the screen, not every cell of the grid:
the server reads the slice with xarray (CF-decoded as the browser decodes it: scale_factor,
add_offset, _FillValue), averages blocks of `factor` x `factor` cells (xarray's `coarsen`, the
partial blocks at the edges averaged over the cells they hold) and sends the means quantised to
16 bits between their exact minimum and maximum, zlib-compressed. The browser draws that at
once, then reads the full-resolution chunks itself when the user asks; hover and click read the
exact value of the cell from here (`cell_value`) while the overview is shown.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .kinds import REFERENCE_KINDS, CorruptFile, WrongKind, detect_kind
from .paths import DataError, DataNotFound

MAX_SIDE = 4096
"""The largest overview side a request may ask for: more than any screen shows at once."""
MISSING = 65535
"""The quantised code of a missing value (NaN); codes 0..65534 span [minimum, maximum]."""
LEVELS = 65534
METHOD = "block-mean"


class OverviewRefused(DataError):
    """The request asks for something an overview cannot be (400)."""

    status = 400
    code = "bad-request"


@dataclass(frozen=True)
class Overview:
    body: bytes
    """zlib (RFC 1950) of the little-endian uint16 codes, row-major."""
    rows: int
    cols: int
    factor: int
    """Each overview value is the mean of (up to) factor x factor cells of the slice."""
    source_rows: int
    source_cols: int
    minimum: float | None
    """The exact smallest and largest overview value (None when every value is missing)."""
    maximum: float | None
    method: str = METHOD
    variable: str = ""
    """The variable and selection the overview is of (chosen here when the request named none)."""
    selection: tuple[int | None, ...] = ()


def parse_selection(text: str, ndim: int, name: str) -> list[int | None]:
    """A selection as the browser writes it (`[12, null, null]`: an index per dimension, null
    for the map's two), checked against the variable's number of dimensions."""
    try:
        selection = json.loads(text)
    except ValueError as e:
        raise OverviewRefused(f"The selection {text!r} is not JSON: {e}.") from e
    if not isinstance(selection, list) or len(selection) != ndim:
        raise OverviewRefused(
            f"The selection must be a list of {ndim} entries (one per dimension of {name}), "
            f"got {text!r}."
        )
    for entry in selection:
        if entry is not None and (type(entry) is not int or entry < 0):
            raise OverviewRefused(
                f"Each entry of the selection is a non-negative integer or null, got {entry!r}."
            )
    return selection


def overview_factor(rows: int, cols: int, max_rows: int, max_cols: int) -> int:
    """The smallest block side that brings rows x cols within max_rows x max_cols (one factor
    for both axes, so the cells keep their shape)."""
    return max(1, math.ceil(rows / max_rows), math.ceil(cols / max_cols))


def quantise(values: np.ndarray) -> tuple[bytes, float | None, float | None]:
    """The values as uint16 codes between their exact minimum (0) and maximum (LEVELS), NaN as
    MISSING, zlib-compressed; with the minimum and maximum."""
    finite = np.isfinite(values)
    if not finite.any():
        codes = np.full(values.shape, MISSING, dtype="<u2")
        return deflated(codes.tobytes()), None, None
    low, high = float(values[finite].min()), float(values[finite].max())
    span = high - low
    scaled = (values - low) * (LEVELS / span) if span > 0 else np.zeros(values.shape)
    codes = np.where(finite, np.rint(np.nan_to_num(scaled)), MISSING).astype("<u2")
    return deflated(codes.tobytes()), low, high


SAMPLE_BYTES = 64 * 1024
"""How much of the codes `deflated` compresses first to judge the rest."""
WORTH = 0.8
"""Compressed, the sample must shrink below this fraction for the whole to be compressed."""


def deflated(raw: bytes) -> bytes:
    """`raw` as a zlib stream (RFC 1950, what the browser's DecompressionStream reads): level 1
    where it pays, stored blocks (level 0) where it does not. The 16-bit codes of a field with
    small-scale variation barely compress: the bench's 1440x720 day at 720x360 shrank by 8%
    for 35-50 ms of zlib (most of the overview's own time on the server), against 0.3 ms
    stored. Masks, missing regions and smooth fields shrink several times, so a sample of the
    codes decides."""
    sample = raw[:SAMPLE_BYTES]
    if len(raw) > SAMPLE_BYTES and len(zlib.compress(sample, 1)) > WORTH * len(sample):
        return zlib.compress(raw, 0)
    # Level 1: higher levels gain little on 16-bit codes, and the time counts here.
    return zlib.compress(raw, 1)


def _open(path: Path, shown: str) -> Any:
    """The file or store as an xarray Dataset (values CF-decoded, times left as numbers)."""
    import xarray as xr

    kind = detect_kind(path)
    if kind.kind not in (*REFERENCE_KINDS, "zarr-v2", "zarr-v3"):
        raise WrongKind(
            f"{shown} is {kind.description}: only NetCDF/HDF5 files and Zarr stores have maps."
        )
    options = {"decode_times": False, "decode_timedelta": False}
    try:
        if kind.kind.startswith("zarr"):
            return xr.open_zarr(path, consolidated=None, **options)
        return xr.open_dataset(path, cache=False, **options)
    except Exception as e:  # the readers raise many types for a damaged file
        raise CorruptFile(
            f"{shown} could not be opened ({type(e).__name__}: {e}); "
            "open it in a notebook with xarray to see what is wrong."
        ) from e


class MultiscaleStore(WrongKind):
    """A multiscale store's first map: the browser draws it from the store's own levels."""

    code = "multiscale-store"


def multiscale_paths(attrs: dict[str, Any]) -> list[str] | None:
    """The level groups a root group's `multiscales` attribute names, in either writing the
    browser reads (extensions/preview/src/multiscales.ts parseMultiscales: ndpyramid's
    `[{"datasets": [{"path"}]}]`, zarr-conventions' `{"layout": [{"asset"}]}`); None when it
    names none or is in neither writing (the store is then a plain one, as for the browser)."""
    found = attrs.get("multiscales")
    if isinstance(found, list) and found and isinstance(found[0], dict):
        entries, key = found[0].get("datasets"), "path"
    elif isinstance(found, dict):
        entries, key = found.get("layout"), "asset"
    else:
        return None
    if not isinstance(entries, list) or not entries:
        return None
    paths = [e.get(key) if isinstance(e, dict) else None for e in entries]
    if not all(isinstance(p, str) and p.strip("/") for p in paths):
        return None
    return [p.strip("/") for p in paths]


def refuse_multiscale(path: Path, shown: str) -> None:
    """MultiscaleStore when `path` is a Zarr store whose root names two or more levels it
    holds. Read from the root group's attributes and the levels' group metadata only: opening
    the store with xarray first took seconds to answer "no variable" (the levels are groups),
    and the browser throws any answer away for such a store (issue 17)."""
    import zarr

    if not path.is_dir():
        return
    try:
        root = zarr.open_group(path, mode="r")
        levels = multiscale_paths(root.attrs.asdict())
        held = [p for p in levels or [] if isinstance(root.get(p), zarr.Group)]
    except Exception:  # not a readable group: the plain path says what is wrong
        return
    # The browser's pyramidOf needs two levels holding data; fewer, it shows plain groups.
    if len(held) >= 2:
        raise MultiscaleStore(
            f"{shown} is a multiscale Zarr store (levels {', '.join(held)}): its first picture "
            "is drawn from the store's own coarsest level, not from a server overview."
        )


def _variable(ds: Any, name: str, shown: str) -> Any:
    if name not in ds.variables:
        raise DataNotFound(f"{shown} has no variable {name!r}.")
    return ds[name]


def _read(array: Any, shown: str) -> np.ndarray:
    try:
        values = np.asarray(array.values)
    except Exception as e:  # a damaged chunk fails in the codec, whatever its type
        raise CorruptFile(
            f"The values of {shown} could not be read ({type(e).__name__}: {e})."
        ) from e
    if not np.issubdtype(values.dtype, np.number):
        raise WrongKind(f"{array.name} holds {values.dtype} values, which have no map.")
    return values.astype("float64")


def first_map(ds: Any) -> tuple[str, list[int | None]]:
    """The variable and slice a preview shows first, chosen as the browser chooses them
    (extensions/preview/src/axes.ts dataVariables, then mapDims and sliceSelection): the
    variables of two or more dimensions that bound no coordinate, those that are coordinates or
    cell measures of others last, then the most dimensions first, in the file's order; its last
    two dimensions whole and index 0 on the others. Lets the browser ask for the first picture
    before it has read the file's metadata (issue 17); when the browser would have chosen
    otherwise (lat/lon not the last two dimensions, say), it reads its own choice."""
    variables = ds.variables
    bounds = {v.attrs.get("bounds") for v in variables.values()}
    auxiliary = {str(name) for name in ds.coords if name not in ds.dims}
    for v in variables.values():
        # "area: areacella": the names are the words that are not measures ("area:").
        measures = str(v.attrs.get("cell_measures", "")).split()
        auxiliary.update(m for m in measures if not m.endswith(":"))
    candidates = [
        (100 * (str(name) in auxiliary) - v.ndim, i, str(name))
        for i, (name, v) in enumerate(variables.items())
        if v.ndim >= 2 and name not in bounds
    ]
    if not candidates:
        raise WrongKind("No variable here has two or more dimensions to draw as a map.")
    name = min(candidates)[2]
    ndim = variables[name].ndim
    return name, [0] * (ndim - 2) + [None, None]


@dataclass(frozen=True)
class OverviewRequest:
    """What an overview is asked for: the variable and selection (both None: the first map),
    and the largest shape."""

    name: str | None
    selection_text: str | None
    max_rows: int
    max_cols: int


def overview_request(
    name: str | None, selection_text: str | None, max_rows: int, max_cols: int
) -> OverviewRequest:
    """The request checked before anything is opened (OverviewRefused otherwise)."""
    if not (1 <= max_rows <= MAX_SIDE and 1 <= max_cols <= MAX_SIDE):
        raise OverviewRefused(
            f"An overview is at most {MAX_SIDE} x {MAX_SIDE} values; "
            f"{max_rows} x {max_cols} was asked for."
        )
    if (name is None) != (selection_text is None):
        raise OverviewRefused(
            "Give both the variable and the selection, or neither (the first map is chosen)."
        )
    return OverviewRequest(name, selection_text, max_rows, max_cols)


def overview_of(
    path: Path,
    shown: str,
    name: str | None,
    selection_text: str | None,
    max_rows: int,
    max_cols: int,
) -> Overview:
    """The block-mean overview of `name` at the selection, at most max_rows x max_cols; of the
    first map (`first_map`) when `name` is None, refused at once for a multiscale store."""
    request = overview_request(name, selection_text, max_rows, max_cols)
    if request.name is None:
        refuse_multiscale(path, shown)
    with _open(path, shown) as ds:
        return overview_of_dataset(ds, shown, request)


def overview_of_dataset(ds: Any, shown: str, request: OverviewRequest) -> Overview:
    """The overview `request` asks for, of an opened xarray Dataset (a local file or store, a
    remote file, an OPeNDAP dataset: CF-decoded, times left as numbers)."""
    if request.name is None:
        name, selection = first_map(ds)
        array = ds[name]
    else:
        name = request.name
        array = _variable(ds, name, shown)
        selection = parse_selection(request.selection_text or "", array.ndim, name)
    free = [d for d, s in zip(array.dims, selection, strict=True) if s is None]
    if len(free) != 2:
        raise OverviewRefused(
            f"The selection must leave exactly two dimensions whole (null), not {len(free)}."
        )
    index = {}
    for dim, at in zip(array.dims, selection, strict=True):
        if at is not None:
            if at >= array.sizes[dim]:
                raise OverviewRefused(f"Index {at} is outside 0..{array.sizes[dim] - 1} on {dim}.")
            index[dim] = at
    plane = array.isel(index).transpose(*free)
    rows, cols = plane.shape
    factor = overview_factor(rows, cols, request.max_rows, request.max_cols)
    if factor > 1:
        # In float64: a float32 mean of 4 to 100 cells is off by more than the 16-bit step.
        plane = (
            plane.astype("float64")
            .coarsen({free[0]: factor, free[1]: factor}, boundary="pad")
            .mean()
        )
    values = _read(plane, shown)
    body, low, high = quantise(values)
    return Overview(
        body,
        values.shape[0],
        values.shape[1],
        factor,
        rows,
        cols,
        low,
        high,
        variable=name,
        selection=tuple(selection),
    )


def cell_value(path: Path, shown: str, name: str, index_text: str) -> float | None:
    """The exact (CF-decoded) value of `name` at one index per dimension; None when missing."""
    with _open(path, shown) as ds:
        return cell_of_dataset(ds, shown, name, index_text)


def cell_of_dataset(ds: Any, shown: str, name: str, index_text: str) -> float | None:
    """`cell_value` of an opened xarray Dataset."""
    array = _variable(ds, name, shown)
    index = parse_selection(index_text, array.ndim, name)
    if any(i is None for i in index):
        raise OverviewRefused("A cell needs an index on every dimension, not null.")
    for dim, at in zip(array.dims, index, strict=True):
        if at >= array.sizes[dim]:
            raise OverviewRefused(f"Index {at} is outside 0..{array.sizes[dim] - 1} on {dim}.")
    value = float(_read(array[tuple(index)], shown))
    return value if math.isfinite(value) else None
