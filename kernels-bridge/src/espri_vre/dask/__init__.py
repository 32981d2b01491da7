"""Dask clusters on the configured Slurm and Torque clusters (dask-jobqueue workers started as
batch jobs, managed by dask-labextension), from the job launcher's cluster configuration."""

from .presets import DaskConfigError, DaskSettings, Preset, cluster_kwargs, parse_settings

__all__ = ["DaskConfigError", "DaskSettings", "Preset", "cluster_kwargs", "parse_settings"]
