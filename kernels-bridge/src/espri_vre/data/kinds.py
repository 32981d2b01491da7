"""What a data file is, from its first bytes (and, for a folder, its Zarr metadata files), never
from its name: a `.nc` that is really a text file must be named as such before a reader fails on
it with an obscure message."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from .paths import DataError

SNIFF_BYTES = 64 * 1024
"""How much of a file is read to tell CSV from other text."""

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
HDF5_SIGNATURE_OFFSETS = (0, 512, 1024, 2048, 4096)
"""HDF5 allows a user block before the superblock; its size is 0 or a power of two >= 512."""

DESCRIPTIONS = {
    "zarr-v2": "a Zarr v2 store",
    "zarr-v3": "a Zarr v3 store",
    "netcdf4": "a NetCDF-4 file (HDF5)",
    "hdf5": "an HDF5 file",
    "netcdf3": "a NetCDF-3 file",
    "parquet": "a Parquet file",
    "arrow": "an Arrow IPC (Feather v2) file",
    "arrow-stream": "an Arrow IPC stream",
    "feather-v1": "a Feather v1 file",
    "csv": "a CSV (delimited text) file",
    "text": "a text file",
    "directory": "a folder (not a Zarr store)",
    "empty": "an empty file",
    "unknown": "a file of unknown type",
}

OTHER_SIGNATURES = {
    b"\x1f\x8b": "a gzip-compressed file",
    b"BZh": "a bzip2-compressed file",
    b"\xfd7zXZ\x00": "an xz-compressed file",
    b"\x28\xb5\x2f\xfd": "a zstd-compressed file",
    b"PK\x03\x04": "a ZIP archive",
    b"GRIB": "a GRIB file",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
}

EXTENSION_KINDS = {
    ".nc": ("netcdf4", "netcdf3", "hdf5"),
    ".nc4": ("netcdf4", "hdf5"),
    ".nc3": ("netcdf3",),
    ".cdf": ("netcdf3", "netcdf4", "hdf5"),
    ".h5": ("hdf5", "netcdf4"),
    ".hdf5": ("hdf5", "netcdf4"),
    ".he5": ("hdf5", "netcdf4"),
    ".zarr": ("zarr-v2", "zarr-v3"),
    ".parquet": ("parquet",),
    ".pq": ("parquet",),
    ".csv": ("csv",),
    ".tsv": ("csv",),
    ".arrow": ("arrow", "arrow-stream"),
    ".arrows": ("arrow-stream",),
    ".feather": ("arrow", "feather-v1"),
}

REFERENCE_KINDS = ("netcdf4", "hdf5", "netcdf3")
TABLE_KINDS = ("parquet", "csv", "arrow", "arrow-stream", "feather-v1")


class WrongKind(DataError):
    """The file is not of a kind this endpoint reads (or not what its name claims)."""

    status = 415
    code = "unsupported-file"


class CorruptFile(DataError):
    status = 422
    code = "corrupt-file"


@dataclass(frozen=True)
class FileKind:
    kind: str
    description: str
    """A noun phrase for messages: 'a NetCDF-4 file (HDF5)'."""
    delimiter: str | None = None
    """For CSV: the delimiter found in the first lines."""
    expected: tuple[str, ...] = ()
    """The kinds the file's extension promises (empty when the extension says nothing)."""

    @property
    def matches_extension(self) -> bool | None:
        return self.kind in self.expected if self.expected else None


def detect_kind(path: Path) -> FileKind:
    expected = EXTENSION_KINDS.get(path.suffix.lower(), ())
    if path.is_dir():
        return _kind(_zarr_format(path), expected)
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
        if not head:
            return _kind("empty", expected)
        for offset in HDF5_SIGNATURE_OFFSETS:
            f.seek(offset)
            if f.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE:
                return _kind("netcdf4" if _is_netcdf4(path) else "hdf5", expected)
    if head[:3] == b"CDF" and head[3:4] in (b"\x01", b"\x02", b"\x05"):
        return _kind("netcdf3", expected)
    if head[:4] == b"PAR1":
        return _kind("parquet", expected)
    if head[:6] == b"ARROW1":
        return _kind("arrow", expected)
    if head[:4] == b"FEA1":
        return _kind("feather-v1", expected)
    if head[:4] == b"\xff\xff\xff\xff":
        return _kind("arrow-stream", expected)
    for signature, description in OTHER_SIGNATURES.items():
        if head.startswith(signature):
            return FileKind("unknown", description, expected=expected)
    text = _as_text(head)
    if text is None:
        return _kind("unknown", expected)
    delimiter = _csv_delimiter(text)
    if delimiter is not None:
        return FileKind("csv", DESCRIPTIONS["csv"], delimiter, expected)
    return _kind("text", expected)


def require_kind(path: Path, shown: str, accepted: tuple[str, ...], purpose: str) -> FileKind:
    """The file's kind, or WrongKind naming the file, what it really is and what was wanted."""
    found = detect_kind(path)
    if found.kind in accepted:
        return found
    wanted = " or ".join(dict.fromkeys(_short(k) for k in accepted))
    claim = ""
    if found.expected and not found.matches_extension:
        claim = f" despite its {path.suffix} extension"
    raise WrongKind(f"{shown} is {found.description}{claim}, not {wanted}: {purpose}.")


def _short(kind: str) -> str:
    return {
        "netcdf4": "NetCDF/HDF5",
        "hdf5": "NetCDF/HDF5",
        "netcdf3": "NetCDF-3",
        "parquet": "Parquet",
        "csv": "CSV",
        "arrow": "Arrow/Feather",
        "arrow-stream": "Arrow/Feather",
        "feather-v1": "Arrow/Feather",
    }.get(kind, kind)


def _kind(kind: str, expected: tuple[str, ...]) -> FileKind:
    return FileKind(kind, DESCRIPTIONS[kind], expected=expected)


def _zarr_format(folder: Path) -> str:
    meta = folder / "zarr.json"
    if meta.is_file():
        try:
            if json.loads(meta.read_bytes()).get("zarr_format") == 3:
                return "zarr-v3"
        except (ValueError, AttributeError):
            return "directory"
    if any((folder / name).is_file() for name in (".zgroup", ".zarray", ".zmetadata")):
        return "zarr-v2"
    return "directory"


def _is_netcdf4(path: Path) -> bool:
    """netCDF-C marks what it writes: `_NCProperties` on the root group (netCDF >= 4.4), or
    `_Netcdf4Dimid` / `_Netcdf4Coordinates` on variables (older files)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if "_NCProperties" in f.attrs:
                return True
            return any(
                "_Netcdf4Dimid" in obj.attrs or "_Netcdf4Coordinates" in obj.attrs
                for obj in f.values()
                if isinstance(obj, h5py.Dataset)
            )
    except (OSError, RuntimeError, KeyError):
        return False


def _as_text(head: bytes) -> str | None:
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as e:
        # A multi-byte character cut by the end of the sniffed block is still text.
        if e.start >= len(head) - 3 and len(head) == SNIFF_BYTES:
            return head[: e.start].decode("utf-8")
        try:
            return head.decode("latin-1") if _mostly_printable(head) else None
        except UnicodeDecodeError:
            return None


def _mostly_printable(head: bytes) -> bool:
    printable = sum(1 for b in head if b >= 32 or b in (9, 10, 13))
    return printable >= 0.95 * len(head)


def _csv_delimiter(text: str) -> str | None:
    """The delimiter when the first lines (two at least: one line of prose with a comma is not
    a table) split into the same number (>= 2) of fields."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if len(text) == SNIFF_BYTES and len(lines) > 2:
        lines = lines[:-1]  # possibly cut
    if len(lines) < 2:
        return None
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|")
    except csv.Error:
        return None
    widths = {len(row) for row in csv.reader(lines, delimiter=dialect.delimiter)}
    if len(widths) == 1 and widths.pop() >= 2:
        return dialect.delimiter
    return None
