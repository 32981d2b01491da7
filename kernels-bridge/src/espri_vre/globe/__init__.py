"""The kernel half of the globe: the `Globe` widget (ipywidgets 8, widget.py) and its
messages (messages.py), whose protocol docs/globe.md describes."""

from __future__ import annotations

from .messages import PROTOCOL_VERSION, add_points_message, decode, decode_points
from .widget import Globe

__all__ = ["PROTOCOL_VERSION", "Globe", "add_points_message", "decode", "decode_points"]
