"""The kernel side of espri-vre: provenance capture, loaded with `%load_ext espri_vre`
(capture.py wires its parts: settings, recorder, files, audit hook, library patches, magic)."""

from __future__ import annotations

from .capture import (
    load_ipython_extension,
    record_dataset,
    record_job,
    status,
    unload_ipython_extension,
)

__all__ = [
    "load_ipython_extension",
    "record_dataset",
    "record_job",
    "status",
    "unload_ipython_extension",
]
