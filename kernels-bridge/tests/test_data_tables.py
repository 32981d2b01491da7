"""Row ranges of Parquet, CSV and Arrow/Feather tables as Arrow record batches: every slice equals
pandas' `iloc` of the same file, read by pandas in the same run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from espri_vre.data import tables
from espri_vre.data.kinds import CorruptFile, DataError, WrongKind
from espri_vre.data.tables import MAX_ROWS, STATISTICS_KEY, TOTAL_ROWS_KEY, read_slice

RANGES = [(0, 10), (17, 5), (995, 20), (1990, 100), (5000, 10)]


def assert_slice_equals_iloc(got: pa.Table, frame: pd.DataFrame, offset: int, limit: int) -> None:
    expected = frame.iloc[offset : offset + limit].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got.to_pandas().reset_index(drop=True), expected, check_dtype=False, check_index_type=False
    )


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """2,000 rows: ints, floats with NaN, strings with missing values, booleans."""
    rng = np.random.default_rng(7)
    n = 2000
    values = rng.normal(280, 10, n)
    values[::37] = np.nan
    names = np.array([f"station {i % 50:02d}" for i in range(n)], dtype=object)
    names[::101] = None
    return pd.DataFrame(
        {
            "id": np.arange(n, dtype="int64"),
            "temperature": values,
            "name": names,
            "valid": np.arange(n) % 3 == 0,
        }
    )


@pytest.fixture
def stations(demo_dir: Path) -> Path:
    return demo_dir / "data" / "stations_demo.parquet"


@pytest.mark.parametrize(("offset", "limit"), [(0, 25), (9000, 40), (18240, 100), (18250, 10)])
def test_stations_parquet_slices_equal_pandas_iloc(stations: Path, offset: int, limit: int):
    part = read_slice(stations, "stations_demo.parquet", offset, limit)
    frame = pd.read_parquet(stations)
    assert part.total_rows == len(frame) == 18250
    assert part.table.num_rows == max(0, min(limit, 18250 - offset))
    assert_slice_equals_iloc(part.table, frame, offset, limit)


def test_parquet_statistics_come_from_its_metadata(stations: Path):
    part = read_slice(stations, "stations_demo.parquet", 0, 1, ["station_id", "temperature"])
    frame = pd.read_parquet(stations)
    assert part.table.column_names == ["station_id", "temperature"]
    assert part.statistics["station_id"] == {
        "null_count": 0,
        "min": frame["station_id"].min(),
        "max": frame["station_id"].max(),
    }
    temperature = part.statistics["temperature"]
    assert temperature["min"] == pytest.approx(float(frame["temperature"].min()))
    assert temperature["max"] == pytest.approx(float(frame["temperature"].max()))
    assert set(part.statistics) == {"station_id", "temperature"}


def test_only_the_row_groups_a_range_overlaps_are_read(tmp_path: Path, frame: pd.DataFrame):
    path = tmp_path / "groups.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=300)
    for offset, limit in RANGES:
        part = read_slice(path, "groups.parquet", offset, limit)
        assert_slice_equals_iloc(part.table, frame, offset, limit)
    assert read_slice(path, "g", 0, 10).row_groups_read == (0,)
    assert read_slice(path, "g", 295, 10).row_groups_read == (0, 1)
    assert read_slice(path, "g", 1990, 100).row_groups_read == (6,)
    assert read_slice(path, "g", 5000, 10).row_groups_read == ()
    stats = read_slice(path, "g", 0, 1).statistics
    assert stats["temperature"]["null_count"] == int(frame["temperature"].isna().sum())
    assert stats["id"] == {"null_count": 0, "min": 0, "max": 1999}


@pytest.mark.parametrize(("suffix", "sep"), [(".csv", ","), (".tsv", "\t"), (".txt", ";")])
def test_csv_slices_equal_pandas_iloc(tmp_path: Path, frame: pd.DataFrame, suffix, sep):
    path = tmp_path / f"table{suffix}"
    frame.to_csv(path, index=False, sep=sep)
    expected = pd.read_csv(path, sep=sep)
    for offset, limit in RANGES:
        part = read_slice(path, path.name, offset, limit)
        assert part.total_rows == 2000
        assert_slice_equals_iloc(part.table, expected, offset, limit)


def test_csv_small_blocks_and_the_cached_total_give_the_same_rows(
    tmp_path: Path, frame: pd.DataFrame, monkeypatch
):
    monkeypatch.setattr(tables, "CSV_BLOCK_BYTES", 4096)
    path = tmp_path / "blocks.csv"
    frame.to_csv(path, index=False)
    expected = pd.read_csv(path)
    first = read_slice(path, "blocks.csv", 100, 50)
    again = read_slice(path, "blocks.csv", 100, 50)  # stops early: the total is known
    assert first.total_rows == again.total_rows == 2000
    assert_slice_equals_iloc(again.table, expected, 100, 50)


def test_a_one_column_csv_is_read_although_it_has_no_delimiter(tmp_path: Path):
    path = tmp_path / "ids.csv"
    path.write_text("id\n3\n1\n2\n")
    part = read_slice(path, "ids.csv", 1, 5)
    assert part.table.to_pydict() == {"id": [1, 2]}


@pytest.mark.parametrize("compression", ["uncompressed", "lz4", "zstd"])
def test_feather_v2_slices_equal_pandas_iloc(tmp_path, frame: pd.DataFrame, compression):
    path = tmp_path / "table.feather"
    feather.write_feather(frame, path, compression=compression, chunksize=256)
    expected = pd.read_feather(path)
    for offset, limit in RANGES:
        part = read_slice(path, "table.feather", offset, limit)
        assert (part.kind, part.total_rows) == ("arrow", 2000)
        assert_slice_equals_iloc(part.table, expected, offset, limit)


def test_arrow_stream_and_feather_v1_slices_equal_pandas_iloc(tmp_path, frame: pd.DataFrame):
    stream = tmp_path / "table.arrows"
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pa.OSFile(str(stream), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=333):
            writer.write_batch(batch)
    v1 = tmp_path / "table_v1.feather"
    with pytest.warns(DeprecationWarning):
        feather.write_feather(frame, v1, version=1)
    for path, kind in ((stream, "arrow-stream"), (v1, "feather-v1")):
        for offset, limit in RANGES:
            part = read_slice(path, path.name, offset, limit)
            assert (part.kind, part.total_rows) == (kind, 2000)
            assert_slice_equals_iloc(part.table, frame, offset, limit)


def test_a_huge_limit_is_capped(stations: Path):
    part = read_slice(stations, "stations_demo.parquet", 0, 10**12)
    assert part.table.num_rows == MAX_ROWS < part.total_rows


def test_a_slice_within_its_byte_budget(stations: Path, monkeypatch):
    monkeypatch.setattr(tables, "MAX_BYTES", 10_000)
    part = read_slice(stations, "stations_demo.parquet", 0, 5000)
    assert 0 < part.table.num_rows < 5000
    assert part.table.nbytes <= 10_000 * 1.1


def test_negative_ranges_and_unknown_columns_are_bad_requests(stations: Path):
    with pytest.raises(DataError) as bad:
        read_slice(stations, "stations_demo.parquet", -1, 10)
    assert bad.value.status == 400
    with pytest.raises(DataError) as unknown:
        read_slice(stations, "stations_demo.parquet", 0, 10, ["temperature", "wind"])
    assert unknown.value.detail == (
        "stations_demo.parquet has no column 'wind'; its columns are: station_id, name, lon, "
        "lat, elevation, time, temperature."
    )


def test_the_ipc_stream_carries_total_rows_statistics_and_browser_types(stations: Path):
    part = read_slice(stations, "stations_demo.parquet", 10, 3)
    reader = pa.ipc.open_stream(tables.to_ipc_stream(part))
    table = reader.read_all()
    metadata = table.schema.metadata
    assert int(metadata[TOTAL_ROWS_KEY]) == 18250
    assert json.loads(metadata[STATISTICS_KEY])["station_id"]["min"] == "DEMO001"
    assert table.schema.field("station_id").type == pa.string()  # not large_string
    assert table.schema.field("temperature").metadata == {b"units": b"degC"}
    assert table.column("station_id").to_pylist() == part.table.column("station_id").to_pylist()


def test_a_text_file_named_parquet_is_refused_naming_what_it_is(tmp_path: Path):
    path = tmp_path / "notes.parquet"
    path.write_text("just some notes\nabout nothing\n")
    with pytest.raises(WrongKind) as wrong:
        read_slice(path, "notes.parquet")
    assert wrong.value.status == 415
    assert wrong.value.detail.startswith(
        "notes.parquet is a text file despite its .parquet extension, not Parquet or CSV or "
        "Arrow/Feather"
    )


def test_a_truncated_parquet_file_is_reported_as_damaged(tmp_path: Path, stations: Path):
    path = tmp_path / "cut.parquet"
    shutil.copy(stations, path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(CorruptFile) as corrupt:
        read_slice(path, "cut.parquet")
    assert corrupt.value.status == 422
    assert corrupt.value.detail.startswith("cut.parquet could not be read as a Parquet file: ")
