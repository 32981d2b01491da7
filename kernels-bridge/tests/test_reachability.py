"""Reachability checks of catalogues and data roots (no Jupyter server): real files from the
demo and the shared folder, a real local HTTP server, a port that accepts and never answers."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SHARED, needs_shared

from espri_vre.catalogs.reachability import (
    check_catalog,
    check_esm_collection,
    check_readable,
    check_stac_file,
    check_url,
)
from espri_vre.data.roots import check_data_root
from espri_vre.server.status import bounded

ESM_SAMPLES = SHARED / "data" / "intake-esm-catalogs"
STAC_FIXTURE = SHARED / "fixtures" / "catalog" / "stac_static_catalog_test-case-1__pystac-client"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose kernel completes the TCP handshake but where nobody ever answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def write_json(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


def esm_doc(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "esmcat_version": "0.1.0",
        "id": "t",
        "description": "test",
        "catalog_file": "t.csv",
        "attributes": [],
        "assets": {"column_name": "path", "format": "netcdf"},
        "aggregation_control": {
            "variable_column_name": "variable_id",
            "groupby_attrs": ["source_id"],
            "aggregations": [{"type": "union", "attribute_name": "variable_id"}],
        },
    }
    doc.update(overrides)
    return doc


def test_demo_esm_collection_is_reachable(demo_dir: Path):
    ok, detail = check_esm_collection(demo_dir / "catalogs" / "demo-esm.json")
    assert ok is True
    assert detail.startswith("ESM collection 'espri-vre-demo', table demo-esm.csv (")


@needs_shared
def test_shared_bad_esm_descriptor_names_its_missing_table():
    ok, detail = check_esm_collection(ESM_SAMPLES / "bad.json")
    assert ok is False
    assert detail == (
        "bad.json: its catalog_file './tests/cesm1-lens-aws-zarr.csv' does not exist "
        f"({ESM_SAMPLES / 'tests' / 'cesm1-lens-aws-zarr.csv'})"
    )


@needs_shared
@pytest.mark.parametrize(
    ("name", "table"),
    [("cmip6-netcdf.json", "cmip6-netcdf-test.csv"), ("multi-variable-catalog.json", None)],
)
def test_shared_real_esm_collections_are_reachable(name: str, table: str | None):
    ok, detail = check_esm_collection(ESM_SAMPLES / name)
    assert ok is True, detail
    if table:
        assert f"table {table}" in detail


@needs_shared
def test_esm_collection_with_a_remote_table_is_reported_as_not_checked():
    ok, detail = check_esm_collection(ESM_SAMPLES / "pangeo-cmip6-zarr.json")
    assert ok is True
    assert "gs://cmip6/cmip6-zarr-consolidated-stores.csv is remote and not checked" in detail


def test_esm_table_lacking_a_column_named_by_the_descriptor_is_unreachable(tmp_path: Path):
    (tmp_path / "t.csv").write_text("source_id,path\nA,/x.nc\n")
    ok, detail = check_esm_collection(write_json(tmp_path / "t.json", esm_doc()))
    assert ok is False
    assert (
        detail
        == "t.json: its catalog_file 't.csv' lacks the columns variable_id named in the descriptor"
    )


def test_esm_descriptor_without_a_table_is_unreachable(tmp_path: Path):
    doc = esm_doc()
    del doc["catalog_file"]
    ok, detail = check_esm_collection(write_json(tmp_path / "t.json", doc))
    assert ok is False
    assert detail == "t.json has neither catalog_file nor catalog_dict: no table of assets"


def test_esm_descriptor_with_inline_rows_is_reachable(tmp_path: Path):
    doc = esm_doc(catalog_dict=[{"source_id": "A", "variable_id": "tas", "path": "/a.nc"}])
    del doc["catalog_file"]
    ok, detail = check_esm_collection(write_json(tmp_path / "t.json", doc))
    assert (ok, detail) == (True, "ESM collection 't', 1 rows inline (catalog_dict)")


def test_invalid_json_is_reported_with_its_position(tmp_path: Path):
    path = tmp_path / "broken.json"
    path.write_text('{"esmcat_version": "0.1.0",\n  "id": }')
    ok, detail = check_esm_collection(path)
    assert ok is False
    assert detail == "broken.json is not valid JSON: Expecting value at line 2 column 9"


def test_a_json_that_is_not_an_esm_collection_says_what_it_lacks(tmp_path: Path):
    ok, detail = check_esm_collection(write_json(tmp_path / "x.json", {"id": "x"}))
    assert (ok, detail) == (
        False,
        "x.json is not an ESM collection: it lacks esmcat_version, assets",
    )


def test_demo_stac_catalog_is_reachable(demo_dir: Path):
    ok, detail = check_stac_file(demo_dir / "catalogs" / "stac")  # a folder holding catalog.json
    assert (ok, detail) == (True, "STAC Catalog 'espri-vre-demo-catalog' (STAC 1.0.0), 1 child")


@needs_shared
def test_real_static_stac_catalog_is_reachable():
    ok, detail = check_stac_file(STAC_FIXTURE / "catalog.json")
    assert ok is True
    assert detail.startswith("STAC Catalog 'test' (STAC ")


def test_a_stac_item_is_not_accepted_as_a_catalogue_entry_point(demo_dir: Path):
    item = demo_dir / "catalogs/stac/espri-vre-demo/stations-demo/stations-demo.json"
    ok, detail = check_stac_file(item)
    assert (ok, detail) == (
        False,
        "stations-demo.json is not a STAC Catalog or Collection (type is 'Feature')",
    )


def test_a_missing_file_is_unreachable(tmp_path: Path):
    assert check_readable(tmp_path / "gone.xml") == (
        False,
        f"{tmp_path / 'gone.xml'} does not exist",
    )


def test_data_root_counts_its_entries(demo_dir: Path, tmp_path: Path):
    assert check_data_root(str(demo_dir / "catalogs")) == (True, "directory with 5 entries")
    assert check_data_root(str(demo_dir / "jupyter_server_config.json"))[0] is False
    assert check_data_root(str(tmp_path / "none")) == (False, f"{tmp_path / 'none'} does not exist")


async def test_local_http_server_is_reachable_and_a_404_is_not(http_catalog_server: str):
    ok = await check_url(f"{http_catalog_server}/catalog.json", 2.0)
    assert ok["reachable"] is True
    assert ok["detail"] == "HTTP 200 OK"
    assert ok["latency_ms"] > 0
    missing = await check_url(f"{http_catalog_server}/nothing", 2.0)
    assert (missing["reachable"], missing["detail"]) == (False, "HTTP 404 Not Found")


async def test_closed_port_is_refused():
    answer = await check_catalog("esgf", "http://127.0.0.1:9/esg-search/search", 2.0)
    assert (answer["reachable"], answer["detail"]) == (False, "connection refused by 127.0.0.1:9")


async def test_a_server_that_never_answers_is_cut_at_the_timeout(silent_port: int):
    answer = await check_url(f"http://127.0.0.1:{silent_port}/", 0.3)
    assert answer["reachable"] is False
    assert answer["detail"] == f"no answer from 127.0.0.1:{silent_port} within 0.3 s"


async def test_an_unresolvable_host_is_unreachable():
    answer = await check_url("http://catalogue.invalid/", 2.0)
    assert answer["reachable"] is False
    assert "catalogue.invalid" in answer["detail"]


async def test_a_check_that_raises_becomes_an_unreachable_answer():
    async def broken() -> dict[str, object]:
        raise RuntimeError("scheduler exploded")

    answer = await bounded(broken(), 1.0)
    assert answer["reachable"] is False
    assert answer["detail"] == "the check failed: RuntimeError: scheduler exploded"


async def test_a_check_that_hangs_is_cut_at_the_timeout():
    never = asyncio.Event()

    async def hangs() -> dict[str, object]:
        await never.wait()
        return {"reachable": True, "detail": "", "latency_ms": 0}

    answer = await bounded(hangs(), 0.1)
    assert answer["reachable"] is False
    assert answer["detail"] == "no answer within 0.1 s"
