"""OPeNDAP previews through a real Jupyter server (pytest-jupyter): data/opendap/<key>?url=
serves a DAP2 dataset of a real OPeNDAP server on the loopback (pydap's server, allow-listed;
tests/opendap_server.py) as a virtual Zarr v2 store. Every variable of the shared CMIP6 sample,
read key by key through the route as the browser's Zarr reader does and CF-decoded, is what
xarray reads from the local file in the same run (values within float32 precision on a
relative scale, times equal in the file's calendar). An unreachable server, an HTML answer, a
redirect to a host outside the allow-list, a missing dataset and bad arguments each get a
sentence that says so.

DAP4 is not served here: pydap 3.5.9's server answers no .dap data response and a DMR that
its own client cannot parse, so the DAP4 path is checked only as far as choosing the
protocol (test_dap_urls_name_the_dataset_and_its_protocol)."""

from __future__ import annotations

import asyncio
import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from conftest import SHARED, needs_shared
from opendap_server import DapServers, start
from remote_servers import suite_config
from tornado.httpclient import HTTPClientError

from espri_vre.catalogs.proxy import AllowList, HostNotAllowed, InvalidTarget, ProxyLimits
from espri_vre.data.opendap import OpendapDatasets, OpendapError, dap_url

CMIP6 = SHARED / "data" / "cmip6-sample"
FLOAT32_RTOL = float(np.finfo(np.float32).eps)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Path:
    """The folder the DAP server serves: the demo's monthly tas and the CMIP6 sample."""
    root = tmp_path_factory.mktemp("opendap")
    shutil.copy(demo_dir / "data" / "tas_demo_monthly.nc", root / "tas.nc")
    if CMIP6.is_dir():
        (root / "cmip6").symlink_to(CMIP6, target_is_directory=True)
    return root


@pytest.fixture(scope="module")
def servers(served: Path) -> Iterator[DapServers]:
    found, stop = start(served)
    yield found
    stop()


@pytest.fixture
def jp_server_config(jp_root_dir: Path, servers: DapServers) -> dict[str, Any]:
    return suite_config(jp_root_dir, servers.allowed_hosts)


async def get_key(jp_fetch: Any, url: str, key: str, **params: str) -> bytes:
    path = ["espri-vre", "api", "data", "opendap", *key.split("/")]
    response = await jp_fetch(*path, params={"url": url, **params})
    assert response.code == 200
    return response.body


async def error_of(jp_fetch: Any, url: str, key: str = ".zmetadata", **params: str) -> tuple:
    with pytest.raises(HTTPClientError) as failed:
        await get_key(jp_fetch, url, key, **params)
    return failed.value.code, json.loads(failed.value.response.body)


async def read_through_route(jp_fetch: Any, url: str) -> tuple[dict[str, Any], xr.Dataset]:
    """The store's consolidated metadata, and its numeric arrays read chunk by chunk through
    the route (all asked at once, as the browser's reader does) and decoded by xarray's CF
    decoder (what the previewer's cf.ts does)."""
    meta = json.loads(await get_key(jp_fetch, url, ".zmetadata"))["metadata"]
    arrays = {
        key.removesuffix("/.zarray"): zarray
        for key, zarray in meta.items()
        if key.endswith("/.zarray") and np.dtype(zarray["dtype"]).kind in "iuf"
    }
    keys = [
        (name, index)
        for name, z in arrays.items()
        for index in np.ndindex(
            *([math.ceil(n / c) for n, c in zip(z["shape"], z["chunks"], strict=True)] or [1])
        )
    ]
    raws = await asyncio.gather(
        *(get_key(jp_fetch, url, f"{name}/{'.'.join(map(str, i))}") for name, i in keys)
    )
    values = {name: np.empty(z["shape"], dtype=z["dtype"]) for name, z in arrays.items()}
    for (name, index), raw in zip(keys, raws, strict=True):
        shape, chunks = arrays[name]["shape"], arrays[name]["chunks"]
        chunk = np.frombuffer(raw, arrays[name]["dtype"])
        if not shape:
            values[name] = chunk.reshape(())
            continue
        target = tuple(
            slice(i * c, min(n, (i + 1) * c)) for i, c, n in zip(index, chunks, shape, strict=True)
        )
        part = chunk.reshape(chunks)[tuple(slice(0, s.stop - s.start) for s in target)]
        values[name][target] = part
    variables = {}
    for name, zarray in arrays.items():
        zattrs = meta[f"{name}/.zattrs"]
        attrs = {k: v for k, v in zattrs.items() if k != "_ARRAY_DIMENSIONS"}
        if zarray["fill_value"] == "NaN":
            attrs.setdefault("_FillValue", np.nan)
        variables[name] = xr.Variable(zattrs["_ARRAY_DIMENSIONS"], values[name], attrs)
    return meta, xr.decode_cf(xr.Dataset(variables))


def assert_as_xarray_reads(got: xr.Dataset, expected: xr.Dataset, where: str) -> None:
    for name, want in expected.variables.items():
        if want.dtype.kind in "SU":
            continue  # text: listed, not served (the route answers why)
        have = got[name]
        assert have.dims == want.dims, (where, name)
        if want.dtype.kind in "OM":
            # Times: the same dates in the file's calendar (cftime objects compare by value
            # and calendar), not merely close numbers.
            assert have.values.ravel().tolist() == want.values.ravel().tolist(), (where, name)
        else:
            # Relative only: no max(1, |w|) denominator lets small values pass unchecked.
            np.testing.assert_allclose(
                have.values,
                want.values,
                rtol=FLOAT32_RTOL,
                atol=0,
                equal_nan=True,
                err_msg=f"{where} {name}",
            )


@needs_shared
async def test_every_cmip6_variable_through_opendap_is_what_xarray_reads(
    jp_fetch, servers: DapServers, served: Path
):
    files = sorted((served / "cmip6").rglob("*.nc"))
    assert len(files) > 50
    for path in files:
        relative = path.relative_to(served).as_posix()
        meta, got = await read_through_route(jp_fetch, servers.url(relative))
        with xr.open_dataset(path) as expected:
            assert sorted(k.removesuffix("/.zarray") for k in meta if k.endswith("/.zarray")) == (
                sorted(map(str, expected.variables))
            )
            assert meta[".zattrs"]["tracking_id"] == expected.attrs["tracking_id"]
            assert_as_xarray_reads(got, expected, relative)
            time = expected["time"]
            calendar = time.encoding.get("calendar", "standard")
            assert meta["time/.zattrs"]["calendar"] == calendar, relative


async def test_the_demo_tas_through_opendap_is_what_xarray_reads(
    jp_fetch, servers: DapServers, served: Path
):
    meta, got = await read_through_route(jp_fetch, servers.url("tas.nc"))
    assert meta["tas/.zattrs"]["units"] == "K"
    with xr.open_dataset(served / "tas.nc") as expected:
        assert_as_xarray_reads(got, expected, "tas.nc")


@needs_shared
async def test_a_text_variable_is_listed_and_its_chunks_refused_with_why(
    jp_fetch, servers: DapServers, served: Path
):
    # The land cover fractions name their sectors in a text variable.
    path = next((served / "cmip6").rglob("landCoverFrac_*.nc"))
    name = "sector"
    with xr.open_dataset(path) as expected:
        assert expected[name].dtype.kind in "SU"
    code, body = await error_of(
        jp_fetch, servers.url(path.relative_to(served).as_posix()), f"{name}/0"
    )
    assert code == 422 and body["error"] == "chunk-refused"
    assert "does not serve" in body["detail"]


async def test_an_unreachable_server_is_said_so(jp_fetch, servers: DapServers):
    code, body = await error_of(jp_fetch, servers.url("tas.nc", "closed"))
    assert code == 502 and body["error"] == "unreachable"
    assert "cannot be reached" in body["detail"]
    assert f"127.0.0.1:{servers.closed_port}" in body["detail"]


async def test_an_html_answer_is_not_taken_for_a_dataset(jp_fetch, servers: DapServers):
    code, body = await error_of(jp_fetch, servers.url("tas.nc", "html"))
    assert code == 502 and body["error"] == "not-opendap"
    assert "HTML page" in body["detail"]


async def test_a_redirect_to_a_host_outside_the_allow_list_is_refused(
    jp_fetch, servers: DapServers
):
    code, body = await error_of(jp_fetch, servers.url("moved/tas.nc", "html"))
    assert code == 403 and body["error"] == "host-not-allowed"
    assert f"localhost:{servers.dap_port}" in body["detail"]


async def test_a_host_outside_the_allow_list_is_never_contacted(jp_fetch, servers: DapServers):
    code, body = await error_of(jp_fetch, f"http://localhost:{servers.dap_port}/tas.nc")
    assert code == 403 and body["error"] == "host-not-allowed"
    code, body = await error_of(jp_fetch, "file:///etc/passwd")
    assert code == 400 and "http and https" in body["detail"]


async def test_a_missing_dataset_and_bad_arguments_get_clear_answers(jp_fetch, servers: DapServers):
    code, body = await error_of(jp_fetch, servers.url("absent.nc"))
    assert code == 404 and "answered HTTP 404" in body["detail"]
    code, body = await error_of(jp_fetch, "")
    assert code == 400 and "url" in body["detail"]
    code, body = await error_of(jp_fetch, servers.url("tas.nc"), protocol="dap5")
    assert code == 400 and "dap2 or dap4" in body["detail"]
    code, body = await error_of(jp_fetch, servers.url("tas.nc"), "nothing/0.0.0")
    assert code == 404 and "its variables are" in body["detail"]
    code, body = await error_of(jp_fetch, servers.url("tas.nc"), "tas/999.0.0")
    assert code == 422 and "outside its grid" in body["detail"]


def test_dap_urls_name_the_dataset_and_its_protocol():
    assert dap_url("http://h/thredds/dodsC/a/b.nc.html") == dap_url("http://h/thredds/dodsC/a/b.nc")
    found = dap_url("http://h/thredds/dodsC/a/b.nc.dds?tas[0:1:0]")
    assert (found.url, found.protocol) == ("http://h/thredds/dodsC/a/b.nc", "dap2")
    found = dap_url("http://h/thredds/dap4/a/b.nc.dmr.xml")
    assert (found.url, found.protocol) == ("http://h/thredds/dap4/a/b.nc", "dap4")
    found = dap_url("dap4://h/opendap/b.nc")
    assert (found.url, found.protocol) == ("https://h/opendap/b.nc", "dap4")
    assert dap_url("http://h/b.nc", "dap4").protocol == "dap4"
    with pytest.raises(InvalidTarget, match="dap2 or dap4"):
        dap_url("http://h/b.nc", "dap3")


def test_datasets_are_cached_by_url_within_a_bound_and_chunks_bounded_in_bytes(
    servers: DapServers, served: Path
):
    allow, _ = AllowList.from_config([], servers.allowed_hosts)
    datasets = OpendapDatasets(allow, ProxyLimits(timeout=10), max_entries=1, chunk_bytes=4096)
    tas = dap_url(servers.url("tas.nc"))
    store = datasets.store(tas)
    assert datasets.store(dap_url(servers.url("tas.nc.html"))) is store
    meta = json.loads(datasets.get(tas, ".zmetadata"))["metadata"]
    zarray = meta["tas/.zarray"]
    itemsize = np.dtype(zarray["dtype"]).itemsize
    assert math.prod(zarray["chunks"]) * itemsize <= 4096 < math.prod(zarray["shape"]) * itemsize
    assert len(datasets.get(tas, "tas/0.0.0")) == math.prod(zarray["chunks"]) * itemsize
    with xr.open_dataset(served / "tas.nc") as expected:
        first = np.frombuffer(datasets.get(tas, "tas/0.0.0"), zarray["dtype"])
        chunk = expected["tas"].values[tuple(slice(0, c) for c in zarray["chunks"])]
        np.testing.assert_array_equal(first.reshape(chunk.shape), chunk)
    if CMIP6.is_dir():
        other = next((served / "cmip6").rglob("*.nc")).relative_to(served).as_posix()
        datasets.store(dap_url(servers.url(other)))
        assert len(datasets) == 1 and datasets.store(tas) is not store
    with pytest.raises(HostNotAllowed):
        datasets.store(dap_url(f"http://localhost:{servers.dap_port}/tas.nc"))


def test_an_answer_larger_than_the_proxys_limit_is_refused_with_why(servers: DapServers):
    """The demo's tas (36 x 90 x 180 float32, 2.2 MiB) is one chunk of the 4 MiB target; the
    server reads at most 32 KiB of one answer here."""
    allow, _ = AllowList.from_config([], servers.allowed_hosts)
    datasets = OpendapDatasets(allow, ProxyLimits(timeout=10, max_bytes=32 * 1024))
    tas = dap_url(servers.url("tas.nc"))
    zarray = json.loads(datasets.get(tas, ".zmetadata"))["metadata"]["tas/.zarray"]
    assert zarray["chunks"] == zarray["shape"] == [36, 90, 180]
    with pytest.raises(OpendapError, match="more than 32,768 bytes") as refused:
        datasets.get(tas, "tas/0.0.0")
    assert refused.value.status == 502
    assert "too large to be previewed" in refused.value.detail
