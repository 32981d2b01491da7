"""The widget's store: the virtual Zarr of espri_vre.data.virtual_zarr, shared with the
server's routes (OPeNDAP previews) so that both serve the same encoding."""

from __future__ import annotations

from ..data.virtual_zarr import DEFAULT_CHUNK_BYTES, ChunkError, KeyNotFound, VirtualZarr

__all__ = ["DEFAULT_CHUNK_BYTES", "ChunkError", "KeyNotFound", "VirtualZarr"]
