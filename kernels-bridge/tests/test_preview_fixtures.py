"""The references of the shared HDF5 fixtures (kerchunk's own test files) and the fill-value
rule: a Zarr fill_value only where the HDF5 dataset has a _FillValue attribute, as xarray masks."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401  (registers the blosc and zstd filters for h5py)
import numpy as np
import pytest

from espri_vre.data.references import references_for

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "preview"

needs_fixtures = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason=f"the shared fixtures ({FIXTURES}) are absent"
)


@needs_fixtures
@pytest.mark.parametrize(
    ("name", "codecs"),
    [
        # HDF5 stored the 24-byte chunk unfiltered (blosc did not shrink it): no codec.
        ("kerchunk_test_hdf5_mini_blosc.h5", ()),
        ("kerchunk_test_hdf5_mini_shuffle_zstd.h5", ("shuffle", "zstd")),
    ],
)
def test_hdf5_fixtures_reference_their_codecs_without_a_fill_value(name: str, codecs) -> None:
    path = FIXTURES / name
    refs = references_for(path, name, cache=None)
    assert refs.codecs == codecs
    zarray = json.loads(json.loads(refs.body)["refs"]["data/.zarray"])
    # HDF5's default fill (0) is no _FillValue: a 0 must stay a value, as h5py and xarray read.
    assert zarray["fill_value"] is None
    with h5py.File(path) as f:
        assert "_FillValue" not in f["data"].attrs
        np.testing.assert_array_equal(f["data"][...], np.arange(6).reshape(3, 2))


def test_a_netcdf_fill_value_attribute_stays_the_zarr_fill_value(demo_dir: Path) -> None:
    path = demo_dir / "data" / "tas_demo_monthly.nc"
    refs = json.loads(references_for(path, "tas.nc", cache=None).body)["refs"]
    assert json.loads(refs["tas/.zarray"])["fill_value"] == pytest.approx(1e20, rel=1e-6)
    assert json.loads(refs["lat/.zarray"])["fill_value"] is None
