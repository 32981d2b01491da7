"""The crate view's "Validate" (POST provenance/crate) where it cannot validate: no contexts
folder set and w3id.org out of reach (this machine has no internet; the test also routes HTTPS
through a refused proxy so that no request leaves it), a folder that is not one, a folder
without contexts. Each answer is a 503 that says exactly what to set; the crate is left as it
was. The route validating with the folder set: test_provenance_batch_script (a Torque job's
crate) and test_provenance_handlers (a broken crate)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from espri_vre.provenance.validation import CONTEXTS_ENV, IMAGE_CONTEXTS

WHAT_TO_SET = (
    "set ESPRI_VRE_ROCRATE_CONTEXTS to a folder holding <version>/context.jsonld for RO-Crate "
    "1.1, 1.2, 1.3, each the file published at https://w3id.org/ro/crate/<version>/context"
)


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"espri_vre": True}}}


@pytest.fixture
def crate(jp_root_dir: Path) -> Path:
    """The metadata of a crate naming the RO-Crate 1.1 context, as our exports do."""
    folder = Path(jp_root_dir) / "study" / "analysis-crate"
    folder.mkdir(parents=True)
    metadata = {
        "@context": [
            "https://w3id.org/ro/crate/1.1/context",
            {"sha256": "https://w3id.org/ro/terms/workflow-run#sha256"},
        ],
        "@graph": [{"@id": "ro-crate-metadata.json", "about": {"@id": "./"}}],
    }
    (folder / "ro-crate-metadata.json").write_text(json.dumps(metadata))
    return folder


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> int:
    """HTTPS through a proxy on a loopback port nobody listens on: w3id.org cannot answer."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    return port


async def validate(
    jp_fetch: Any, path: str = "study/analysis-crate", timeout: float = 60
) -> tuple[int, dict[str, Any]]:
    """POST provenance/crate (the crate view's validation) of the crate at `path`: (code, body)."""
    try:
        response = await jp_fetch(
            "espri-vre",
            "api",
            "provenance",
            "crate",
            method="POST",
            body="",
            params={"path": path},
            request_timeout=timeout,
        )
    except HTTPClientError as e:
        assert e.response is not None
        return e.code, json.loads(e.response.body)
    return response.code, json.loads(response.body)


async def test_without_a_contexts_folder_nor_w3id_org_the_route_says_what_to_set_no_network_here(
    jp_fetch, crate: Path, offline, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv(CONTEXTS_ENV, raising=False)
    before = (crate / "ro-crate-metadata.json").read_bytes()
    code, body = await validate(jp_fetch)
    assert (code, body["error"]) == (503, "unavailable"), body
    detail = body["detail"]
    assert detail.startswith(
        "No RO-Crate contexts are configured on this server (ESPRI_VRE_ROCRATE_CONTEXTS is not "
        "set) and w3id.org cannot be used: https://w3id.org/ro/crate/1.1/context did not answer ("
    )
    assert f"To validate crates offline, {WHAT_TO_SET}" in detail
    assert f"the espri-vre images hold them in {IMAGE_CONTEXTS}" in detail
    assert (crate / "ro-crate-metadata.json").read_bytes() == before
    assert sorted(p.name for p in crate.iterdir()) == ["ro-crate-metadata.json"]


async def test_a_contexts_setting_that_is_no_folder_of_contexts_is_refused_saying_what_to_set(
    jp_fetch, crate: Path, tmp_path: Path, offline, monkeypatch: pytest.MonkeyPatch
):
    not_a_folder = tmp_path / "contexts.jsonld"
    not_a_folder.write_text("{}")
    monkeypatch.setenv(CONTEXTS_ENV, str(not_a_folder))
    code, body = await validate(jp_fetch)
    assert code == 503
    assert body["detail"] == (
        f"ESPRI_VRE_ROCRATE_CONTEXTS names {not_a_folder}, which is not a folder: {WHAT_TO_SET} "
        f"(the espri-vre images hold them in {IMAGE_CONTEXTS}; `python -m "
        "espri_vre.provenance.validation fetch-contexts FOLDER` fetches them where w3id.org "
        "answers)."
    )

    empty = tmp_path / "empty"
    (empty / "1.1").mkdir(parents=True)  # a version folder without its context.jsonld
    monkeypatch.setenv(CONTEXTS_ENV, str(empty))
    code, body = await validate(jp_fetch)
    assert code == 503
    assert body["detail"].startswith(f"{empty} holds no <version>/context.jsonld: {WHAT_TO_SET}")
