"""Torque (PBS): the back end (scheduler.py) apart from the pure parsers of its commands' output
(parse.py)."""

from .scheduler import TorqueScheduler

__all__ = ["TorqueScheduler"]
