"""Provenance of notebook runs: the event schema (schema/events.schema.json), the event kinds
(events), the hash-chained log (store), file hashes (hashing) and dataset identifiers
(identifiers). The kernel side that records them is espri_vre.kernel."""

from __future__ import annotations

from .store import (
    EventLog,
    LogBusyError,
    RecordingStoppedWarning,
    read_log,
    recover_directory,
    verify,
)

__all__ = [
    "EventLog",
    "LogBusyError",
    "RecordingStoppedWarning",
    "read_log",
    "recover_directory",
    "verify",
]
