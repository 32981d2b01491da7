"""The kernel half of the globe: the messages of the Globe widget (messages.py).

The widget class itself (ipywidgets 8) is not written yet; docs/globe.md describes
the protocol these messages follow.
"""

from __future__ import annotations

from .messages import PROTOCOL_VERSION, add_points_message, decode_points

__all__ = ["PROTOCOL_VERSION", "add_points_message", "decode_points"]
