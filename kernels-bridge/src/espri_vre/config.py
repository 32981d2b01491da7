"""Validation of the server's configuration (the `EspriVreApp` traitlets).

Pure functions: they turn the raw lists from the config files into entries the status endpoint
can report, and say what is wrong with each bad one. An entry with a problem stays in the list
(reported as unreachable, with the problem as the reason) unless it cannot be described in the
REST contract at all (not an object, or a kind or transport outside the schema's enums): those
are dropped and only logged.

It lies below `espri_vre.server`, beside `errors`: the domain services (the job service, the
status checks) take these entries, and nothing below the server may import it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

CATALOG_KINDS = ("esgf", "stac", "intake-esm", "thredds", "csw")
CLUSTER_KINDS = ("local", "slurm", "torque")
TRANSPORTS = ("local", "ssh")

CATALOG_KEYS = {"id", "title", "kind", "url", "description"}
CLUSTER_KEYS = {
    "id",
    "title",
    "kind",
    "transport",
    "ssh",
    "defaults",
    "limits",
    "python",
    "max_running",
    "dask",
    "mail",
    "moab",
}
SSH_KEYS = {"host", "user", "key_file", "port", "known_hosts", "env"}
DATA_ROOT_KEYS = {"id", "title", "path"}

DEFAULT_CLUSTER: dict[str, Any] = {
    "id": "local",
    "title": "This server (local processes)",
    "kind": "local",
    "transport": "local",
}


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    title: str
    kind: str
    url: str
    description: str | None = None
    problem: str | None = None
    """Why the entry cannot be checked; None when it is well formed."""


@dataclass(frozen=True)
class ClusterEntry:
    id: str
    title: str
    kind: str
    transport: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    """The entry as configured, with its defaults filled in: what the job back ends receive."""
    problem: str | None = None


@dataclass(frozen=True)
class DataRootEntry:
    id: str
    title: str
    path: str
    problem: str | None = None


@dataclass
class Validated:
    catalogs: list[CatalogEntry] = field(default_factory=list)
    clusters: list[ClusterEntry] = field(default_factory=list)
    data_roots: list[DataRootEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """One sentence per bad entry, naming it: for the server log."""
    warnings: list[str] = field(default_factory=list)


def validate(
    catalogs: Sequence[Any], clusters: Sequence[Any], data_roots: Sequence[Any]
) -> Validated:
    out = Validated()
    out.catalogs = _validate_catalogs(catalogs, out)
    out.clusters = _validate_clusters(clusters or [DEFAULT_CLUSTER], out)
    out.data_roots = _validate_data_roots(data_roots, out)
    return out


def classify_location(location: str) -> tuple[str, str | None]:
    """('url', None) for an http(s) URL, ('path', None) for an absolute server path, or
    ('invalid', reason)."""
    parts = urlsplit(location)
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            return "invalid", f"the URL {location!r} has no host"
        return "url", None
    if len(parts.scheme) > 1:  # one letter is a Windows drive, not a scheme
        return "invalid", (
            f"the URL scheme {parts.scheme!r} is not supported: give an http(s) URL "
            "or an absolute path on the server"
        )
    if not os.path.isabs(os.path.expanduser(location)):
        return "invalid", f"{location!r} is a relative path: give an absolute path on the server"
    return "path", None


def _validate_catalogs(raw: Sequence[Any], out: Validated) -> list[CatalogEntry]:
    entries: list[CatalogEntry] = []
    for item, entry_id, label in _objects(raw, "catalogs", "catalog", out):
        kind = item.get("kind")
        if not _known(kind, CATALOG_KINDS, "kind", label, out):
            continue
        _warn_unknown_keys(item, CATALOG_KEYS, label, out)
        problems = []
        url = item.get("url")
        if not isinstance(url, str) or not url.strip():
            problems.append("it has no url (an http(s) URL or an absolute path on the server)")
            url = ""
        else:
            url = url.strip()
            _, reason = classify_location(url)
            if reason:
                problems.append(reason)
        description = item.get("description")
        if description is not None and not isinstance(description, str):
            out.warnings.append(f"{label}: description is not a string: left out")
            description = None
        entries.append(
            CatalogEntry(
                id=entry_id,
                title=_title(item, entry_id, label, out),
                kind=kind,
                url=url,
                description=description,
                problem=_report(problems, label, out),
            )
        )
    return entries


def _validate_clusters(raw: Sequence[Any], out: Validated) -> list[ClusterEntry]:
    entries: list[ClusterEntry] = []
    for item, entry_id, label in _objects(raw, "clusters", "cluster", out):
        kind = item.get("kind")
        transport = item.get("transport", "local")
        if not (
            _known(kind, CLUSTER_KINDS, "kind", label, out)
            and _known(transport, TRANSPORTS, "transport", label, out)
        ):
            continue
        _warn_unknown_keys(item, CLUSTER_KEYS, label, out)
        problems = []
        ssh = item.get("ssh")
        if transport == "ssh":
            if kind == "local":
                problems.append("a local cluster runs on this server and takes no ssh transport")
            elif not isinstance(ssh, Mapping) or not isinstance(ssh.get("host"), str):
                problems.append("the ssh transport needs ssh.host (and usually user, key_file)")
            else:
                _warn_unknown_keys(ssh, SSH_KEYS, f"{label}.ssh", out)
        for key in ("defaults", "limits"):
            if key in item and not isinstance(item[key], Mapping):
                problems.append(f"{key} must be an object")
        for switch in ("mail", "moab"):
            if switch in item and not isinstance(item[switch], bool):
                out.warnings.append(
                    f"{label}: {switch} must be true or false, not {item[switch]!r}: ignored"
                )
        if item.get("moab") is True and kind != "torque":
            out.warnings.append(f"{label}: moab is read on Torque clusters only: ignored")
        title = _title(item, entry_id, label, out)
        settings = {**item, "id": entry_id, "title": title, "kind": kind, "transport": transport}
        entries.append(
            ClusterEntry(
                id=entry_id,
                title=title,
                kind=kind,
                transport=transport,
                settings=settings,
                problem=_report(problems, label, out),
            )
        )
    return entries


def _validate_data_roots(raw: Sequence[Any], out: Validated) -> list[DataRootEntry]:
    entries: list[DataRootEntry] = []
    for item, entry_id, label in _objects(raw, "data_roots", "data-root", out):
        _warn_unknown_keys(item, DATA_ROOT_KEYS, label, out)
        problems = []
        path = item.get("path")
        if not isinstance(path, str) or not path.strip():
            problems.append("it has no path")
            path = ""
        elif not os.path.isabs(os.path.expanduser(path)):
            problems.append(f"{path!r} is a relative path: give an absolute path on the server")
        entries.append(
            DataRootEntry(
                id=entry_id,
                title=_title(item, entry_id, label, out),
                path=path,
                problem=_report(problems, label, out),
            )
        )
    return entries


def _objects(
    raw: Sequence[Any], trait: str, noun: str, out: Validated
) -> Iterator[tuple[Mapping[str, Any], str, str]]:
    """The entries of `EspriVreApp.<trait>` that are objects, each with its id (made up or made
    unique, see `_entry_id`) and the label that the messages about it start with; an entry that
    is not an object is reported and left out."""
    ids: set[str] = set()
    for i, item in enumerate(raw):
        label = f"EspriVreApp.{trait}[{i}]"
        if not isinstance(item, Mapping):
            out.errors.append(f"{label} is not an object ({type(item).__name__}): ignored")
            continue
        entry_id = _entry_id(item, noun, i, ids, label, out)
        yield item, entry_id, f"{label} ({entry_id!r})"


def _known(value: Any, allowed: Sequence[str], key: str, label: str, out: Validated) -> bool:
    """Whether `value` is in `allowed`, an enum of the REST contract: an entry with another value
    cannot be described in it, so it is reported and left out."""
    if value in allowed:
        return True
    expected = " or ".join(allowed) if len(allowed) == 2 else f"one of {', '.join(allowed)}"
    out.errors.append(f"{label}: unknown {key} {value!r}, expected {expected}: ignored")
    return False


def _entry_id(
    item: Mapping[str, Any], noun: str, index: int, seen: set[str], label: str, out: Validated
) -> str:
    """The configured id, or a made-up one (reported) when it is missing or already used."""
    raw = item.get("id")
    if not isinstance(raw, str) or not raw.strip():
        entry_id = f"{noun}-{index + 1}"
        out.warnings.append(f"{label} has no id: it is listed as {entry_id!r}")
    else:
        entry_id = raw.strip()
        if entry_id in seen:
            new_id = f"{entry_id}-{index + 1}"
            out.warnings.append(
                f"{label}: the id {entry_id!r} is already used by an earlier entry: "
                f"this one is listed as {new_id!r}"
            )
            entry_id = new_id
    seen.add(entry_id)
    return entry_id


def _title(item: Mapping[str, Any], entry_id: str, label: str, out: Validated) -> str:
    title = item.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    out.warnings.append(f"{label} has no title: its id is shown instead")
    return entry_id


def _warn_unknown_keys(
    item: Mapping[str, Any], known: Iterable[str], label: str, out: Validated
) -> None:
    unknown = sorted(str(k) for k in item if k not in known)
    if unknown:
        out.warnings.append(f"{label}: unknown keys {', '.join(unknown)} are ignored")


def _report(problems: list[str], label: str, out: Validated) -> str | None:
    if not problems:
        return None
    text = "; ".join(problems)
    out.errors.append(f"{label}: {text}")
    return f"configuration error: {text}"
