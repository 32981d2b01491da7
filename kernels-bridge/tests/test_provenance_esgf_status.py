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
