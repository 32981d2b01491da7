"""Data roots: the directories of the server's storage that the suite may read (and that
previews and tables are confined to)."""

from __future__ import annotations

import os
from pathlib import Path

LISTED_ENTRIES_LIMIT = 1000
"""Counting stops there: a data root may hold millions of files."""


def check_data_root(location: str) -> tuple[bool, str]:
    """A data root is a directory the server can list."""
    path = Path(os.path.expanduser(location))
    if not path.exists():
        return False, f"{path} does not exist"
    if not path.is_dir():
        return False, f"{path} is not a directory"
    if not os.access(path, os.R_OK | os.X_OK):
        return False, f"the directory {path} is not readable by the server"
    limit = LISTED_ENTRIES_LIMIT
    with os.scandir(path) as entries:
        n = sum(1 for _, _ in zip(range(limit + 1), entries, strict=False))
    shown = f"more than {limit}" if n > limit else str(n)
    return True, f"directory with {shown} {'entry' if n == 1 else 'entries'}"
