"""The installed distribution's version, in a module of its own: the provenance records and
the replay report name it without importing the package's `__init__` (which names the server
app for Jupyter)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("espri-vre")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
