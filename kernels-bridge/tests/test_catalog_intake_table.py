"""intake-esm catalogues to Arrow without a Jupyter server: every real catalogue of the shared
folder, read back from the IPC stream and compared with pandas' read of the same CSV (as text,
the way intake-esm reads it), the broken descriptor's sentence, the compressed, Parquet and
inline forms, and the cache by modification time."""

from __future__ import annotations

import ast
import gzip
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.ipc as pa_ipc
import pyarrow.parquet as pq
import pytest
from conftest import SHARED, needs_shared

from espri_vre.catalogs.intake_table import (
    CatalogError,
    IntakeTables,
    for_browser,
    load_catalog,
    parse_collection,
)

ESM = SHARED / "data" / "intake-esm-catalogs"
TEXT = pa.dictionary(pa.int32(), pa.string())
LIST_OF_TEXT = pa.list_(TEXT)


def is_text(kind: pa.DataType) -> bool:
    """Dictionary-encoded text, its indices of any width (as narrow as the dictionary allows)."""
    return pa.types.is_dictionary(kind) and kind.value_type == pa.string()


def read_back(stream: pa.Buffer) -> pa.Table:
    return pa_ipc.open_stream(stream).read_all()


def pandas_text(csv: Path, iterables: tuple[str, ...] = ()) -> pd.DataFrame:
    """The CSV as intake-esm sees it: every column text, an empty field missing, the columns
    with iterables parsed with ast.literal_eval."""
    names = pd.read_csv(csv, nrows=0).columns
    return pd.read_csv(
        csv,
        dtype={name: str for name in names if name not in iterables},
        keep_default_na=False,
        na_values=[""],
        converters={c: ast.literal_eval for c in iterables},
    )


def assert_same_values(table: pa.Table, frame: pd.DataFrame) -> None:
    assert table.column_names == list(frame.columns)
    assert table.num_rows == len(frame)
    for name in frame.columns:
        expected = [
            list(v) if isinstance(v, tuple | list) else (None if pd.isna(v) else v)
            for v in frame[name]
        ]
        assert table.column(name).to_pylist() == expected, name


def esm_doc(catalog_file: str, **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((ESM / "cmip6-netcdf.json").read_text())
    doc["catalog_file"] = catalog_file
    doc.update(overrides)
    return doc


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc))
    return path


@needs_shared
@pytest.mark.parametrize(
    ("descriptor", "csv", "rows"),
    [
        ("cmip6-netcdf.json", "cmip6-netcdf-test.csv", 59),
        ("cmip6-netcdf-noagg.json", "cmip6-netcdf-test.csv", 59),
        ("cmip6-bcc-mixed-formats.json", "cmip6-bcc-mixed-formats.csv", 4),
    ],
)
def test_real_catalogues_become_dictionary_encoded_arrow_equal_to_pandas(
    descriptor: str, csv: str, rows: int
):
    catalog = load_catalog(ESM / descriptor)
    table = read_back(catalog.stream)
    assert table.num_rows == rows
    # The assets column (the paths) is plain text, every other text column dictionary-encoded.
    assert table.schema.field("path").type == pa.string()
    assert all(is_text(field.type) for field in table.schema if field.name != "path")
    assert_same_values(table, pandas_text(ESM / csv))
    assert catalog.collection["columns_with_iterables"] == []
    assert catalog.collection["table"]["rows"] == rows
    assert catalog.collection["table"]["bytes"] == catalog.stream_of("search").size
    # The two parts hold every column once, the search part in one record batch.
    search = read_back(catalog.stream_of("search"))
    assets = read_back(catalog.stream_of("assets"))
    assert assets.column_names == ["path"]
    assert search.column_names == [n for n in table.column_names if n != "path"]
    assert [c.num_chunks for c in search.columns] == [1] * search.num_columns
    assert search.num_rows == assets.num_rows == rows


@needs_shared
def test_the_multi_variable_catalogue_keeps_its_variable_tuples_as_lists_of_codes():
    catalog = load_catalog(ESM / "multi-variable-catalog.json")
    table = read_back(catalog.stream)
    assert table.schema.field("variable").type == LIST_OF_TEXT
    assert is_text(table.schema.field("member_id").type)
    assert catalog.collection["columns_with_iterables"] == ["variable"]
    frame = pandas_text(ESM / "multi-variable-catalog.csv", iterables=("variable",))
    assert_same_values(table, frame)
    variables = table.column("variable").combine_chunks()
    elements = variables.values.dictionary.to_pylist()
    assert len(elements) == len(set(elements))  # one code per variable name
    assert {"SHF", "O2", "PO4", "NO2"} <= set(elements)
    assert table.column("variable").to_pylist()[2] == [
        "SHF",
        "REGION_MASK",
        "ANGLE",
        "DXU",
        "KMT",
        "NO2",
        "PO4",
    ]


@needs_shared
@pytest.mark.parametrize(
    ("csv", "rows"),
    [("glade-cmip6-netcdf.csv", 21), ("cmip6-zarr-consolidated-stores.csv", 30)],
)
def test_real_tables_without_their_own_descriptor_convert_from_an_absolute_path(
    tmp_path: Path, csv: str, rows: int
):
    descriptor = write(tmp_path / "esm.json", esm_doc(str(ESM / csv), aggregation_control=None))
    table = read_back(load_catalog(descriptor).stream)
    assert table.num_rows == rows
    assert_same_values(table, pandas_text(ESM / csv))
    assert table.column("direct_access").to_pylist()[0] == "True"  # text, as intake-esm reads it


@needs_shared
def test_the_normalised_collection_says_what_the_browser_needs():
    collection = load_catalog(ESM / "cmip6-bcc-mixed-formats.json").collection
    assert collection["id"] == "sample-cmip6-mixed"
    assert collection["assets"] == {
        "column_name": "path",
        "format": None,
        "format_column_name": "format",
    }
    assert collection["aggregation_control"]["groupby_attrs"] == [
        "activity_id",
        "institution_id",
        "source_id",
        "experiment_id",
        "table_id",
        "grid_label",
    ]
    assert collection["aggregation_control"]["aggregations"][2] == {
        "type": "union",
        "attribute_name": "variable_id",
        "options": {},
    }
    assert collection["attributes"][4] == {"column_name": "member_id", "vocabulary": ""}
    assert collection["table"]["columns"][0] == {
        "name": "activity_id",
        "type": "string",
        "part": "search",
    }
    parts = {c["name"]: c["part"] for c in collection["table"]["columns"]}
    assert parts["path"] == "assets"
    assert {p for n, p in parts.items() if n != "path"} == {"search"}
    assert collection["table"]["etag"].startswith('"') and len(collection["table"]["etag"]) == 34
    assert collection["catalog_file"] == "cmip6-bcc-mixed-formats.csv"


@needs_shared
def test_the_broken_shared_descriptor_names_its_missing_table():
    with pytest.raises(CatalogError) as broken:
        load_catalog(ESM / "bad.json")
    assert broken.value.status == 422
    assert broken.value.detail == (
        "bad.json: its catalog_file './tests/cesm1-lens-aws-zarr.csv' does not exist "
        f"({ESM / 'tests' / 'cesm1-lens-aws-zarr.csv'})."
    )


@needs_shared
def test_a_remote_table_is_refused_with_a_sentence():
    with pytest.raises(CatalogError) as remote:
        load_catalog(ESM / "pangeo-cmip6-zarr.json")
    assert remote.value.detail.startswith(
        "pangeo-cmip6-zarr.json: its table gs://cmip6/cmip6-zarr-consolidated-stores.csv is "
        "remote; the server reads tables on its own file system only."
    )


@needs_shared
def test_gzip_and_parquet_tables_give_the_same_stream_content(tmp_path: Path):
    csv = ESM / "cmip6-netcdf-test.csv"
    expected = read_back(load_catalog(ESM / "cmip6-netcdf.json").stream)
    with gzip.open(tmp_path / "t.csv.gz", "wb") as f:
        f.write(csv.read_bytes())
    from_gzip = read_back(load_catalog(write(tmp_path / "gz.json", esm_doc("t.csv.gz"))).stream)
    assert from_gzip.equals(expected)

    pq.write_table(
        pa.Table.from_pandas(pandas_text(csv), preserve_index=False), tmp_path / "t.parquet"
    )
    from_parquet = read_back(load_catalog(write(tmp_path / "pq.json", esm_doc("t.parquet"))).stream)
    assert from_parquet.schema == expected.schema
    assert from_parquet.to_pylist() == expected.to_pylist()


def test_parquet_lists_numbers_and_empty_columns_keep_their_meaning():
    raw = pa.table(
        {
            "variable": pa.array([["tas", "pr"], None, ["pr"]], pa.list_(pa.large_string())),
            "member": pa.array([1, 2, 3], pa.int64()),
            "nothing": pa.nulls(3),
            "source": pa.array(["A", "B", "A"]).dictionary_encode(),
        }
    )
    table, iterables = for_browser(raw)
    assert iterables == ["variable"]
    assert table.schema.types == [
        LIST_OF_TEXT,
        pa.int64(),
        pa.dictionary(pa.int8(), pa.string()),
        pa.dictionary(pa.int8(), pa.string()),
    ]
    assert table.to_pylist()[1] == {"variable": None, "member": 2, "nothing": None, "source": "B"}
    assert table.column("variable").to_pylist() == [["tas", "pr"], None, ["pr"]]


def test_text_that_only_looks_like_lists_in_part_stays_text():
    raw = pa.table(
        {
            "mixed": ["('a', 'b')", "plain"],
            "nested": ["[['a']]", "[['b']]"],
            "sets": ["{'b', 'a'}", None],
        }
    )
    table, iterables = for_browser(raw)
    assert iterables == ["sets"]
    assert is_text(table.schema.field("mixed").type)
    assert is_text(table.schema.field("nested").type)
    assert table.column("sets").to_pylist() == [["a", "b"], None]


def test_inline_catalog_dict_rows_are_served(tmp_path: Path):
    doc = {
        "esmcat_version": "0.1.0",
        "id": "inline",
        "attributes": [{"column_name": "source_id"}],
        "assets": {"column_name": "path", "format": "zarr"},
        "catalog_dict": [
            {"source_id": "IPSL-CM6A-LR", "path": "/bdd/a.zarr"},
            {"source_id": "CNRM-CM6-1", "path": "/bdd/b.zarr"},
        ],
    }
    catalog = load_catalog(write(tmp_path / "inline.json", doc))
    table = read_back(catalog.stream)
    assert table.to_pylist() == doc["catalog_dict"]
    assert catalog.collection["catalog_file"] is None
    assert catalog.collection["attributes"] == [{"column_name": "source_id", "vocabulary": ""}]


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"assets": {"column_name": "path"}}, "t.json: assets has neither format nor"),
        (
            {"assets": {"column_name": "path", "format": "grib"}},
            "t.json: assets.format 'grib' is not one of netcdf, zarr",
        ),
        ({"assets": {"format": "zarr"}}, "t.json: assets.column_name is missing."),
        ({"esmcat_version": None}, "t.json is not an ESM collection: it lacks esmcat_version."),
        (
            {"aggregation_control": {"groupby_attrs": []}},
            "t.json: aggregation_control.variable_column_name is missing.",
        ),
        (
            {
                "aggregation_control": {
                    "variable_column_name": "v",
                    "groupby_attrs": [],
                    "aggregations": [{"type": "merge", "attribute_name": "v"}],
                }
            },
            "t.json: aggregation_control.aggregations[0].type 'merge' is not one of join_new",
        ),
        ({"catalog_file": None}, "t.json has neither catalog_file nor catalog_dict"),
        ({"catalog_dict": []}, "t.json has both catalog_file and catalog_dict"),
        ({"catalog_file": "t.xlsx"}, "t.json: its catalog_file 't.xlsx' is not a CSV"),
    ],
)
def test_broken_descriptors_say_what_is_wrong(tmp_path: Path, change: dict, sentence: str):
    (tmp_path / "t.csv").write_text("source_id,path\nA,/a.nc\n")
    doc: dict[str, Any] = {
        "esmcat_version": "0.1.0",
        "attributes": [],
        "assets": {"column_name": "path", "format": "netcdf"},
        "catalog_file": "t.csv",
    }
    doc.update(change)
    doc = {k: v for k, v in doc.items() if v is not None}
    with pytest.raises(CatalogError) as broken:
        load_catalog(write(tmp_path / "t.json", doc))
    assert broken.value.detail.startswith(sentence)


def test_a_table_lacking_a_named_column_and_invalid_json_are_explained(tmp_path: Path):
    (tmp_path / "t.csv").write_text("source_id,path\nA,/a.nc\n")
    doc = {
        "esmcat_version": "0.1.0",
        "attributes": [],
        "assets": {"column_name": "path", "format": "netcdf"},
        "aggregation_control": {"variable_column_name": "variable_id", "groupby_attrs": []},
        "catalog_file": "t.csv",
    }
    with pytest.raises(CatalogError) as lacking:
        load_catalog(write(tmp_path / "t.json", doc))
    assert lacking.value.detail == (
        "t.json: its catalog_file 't.csv' lack the columns variable_id named in the descriptor."
    )
    (tmp_path / "broken.json").write_text('{"esmcat_version": "0.1.0",\n "id": }')
    with pytest.raises(CatalogError) as invalid:
        load_catalog(tmp_path / "broken.json")
    assert (
        invalid.value.detail == "broken.json is not valid JSON: Expecting value at line 2 column 8."
    )
    (tmp_path / "ragged.csv").write_text("source_id,path\nA,/a.nc,extra\n")
    with pytest.raises(CatalogError) as ragged:
        load_catalog(write(tmp_path / "r.json", {**doc, "catalog_file": "ragged.csv"}))
    assert ragged.value.detail.startswith("r.json: its catalog_file 'ragged.csv' cannot be read: ")
    assert "Expected 2 columns, got 3" in ragged.value.detail


def test_parse_collection_refuses_a_json_that_is_not_an_object():
    with pytest.raises(CatalogError) as refused:
        parse_collection(["not", "a", "collection"], "x.json")
    assert refused.value.detail == "x.json is not an ESM collection: the JSON is not an object."


@needs_shared
def test_the_cache_reads_once_and_again_when_the_table_changes(tmp_path: Path):
    shutil.copy(ESM / "cmip6-netcdf-test.csv", tmp_path / "cmip6-netcdf-test.csv")
    shutil.copy(ESM / "cmip6-netcdf.json", tmp_path / "cmip6-netcdf.json")
    tables = IntakeTables()
    first = tables.load(tmp_path / "cmip6-netcdf.json")
    again = tables.load(tmp_path / "cmip6-netcdf.json")
    assert again is first
    assert tables.loads == 1

    table = tmp_path / "cmip6-netcdf-test.csv"
    lines = table.read_text().splitlines(keepends=True)
    table.write_text("".join(lines[:-1]))
    stat = table.stat()
    os.utime(table, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    changed = tables.load(tmp_path / "cmip6-netcdf.json")
    assert tables.loads == 2
    assert changed.etag != first.etag
    assert changed.collection["table"]["rows"] == 58


def messages(stream: pa.Buffer) -> list[str]:
    reader = pa_ipc.MessageReader.open_stream(stream)
    kinds: list[str] = []
    while True:
        try:
            kinds.append(reader.read_next_message().type)
        except StopIteration:
            return kinds


def test_the_search_part_is_one_batch_of_narrow_codes_and_the_paths_come_apart(tmp_path: Path):
    rows = 200_000
    (tmp_path / "t.csv").write_text(
        "source_id,member_id,version,path\n"
        + "".join(
            f"S{i % 7},r{i % 300}i1p1f1,{'' if i % 5 == 0 else 'v1'},/bdd/{i}.nc\n"
            for i in range(rows)
        )
    )
    doc = {
        "esmcat_version": "0.1.0",
        "attributes": [],
        "assets": {"column_name": "path", "format": "netcdf"},
        "catalog_file": "t.csv",
    }
    catalog = load_catalog(write(tmp_path / "t.json", doc))
    assert messages(catalog.stream_of("search")) == ["schema"] + ["dictionary"] * 3 + [
        "record batch"
    ]
    search = read_back(catalog.stream_of("search"))
    source = search.column("source_id").chunk(0)
    assert source.type == pa.dictionary(pa.int8(), pa.string())
    assert source.dictionary.to_pylist() == [f"S{i}" for i in range(7)]
    assert search.schema.field("member_id").type == pa.dictionary(pa.int16(), pa.string())
    # A missing value is an entry of the dictionary, so the indices have no nulls.
    version = search.column("version").chunk(0)
    assert version.indices.null_count == 0
    assert version.dictionary.to_pylist() == ["v1", None]
    assert version.to_pylist()[:2] == [None, "v1"]
    assets = read_back(catalog.stream_of("assets"))
    assert assets.schema.field("path").type == pa.string()
    assert assets.column("path").to_pylist()[-1] == f"/bdd/{rows - 1}.nc"
    whole = read_back(catalog.stream)
    assert whole.column_names == ["source_id", "member_id", "version", "path"]
    assert whole.to_pylist()[5] == {
        "source_id": "S5",
        "member_id": "r5i1p1f1",
        "version": None,
        "path": "/bdd/5.nc",
    }


def test_the_assets_column_stays_searchable_text_when_the_collection_groups_by_it(tmp_path: Path):
    (tmp_path / "t.csv").write_text("source_id,path\nA,/a.nc\nB,/b.nc\n")
    doc = {
        "esmcat_version": "0.1.0",
        "attributes": [{"column_name": "path"}],
        "assets": {"column_name": "path", "format": "netcdf"},
        "catalog_file": "t.csv",
    }
    catalog = load_catalog(write(tmp_path / "t.json", doc))
    assert [c["part"] for c in catalog.collection["table"]["columns"]] == ["search", "search"]
    assert read_back(catalog.stream_of("assets")).num_columns == 0
    assert is_text(read_back(catalog.stream_of("search")).schema.field("path").type)


@needs_shared
def test_every_shared_descriptor_converts_to_what_intake_esm_reads_or_says_why_not():
    intake_esm = pytest.importorskip("intake_esm")
    descriptors = sorted(ESM.glob("*.json"))
    refused = {}
    for descriptor in descriptors:
        try:
            catalog = load_catalog(descriptor)
        except CatalogError as e:
            assert e.detail.startswith(f"{descriptor.name}"), e.detail
            refused[descriptor.name] = e.detail
            continue
        iterables = catalog.collection["columns_with_iterables"]
        store = intake_esm.esm_datastore(str(descriptor), columns_with_iterables=iterables)
        expected = store.df.astype(object).where(store.df.notna(), None)
        table = read_back(catalog.stream)
        assert table.column_names == list(expected.columns), descriptor.name
        for name in expected.columns:
            values = [list(v) if not isinstance(v, str | None) else v for v in expected[name]]
            assert table.column(name).to_pylist() == values, (descriptor.name, name)
    assert sorted(refused) == ["bad.json", "pangeo-cmip6-zarr.json"]
    assert len(descriptors) - len(refused) >= 4
