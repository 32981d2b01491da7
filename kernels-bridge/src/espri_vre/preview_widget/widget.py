"""`Preview`, the previewer of extensions/preview in a notebook output (ipywidgets 8).

The object stays in the kernel: the widget's model carries the consolidated Zarr
metadata, and the browser asks for each chunk it needs with a custom message on the
widget's comm; the answer carries the chunk's bytes as the message's buffer
(docs/previews.md, "From a notebook", describes the messages).
"""

from __future__ import annotations

import collections
from typing import Any

from ipywidgets import DOMWidget, register
from traitlets import Unicode

from .store import DEFAULT_CHUNK_BYTES, ChunkError, KeyNotFound, VirtualZarr

MODULE = "@espri-vre/preview"
MODULE_VERSION = "^0.1.0"
PROTOCOL_VERSION = 1

#: How many answered requests `Preview.requests` remembers.
REQUEST_LOG = 1000


@register
class Preview(DOMWidget):
    """The data previewer on an xarray Dataset or DataArray held in the kernel.

    >>> p = Preview(ds)                 # or espri_vre.preview(ds)
    >>> p = Preview(ds.tas - ds.tas.mean("time"), colormap="RdBu_r")

    Chunks are computed when the browser asks for them and travel as comm buffers;
    nothing is written to disk.
    """

    _model_name = Unicode("PreviewModel").tag(sync=True)
    _model_module = Unicode(MODULE).tag(sync=True)
    _model_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    _view_name = Unicode("PreviewView").tag(sync=True)
    _view_module = Unicode(MODULE).tag(sync=True)
    _view_module_version = Unicode(MODULE_VERSION).tag(sync=True)

    title = Unicode(help="What the preview's title bar says.").tag(sync=True)
    zmetadata = Unicode(help="The consolidated Zarr v2 metadata (.zmetadata), as JSON.").tag(
        sync=True
    )
    variable = Unicode("", help="The variable shown first (empty: the first one).").tag(sync=True)
    colormap = Unicode("", help="The colour map shown first (empty: the user's setting).").tag(
        sync=True
    )

    def __init__(
        self,
        obj: Any,
        *,
        variable: str | None = None,
        colormap: str | None = None,
        height: str = "560px",
        chunks: dict[str, int] | None = None,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        compression: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        store = VirtualZarr(
            obj, name=name, chunks=chunks, chunk_bytes=chunk_bytes, compression=compression
        )
        if variable is not None and variable not in store.variables():
            raise ValueError(
                f"preview: no variable {variable!r}; there are {', '.join(store.variables())}."
            )
        super().__init__(
            title=store.title,
            zmetadata=store.metadata_json,
            variable=variable or "",
            colormap=colormap or "",
            **kwargs,
        )
        if self.layout.height is None:
            self.layout.height = height
        self.store = store
        #: (key, status) of the last requests answered, oldest first.
        self.requests: collections.deque[tuple[str, str]] = collections.deque(maxlen=REQUEST_LOG)
        self.on_msg(self._handle_message)

    def _handle_message(self, _: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        if content.get("type") != "get":
            return
        request_id = content.get("id")
        key = str(content.get("key", ""))
        answer: dict[str, Any] = {
            "protocol": PROTOCOL_VERSION,
            "type": "answer",
            "id": request_id,
            "key": key,
        }
        data: list[bytes] = []
        try:
            chunk = self.store.get(key)
        except KeyNotFound as missing:
            answer.update(status="missing", message=str(missing))
        except ChunkError as refused:
            answer.update(status="error", message=str(refused))
        except Exception as error:  # noqa: BLE001 - any failure is the browser's answer
            answer.update(
                status="error",
                message=f"Reading {key} in the kernel failed: {type(error).__name__}: {error}",
            )
        else:
            answer.update(status="ok", nbytes=len(chunk))
            data = [chunk]
        self.requests.append((key, answer["status"]))
        self.send(answer, data)


def preview(obj: Any, **options: Any) -> Preview:
    """Preview an xarray Dataset or DataArray held in the kernel with the suite's
    previewer (a map of a 2-D slice, sliders, colour maps, series on click): the widget
    is shown when it is the cell's last value, or with `display(...)`.

    Options: `variable` (shown first), `colormap`, `height` (CSS, "560px"),
    `chunks` ({dim: size}, to override the chunking: dask chunks when the variable has
    them, else whole 2-D slices of about 4 MiB), `chunk_bytes`, `compression`
    (None or "zlib"), `name` (of a DataArray without one).
    """
    return Preview(obj, **options)
