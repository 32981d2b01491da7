"""Retracted and superseded inputs: a run that read a real CMIP6 file in its DRS folder is
checked against an ESGF index. The index here is a local HTTP server answering esg-search's
Solr JSON, its documents made from a recorded real ESGF answer (the internet cannot be
reached from these machines); the unreachable and malformed cases are real failures."""

from __future__ import annotations

import copy
import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED, needs_shared
from test_provenance_crate import CMIP6_FILE, run_and_save

from espri_vre.provenance.crate import load_run
from espri_vre.provenance.esgf_status import dataset_status, status_from_docs
from espri_vre.provenance.replay_inputs import resolve_inputs

RECORDED = (
    SHARED
    / "fixtures/catalog"
    / "esgf_esgsearch_solrjson_CMIP6_Dataset_limit10_with_facet_counts__EXTRACTED.json"
)
INSTANCE = "CMIP6.CMIP.CNRM-CERFACS.CNRM-CM6-1.historical.r4i1p1f2.Amon.prsn.gr.v20190125"
DATASET = INSTANCE.rsplit(".", 1)[0]


def recorded_docs() -> list[dict[str, Any]]:
    if not RECORDED.is_file():
        pytest.skip(f"the recorded ESGF answer {RECORDED} is absent")
    return json.loads(RECORDED.read_text())["response"]["docs"]


def version_doc(version: str, *, latest: bool, retracted: bool = False) -> dict[str, Any]:
    """A document of our dataset with every field of a real recorded one."""
    doc = copy.deepcopy(recorded_docs()[0])
    doc.update(
        instance_id=f"{DATASET}.v{version}",
        master_id=DATASET,
        version=version,
        latest=latest,
        retracted=retracted,
    )
    return doc


def test_the_recorded_real_answer_says_current_for_each_of_its_datasets():
    docs = recorded_docs()
    statuses = {status_from_docs(d["instance_id"], docs).status for d in docs}
    assert statuses == {"current"}  # every recorded document is latest and not retracted
    assert status_from_docs(INSTANCE, docs).status == "unknown"


def test_versions_retracted_superseded_and_current():
    old, new = version_doc("20190125", latest=False), version_doc("20200101", latest=True)
    superseded = status_from_docs(INSTANCE, [old, new])
    assert superseded.status == "superseded"
    assert "newer version v20200101 (the run read v20190125)" in superseded.detail
    retracted = status_from_docs(INSTANCE, [version_doc("20190125", latest=True, retracted=True)])
    assert retracted.status == "retracted"
    assert status_from_docs(INSTANCE, [version_doc("20190125", latest=True)]).status == "current"


class _Index(http.server.BaseHTTPRequestHandler):
    docs: list[dict[str, Any]] = []
    body: bytes | None = None
    asked: list[dict[str, list[str]]] = []

    def do_GET(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        type(self).asked.append(query)
        if type(self).body is not None:
            body = type(self).body
        else:
            master = query.get("master_id", [""])[0]
            docs = [d for d in type(self).docs if d["master_id"] == master]
            body = json.dumps({"response": {"numFound": len(docs), "docs": docs}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def index() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    _Index.docs, _Index.body, _Index.asked = [], None, []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/esg-search/search"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def run_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real kernel records a notebook that reads the CMIP6 file in its DRS folder."""
    if not CMIP6_FILE.is_file():
        pytest.skip(f"the CMIP6 sample file {CMIP6_FILE} is absent")
    work = tmp_path_factory.mktemp("esgf")
    cells = [
        "%load_ext espri_vre",
        f"import xarray as xr\nds = xr.open_dataset({str(CMIP6_FILE)!r})\nprint(ds.prsn.shape)",
    ]
    run_and_save(work / "read.ipynb", [(src, {}) for src in cells])
    (log,) = (work / ".espri-vre-provenance/read").glob("*.jsonl")
    return log


@needs_shared
def test_a_superseded_input_is_flagged_by_the_index(run_log, index):
    _Index.docs = [version_doc("20190125", latest=False), version_doc("20210301", latest=True)]
    (check,) = resolve_inputs(load_run(run_log), esgf_index=index)
    assert check.identifiers["instance_id"] == INSTANCE
    assert check.status == "superseded"
    assert check.identifiers["esgf_status"] == "superseded"
    assert "newer version v20210301" in check.detail
    (asked,) = _Index.asked
    assert asked["master_id"] == [DATASET] and asked["type"] == ["Dataset"]


@needs_shared
def test_a_retracted_input_is_flagged(run_log, index):
    _Index.docs = [version_doc("20190125", latest=True, retracted=True)]
    (check,) = resolve_inputs(load_run(run_log), esgf_index=index)
    assert check.status == "retracted"
    assert "should not be used" in check.detail


@needs_shared
def test_without_an_index_or_with_a_current_version_the_input_is_ok(run_log, index):
    (check,) = resolve_inputs(load_run(run_log))
    assert check.status == "ok" and "esgf_status" not in check.identifiers
    _Index.docs = [version_doc("20190125", latest=True)]
    (check,) = resolve_inputs(load_run(run_log), esgf_index=index)
    assert check.status == "ok" and check.identifiers["esgf_status"] == "current"


def test_an_unreachable_or_malformed_index_says_so_and_decides_nothing(index):
    closed = dataset_status("http://127.0.0.1:9/esg-search/search", INSTANCE, timeout=5)
    assert closed.status == "unknown" and "did not answer" in closed.detail
    _Index.body = b"<html>maintenance</html>"
    broken = dataset_status(index, INSTANCE)
    assert broken.status == "unknown" and "not Solr JSON" in broken.detail
    assert dataset_status(index, "not-an-instance-id").status == "unknown"


# A CORDEX-CMIP6 file as the archive specifications (v2) describe it: every DRS element a
# global attribute, the file at its place in the ESGF directory structure.
CORDEX_CMIP6_DATASET = (
    "CORDEX-CMIP6.DD.EUR-12.CLMcom-KIT.ERA5.evaluation.r1i1p1f1.ICON-CLM-202407-1-1.v1-r1.mon.tas"
)
CORDEX_CMIP6_ATTRIBUTES = {
    "project_id": "CORDEX-CMIP6",
    "mip_era": "CMIP6",
    "activity_id": "DD",
    "domain_id": "EUR-12",
    "domain": "Europe",
    "institution_id": "CLMcom-KIT",
    "driving_source_id": "ERA5",
    "driving_experiment_id": "evaluation",
    "driving_variant_label": "r1i1p1f1",
    "source_id": "ICON-CLM-202407-1-1",
    "version_realization": "v1-r1",
    "frequency": "mon",
    "variable_id": "tas",
    "tracking_id": "hdl:21.14103/187fcd6c-7cc6-11ee-9481-7824afb1963b",
}


def test_a_cordex_cmip6_input_gets_its_dataset_id_and_is_checked_for_retraction(
    tmp_path: Path, index: str
):
    """A real kernel reads the file with xarray; the recorded input carries the dataset id
    (and the version from its folder), and the index's retraction reaches the replay's check."""
    import numpy as np
    import xarray as xr

    drs = tmp_path / CORDEX_CMIP6_DATASET.replace(".", "/") / "v20240920"
    drs.mkdir(parents=True)
    name = "tas_EUR-12_ERA5_evaluation_r1i1p1f1_CLMcom-KIT_ICON-CLM-202407-1-1_v1-r1_mon"
    path = drs / f"{name}_197901-198012.nc"
    xr.Dataset(
        {"tas": (("time",), np.arange(24, dtype="float32"))}, attrs=CORDEX_CMIP6_ATTRIBUTES
    ).to_netcdf(path)
    cells = [
        "%load_ext espri_vre",
        f"import xarray as xr\nds = xr.open_dataset({str(path)!r})\nprint(float(ds.tas.sum()))",
    ]
    (tmp_path / "work").mkdir()
    run_and_save(tmp_path / "work" / "read.ipynb", [(src, {}) for src in cells])
    (log,) = (tmp_path / "work" / ".espri-vre-provenance/read").glob("*.jsonl")
    retracted = {
        "instance_id": f"{CORDEX_CMIP6_DATASET}.v20240920",
        "master_id": CORDEX_CMIP6_DATASET,
        "version": "20240920",
        "latest": True,
        "retracted": True,
    }
    _Index.docs = [retracted]
    (check,) = resolve_inputs(load_run(log), esgf_index=index)
    assert check.identifiers["instance_id"] == f"{CORDEX_CMIP6_DATASET}.v20240920"
    assert check.identifiers["pid"] == CORDEX_CMIP6_ATTRIBUTES["tracking_id"]
    assert check.status == "retracted"
    (asked,) = _Index.asked
    assert asked["master_id"] == [CORDEX_CMIP6_DATASET]
    # missing one DRS element, no dataset id is guessed (and the index is not asked)
    partial = {k: v for k, v in CORDEX_CMIP6_ATTRIBUTES.items() if k != "version_realization"}
    from espri_vre.provenance.identifiers import identifiers_from_attributes

    found = identifiers_from_attributes(partial, path)
    assert (found.dataset_id, found.instance_id) == (None, None)
    assert found.tracking_id == CORDEX_CMIP6_ATTRIBUTES["tracking_id"]
