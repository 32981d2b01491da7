"""A crate checked by an independent validator, as a reviewer would check it: `roc-validator`
(PyPI; import `rocrate_validator`) against the Provenance Run Crate 0.5 profile.

The validator fetches the JSON-LD context each crate names (https://w3id.org/ro/crate/<version>/
context); the centre's machines cannot reach w3id.org, so it runs in its offline mode on an HTTP
cache holding the genuine contexts served locally: a folder given by ESPRI_VRE_ROCRATE_CONTEXTS,
one `<version>/context.jsonld` per RO-Crate version (as published), each saved under its own
address and never another version's, so that a crate using a term its version lacks fails as
it would online. No folder configured, or roc-validator not installed: a clear 503, nothing
guessed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from pathlib import Path
from typing import Any

from ..errors import EspriVreError, code_for

CONTEXTS_ENV = "ESPRI_VRE_ROCRATE_CONTEXTS"
PROFILE = "provenance-run-crate-0.5"
CONTEXT_URL = "https://w3id.org/ro/crate/{version}/context"
MAX_ISSUES = 50
"""More issues than this at one level are counted, not listed."""

_lock = threading.Lock()
"""The validator keeps module-level state (its profile registry, the HTTP cache's session):
one validation at a time per server."""


class ValidationUnavailable(EspriVreError):
    """The validator cannot run on this server: what is missing is said."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, status=503, code=code_for(503))


def contexts_folder(environ: dict[str, str] | None = None) -> Path:
    """The folder of the genuine contexts, from ESPRI_VRE_ROCRATE_CONTEXTS."""
    configured = (environ if environ is not None else os.environ).get(CONTEXTS_ENV)
    if not configured:
        raise ValidationUnavailable(
            f"No RO-Crate contexts are configured on this server ({CONTEXTS_ENV}: a folder of "
            "<version>/context.jsonld as published at w3id.org/ro/crate): the crate cannot be "
            "validated offline."
        )
    folder = Path(configured).expanduser()
    if not folder.is_dir():
        raise ValidationUnavailable(f"{CONTEXTS_ENV} names {folder}, which is not a folder.")
    return folder


def default_cache_dir() -> Path:
    """Where the HTTP cache of the contexts is kept (the user's Jupyter data folder)."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "espri-vre" / "validator-cache"


def _contexts(folder: Path) -> dict[str, bytes]:
    """{address: bytes} of each context of `folder`, checked to be the context of its address."""
    found = {}
    for version in sorted(p for p in folder.iterdir() if (p / "context.jsonld").is_file()):
        data = (version / "context.jsonld").read_bytes()
        url = CONTEXT_URL.format(version=version.name)
        try:
            said = json.loads(data).get("@id")
        except (ValueError, AttributeError):
            said = None
        if said != url:
            raise ValidationUnavailable(
                f"{version / 'context.jsonld'} is not the context of {url} (its @id is {said!r})."
            )
        found[url] = data
    if not found:
        raise ValidationUnavailable(f"{folder} holds no <version>/context.jsonld.")
    return found


def offline_cache(folder: Path, cache_dir: Path) -> Path:
    """An HTTP cache (requests-cache, as the validator's offline mode reads it) holding each
    context of `folder` under its own address; made once per set of contexts."""
    import requests
    import urllib3
    from requests_cache import CachedSession

    contexts = _contexts(folder)
    digest = hashlib.sha256(b"".join(u.encode() + d for u, d in sorted(contexts.items())))
    cache = cache_dir / f"rocrate-contexts-{digest.hexdigest()[:16]}"
    if cache.with_suffix(".sqlite").is_file():
        return cache
    cache_dir.mkdir(parents=True, exist_ok=True)
    session = CachedSession(cache_name=str(cache), backend="sqlite")
    try:
        # Saved as the responses w3id.org would give: requests-cache has no other way in.
        for url, data in contexts.items():
            response = requests.Response()
            response.status_code, response._content, response.url = 200, data, url
            response.headers["Content-Type"] = "application/ld+json"
            response.request = requests.Request("GET", url).prepare()
            response.raw = urllib3.HTTPResponse(
                body=io.BytesIO(data),
                headers=dict(response.headers),
                status=200,
                preload_content=False,
                request_url=url,
            )
            session.cache.save_response(response)
    finally:
        session.close()
    return cache


def validate_crate(
    crate_dir: Path, contexts: Path, cache_dir: Path, profile: str = PROFILE
) -> dict[str, Any]:
    """What roc-validator says of `crate_dir`: `passed` at the REQUIRED level (with the issues
    when not), and the checks failed at the RECOMMENDED level."""
    try:
        from rocrate_validator import models, services
    except ImportError as e:
        raise ValidationUnavailable(
            "roc-validator (PyPI) is not installed on this server: the crate cannot be "
            "validated here."
        ) from e
    if not (crate_dir / "ro-crate-metadata.json").is_file():
        raise EspriVreError(
            f"{crate_dir.name} is not an RO-Crate: it has no ro-crate-metadata.json.",
            status=404,
            code=code_for(404),
        )
    with _lock:
        # One pass at the RECOMMENDED level, which runs the REQUIRED checks too (each pass
        # costs seconds of SHACL): the levels are told apart by each issue's severity.
        result = services.validate(
            models.ValidationSettings(
                rocrate_uri=str(crate_dir),
                profile_identifier=profile,
                requirement_severity=models.Severity.RECOMMENDED,
                offline=True,
                cache_path=offline_cache(contexts, cache_dir),
            )
        )
    required = models.Severity.REQUIRED
    issues = [
        {"check": issue.check.name, "message": str(issue.message)}
        for issue in result.get_issues(required)
    ]
    required_checks = {i["check"] for i in issues}
    should = sorted({i.check.name for i in result.get_issues()} - required_checks)
    return {
        "profile": profile,
        "passed": result.passed(required),
        "required": issues[:MAX_ISSUES],
        "required_count": len(issues),
        "recommended": should[:MAX_ISSUES],
        "recommended_count": len(should),
        "contexts": sorted(_contexts(contexts)),
    }
