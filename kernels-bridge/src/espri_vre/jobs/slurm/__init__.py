"""Slurm: the back end (scheduler.py) apart from the pure parsers of its commands' output
(parse.py for jobs, partitions.py for partitions, nodes and load) and the commands themselves
(commands.py)."""

from .scheduler import SlurmScheduler

__all__ = ["SlurmScheduler"]
