"""The kernel side of espri-vre: provenance capture (capture.py), loaded with
`%load_ext espri_vre`."""

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
