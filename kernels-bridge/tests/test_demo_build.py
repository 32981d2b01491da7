"""The demo builder: the files it writes open with the libraries users use (xarray, zarr,
pyarrow, intake-esm, pystac) and hold plausible values."""

from __future__ import annotations

import json
from pathlib import Path

import cftime
import intake
import numpy as np
import pyarrow.parquet as pq
import pystac
import pytest
import xarray as xr
import zarr
from conftest import SHARED, needs_shared

from espri_vre.demo.build import BUILDER_VERSION, build

DATA_FILES = [
    "tas_demo_monthly.nc",
    "tas_demo_monthly.zarr",
    "tas_demo_monthly.v3.zarr",
    "tos_demo_curvilinear.nc",
    "stations_demo.parquet",
    "balloon_demo_trajectory.parquet",
    "balloon_demo_trajectory.nc",
]


def test_build_prints_each_file_with_its_size(demo_build: tuple[Path, str]):
    demo_dir, printed = demo_build
    for name in DATA_FILES:
        line = next(li for li in printed.splitlines() if li.strip().startswith(f"data/{name} "))
        assert line.split()[2] in ("B", "KiB", "MiB")
    assert f"built the demo in {demo_dir} (" in printed
    assert sorted(p.name for p in (demo_dir / "data").iterdir()) == sorted(DATA_FILES)


def test_second_build_is_skipped_when_up_to_date(demo_dir: Path):
    before = (demo_dir / "data" / "tas_demo_monthly.nc").stat().st_mtime_ns
    said: list[str] = []
    stamp = json.loads((demo_dir / ".demo-version").read_text())
    shared = Path(stamp["cmip6_sample"]).parents[1] if stamp["cmip6_sample"] else None
    outputs = build(demo_dir, shared=shared, slurm=stamp["slurm"], say=said.append)
    assert outputs == []
    up_to_date = f"is up to date (builder {BUILDER_VERSION}); --force rebuilds it"
    assert said == [f"the demo in {demo_dir} {up_to_date}"]
    assert (demo_dir / "data" / "tas_demo_monthly.nc").stat().st_mtime_ns == before


def test_gridded_netcdf_is_cf_with_noleap_time_and_plausible_temperatures(demo_dir: Path):
    with xr.open_dataset(demo_dir / "data" / "tas_demo_monthly.nc") as ds:
        assert dict(ds["tas"].sizes) == {"time": 36, "lat": 90, "lon": 180}
        assert ds.attrs["Conventions"] == "CF-1.8"
        assert ds["tas"].attrs["standard_name"] == "air_temperature"
        assert ds["tas"].attrs["units"] == "K"
        assert ds["time"].encoding["calendar"] == "noleap"
        assert ds["time"].encoding["units"] == "days since 2000-01-01"
        first, last = ds["time"].values[0], ds["time"].values[-1]
        assert isinstance(first, cftime.DatetimeNoLeap)
        assert (first.year, first.month, last.year, last.month) == (2000, 1, 2002, 12)
        for name, axis, units, standard_name in (
            ("lat", "Y", "degrees_north", "latitude"),
            ("lon", "X", "degrees_east", "longitude"),
        ):
            attrs = ds[name].attrs
            assert (attrs["axis"], attrs["units"], attrs["standard_name"]) == (
                axis,
                units,
                standard_name,
            )
            assert ds[attrs["bounds"]].shape == (ds.sizes[name], 2)
        assert ds["tas"].encoding["zlib"] is True
        assert ds["tas"].encoding["chunksizes"] == (12, 90, 180)
        tas = ds["tas"].values
        assert tas.min() > 195.0
        assert tas.max() < 320.0
        weights = np.cos(np.deg2rad(ds["lat"]))
        global_mean = float(ds["tas"].weighted(weights).mean())
        assert 280.0 < global_mean < 292.0
        north = ds["tas"].sel(lat=slice(50, 70))
        july = float(north.isel(time=6).mean())
        january = float(north.isel(time=0).mean())
        assert july - january > 10.0  # northern summer is warmer


@pytest.mark.parametrize(
    ("store", "fmt"), [("tas_demo_monthly.zarr", 2), ("tas_demo_monthly.v3.zarr", 3)]
)
def test_zarr_stores_report_their_format_and_hold_the_netcdf_values(
    demo_dir: Path, store: str, fmt: int
):
    path = demo_dir / "data" / store
    group = zarr.open_group(path, mode="r")
    assert group.metadata.zarr_format == fmt
    assert group["tas"].shape == (36, 90, 180)
    assert group["tas"].chunks == (12, 45, 90)
    if fmt == 2:
        assert (path / ".zmetadata").is_file()
    else:
        assert "consolidated_metadata" in json.loads((path / "zarr.json").read_text())
    with (
        xr.open_zarr(path, consolidated=True) as from_zarr,
        xr.open_dataset(demo_dir / "data" / "tas_demo_monthly.nc") as from_netcdf,
    ):
        np.testing.assert_array_equal(from_zarr["tas"].values, from_netcdf["tas"].values)
        assert isinstance(from_zarr["time"].values[0], cftime.DatetimeNoLeap)


def test_curvilinear_ocean_grid_has_2d_coordinates_and_masked_land(demo_dir: Path):
    with xr.open_dataset(demo_dir / "data" / "tos_demo_curvilinear.nc") as ds:
        assert ds["tos"].dims == ("time", "y", "x")
        assert ds["latitude"].dims == ds["longitude"].dims == ("y", "x")
        assert ds["vertices_latitude"].shape == (120, 180, 4)
        # Curvilinear: a grid row does not follow one latitude.
        assert float(ds["latitude"].isel(y=-10).max() - ds["latitude"].isel(y=-10).min()) > 5.0
        assert ds["tos"].encoding["_FillValue"] == np.float32(1e20)
        land = ds["tos"].isel(time=0).isnull()
        assert 0.05 < float(land.mean()) < 0.5
        assert float(ds["tos"].min()) >= -1.8 - 1e-6
        assert float(ds["tos"].max()) < 33.0


def test_station_table_has_50_stations_with_units_and_plausible_temperatures(demo_dir: Path):
    table = pq.read_table(demo_dir / "data" / "stations_demo.parquet")
    assert table.column_names == [
        "station_id",
        "name",
        "lon",
        "lat",
        "elevation",
        "time",
        "temperature",
    ]
    assert table.schema.field("temperature").metadata == {b"units": b"degC"}
    assert str(table.schema.field("time").type) == "timestamp[ms, tz=UTC]"
    frame = table.to_pandas()
    assert frame["station_id"].nunique() == 50
    assert len(frame) == 50 * 365
    assert frame["temperature"].between(-70.0, 45.0).all()
    assert frame["lat"].between(-90, 90).all() and frame["lon"].between(-180, 180).all()


def test_balloon_rises_to_about_30_km_drifts_east_and_comes_down(demo_dir: Path):
    flight = pq.read_table(demo_dir / "data" / "balloon_demo_trajectory.parquet").to_pandas()
    assert list(flight.columns[:4]) == ["time", "lon", "lat", "altitude"]
    top = int(flight["altitude"].idxmax())
    assert 29_000 < flight["altitude"].max() < 31_000
    assert flight["altitude"].iloc[: top + 1].is_monotonic_increasing
    assert flight["altitude"].iloc[top:].is_monotonic_decreasing
    assert flight["lon"].iloc[-1] > flight["lon"].iloc[0] + 0.5
    with xr.open_dataset(demo_dir / "data" / "balloon_demo_trajectory.nc") as dsg:
        assert dsg.attrs["featureType"] == "trajectory"
        assert dsg["trajectory"].attrs["cf_role"] == "trajectory_id"
        np.testing.assert_allclose(dsg["altitude"].values, flight["altitude"].to_numpy())


def test_esm_catalogue_opens_with_intake_esm_and_its_search_finds_the_right_rows(demo_dir: Path):
    cat = intake.open_esm_datastore(str(demo_dir / "catalogs" / "demo-esm.json"))
    assert len(cat.df) == 4
    tas = cat.search(variable_id="tas")
    assert sorted(tas.df["storage"]) == ["netcdf4", "zarr-v2", "zarr-v3"]
    v3 = cat.search(variable_id="tas", storage="zarr-v3")
    [(key, ds)] = v3.to_dataset_dict(progressbar=False).items()
    assert key == "DEMO.ESPRI-VRE.SYNTH-1.demo.Amon.gr.zarr-v3"
    assert ds["tas"].shape == (1, 36, 90, 180)  # member_id joined as a new dimension
    with xr.open_dataset(demo_dir / "data" / "tas_demo_monthly.nc") as nc:
        np.testing.assert_array_equal(ds["tas"].isel(member_id=0).values, nc["tas"].values)
    [tos_path] = cat.search(variable_id="tos").df["path"]
    assert tos_path == str(demo_dir / "data" / "tos_demo_curvilinear.nc")


def test_static_stac_catalogue_loads_with_pystac_and_its_assets_exist(demo_dir: Path):
    catalog = pystac.Catalog.from_file(str(demo_dir / "catalogs" / "stac" / "catalog.json"))
    [collection] = list(catalog.get_children())
    assert collection.id == "espri-vre-demo"
    assert collection.extent.spatial.bboxes == [[-180.0, -90.0, 180.0, 90.0]]
    items = {item.id: item for item in collection.get_items()}
    assert sorted(items) == [
        "balloon-demo-trajectory",
        "stations-demo",
        "tas-demo-monthly",
        "tos-demo-curvilinear",
    ]
    for item in items.values():
        assert item.datetime is None
        assert item.common_metadata.start_datetime < item.common_metadata.end_datetime
        for asset in item.assets.values():
            assert not asset.href.startswith("/")  # relative, so the catalogue can move
            assert Path(asset.get_absolute_href()).exists(), asset.href
    assert sorted(items["tas-demo-monthly"].assets) == ["netcdf", "zarr-v2", "zarr-v3"]
    assert items["stations-demo"].geometry["type"] == "MultiPoint"
    assert len(items["stations-demo"].geometry["coordinates"]) == 50


def test_server_config_points_at_the_demo(demo_dir: Path):
    config = json.loads((demo_dir / "jupyter_server_config.json").read_text())
    assert config["ServerApp"]["root_dir"] == str(demo_dir)
    espri = config["EspriVreApp"]
    ids = [c["id"] for c in espri["catalogs"]]
    assert ids[:2] == ["demo-esm", "demo-stac"]
    for entry in espri["catalogs"]:
        assert Path(entry["url"]).is_file()
    assert espri["data_roots"][0] == {
        "id": "demo-data",
        "title": "Demo data",
        "path": str(demo_dir / "data"),
    }
    assert espri["clusters"][0]["id"] == "local"


def test_demo_without_shared_data_and_with_slurm(tmp_path: Path):
    said: list[str] = []
    build(tmp_path / "demo", shared=None, slurm=True, say=said.append)
    config = json.loads((tmp_path / "demo" / "jupyter_server_config.json").read_text())[
        "EspriVreApp"
    ]
    assert [c["id"] for c in config["catalogs"]] == ["demo-esm", "demo-stac"]
    assert [d["id"] for d in config["data_roots"]] == ["demo-data"]
    slurm = config["clusters"][1]
    assert {k: slurm[k] for k in ("id", "title", "kind", "transport")} == {
        "id": "local-slurm",
        "title": "Local Slurm",
        "kind": "slurm",
        "transport": "local",
    }
    # Dask presets that the cluster's own checks accept, GPUs through gres on the gpu partition.
    from espri_vre.dask.presets import parse_settings

    dask = parse_settings(slurm)
    assert [p.id for p in dask.presets] == ["small", "gpu"] and dask.problems == ()
    assert (dask.interface, dask.max_workers) == ("lo", 2)
    assert (dask.presets[1].gpus, dask.presets[1].partition) == (1, "gpu")
    assert not (tmp_path / "demo" / "catalogs" / "cmip6-sample.json").exists()


@needs_shared
def test_cmip6_sample_catalogue_points_at_the_shared_files_without_copying_them(demo_dir: Path):
    sample = SHARED / "data" / "cmip6-sample"
    cat = intake.open_esm_datastore(str(demo_dir / "catalogs" / "cmip6-sample.json"))
    assert len(cat.df) == 59
    # Compared resolved: ../shared may be reached through a symbolic link.
    assert all(Path(p).resolve().is_relative_to(sample.resolve() / "CMIP6") for p in cat.df["path"])
    assert all(Path(p).is_file() for p in cat.df["path"])
    assert not list(demo_dir.rglob("*_Amon_*.nc"))  # registered, not copied
    found = cat.search(source_id="CNRM-CM6-1", variable_id="tasmax")
    assert sorted(found.df["member_id"]) == ["r4i1p1f2", "r6i1p1f2"]
    # h5netcdf, as the code the catalogue panel writes for NetCDF-only catalogues: intake-esm
    # opens the files in threads and netCDF-C is not thread-safe (the netCDF4 engine crashed
    # this test process with a segmentation fault in CI).
    [ds] = found.to_dataset_dict(
        progressbar=False, xarray_open_kwargs={"engine": "h5netcdf"}
    ).values()
    assert ds["tasmax"].attrs["units"] == "K"
    assert float(ds["tasmax"].min()) > 200.0
    assert float(ds["tasmax"].max()) < 340.0
    assert ds.attrs["source_id"] == "CNRM-CM6-1"
    ds.close()
