"""A crate checked by an independent validator, as a reviewer would check it: `roc-validator`
(PyPI; import `rocrate_validator`, a dependency of the server) against the Provenance Run Crate
0.5 profile.

The validator reads the JSON-LD context each crate names (https://w3id.org/ro/crate/<version>/
context). Where it comes from:
- ESPRI_VRE_ROCRATE_CONTEXTS set (the images set it: their build fetched the genuine 1.1, 1.2
  and 1.3 contexts, `python -m espri_vre.provenance.validation fetch-contexts`): the validator
  runs offline on an HTTP cache holding each context of that folder (`<version>/context.jsonld`)
  under its own address and never another version's, so that a crate using a term its version
  lacks fails as it would online. The centre's compute nodes cannot reach w3id.org.
- not set: the validator fetches the contexts online, its normal behaviour, when w3id.org
  answers; when it does not, a clear 503 saying what to set. Nothing is guessed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

from ..errors import EspriVreError, code_for

CONTEXTS_ENV = "ESPRI_VRE_ROCRATE_CONTEXTS"
PROFILE = "provenance-run-crate-0.5"
CONTEXT_URL = "https://w3id.org/ro/crate/{version}/context"
VERSIONS = ("1.1", "1.2", "1.3")
"""The RO-Crate versions whose contexts the images hold (crates name one of them)."""
IMAGE_CONTEXTS = "/opt/espri-vre/share/ro-crate-contexts"
"""Where the images keep them (environments/Dockerfile)."""
ONLINE_TIMEOUT = 5.0
"""Seconds w3id.org has to answer before the server says it cannot validate online."""
MAX_CONTEXT_BYTES = 4 << 20
"""A context is about 200 kB; an answer larger than this is not one."""
MAX_ISSUES = 50
"""More issues than this at one level are counted, not listed."""
WHAT_TO_SET = (
    f"set {CONTEXTS_ENV} to a folder holding <version>/context.jsonld for RO-Crate "
    f"{', '.join(VERSIONS)}, each the file published at {CONTEXT_URL.format(version='<version>')} "
    f"(the espri-vre images hold them in {IMAGE_CONTEXTS}; `python -m "
    "espri_vre.provenance.validation fetch-contexts FOLDER` fetches them where w3id.org answers)"
)

_lock = threading.Lock()
"""The validator keeps module-level state (its profile registry, the HTTP cache's session):
one validation at a time per server."""


class ValidationUnavailable(EspriVreError):
    """The validator cannot run on this server: what is missing is said."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, status=503, code=code_for(503))


def contexts_folder(environ: dict[str, str] | None = None) -> Path | None:
    """The folder of the genuine contexts, from ESPRI_VRE_ROCRATE_CONTEXTS; None when it is not
    set (the validator then reads the contexts online, when w3id.org answers)."""
    configured = (environ if environ is not None else os.environ).get(CONTEXTS_ENV)
    if not configured:
        return None
    folder = Path(configured).expanduser()
    if not folder.is_dir():
        raise ValidationUnavailable(
            f"{CONTEXTS_ENV} names {folder}, which is not a folder: {WHAT_TO_SET}."
        )
    return folder


def fetch_context(address: str, timeout: float = ONLINE_TIMEOUT) -> bytes:
    """The context published at `address`, checked to be that context (its @id); raises
    ValidationUnavailable saying why when it cannot be had."""
    import requests

    try:
        with requests.get(
            address,
            headers={"Accept": "application/ld+json, application/json;q=0.9"},
            timeout=timeout,
            stream=True,
        ) as answer:
            answer.raise_for_status()
            data = answer.raw.read(MAX_CONTEXT_BYTES + 1, decode_content=True)
    except requests.RequestException as e:
        # requests' words name the host, the proxy and the socket error: the admin's clue
        raise ValidationUnavailable(f"{address} did not answer ({str(e)[:300]}).") from e
    if len(data) > MAX_CONTEXT_BYTES:
        raise ValidationUnavailable(f"{address} answered more than {MAX_CONTEXT_BYTES} bytes.")
    _check_context(data, address, address)
    return data


def _check_context(data: bytes, address: str, where: str) -> None:
    try:
        said = json.loads(data).get("@id")
    except (ValueError, AttributeError):
        said = None
    if said != address:
        raise ValidationUnavailable(
            f"{where} is not the context of {address} (its @id is {said!r})."
        )


def default_cache_dir() -> Path:
    """Where the HTTP cache of the contexts is kept (the user's Jupyter data folder)."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "espri-vre" / "validator-cache"


def folder_contexts(folder: Path) -> dict[str, bytes]:
    """{address: bytes} of each context of `folder`, checked to be the context of its address."""
    found = {}
    for version in sorted(p for p in folder.iterdir() if (p / "context.jsonld").is_file()):
        data = (version / "context.jsonld").read_bytes()
        url = CONTEXT_URL.format(version=version.name)
        _check_context(data, url, str(version / "context.jsonld"))
        found[url] = data
    if not found:
        raise ValidationUnavailable(f"{folder} holds no <version>/context.jsonld: {WHAT_TO_SET}.")
    return found


def named_contexts(crate_dir: Path) -> list[str]:
    """The RO-Crate context addresses the crate's metadata names in its @context."""
    try:
        named = json.loads((crate_dir / "ro-crate-metadata.json").read_bytes()).get("@context")
    except (OSError, ValueError, AttributeError):
        return []  # the validator says what is wrong with the metadata
    named = named if isinstance(named, list) else [named]
    pattern = re.compile(re.escape(CONTEXT_URL).replace(r"\{version\}", r"[0-9][0-9.]*"))
    return sorted({n for n in named if isinstance(n, str) and pattern.fullmatch(n)})


def online_contexts(crate_dir: Path) -> dict[str, bytes]:
    """{address: bytes} of the contexts the crate names, fetched from w3id.org: when no folder
    is configured. Raises a 503 saying what to set when w3id.org does not give them."""
    found = {}
    for address in named_contexts(crate_dir):
        try:
            found[address] = fetch_context(address)
        except ValidationUnavailable as e:
            raise ValidationUnavailable(
                f"No RO-Crate contexts are configured on this server ({CONTEXTS_ENV} is not "
                f"set) and w3id.org cannot be used: {e.detail} To validate crates offline, "
                f"{WHAT_TO_SET}."
            ) from e
    return found


def offline_cache(folder: Path, cache_dir: Path) -> Path:
    """An HTTP cache (requests-cache, as the validator's offline mode reads it) holding each
    context of `folder` under its own address; made once per set of contexts."""
    return _cache_of(folder_contexts(folder), cache_dir)


def _cache_of(contexts: dict[str, bytes], cache_dir: Path) -> Path:
    import requests
    import urllib3
    from requests_cache import CachedSession

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
    crate_dir: Path, contexts: Path | None, cache_dir: Path, profile: str = PROFILE
) -> dict[str, Any]:
    """What roc-validator says of `crate_dir`: `passed` at the REQUIRED level (with the issues
    when not), and the checks failed at the RECOMMENDED level. `contexts`: the folder of the
    genuine contexts, or None to fetch those the crate names from w3id.org."""
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
    # Fetched by us rather than by the validator's own online mode: each context is checked to
    # be the one of its address, within a time limit, and the validation runs as it does on a
    # configured folder.
    known = folder_contexts(contexts) if contexts is not None else online_contexts(crate_dir)
    with _lock:
        # One pass at the RECOMMENDED level, which runs the REQUIRED checks too (each pass
        # costs seconds of SHACL): the levels are told apart by each issue's severity.
        result = services.validate(
            models.ValidationSettings(
                rocrate_uri=str(crate_dir),
                profile_identifier=profile,
                requirement_severity=models.Severity.RECOMMENDED,
                offline=True,
                cache_path=_cache_of(known, cache_dir),
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
        "contexts": sorted(known),
    }


def fetch_contexts(folder: Path, addresses: list[str]) -> list[Path]:
    """Writes the context published at each address (https://w3id.org/ro/crate/<version>/
    context) to `folder`/<version>/context.jsonld, as ESPRI_VRE_ROCRATE_CONTEXTS reads them;
    the images' build runs it. Nothing is written unless every context was had and checked."""
    pattern = re.compile(re.escape(CONTEXT_URL).replace(r"\{version\}", r"([0-9][0-9.]*)"))
    versions = []
    for address in addresses:
        if not (match := pattern.fullmatch(address)):
            raise ValueError(f"{address} is not an RO-Crate context address ({CONTEXT_URL})")
        versions.append(match.group(1))
    fetched = [fetch_context(address, timeout=60) for address in addresses]
    written = []
    for version, data in zip(versions, fetched, strict=True):
        (folder / version).mkdir(parents=True, exist_ok=True)
        (folder / version / "context.jsonld").write_bytes(data)
        written.append(folder / version / "context.jsonld")
    return written


def main(argv: list[str] | None = None) -> int:
    """python -m espri_vre.provenance.validation fetch-contexts FOLDER ADDRESS..."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m espri_vre.provenance.validation")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch-contexts", help=fetch_contexts.__doc__.split(";")[0])
    fetch.add_argument("folder", type=Path)
    fetch.add_argument(
        "addresses",
        nargs="*",
        default=[CONTEXT_URL.format(version=v) for v in VERSIONS],
        help=f"default: those of RO-Crate {', '.join(VERSIONS)}",
    )
    args = parser.parse_args(argv)
    try:
        for path in fetch_contexts(args.folder, args.addresses):
            print(path)
    except (ValueError, OSError, ValidationUnavailable) as e:
        print(f"fetch-contexts: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
