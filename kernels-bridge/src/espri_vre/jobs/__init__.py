"""Jobs on the centre's clusters: schedulers (Slurm, Torque, local) and where their commands run.

Layers, each importing only those below it: `types` (records and errors); `transport`, `ssh`,
`probe` (where commands run, and whether a cluster answers); `validation`, `store`, `script`,
`logs`; `scheduler` (the Scheduler and CliScheduler bases); the back ends `slurm/`, `torque/`,
`local`; `service` (what the server's handlers call). Nothing here knows of HTTP."""

from .probe import probe_cluster
from .transport import CommandResult, LocalTransport, Transport
from .types import CommandNotFound, CommandTimeout, TransportError

__all__ = [
    "CommandNotFound",
    "CommandResult",
    "CommandTimeout",
    "LocalTransport",
    "Transport",
    "TransportError",
    "probe_cluster",
]
