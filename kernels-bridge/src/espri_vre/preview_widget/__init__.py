"""The previewer on xarray objects held in the kernel: `preview(obj)` shows the
`Preview` widget (widget.py), whose chunks the browser reads from a virtual Zarr v2
store computed key by key (store.py), through the widget's comm."""

from __future__ import annotations

from .store import ChunkError, KeyNotFound, VirtualZarr
from .widget import PROTOCOL_VERSION, Preview, preview

__all__ = ["PROTOCOL_VERSION", "ChunkError", "KeyNotFound", "Preview", "VirtualZarr", "preview"]
