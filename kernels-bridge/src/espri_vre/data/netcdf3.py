"""kerchunk references of NetCDF-3 files, with the attributes as xarray reads them.

kerchunk 0.2's NetCDF3ToZarr (a scipy netcdf_file) gets three things wrong that the preview
would show: it takes `missing_value` or `_FillValue` as the Zarr fill_value and casts it to the
variable's type, so a packed integer variable declaring `_FillValue = NaN` (a double; valid
netCDF, which xarray ignores with a warning) makes it raise `int(nan)`; it drops both
attributes, so a variable with both loses one; and it writes every other attribute as
`str(value)`, so `valid_range` becomes the text "[0 100]" and global numbers become strings.

Rather than patch kerchunk, the fill attributes are taken away before it translates (it then
has nothing to cast) and every variable's and the file's attributes are written back from the
file's own header as JSON values, with the fill_value null: masking then follows the
attributes, as xarray's CF decoding of the file does.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np

FILL_ATTRIBUTES = ("_FillValue", "missing_value")


def netcdf3_spec(location: str, inline_threshold: int, storage_options: dict | None = None):
    """The reference spec (v1) of the NetCDF-3 file at `location` (a path, or a URL read through
    fsspec with `storage_options`). Raises what kerchunk and scipy raise on a damaged file."""
    from kerchunk.netCDF3 import NetCDF3ToZarr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        translator = NetCDF3ToZarr(
            location, inline_threshold=inline_threshold, storage_options=storage_options
        )
        try:
            variables = {name: dict(var._attributes) for name, var in translator.variables.items()}
            for var in translator.variables.values():
                for name in FILL_ATTRIBUTES:
                    var._attributes.pop(name, None)
            spec = translator.translate()
            dtypes = {name: np.dtype(var.typecode()) for name, var in translator.variables.items()}
            global_attributes = dict(translator._attributes)
        finally:
            translator.fp.close()
    refs = spec["refs"]
    refs[".zattrs"] = json.dumps(_json_attributes(global_attributes))
    for name, attributes in variables.items():
        if f"{name}/.zattrs" not in refs:
            continue
        written = json.loads(refs[f"{name}/.zattrs"])
        attrs = _json_attributes(_conforming(attributes, dtypes[name]))
        attrs["_ARRAY_DIMENSIONS"] = written.get("_ARRAY_DIMENSIONS", [])
        refs[f"{name}/.zattrs"] = json.dumps(attrs)
        meta = json.loads(refs[f"{name}/.zarray"])
        meta["fill_value"] = None
        refs[f"{name}/.zarray"] = json.dumps(meta)
    return spec


def _conforming(attributes: dict[str, Any], dtype: np.dtype) -> dict[str, Any]:
    """The attributes without the fill attributes xarray drops: on an integer variable, a
    `_FillValue` or `missing_value` whose values are all NaN ("non-conforming", it warns)."""
    if dtype.kind not in "iu":
        return attributes
    kept = dict(attributes)
    for name in FILL_ATTRIBUTES:
        if name in kept:
            values = np.ravel(kept[name])
            if values.dtype.kind == "f" and np.isnan(values).all():
                del kept[name]
    return kept


def _json_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    return {str(k): _json_value(v) for k, v in attributes.items() if k != "filename"}


def _json_value(value: Any) -> Any:
    """An attribute value as Zarr writes it in JSON: text decoded, one-element arrays as
    scalars, non-finite numbers as the strings "NaN", "Infinity", "-Infinity" (JSON has none)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").rstrip("\x00")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SU":
            return _json_value(value.tobytes() if value.dtype.kind == "S" else str(value))
        items = [_json_value(v) for v in value.ravel().tolist()]
        return items[0] if len(items) == 1 else items
    if isinstance(value, np.generic):
        return _json_value(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value
