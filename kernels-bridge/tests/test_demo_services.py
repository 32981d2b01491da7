"""The demo's local services (`python -m espri_vre.demo serve DIR`, run by scripts/demo.sh): the
configuration the builder writes for them, and the real servers answering, a STAC API
(stac-fastapi-geoparquet) whose items link to the OPeNDAP server (pydap's), read here with
xarray over pydap's client against the file's own values."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from espri_vre.demo.catalogs import STAC_API_CATALOG, with_services
from espri_vre.demo.services import SERVICES_FILE

BASE = {
    "ServerApp": {"root_dir": "/demo"},
    "EspriVreApp": {
        "catalogs": [{"id": "demo-esm", "kind": "intake-esm", "url": "/demo/esm.json"}],
        "allowed_hosts": ["esgf-node.ipsl.upmc.fr"],
    },
}


def test_services_become_a_catalogue_and_allowed_hosts():
    config = with_services(
        BASE, {"stac_api": "http://127.0.0.1:5001/", "opendap": "http://127.0.0.1:5002/"}, {}
    )
    app = config["EspriVreApp"]
    assert [c["id"] for c in app["catalogs"]] == ["demo-esm", STAC_API_CATALOG]
    assert app["catalogs"][1]["kind"] == "stac"
    assert app["catalogs"][1]["url"] == "http://127.0.0.1:5001/"
    assert app["allowed_hosts"] == ["esgf-node.ipsl.upmc.fr", "127.0.0.1:5001", "127.0.0.1:5002"]
    assert config["ServerApp"] == BASE["ServerApp"]
    assert BASE["EspriVreApp"]["allowed_hosts"] == ["esgf-node.ipsl.upmc.fr"]  # not changed


def test_a_new_run_replaces_the_last_runs_services_and_a_missing_one_is_left_out():
    first = {"stac_api": "http://127.0.0.1:5001/", "opendap": "http://127.0.0.1:5002/"}
    config = with_services(BASE, first, {})
    # The STAC API's packages are absent this time: the OPeNDAP server alone, on a new port.
    again = with_services(config, {"stac_api": None, "opendap": "http://127.0.0.1:6002/"}, first)
    app = again["EspriVreApp"]
    assert [c["id"] for c in app["catalogs"]] == ["demo-esm"]
    assert app["allowed_hosts"] == ["esgf-node.ipsl.upmc.fr", "127.0.0.1:6002"]


@pytest.fixture(scope="module")
def served(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`serve` over a copy of the session's demo (serve rewrites its configuration)."""
    for module in ("stac_fastapi.geoparquet", "rustac_duckdb_extensions", "pydap"):
        pytest.importorskip(module, reason=f"{module} (the test extra) is absent")
    copy = tmp_path_factory.mktemp("served") / "demo"
    copy.mkdir()
    shutil.copy(demo_dir / "jupyter_server_config.json", copy)
    shutil.copytree(demo_dir / "data", copy / "data")
    shutil.copytree(demo_dir / "catalogs" / "stac", copy / "catalogs" / "stac")
    proc = subprocess.Popen(
        [sys.executable, "-m", "espri_vre.demo", "serve", str(copy)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("{"), line + proc.stderr.read()
        yield {**json.loads(line), "dir": copy, "proc": proc}
    finally:
        proc.stdin.close()  # what demo.sh's end does: serve stops by itself
        assert proc.wait(30) == 0, proc.stderr.read()


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.load(answer)


def test_serve_points_the_configuration_at_the_running_servers(served: dict[str, Any]):
    assert served["problems"] == []
    config = json.loads((served["dir"] / "jupyter_server_config.json").read_text())
    app = config["EspriVreApp"]
    stac = next(c for c in app["catalogs"] if c["id"] == STAC_API_CATALOG)
    assert stac["url"] == served["stac_api"]
    hosts = {url.split("/")[2] for url in (served["stac_api"], served["opendap"])}
    assert hosts <= set(app["allowed_hosts"])
    kept = json.loads((served["dir"] / SERVICES_FILE).read_text())
    assert kept == {"stac_api": served["stac_api"], "opendap": served["opendap"]}


def test_the_stac_api_items_link_to_the_opendap_server_which_serves_the_files_values(
    served: dict[str, Any],
):
    landing = get_json(served["stac_api"])
    assert any(uri.endswith("/item-search") for uri in landing["conformsTo"])
    page = get_json(f"{served['stac_api']}search?ids=tas-demo-monthly")
    (tas,) = page["features"]
    asset = tas["assets"]["netcdf-opendap"]
    assert asset["type"] == "application/vnd.opendap"
    assert asset["href"] == f"{served['opendap']}tas_demo_monthly.nc"
    local = Path(tas["assets"]["netcdf"]["href"].removeprefix("file://"))
    assert local == served["dir"] / "data" / "tas_demo_monthly.nc"

    with (
        # pydap names the protocol by the scheme (http:// works, with a warning)
        xr.open_dataset(
            asset["href"].replace("http://", "dap2://"), engine="pydap", decode_times=False
        ) as remote,
        xr.open_dataset(local, decode_times=False) as own,
    ):
        assert remote["tas"].shape == own["tas"].shape
        np.testing.assert_array_equal(remote["tas"][13].values, own["tas"][13].values)
