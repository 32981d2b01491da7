"""Jobs on the centre's clusters: schedulers (Slurm, Torque, local) and where their commands run.

Nothing here knows of HTTP; `espri_vre.server` routes to it."""

from .probe import probe_cluster
from .transport import (
    CommandNotFound,
    CommandResult,
    CommandTimeout,
    LocalTransport,
    Transport,
    TransportError,
)

__all__ = [
    "CommandNotFound",
    "CommandResult",
    "CommandTimeout",
    "LocalTransport",
    "Transport",
    "TransportError",
    "probe_cluster",
]
