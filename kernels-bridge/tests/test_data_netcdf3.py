"""NetCDF-3 files kerchunk's own reader gets wrong: a packed integer variable declaring
`_FillValue = NaN` (it raises casting it), numeric attributes (it writes them as text). Their
references decode to what xarray reads from the file itself, computed in the same run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from test_data_references import assert_same_decoded_values, open_references

from espri_vre.data.references import references_for


def write_packed_netcdf3_with_nan_fill(path: Path, records: bool) -> None:
    """A valid NetCDF-3 file as some real producers write it: packed int16 variables that
    declare `_FillValue = NaN` as a double (xarray ignores it with a warning) beside an int16
    `missing_value`, a float `valid_range`, and global attributes that are numbers. Written with
    scipy's netCDF-3 writer, which keeps attributes exactly as given."""
    from scipy.io import netcdf_file

    with netcdf_file(path, "w", version=2) as f:
        f.createDimension("time", None if records else 40)
        f.createDimension("lat", 30)
        f.history = b"written by scipy for the espri-vre tests"
        f.version_number = np.float64(2.5)
        t = f.createVariable("t", "i2", ("time", "lat"))
        packed = np.arange(1200, dtype="i2").reshape(40, 30) - 600
        packed[3, 4] = -32767
        packed[5, :] = 0
        t[:] = packed
        t.scale_factor = np.float64(0.01)
        t.add_offset = np.float64(273.15)
        t._FillValue = np.float64("nan")
        t.missing_value = np.int16(-32767)
        t.units = b"K"
        q = f.createVariable("q", "i2", ("time", "lat"))
        q[:] = packed
        q.scale_factor = np.float32(0.5)
        q._FillValue = np.float64("nan")
        q.valid_range = np.array([-700, 700], dtype="i2")
        lat = f.createVariable("lat", "f4", ("lat",))
        lat[:] = np.linspace(-60, 60, 30)
        lat._FillValue = np.float32(1e20)


@pytest.mark.filterwarnings("ignore:variable '[tq]' has non-conforming")
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("records", [True, False], ids=["record-variables", "fixed-size"])
def test_packed_netcdf3_with_a_nan_fill_value_decodes_like_xarray(tmp_path: Path, records: bool):
    path = tmp_path / "packed.nc"
    write_packed_netcdf3_with_nan_fill(path, records)
    result = references_for(path, "packed.nc", cache=None)
    assert result.kind == "netcdf3"
    spec = json.loads(result.body)
    attrs = json.loads(spec["refs"]["t/.zattrs"])
    assert attrs["missing_value"] == -32767 and "_FillValue" not in attrs  # as xarray drops it
    assert json.loads(spec["refs"]["q/.zattrs"])["valid_range"] == [-700, 700]
    assert json.loads(spec["refs"][".zattrs"])["version_number"] == 2.5
    with open_references(spec, path) as got, xr.open_dataset(path) as expected:
        assert_same_decoded_values(got, expected)
        assert np.isnan(got["t"].values[3, 4]) and got["t"].values[5, 0] == pytest.approx(273.15)
        assert not np.isnan(got["q"].values).any()  # a NaN fill masks nothing in integers
