"""Is a configured catalogue reachable? A bounded check turned into a sentence for the status
endpoint: `{"reachable", "detail", "latency_ms"}`. Knows nothing of HTTP handlers.

Remote catalogues (http(s) URLs) get one GET whose body is never read: the status line is the
answer. Catalogues on the server's file system are opened and their descriptor is checked the way
the library that will read them expects it (intake-esm's ESM collection spec, STAC's Catalog or
Collection), so that a broken file is reported here rather than in a user's notebook.
"""

from __future__ import annotations

import asyncio
import csv
import errno
import io
import json
import os
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

MAX_DESCRIPTOR_BYTES = 64 * 1024 * 1024
"""intake-esm descriptors may inline their whole table (catalog_dict); beyond this we refuse."""
MAX_HEADER_BYTES = 64 * 1024
MAX_DETAIL = 240
USER_AGENT = "espri-vre reachability check"

Result = dict[str, Any]


def result(reachable: bool, detail: str, latency_ms: float | None) -> Result:
    text = detail if len(detail) <= MAX_DETAIL else detail[: MAX_DETAIL - 1].rstrip() + "…"
    return {"reachable": reachable, "detail": text, "latency_ms": latency_ms}


async def check_catalog(kind: str, location: str, timeout: float) -> Result:
    """Never raises. `location` is an http(s) URL or an absolute path on the server."""
    if urlsplit(location).scheme in ("http", "https"):
        return await check_url(location, timeout)
    return await run_bounded(lambda: check_local_catalog(kind, location), timeout)


async def check_url(url: str, timeout: float) -> Result:
    """One GET, redirects not followed (a 3xx answer means the server is there), body unread."""
    parts = urlsplit(url)
    where = parts.netloc or url
    started = time.monotonic()
    try:
        async with (
            httpx.AsyncClient(
                timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=True
            ) as client,
            client.stream("GET", url, headers={"User-Agent": USER_AGENT}) as response,
        ):
            status = response.status_code
            latency = _since(started)
    except httpx.TimeoutException:
        return result(False, f"no answer from {where} within {timeout:g} s", _since(started))
    except httpx.ConnectError as e:
        return result(False, _connect_failure(where, e), _since(started))
    except httpx.InvalidURL as e:
        return result(False, f"invalid URL {url!r}: {e}", None)
    except httpx.HTTPError as e:
        return result(False, f"{where} did not answer HTTP properly: {e}", _since(started))
    phrase = _status_phrase(status)
    if 200 <= status < 400:
        return result(True, f"HTTP {status} {phrase}".strip(), latency)
    return result(False, f"HTTP {status} {phrase}".strip(), latency)


async def run_bounded(check: Callable[[], tuple[bool, str]], timeout: float) -> Result:
    """Runs a blocking file-system check in a thread, so that a hung network file system (NFS,
    Lustre) costs the status endpoint `timeout` seconds, not the server."""
    started = time.monotonic()
    try:
        reachable, detail = await asyncio.wait_for(asyncio.to_thread(check), timeout)
    except TimeoutError:
        return result(
            False, f"the file system did not answer within {timeout:g} s", _since(started)
        )
    except Exception as e:  # a check must report, never raise
        return result(False, f"the check failed: {type(e).__name__}: {e}", _since(started))
    return result(reachable, detail, _since(started))


def check_local_catalog(kind: str, location: str) -> tuple[bool, str]:
    path = Path(os.path.expanduser(location))
    if kind == "intake-esm":
        return check_esm_collection(path)
    if kind == "stac":
        return check_stac_file(path)
    return check_readable(path)


def check_readable(path: Path) -> tuple[bool, str]:
    if not path.exists():
        return False, f"{path} does not exist"
    if path.is_dir():
        if not os.access(path, os.R_OK | os.X_OK):
            return False, f"the directory {path} is not readable by the server"
        return True, f"directory {path}"
    if not os.access(path, os.R_OK):
        return False, f"{path} is not readable by the server"
    return True, f"file {path.name} ({_size(path.stat().st_size)})"


def check_esm_collection(path: Path) -> tuple[bool, str]:
    """The descriptor parses as an ESM collection (intake-esm's esmcat spec) and its table is
    there, with the columns the descriptor names."""
    doc, problem = _read_json(path)
    if problem:
        return False, problem
    if not isinstance(doc, dict):
        return False, f"{path.name} is not an ESM collection: the JSON is not an object"
    missing = [k for k in ("esmcat_version", "assets") if k not in doc]
    if missing:
        return False, f"{path.name} is not an ESM collection: it lacks {', '.join(missing)}"
    assets = doc["assets"]
    if not isinstance(assets, dict) or not isinstance(assets.get("column_name"), str):
        return False, f"{path.name}: assets.column_name is missing"
    needed = _named_columns(doc)
    name = f"ESM collection {doc.get('id', path.stem)!r}"
    if "catalog_dict" in doc:
        rows = doc["catalog_dict"]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            return False, f"{path.name}: catalog_dict is not a list of rows"
        columns = set().union(*(r.keys() for r in rows)) if rows else set()
        lacking = [c for c in needed if c not in columns]
        if rows and lacking:
            return False, f"{path.name}: catalog_dict rows lack the columns {', '.join(lacking)}"
        return True, f"{name}, {len(rows)} rows inline (catalog_dict)"
    table = doc.get("catalog_file")
    if not isinstance(table, str) or not table:
        return False, f"{path.name} has neither catalog_file nor catalog_dict: no table of assets"
    scheme = urlsplit(table).scheme
    if scheme not in ("", "file"):
        return True, f"{name}; its table {table} is remote and not checked here"
    table_path = Path(urlsplit(table).path if scheme == "file" else table)
    if not table_path.is_absolute():
        table_path = path.parent / table_path
    if not table_path.is_file():
        return False, f"{path.name}: its catalog_file {table!r} does not exist ({table_path})"
    try:
        columns = _table_columns(table_path)
    except (OSError, ValueError) as e:
        return False, f"{path.name}: its catalog_file {table!r} cannot be read: {e}"
    lacking = [c for c in needed if c not in columns]
    if lacking:
        return False, (
            f"{path.name}: its catalog_file {table!r} lacks the columns {', '.join(lacking)} "
            "named in the descriptor"
        )
    return True, f"{name}, table {table_path.name} ({_size(table_path.stat().st_size)})"


def check_stac_file(path: Path) -> tuple[bool, str]:
    """A static STAC catalogue: the entry point parses as a STAC Catalog or Collection. A
    directory is accepted when it holds catalog.json or collection.json."""
    if path.is_dir():
        for name in ("catalog.json", "collection.json"):
            if (path / name).is_file():
                path = path / name
                break
        else:
            return False, f"the directory {path} holds no catalog.json or collection.json"
    doc, problem = _read_json(path)
    if problem:
        return False, problem
    if not isinstance(doc, dict):
        return False, f"{path.name} is not a STAC catalogue: the JSON is not an object"
    kind = doc.get("type")
    if kind not in ("Catalog", "Collection"):
        return False, (f"{path.name} is not a STAC Catalog or Collection (type is {kind!r})")
    missing = [k for k in ("stac_version", "id", "description", "links") if k not in doc]
    if kind == "Collection":
        missing += [k for k in ("license", "extent") if k not in doc]
    if missing:
        return False, f"{path.name}: this STAC {kind} lacks {', '.join(missing)}"
    if not isinstance(doc["links"], list):
        return False, f"{path.name}: links is not a list"
    children = sum(
        1
        for link in doc["links"]
        if isinstance(link, dict)
        and link.get("rel")
        in (
            "child",
            "item",
        )
    )
    return True, (
        f"STAC {kind} {doc['id']!r} (STAC {doc['stac_version']}), "
        f"{children} {'child' if children == 1 else 'children'}"
    )


def _named_columns(doc: Mapping[str, Any]) -> list[str]:
    """Columns the descriptor refers to: intake-esm fails on the first one that is missing."""
    names = [doc["assets"]["column_name"]]
    if isinstance(doc["assets"].get("format_column_name"), str):
        names.append(doc["assets"]["format_column_name"])
    agg = doc.get("aggregation_control")
    if isinstance(agg, dict):
        if isinstance(agg.get("variable_column_name"), str):
            names.append(agg["variable_column_name"])
        names += [g for g in agg.get("groupby_attrs") or [] if isinstance(g, str)]
        names += [
            a["attribute_name"]
            for a in agg.get("aggregations") or []
            if isinstance(a, dict) and isinstance(a.get("attribute_name"), str)
        ]
    return list(dict.fromkeys(names))


def _table_columns(path: Path) -> set[str]:
    """The header of a CSV (possibly compressed) or Parquet table, without reading its rows."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return set(pq.read_schema(path).names)
    opener: Callable[..., Any] = open
    if name.endswith(".gz"):
        import gzip

        opener = gzip.open
    elif name.endswith(".bz2"):
        import bz2

        opener = bz2.open
    with opener(path, "rb") as f:
        head = f.read(MAX_HEADER_BYTES)
    first = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    if not first.strip():
        raise ValueError("the table is empty")
    return {c.strip() for c in next(csv.reader(io.StringIO(first)))}


def _read_json(path: Path) -> tuple[Any, str | None]:
    if not path.exists():
        return None, f"{path} does not exist"
    if not path.is_file():
        return None, f"{path} is not a file"
    try:
        size = path.stat().st_size
        if size > MAX_DESCRIPTOR_BYTES:
            return None, f"{path.name} is {_size(size)}, more than a catalogue descriptor may be"
        with open(path, "rb") as f:
            return json.loads(f.read()), None
    except PermissionError:
        return None, f"{path} is not readable by the server"
    except json.JSONDecodeError as e:
        return None, f"{path.name} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}"
    except (OSError, UnicodeDecodeError) as e:
        return None, f"{path.name} cannot be read: {e}"


def _connect_failure(where: str, error: httpx.ConnectError) -> str:
    host = where.rsplit("@", 1)[-1]
    cause = _os_error(error)
    if isinstance(cause, ConnectionRefusedError):
        return f"connection refused by {host}"
    if isinstance(cause, socket.gaierror):
        return f"the host name of {host} could not be resolved"
    if cause is not None and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"the network to {host} is unreachable"
    if isinstance(cause, ssl.SSLError):
        return f"TLS failure with {host}: {cause.reason or cause}"
    return f"could not connect to {host}: {cause or error or type(error).__name__}"


def _os_error(error: BaseException) -> OSError | None:
    """The operating system's own error behind an httpx error (anyio wraps it in groups and
    chains), or None."""
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and (
            current.errno is not None or isinstance(current, ssl.SSLError)
        ):
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024**2:
        return f"{n / 1024:.1f} KiB"
    if n < 1024**3:
        return f"{n / 1024**2:.1f} MiB"
    return f"{n / 1024**3:.1f} GiB"
