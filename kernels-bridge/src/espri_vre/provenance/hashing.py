"""Content hashes of the files a notebook reads and writes, streamed and cached.

A file up to `manifest_above` bytes gets one sha256. A larger one gets a chunk manifest: the
sha256 of each `chunk_size` piece, hashed in parallel threads (hashlib releases the GIL), and the
sha256 of the manifest's text; a replay can then say which part of a 50 GB file changed. A
directory (a Zarr store, a partitioned Parquet dataset) gets the sha256 of a listing of its files.

Hashes are cached by (path, inode, size, mtime): a file opened in every cell is read once."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

DEFAULT_MANIFEST_ABOVE = 256 * 2**20
DEFAULT_CHUNK_SIZE = 64 * 2**20
BLOCK = 2**20
MANIFEST_HEADER = "sha256-chunk-manifest/1"
TREE_HEADER = "sha256-tree/1"


@dataclass(frozen=True)
class Manifest:
    chunk_size: int
    chunk_sha256: tuple[str, ...]
    sha256: str
    """sha256 of `manifest_text(chunk_size, chunk_sha256)`."""

    def to_dict(self) -> dict[str, object]:
        return {
            "chunk_size": self.chunk_size,
            "chunk_sha256": list(self.chunk_sha256),
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Tree:
    files: int
    sha256: str

    def to_dict(self) -> dict[str, object]:
        return {"files": self.files, "sha256": self.sha256}


@dataclass(frozen=True)
class Digest:
    """What a file or directory held: exactly one of sha256, manifest, tree is set."""

    size: int
    mtime: str
    sha256: str | None = None
    manifest: Manifest | None = None
    tree: Tree | None = None

    @property
    def content_hash(self) -> str:
        """The one hash that stands for the content, whichever form it took."""
        if self.sha256 is not None:
            return self.sha256
        if self.manifest is not None:
            return self.manifest.sha256
        assert self.tree is not None
        return self.tree.sha256


class ChangedWhileHashing(OSError):
    """The file's size or mtime moved while it was read: its hash would describe no real state."""


def iso_mtime(mtime_ns: int) -> str:
    return datetime.fromtimestamp(mtime_ns / 1e9, UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def manifest_text(chunk_size: int, chunk_sha256: tuple[str, ...] | list[str]) -> str:
    return "\n".join([f"{MANIFEST_HEADER} chunk_size={chunk_size}", *chunk_sha256]) + "\n"


def _sha256_range(path: str, offset: int, length: int) -> str:
    digest = hashlib.sha256()
    buffer = memoryview(bytearray(BLOCK))
    with open(path, "rb", buffering=0) as f:
        f.seek(offset)
        left = length
        while left > 0:
            n = f.readinto(buffer[: min(BLOCK, left)])
            if not n:
                break
            digest.update(buffer[:n])
            left -= n
    return digest.hexdigest()


def _sha256_file(path: str) -> str:
    with open(path, "rb", buffering=0) as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _same_version(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_ino, a.st_size, a.st_mtime_ns) == (b.st_ino, b.st_size, b.st_mtime_ns)


class FileHasher:
    """Digests of files and directories, with a bounded cache shared by the whole kernel."""

    def __init__(
        self,
        *,
        manifest_above: int = DEFAULT_MANIFEST_ABOVE,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        workers: int | None = None,
        cache_size: int = 4096,
    ) -> None:
        if chunk_size < 1 or manifest_above < 0:
            raise ValueError("chunk_size must be positive and manifest_above not negative")
        self.manifest_above = manifest_above
        self.chunk_size = chunk_size
        self.workers = workers or min(8, os.cpu_count() or 1)
        self._cache: OrderedDict[tuple[str, int, int, int], Digest] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def digest(self, path: str | os.PathLike[str]) -> Digest:
        """The digest of a regular file or a directory; OSError when it cannot be read."""
        name = os.fspath(path)
        before = os.stat(name)
        if stat.S_ISDIR(before.st_mode):
            return self._tree(name, before)
        if not stat.S_ISREG(before.st_mode):
            raise OSError(f"not a regular file: {name}")
        return self._file(name, before)

    def _file(self, name: str, before: os.stat_result) -> Digest:
        key = (name, before.st_ino, before.st_size, before.st_mtime_ns)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        if before.st_size > self.manifest_above:
            digest = Digest(
                size=before.st_size,
                mtime=iso_mtime(before.st_mtime_ns),
                manifest=self._manifest(name, before.st_size),
            )
        else:
            digest = Digest(
                size=before.st_size, mtime=iso_mtime(before.st_mtime_ns), sha256=_sha256_file(name)
            )
        if not _same_version(before, os.stat(name)):
            raise ChangedWhileHashing(f"changed while it was hashed: {name}")
        with self._lock:
            self._cache[key] = digest
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return digest

    def _manifest(self, name: str, size: int) -> Manifest:
        offsets = range(0, size, self.chunk_size)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            chunks = tuple(pool.map(lambda o: _sha256_range(name, o, self.chunk_size), offsets))
        text = manifest_text(self.chunk_size, chunks)
        return Manifest(self.chunk_size, chunks, hashlib.sha256(text.encode()).hexdigest())

    def _tree(self, name: str, top: os.stat_result) -> Digest:
        entries = []
        total, latest = 0, top.st_mtime_ns
        for root, _dirs, files in os.walk(name):
            for file in files:
                full = os.path.join(root, file)
                info = os.stat(full)
                if not stat.S_ISREG(info.st_mode):
                    continue
                digest = self._file(full, info)
                rel = os.path.relpath(full, name).replace(os.sep, "/")
                entries.append(f"{rel}\t{digest.size}\t{digest.content_hash}")
                total += digest.size
                latest = max(latest, info.st_mtime_ns)
        text = "\n".join([TREE_HEADER, *sorted(entries)]) + "\n"
        tree = Tree(files=len(entries), sha256=hashlib.sha256(text.encode()).hexdigest())
        return Digest(size=total, mtime=iso_mtime(latest), tree=tree)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
