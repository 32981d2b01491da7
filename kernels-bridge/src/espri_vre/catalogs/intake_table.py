"""intake-esm catalogues for the browser: the ESM collection JSON, checked and normalised, and its
table read once with pyarrow and sent as Arrow IPC streams. Knows nothing of HTTP handlers.

Only catalogues configured on the server are read: the caller passes the descriptor path of a
configured catalogue (the browser names catalogues by id, never by path). The table is the
descriptor's `catalog_file` (CSV, CSV.GZ, CSV.BZ2 or Parquet; relative to the descriptor, absolute,
or a file:// URL) or its inline `catalog_dict`. Remote tables (gs://, s3://, https://) are not
read here.

The table is sent in two parts, each one Arrow IPC stream (see `PARTS`): `search`, every column
but the assets' (what the browser needs to list facets and search), then `assets`, the column of
paths (one distinct value per file: most of the bytes, needed only to show or open a dataset).
The whole table is also available as one stream. The Arrow table the browser receives:
- CSV columns are all text, as intake-esm reads them (polars with `infer_schema=False`): an empty
  field is null. Parquet and `catalog_dict` columns keep their types.
- Text columns of the search part are dictionary-encoded, one dictionary per column and one record
  batch for the whole stream, the indices as narrow as the dictionary allows (int8 up to 128
  values, int16 up to 32,768, else int32) and a missing value as a null entry of the dictionary,
  not a null index: the browser uses the indices as they arrive, as its facet codes.
- The assets column is plain text (`utf8`), as read: dictionary-encoding a million distinct paths
  would cost the server more than it saves the browser, which reads paths one row at a time.
- Columns whose every value is a Python list, tuple or set literal, such as the variable column
  of a multi-variable catalogue ("('SHF', 'O2')"), become `list<dictionary<int32, utf8>>`: one
  dictionary of the elements, so a search for 'O2' is one index lookup. intake-esm needs such
  columns named in `columns_with_iterables`; the normalised collection lists them under that key,
  so that the code the browser writes can pass them on. Parquet list-of-text columns are the same.
- Other columns (numbers, booleans, dates from Parquet) are passed on unchanged.

Results are cached by the descriptor's and the table's (path, mtime, size), which also make the
ETag.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.ipc as pa_ipc
import pyarrow.parquet as pq

from ..errors import EspriVreError

FORMAT_VERSION = "2"
"""Part of every ETag: bump it when the stream's layout changes, so browsers drop old copies."""
MAX_DESCRIPTOR_BYTES = 64 * 1024 * 1024
MAX_TABLE_BYTES = 4 * 1024**3
"""Table files larger than this (on disk, compressed or not) are refused."""
MAX_LITERAL_CHARS = 64 * 1024
CSV_BLOCK_BYTES = 16 * 1024 * 1024
"""Bytes of CSV one thread of the reader parses at a time: blocks of 1 MiB (pyarrow's default)
make a million-row table of some 200 chunks, whose dictionaries then have to be unified."""
PARTS = ("search", "assets")
"""The parts of the table the browser fetches one after the other (GET table?part=...)."""
TABLE_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".parquet")
DATA_FORMATS = ("netcdf", "zarr", "zarr2", "zarr3", "reference", "opendap")
AGGREGATION_TYPES = ("join_new", "join_existing", "union")
TEXT = pa.dictionary(pa.int32(), pa.string())
_LITERAL = r"^\s*(\[.*\]|\(.*\)|\{.*\})\s*$"


class CatalogError(EspriVreError):
    """A catalogue that cannot be served, with a sentence for the user naming what is wrong."""

    status = 422
    code = "invalid-catalog"


class TableTooLarge(CatalogError):
    status = 413
    code = "too-large"


class IntakeCatalog:
    """A loaded catalogue: its normalised collection and its table, as Arrow IPC streams. The
    search part's stream is written when the catalogue is loaded, the assets part's the first
    time it is asked for (the server answers the search part meanwhile). Thread-safe."""

    def __init__(
        self,
        collection: dict[str, Any],
        parts: dict[str, pa.Table],
        order: list[str],
        etag: str,
        files: tuple[tuple[str, int, int], ...],
    ) -> None:
        self.collection = collection
        """The normalised ESM collection, with `columns_with_iterables` and a `table` summary."""
        self.etag = etag
        """A quoted strong ETag, from the files' paths, modification times and sizes."""
        self.files = files
        """(path, mtime_ns, size) of the descriptor and of its table file, taken before reading."""
        self.order = order
        """The column names in the table's order."""
        self._tables = dict(parts)
        self._streams: dict[str, pa.Buffer] = {}
        self._lock = threading.Lock()
        self.stream_of("search")

    def stream_of(self, part: str) -> pa.Buffer:
        """The Arrow IPC stream of one part of the table (see `PARTS`)."""
        with self._lock:
            stream = self._streams.get(part)
            if stream is None:
                stream = self._streams[part] = to_stream(self._tables.pop(part))
            return stream

    @property
    def stream(self) -> pa.Buffer:
        """The whole table, its columns in the catalogue's order, as one Arrow IPC stream
        (written on each call: the browser asks for the parts)."""
        tables = [pa_ipc.open_stream(self.stream_of(part)).read_all() for part in PARTS]
        columns = {name: t.column(name) for t in tables for name in t.column_names}
        return to_stream(pa.Table.from_arrays([columns[n] for n in self.order], names=self.order))

    @property
    def nbytes(self) -> int:
        """Memory held: the streams written and the parts not written yet."""
        with self._lock:
            return sum(s.size for s in self._streams.values()) + sum(
                t.nbytes for t in self._tables.values()
            )


@dataclass(frozen=True)
class _Source:
    collection: dict[str, Any]
    table_path: Path | None
    rows: list[dict[str, Any]] | None
    needed: list[str]


def parse_collection(doc: Any, name: str) -> dict[str, Any]:
    """The ESM collection (intake-esm's esmcat spec) normalised for the browser, or CatalogError.
    `name` is how sentences call the descriptor (its file name)."""
    if not isinstance(doc, dict):
        raise CatalogError(f"{name} is not an ESM collection: the JSON is not an object.")
    missing = [k for k in ("esmcat_version", "attributes", "assets") if k not in doc]
    if missing:
        raise CatalogError(f"{name} is not an ESM collection: it lacks {', '.join(missing)}.")
    if not isinstance(doc["esmcat_version"], str):
        raise CatalogError(f"{name}: esmcat_version is not a string.")
    attributes = doc["attributes"]
    if not isinstance(attributes, list):
        raise CatalogError(f"{name}: attributes is not a list.")
    normal_attributes = []
    for i, attribute in enumerate(attributes):
        if not isinstance(attribute, dict) or not isinstance(attribute.get("column_name"), str):
            raise CatalogError(f"{name}: attributes[{i}] has no column_name.")
        vocabulary = attribute.get("vocabulary", "")
        normal_attributes.append(
            {
                "column_name": attribute["column_name"],
                "vocabulary": vocabulary if isinstance(vocabulary, str) else "",
            }
        )
    return {
        "id": _text(doc, "id", name) or "",
        "title": _text(doc, "title", name),
        "description": _text(doc, "description", name),
        "esmcat_version": doc["esmcat_version"],
        "last_updated": _text(doc, "last_updated", name),
        "catalog_file": _text(doc, "catalog_file", name),
        "attributes": normal_attributes,
        "assets": _assets(doc["assets"], name),
        "aggregation_control": _aggregation_control(doc.get("aggregation_control"), name),
    }


def named_columns(collection: Mapping[str, Any]) -> list[str]:
    """Columns the collection refers to: intake-esm fails on the first one the table lacks."""
    names = [collection["assets"]["column_name"]]
    if collection["assets"]["format_column_name"]:
        names.append(collection["assets"]["format_column_name"])
    control = collection["aggregation_control"]
    if control:
        names.append(control["variable_column_name"])
        names += control["groupby_attrs"]
        names += [a["attribute_name"] for a in control["aggregations"]]
    return list(dict.fromkeys(names))


def read_table(path: Path, plain: Collection[str] = ()) -> pa.Table:
    """A CSV (all columns as text, empty fields null, decompressed by suffix) or Parquet table,
    read with pyarrow's multithreaded readers. CSV columns are read dictionary-encoded, but for
    those named in `plain`."""
    if path.name.lower().endswith(".parquet"):
        return pq.read_table(path)
    names = pa_csv.open_csv(path).schema.names
    return pa_csv.read_csv(
        path,
        read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES),
        convert_options=pa_csv.ConvertOptions(
            column_types={n: pa.string() if n in plain else TEXT for n in names},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )


def for_browser(table: pa.Table, plain: Collection[str] = ()) -> tuple[pa.Table, list[str]]:
    """Text columns dictionary-encoded, list columns as lists of dictionary-encoded text, as one
    dictionary per column; and the names of the list columns. Text columns named in `plain` stay
    plain text (unless they hold list literals)."""
    arrays, iterables = [], []
    for name, column in zip(table.column_names, table.columns, strict=True):
        array, is_list = (
            _plain_for_browser(column) if name in plain else _column_for_browser(column)
        )
        arrays.append(array)
        if is_list:
            iterables.append(name)
    return pa.Table.from_arrays(arrays, names=table.column_names), iterables


def deferred_columns(collection: Mapping[str, Any]) -> list[str]:
    """The columns of the assets part: the assets column, unless the collection also searches
    or groups by it."""
    assets = collection["assets"]["column_name"]
    named = {a["column_name"] for a in collection["attributes"]}
    named.add(collection["assets"]["format_column_name"])
    control = collection["aggregation_control"]
    if control:
        named.add(control["variable_column_name"])
        named.update(control["groupby_attrs"])
        named.update(a["attribute_name"] for a in control["aggregations"])
    return [] if assets in named else [assets]


def to_stream(table: pa.Table) -> pa.Buffer:
    """The table as one Arrow IPC stream, written into a buffer of its exact size: a growing
    buffer would copy a 150 MB column of paths several times over."""
    size = pa.MockOutputStream()
    with pa_ipc.new_stream(size, table.schema) as writer:
        writer.write_table(table)
    buffer = pa.allocate_buffer(size.size())
    with pa_ipc.new_stream(pa.FixedSizeBufferWriter(buffer), table.schema) as writer:
        writer.write_table(table)
    return buffer


def load_catalog(descriptor: Path) -> IntakeCatalog:
    """Reads the descriptor and its table (uncached): CatalogError for anything a user or an
    administrator must fix."""
    source = _read_source(descriptor)
    files = _signature([descriptor, source.table_path])
    etag = _etag(files)
    deferred = deferred_columns(source.collection)
    if source.table_path is not None:
        try:
            raw = read_table(source.table_path, plain=deferred)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as e:
            raise CatalogError(
                f"{descriptor.name}: its catalog_file {source.collection['catalog_file']!r} "
                f"cannot be read: {_arrow_message(e)}"
            ) from None
    else:
        try:
            raw = pa.Table.from_pylist(source.rows or [])
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise CatalogError(
                f"{descriptor.name}: its catalog_dict rows do not make a table: {_arrow_message(e)}"
            ) from None
    lacking = [c for c in source.needed if c not in raw.column_names]
    if lacking and (source.table_path is not None or raw.num_rows):
        where = (
            f"its catalog_file {source.collection['catalog_file']!r}"
            if source.table_path is not None
            else "its catalog_dict rows"
        )
        raise CatalogError(
            f"{descriptor.name}: {where} lack the columns {', '.join(lacking)} named in the "
            "descriptor."
        )
    if not [name for name in raw.column_names if name not in deferred]:
        deferred = []  # a search part without columns would not say how many rows there are
    table, iterables = for_browser(raw, plain=deferred)
    part_of = {name: "assets" if name in deferred else "search" for name in table.column_names}
    parts = {
        part: table.select([n for n in table.column_names if part_of[n] == part]) for part in PARTS
    }
    collection = {
        **source.collection,
        "columns_with_iterables": iterables,
        "table": {
            "rows": table.num_rows,
            "columns": [
                {"name": f.name, "type": _type_name(f.type), "part": part_of[f.name]}
                for f in table.schema
            ],
            "etag": etag,
        },
    }
    catalog = IntakeCatalog(collection, parts, table.column_names, etag, files)
    collection["table"]["bytes"] = catalog.stream_of("search").size
    return catalog


class IntakeTables:
    """Loaded catalogues by descriptor path, reused while the descriptor and its table keep their
    modification time and size. Bounded: the least recently used go beyond `max_entries` or
    `max_bytes` of streams. Thread-safe; one load per descriptor at a time."""

    def __init__(self, max_entries: int = 16, max_bytes: int = 512 * 1024**2) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.loads = 0
        """How many times a catalogue was read from disk (the rest came from the cache)."""
        self._entries: OrderedDict[str, IntakeCatalog] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def load(self, descriptor: Path) -> IntakeCatalog:
        key = str(descriptor)
        with self._lock:
            per_path = self._loading.setdefault(key, threading.Lock())
        with per_path:
            cached = self._fresh(key)
            if cached is not None:
                return cached
            catalog = load_catalog(descriptor)
            self.loads += 1
            self._store(key, catalog)
            return catalog

    def _fresh(self, key: str) -> IntakeCatalog | None:
        with self._lock:
            catalog = self._entries.get(key)
        if catalog is None:
            return None
        try:
            unchanged = _signature([Path(f[0]) for f in catalog.files]) == catalog.files
        except CatalogError:
            unchanged = False
        with self._lock:
            if not unchanged:
                self._entries.pop(key, None)
                return None
            if key in self._entries:
                self._entries.move_to_end(key)
        return catalog

    def _store(self, key: str, catalog: IntakeCatalog) -> None:
        if catalog.nbytes > self.max_bytes:
            return
        with self._lock:
            self._entries[key] = catalog
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries or (
                sum(c.nbytes for c in self._entries.values()) > self.max_bytes
            ):
                self._entries.popitem(last=False)


def _read_source(descriptor: Path) -> _Source:
    name = descriptor.name
    try:
        size = descriptor.stat().st_size
        if size > MAX_DESCRIPTOR_BYTES:
            raise CatalogError(
                f"{name} is {size / 1024**2:.0f} MiB, more than a catalogue descriptor may be "
                f"({MAX_DESCRIPTOR_BYTES // 1024**2} MiB)."
            )
        doc = json.loads(descriptor.read_bytes())
    except FileNotFoundError:
        raise CatalogError(f"The catalogue descriptor {descriptor} does not exist.") from None
    except PermissionError:
        raise CatalogError(f"The server may not read {descriptor}.") from None
    except IsADirectoryError:
        raise CatalogError(f"{descriptor} is a directory, not an ESM collection JSON.") from None
    except json.JSONDecodeError as e:
        raise CatalogError(
            f"{name} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}."
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise CatalogError(f"{name} cannot be read: {e}.") from None
    collection = parse_collection(doc, name)
    needed = named_columns(collection)
    has_file, has_rows = "catalog_file" in doc, "catalog_dict" in doc
    if has_file and has_rows:
        raise CatalogError(f"{name} has both catalog_file and catalog_dict: keep one of them.")
    if has_rows:
        rows = doc["catalog_dict"]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise CatalogError(f"{name}: catalog_dict is not a list of rows (objects).")
        return _Source(collection, None, rows, needed)
    table = collection["catalog_file"]
    if not table:
        raise CatalogError(
            f"{name} has neither catalog_file nor catalog_dict: it names no table of assets."
        )
    table_path = _table_path(descriptor, table)
    if not table_path.name.lower().endswith(TABLE_SUFFIXES):
        raise CatalogError(
            f"{name}: its catalog_file {table!r} is not a CSV (.csv, .csv.gz, .csv.bz2) or "
            "Parquet (.parquet) table."
        )
    if not table_path.is_file():
        raise CatalogError(f"{name}: its catalog_file {table!r} does not exist ({table_path}).")
    size = table_path.stat().st_size
    if size > MAX_TABLE_BYTES:
        raise TableTooLarge(
            f"{name}: its catalog_file {table!r} is {size / 1024**3:.1f} GiB, more than the "
            f"{MAX_TABLE_BYTES // 1024**3} GiB the server reads for the browser."
        )
    return _Source(collection, table_path, None, needed)


def _table_path(descriptor: Path, table: str) -> Path:
    parts = urlsplit(table)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if len(parts.scheme) > 1:
        raise CatalogError(
            f"{descriptor.name}: its table {table} is remote; the server reads tables on its own "
            "file system only. Open this catalogue in a notebook with intake-esm, or copy the "
            "table beside the descriptor."
        )
    path = Path(os.path.expanduser(table))
    return path if path.is_absolute() else descriptor.parent / path


def _signature(paths: list[Path | None]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for path in paths:
        if path is None:
            continue
        try:
            stat = path.stat()
        except OSError as e:
            raise CatalogError(f"{path} cannot be read: {e.strerror or e}.") from None
        out.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


def _etag(signature: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256(repr((FORMAT_VERSION, signature)).encode("utf-8")).hexdigest()
    return f'"{digest[:32]}"'


def _column_for_browser(column: pa.ChunkedArray) -> tuple[pa.Array, bool]:
    kind = column.type
    if pa.types.is_null(kind):
        return _narrow(pa.nulls(len(column), TEXT)), False
    if _is_text(kind):
        encoded = _encode(column)
        lists = _literal_lists(encoded)
        return (lists, True) if lists is not None else (_narrow(encoded), False)
    if (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and (
        _is_text(kind.value_type) or pa.types.is_null(kind.value_type)
    ):
        array = column.combine_chunks().cast(pa.list_(pa.string()))
        values = _encode(pa.chunked_array([array.values], pa.string()))
        nulls = array.is_null() if array.null_count else None
        return pa.ListArray.from_arrays(array.offsets, values, mask=nulls), True
    return column.combine_chunks(), False


def _plain_for_browser(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray | pa.Array, bool]:
    """A text column kept as plain utf8 chunks, unless its first value is a list literal (then
    it is treated as any other column)."""
    kind = column.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return _column_for_browser(column)
    for chunk in column.chunks:
        valid = chunk.drop_null()
        if len(valid):
            if re.match(_LITERAL, valid[0].as_py()):
                return _column_for_browser(column)
            break
    return column.cast(pa.string()), False


def _narrow(encoded: pa.DictionaryArray) -> pa.DictionaryArray:
    """The indices as narrow as the dictionary allows, a missing value as a null entry of the
    dictionary (the browser then uses the indices as they are)."""
    dictionary, indices = encoded.dictionary, encoded.indices
    if indices.null_count:
        indices = indices.fill_null(len(dictionary))
        dictionary = pa.concat_arrays([dictionary, pa.nulls(1, dictionary.type)])
    size = len(dictionary)
    kind = pa.int8() if size <= 0x80 else pa.int16() if size <= 0x8000 else pa.int32()
    return pa.DictionaryArray.from_arrays(indices.cast(kind), dictionary)


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _encode(column: pa.ChunkedArray) -> pa.DictionaryArray:
    """One dictionary<int32, utf8> array; chunks with different dictionaries are unified."""
    if pa.types.is_dictionary(column.type):
        return column.cast(TEXT).combine_chunks()
    return column.cast(pa.string()).combine_chunks().dictionary_encode()


def _literal_lists(encoded: pa.DictionaryArray) -> pa.ListArray | None:
    """The column as lists when every value is a list, tuple or set literal of scalars; else
    None. Only the dictionary's distinct values are parsed, not every row."""
    values = encoded.dictionary
    if len(values) == 0 or not re.match(_LITERAL, values[0].as_py()):
        return None  # the common case, decided without scanning a dictionary of a million paths
    if not pc.all(pc.match_substring_regex(values, _LITERAL)).as_py():
        return None
    elements: dict[str, int] = {}
    offsets, flat = [0], []
    for text in values.to_pylist():
        items = _parse_literal(text)
        if items is None:
            return None
        flat += [elements.setdefault(item, len(elements)) for item in items]
        offsets.append(len(flat))
    per_value = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(flat, pa.int32()))
    rows = per_value.take(encoded.indices)
    element_values = pa.DictionaryArray.from_arrays(
        rows.values, pa.array(list(elements), pa.string())
    )
    nulls = rows.is_null() if rows.null_count else None
    return pa.ListArray.from_arrays(rows.offsets, element_values, mask=nulls)


def _parse_literal(text: str) -> list[str] | None:
    if len(text) > MAX_LITERAL_CHARS:
        return None
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if isinstance(value, set | frozenset):
        value = sorted(value, key=str)
    if not isinstance(value, list | tuple):
        return None
    if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
        return None
    return [v if isinstance(v, str) else str(v) for v in value]


def _type_name(kind: pa.DataType) -> str:
    if pa.types.is_dictionary(kind):
        return "string"
    if pa.types.is_list(kind) and pa.types.is_dictionary(kind.value_type):
        return "list<string>"
    return str(kind)


def _text(doc: Mapping[str, Any], key: str, name: str) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CatalogError(f"{name}: {key} is not a string.")
    return value


def _assets(assets: Any, name: str) -> dict[str, Any]:
    if not isinstance(assets, dict) or not isinstance(assets.get("column_name"), str):
        raise CatalogError(f"{name}: assets.column_name is missing.")
    data_format = assets.get("format")
    format_column = assets.get("format_column_name")
    if data_format is not None and format_column is not None:
        raise CatalogError(f"{name}: assets has both format and format_column_name: keep one.")
    if data_format is None and format_column is None:
        raise CatalogError(
            f"{name}: assets has neither format nor format_column_name: say how the assets are "
            f"stored ({', '.join(DATA_FORMATS)}), or which column says it."
        )
    if data_format is not None and data_format not in DATA_FORMATS:
        raise CatalogError(
            f"{name}: assets.format {data_format!r} is not one of {', '.join(DATA_FORMATS)}."
        )
    if format_column is not None and not isinstance(format_column, str):
        raise CatalogError(f"{name}: assets.format_column_name is not a string.")
    return {
        "column_name": assets["column_name"],
        "format": data_format,
        "format_column_name": format_column,
    }


def _aggregation_control(control: Any, name: str) -> dict[str, Any] | None:
    if control is None:
        return None
    where = f"{name}: aggregation_control"
    if not isinstance(control, dict):
        raise CatalogError(f"{where} is not an object.")
    if not isinstance(control.get("variable_column_name"), str):
        raise CatalogError(f"{where}.variable_column_name is missing.")
    groupby = control.get("groupby_attrs")
    if not isinstance(groupby, list) or not all(isinstance(g, str) for g in groupby):
        raise CatalogError(f"{where}.groupby_attrs is not a list of column names.")
    aggregations = control.get("aggregations", [])
    if not isinstance(aggregations, list):
        raise CatalogError(f"{where}.aggregations is not a list.")
    normal = []
    for i, aggregation in enumerate(aggregations):
        if not isinstance(aggregation, dict):
            raise CatalogError(f"{where}.aggregations[{i}] is not an object.")
        if aggregation.get("type") not in AGGREGATION_TYPES:
            raise CatalogError(
                f"{where}.aggregations[{i}].type {aggregation.get('type')!r} is not one of "
                f"{', '.join(AGGREGATION_TYPES)}."
            )
        if not isinstance(aggregation.get("attribute_name"), str):
            raise CatalogError(f"{where}.aggregations[{i}].attribute_name is missing.")
        options = aggregation.get("options", {})
        normal.append(
            {
                "type": aggregation["type"],
                "attribute_name": aggregation["attribute_name"],
                "options": options if isinstance(options, dict) else {},
            }
        )
    return {
        "variable_column_name": control["variable_column_name"],
        "groupby_attrs": groupby,
        "aggregations": normal,
    }


def _arrow_message(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if text.endswith(".") else text + "."
