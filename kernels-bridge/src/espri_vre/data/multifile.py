"""Whole datasets made of several NetCDF files (a CMIP6 dataset split along time, an intake-esm
group, an ESGF dataset's file list) as one set of references: kerchunk's MultiZarrToZarr
combines the files' own references along time, so the preview's time slider covers the whole
period and each file stays a chunk (its boundaries show in the chunk grid).

As intake-esm aggregates a CMIP6 group: along time (join_existing), the variables of the files
side by side (union), and, when the files come from several ensemble members (their
`variant_label`, the CMIP6 attribute intake-esm's `member_id` column is made from), along a new
`member_id` dimension (join_new). Times a member lacks read as missing.

The combined references name each file by a template (`{{f0}}`, `{{f1}}`, ... in kerchunk's
spec v1) whose value is where the browser reads that file's chunks (the data/files route or the
data/remote/bytes route, relative to the server's base URL). They are cached by the files'
own ETags: a changed file gives new references.
"""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from dataclasses import dataclass
from typing import Any

from .paths import DataError
from .references import (
    DEFAULT_CACHE,
    MAX_REFERENCE_BYTES,
    ReferenceCache,
    References,
    ReferencesTooLarge,
    codecs_of,
)

MAX_FILES = 2000
"""Files one combined dataset may have: a century of monthly CMIP6 files is a few dozen; a
daily dataset in yearly files a few hundred."""

MEMBER_DIM = "member_id"
MEMBER_ATTRIBUTE = "variant_label"


class CannotCombine(DataError):
    status = 422
    code = "cannot-combine"


@dataclass(frozen=True)
class Part:
    """One file of a dataset."""

    location: str
    """Where the server reads it (a real path, or a URL) to combine the coordinates."""
    shown: str
    """How messages name it (the path or URL as given)."""
    references: References
    target: str
    """Where the browser reads its chunks, relative to the server's base URL."""


def combine(
    parts: list[Part],
    storage_options: dict[str, Any] | None = None,
    cache: ReferenceCache | None = DEFAULT_CACHE,
) -> References:
    """The references of `parts` combined along time (and members). `storage_options` are
    fsspec's for the parts' URLs (None for local paths)."""
    if len(parts) < 2:
        raise CannotCombine("A combined dataset needs two files at least.")
    if len(parts) > MAX_FILES:
        raise CannotCombine(
            f"{len(parts)} files are more than the {MAX_FILES} one preview combines: "
            "narrow the selection (one experiment, one member, one variable)."
        )
    # First the files' names (the cache replaces an older version of the same dataset), then
    # their versions.
    names = hashlib.sha256(json.dumps([(p.location, p.target) for p in parts]).encode())
    key = (f"combined:{names.hexdigest()}", *(p.references.etag for p in parts))
    if cache is None:
        return _build(parts, storage_options, key)
    return cache.get_or_compute(key, lambda: _build(parts, storage_options, key))


def _build(parts: list[Part], storage_options: dict[str, Any] | None, key: Any) -> References:
    from kerchunk.combine import MultiZarrToZarr

    specs = [_located(json.loads(p.references.body), p.location) for p in parts]
    times = {_time_dimension(spec, part.shown) for spec, part in zip(specs, parts, strict=True)}
    if len(times) > 1:
        raise CannotCombine(f"The files name their time differently ({', '.join(sorted(times))}).")
    time = times.pop()
    members = {json.loads(s["refs"].get(".zattrs", "{}")).get(MEMBER_ATTRIBUTE) for s in specs}
    concat = [MEMBER_DIM, time] if len(members) > 1 else [time]
    coo_map: dict[str, Any] = {time: f"cf:{time}"}
    if len(members) > 1:
        coo_map[MEMBER_DIM] = f"attr:{MEMBER_ATTRIBUTE}"
        if None in members:
            raise CannotCombine(
                "The files come from several ensemble members, but some do not say which "
                f"(no {MEMBER_ATTRIBUTE} attribute): preview one member at a time."
            )
    try:
        if storage_options is not None:
            _inline_chunks(specs, time, storage_options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            combined = MultiZarrToZarr(
                specs,
                concat_dims=concat,
                coo_map=coo_map,
                remote_protocol="http" if storage_options is not None else "file",
                remote_options=storage_options,
            ).translate()
    except (ValueError, KeyError, TypeError, IndexError, OSError) as e:
        raise CannotCombine(
            f"The {len(parts)} files cannot be combined along {time}: {_reason(e)}. Are they "
            "parts of one dataset (same grid, same variables' layout)?"
        ) from e
    _check_no_overlap(specs, combined["refs"], concat)
    templates = {f"f{i}": part.target for i, part in enumerate(parts)}
    by_location = {part.location: f"{{{{f{i}}}}}" for i, part in enumerate(parts)}
    refs = combined["refs"]
    for name, value in refs.items():
        if isinstance(value, list) and value and value[0] in by_location:
            refs[name] = [by_location[value[0]], *value[1:]]
    spec = {"version": 1, "templates": templates, "refs": refs}
    body = json.dumps(spec, separators=(",", ":")).encode()
    if len(body) > MAX_REFERENCE_BYTES:
        raise ReferencesTooLarge(
            f"The references of these {len(parts)} files take more than "
            f"{MAX_REFERENCE_BYTES // 2**20} MiB: preview fewer files at once."
        )
    digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:32]
    return References(body=body, etag=f'"{digest}"', kind="combined", codecs=codecs_of(spec))


def _inline_chunks(specs: list[dict[str, Any]], name: str, storage_options: dict[str, Any]) -> None:
    """The chunks of the coordinate `name` fetched here (one concurrent batch of Range requests)
    and written into the specs, so that MultiZarrToZarr reads no remote file: it reads the
    coordinate through zarr, whose own event loop cannot use the aiohttp session of fsspec's
    HTTP file system ("Timeout context manager should be used inside a task"), whereas a local
    file system is wrapped for it."""
    import fsspec

    wanted = [
        (spec["refs"], key, value)
        for spec in specs
        for key, value in spec["refs"].items()
        if key.startswith(f"{name}/") and isinstance(value, list) and len(value) == 3
    ]
    if not wanted:
        return
    fs = fsspec.filesystem("http", **storage_options)
    got = fs.cat_ranges(
        [v[0] for _, _, v in wanted],
        [v[1] for _, _, v in wanted],
        [v[1] + v[2] for _, _, v in wanted],
        on_error="raise",
    )
    for (refs, key, _), body in zip(wanted, got, strict=True):
        refs[key] = "base64:" + base64.b64encode(body).decode("ascii")


def _check_no_overlap(specs: list[dict[str, Any]], refs: dict[str, Any], concat: list[str]) -> None:
    """Every chunk of every file's data variables has its own place in the result: two files
    that hold the same variable at the same times (members that do not say which they are, or
    a file listed twice) would otherwise show one file's values silently. Bounds and auxiliary
    coordinates (CF `bounds`, `coordinates`) are left out: the files of several variables of
    one member hold the same time bounds, and keeping one copy is right."""
    attrs = {
        name.split("/")[0]: json.loads(value)
        for name, value in refs.items()
        if name.endswith("/.zattrs") and name.count("/") == 1
    }
    auxiliary = set(concat)
    for found in attrs.values():
        auxiliary.update(str(found.get("coordinates", "")).split())
        if isinstance(found.get("bounds"), str):
            auxiliary.add(found["bounds"])
    along = {
        name
        for name, found in attrs.items()
        if set(concat) <= set(found.get("_ARRAY_DIMENSIONS", []))
    } - auxiliary
    given: dict[str, int] = {}
    for spec in specs:
        for name, count in _chunk_counts(spec["refs"], along).items():
            given[name] = given.get(name, 0) + count
    kept = _chunk_counts(refs, along)
    lost = sorted(name for name, count in given.items() if kept.get(name, 0) < count)
    if lost:
        raise CannotCombine(
            f"Some files hold {', '.join(lost)} at the same times: they are not parts of one "
            "dataset along time (several members or versions?); preview them one by one."
        )


def _chunk_counts(refs: dict[str, Any], arrays: set[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in refs:
        array, _, key = name.partition("/")
        if array in arrays and key and not key.startswith("."):
            counts[array] = counts.get(array, 0) + 1
    return counts


def _located(spec: dict[str, Any], location: str) -> dict[str, Any]:
    """A file's references with its chunks' URL written in (they are null for the browser):
    MultiZarrToZarr reads the time coordinates through them."""
    refs = {
        k: ([location, *v[1:]] if isinstance(v, list) and v else v) for k, v in spec["refs"].items()
    }
    return {"version": 1, "refs": refs}


def _time_dimension(spec: dict[str, Any], shown: str) -> str:
    """The CF time coordinate of a file (a 1-D variable named as its dimension, with units
    '<unit> since <date>')."""
    refs = spec["refs"]
    for name, value in refs.items():
        if not name.endswith("/.zattrs") or name.count("/") != 1:
            continue
        array = name.split("/")[0]
        attrs = json.loads(value)
        units = attrs.get("units")
        if attrs.get("_ARRAY_DIMENSIONS") == [array] and " since " in str(units):
            return array
    raise CannotCombine(
        f"{shown} has no CF time coordinate (units '<unit> since <date>'): the files cannot "
        "be combined along time."
    )


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
