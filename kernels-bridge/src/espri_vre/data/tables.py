"""Row ranges of tables (Parquet, CSV, Arrow IPC / Feather) as Arrow record batches, for the
browser's virtualised table: the schema, rows [offset, offset + limit), the total row count and,
from Parquet metadata, per-column statistics.

Only what the range needs is read where the format allows it: the Parquet row groups that overlap
the range, the Arrow IPC batches that do (memory-mapped). CSV and Arrow streams have no index,
so they are read from the start up to the range's end; their total row count needs one full pass,
which is done once per file version and cached.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from .kinds import TABLE_KINDS, CorruptFile, DataError, FileKind, detect_kind, require_kind

DEFAULT_LIMIT = 1000
MAX_ROWS = 10_000
"""Rows per answer at most: a larger limit is capped (the answer says how many rows it holds)."""
MAX_BYTES = 64 * 1024 * 1024
"""Bytes of Arrow data per answer at most: wide rows or long strings get fewer rows."""
CSV_BLOCK_BYTES = 4 * 1024 * 1024
"""CSV is parsed in blocks this large; column types are inferred from the first one."""

STATISTICS_KEY = b"espri-vre:statistics"
TOTAL_ROWS_KEY = b"espri-vre:total_rows"
OFFSET_KEY = b"espri-vre:offset"


@dataclass
class TableSlice:
    table: pa.Table
    total_rows: int
    offset: int
    kind: str
    statistics: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per column: any of min, max, null_count (JSON values), from Parquet metadata."""
    row_groups_read: tuple[int, ...] = ()


class _TotalRows:
    """Row counts of files without an index (CSV, Arrow streams), by file version."""

    def __init__(self, max_entries: int = 512) -> None:
        self._entries: OrderedDict[tuple[str, int, int], int] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int, int]) -> int | None:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
            return self._entries.get(key)

    def put(self, key: tuple[str, int, int], total: int) -> None:
        with self._lock:
            self._entries[key] = total
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


TOTAL_ROWS = _TotalRows()


def read_slice(
    path: Path,
    shown: str,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
    columns: Sequence[str] | None = None,
) -> TableSlice:
    """Rows [offset, offset + min(limit, MAX_ROWS)) of the table at `path` (a real path)."""
    if offset < 0 or limit < 0:
        raise DataError("offset and limit must be zero or positive integers.")
    limit = min(limit, MAX_ROWS)
    kind = _table_kind(path, shown)
    try:
        if kind.kind == "parquet":
            result = _parquet(path, shown, offset, limit, columns)
        elif kind.kind == "csv":
            result = _csv(path, shown, kind.delimiter or ",", offset, limit, columns)
        elif kind.kind == "arrow":
            result = _arrow_file(path, shown, offset, limit, columns)
        elif kind.kind == "arrow-stream":
            result = _arrow_stream(path, shown, offset, limit, columns)
        else:
            result = _feather_v1(path, shown, offset, limit, columns)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as e:
        raise CorruptFile(f"{shown} could not be read as {kind.description}: {_reason(e)}") from e
    result.table = _within_bytes(_browser_types(result.table))
    return result


def to_ipc_stream(part: TableSlice) -> bytes:
    """The slice as an Arrow IPC stream; the total row count, offset and statistics travel in
    the schema's metadata as well as in the HTTP headers."""
    metadata = dict(part.table.schema.metadata or {})
    metadata[TOTAL_ROWS_KEY] = str(part.total_rows).encode()
    metadata[OFFSET_KEY] = str(part.offset).encode()
    if part.statistics:
        metadata[STATISTICS_KEY] = json.dumps(part.statistics).encode()
    table = part.table.replace_schema_metadata(metadata)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _table_kind(path: Path, shown: str) -> FileKind:
    found = detect_kind(path)
    if found.kind == "text" and "csv" in found.expected:
        # One column has no delimiter to find; the extension is trusted only for plain text.
        return FileKind("csv", found.description, "\t" if path.suffix == ".tsv" else ",")
    return require_kind(path, shown, TABLE_KINDS, "tables are read from Parquet, CSV or Arrow")


def _select(schema_names: list[str], columns: Sequence[str] | None, shown: str) -> list[str]:
    if not columns:
        return list(schema_names)
    missing = [c for c in columns if c not in schema_names]
    if missing:
        raise DataError(
            f"{shown} has no column {', '.join(repr(c) for c in missing)}; its columns are: "
            f"{', '.join(schema_names)}."
        )
    return list(dict.fromkeys(columns))


def _parquet(
    path: Path, shown: str, offset: int, limit: int, columns: Sequence[str] | None
) -> TableSlice:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        meta = pf.metadata
        names = _select(pf.schema_arrow.names, columns, shown)
        stop = offset + limit
        groups: list[int] = []
        skip = 0
        start = 0
        for i in range(meta.num_row_groups):
            n = meta.row_group(i).num_rows
            if n and start < stop and start + n > offset:
                if not groups:
                    skip = offset - start
                groups.append(i)
            start += n
        schema = pa.schema([pf.schema_arrow.field(n) for n in names], pf.schema_arrow.metadata)
        batches = pf.iter_batches(batch_size=8192, row_groups=groups, columns=names)
        table = _take(batches if groups else iter(()), schema, skip, limit)
        return TableSlice(
            table=table,
            total_rows=meta.num_rows,
            offset=offset,
            kind="parquet",
            statistics=_parquet_statistics(meta, names),
            row_groups_read=tuple(groups),
        )


def _csv(
    path: Path,
    shown: str,
    delimiter: str,
    offset: int,
    limit: int,
    columns: Sequence[str] | None,
) -> TableSlice:
    import pyarrow.csv as pv

    reader = pv.open_csv(
        path,
        read_options=pv.ReadOptions(block_size=CSV_BLOCK_BYTES),
        parse_options=pv.ParseOptions(delimiter=delimiter),
        # As pandas and spreadsheets do: an empty field is a missing value, in text columns too.
        convert_options=pv.ConvertOptions(strings_can_be_null=True),
    )
    with reader:
        names = _select(reader.schema.names, columns, shown)
        batches = (b.select(names) for b in reader)
        return _scan(path, batches, reader.schema, names, offset, limit, "csv")


def _arrow_stream(
    path: Path, shown: str, offset: int, limit: int, columns: Sequence[str] | None
) -> TableSlice:
    with pa.memory_map(str(path)) as source:
        reader = pa.ipc.open_stream(source)
        names = _select(reader.schema.names, columns, shown)
        batches = (b.select(names) for b in reader)
        return _scan(path, batches, reader.schema, names, offset, limit, "arrow-stream")


def _arrow_file(
    path: Path, shown: str, offset: int, limit: int, columns: Sequence[str] | None
) -> TableSlice:
    with pa.memory_map(str(path)) as source:
        reader = pa.ipc.open_file(source)
        names = _select(reader.schema.names, columns, shown)
        batches = (reader.get_batch(i).select(names) for i in range(reader.num_record_batches))
        return _scan(path, batches, reader.schema, names, offset, limit, "arrow")


def _feather_v1(
    path: Path, shown: str, offset: int, limit: int, columns: Sequence[str] | None
) -> TableSlice:
    import pyarrow.feather as feather

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # still readable: the point here
        table = feather.read_table(path, memory_map=True)
    names = _select(table.schema.names, columns, shown)
    return TableSlice(
        table=table.select(names).slice(offset, limit),
        total_rows=table.num_rows,
        offset=offset,
        kind="feather-v1",
    )


def _scan(
    path: Path,
    batches: Iterator[pa.RecordBatch],
    schema: pa.Schema,
    names: list[str],
    offset: int,
    limit: int,
    kind: str,
) -> TableSlice:
    """Rows from a sequential reader: stop at the range's end when the total is known,
    otherwise read on to count."""
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    known = TOTAL_ROWS.get(key)
    selected = pa.schema([schema.field(n) for n in names], schema.metadata)
    collected: list[pa.RecordBatch] = []
    position = 0
    wanted = limit
    for batch in batches:
        n = batch.num_rows
        if wanted and position + n > offset:
            start = max(offset - position, 0)
            piece = batch.slice(start, wanted)
            collected.append(piece)
            wanted -= piece.num_rows
        position += n
        if not wanted and known is not None:
            break
    if known is None:
        TOTAL_ROWS.put(key, position)
    total = known if known is not None else position
    table = pa.Table.from_batches(collected, schema=selected)
    return TableSlice(table=table, total_rows=total, offset=offset, kind=kind)


def _take(batches: Iterable[pa.RecordBatch], schema: pa.Schema, skip: int, limit: int) -> pa.Table:
    collected: list[pa.RecordBatch] = []
    for batch in batches:
        if skip >= batch.num_rows:
            skip -= batch.num_rows
            continue
        piece = batch.slice(skip, limit)
        skip = 0
        collected.append(piece)
        limit -= piece.num_rows
        if not limit:
            break
    return pa.Table.from_batches(collected, schema=schema)


def _parquet_statistics(meta: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    """min, max and null_count of each top-level column over all row groups, for the columns
    whose every row group records them."""
    if not meta.num_row_groups:
        return {}
    index = {meta.row_group(0).column(j).path_in_schema: j for j in range(meta.num_columns)}
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        j = index.get(name)
        if j is None:  # nested columns have no statistics of their own
            continue
        stats = [meta.row_group(i).column(j).statistics for i in range(meta.num_row_groups)]
        entry: dict[str, Any] = {}
        if all(s is not None and s.has_null_count for s in stats):
            entry["null_count"] = sum(s.null_count for s in stats)
        if all(s is not None and s.has_min_max for s in stats):
            try:
                low = _json_value(min(s.min for s in stats))
                high = _json_value(max(s.max for s in stats))
            except TypeError:
                low = high = None
            if low is not None and high is not None:
                entry["min"], entry["max"] = low, high
        if entry:
            out[name] = entry
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return None


BROWSER_CASTS = {
    pa.large_string(): pa.string(),
    pa.string_view(): pa.string(),
    pa.large_binary(): pa.binary(),
    pa.binary_view(): pa.binary(),
}
"""Types apache-arrow in the browser may lack, and the 32-bit ones a slice always fits in."""


def _browser_types(table: pa.Table) -> pa.Table:
    fields = [f.with_type(BROWSER_CASTS.get(f.type, f.type)) for f in table.schema]
    target = pa.schema(fields, table.schema.metadata)
    return table if target.equals(table.schema) else table.cast(target)


def _within_bytes(table: pa.Table) -> pa.Table:
    size = table.nbytes
    if size <= MAX_BYTES or table.num_rows <= 1:
        return table
    return table.slice(0, max(1, table.num_rows * MAX_BYTES // size))


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
