"""Provenance capture in an IPython kernel, `%load_ext espri_vre`: this module wires the parts.

- settings.py: the settings from environment variables, and where the log goes;
- recorder.py: the recorder, which frames each cell with IPython's pre_run_cell/post_run_cell
  events and writes the log (files.py: the files a cell opened, hashed when it ends);
- audit.py: the audit hook that sees every `open` made through Python;
- patches.py (with the import hook of imports.py): wrappers for the library openers that do
  not go through Python's open;
- state.py: the one switch the hooks read, and the recorder as they see it;
- magic.py: `%provenance`;
- confine.py: in a replayed kernel, the confinement to the replay's working folder.

Nothing here may break a user's cell: a failing write stops recording with a message in the
cell's output, and any error of ours does the same."""

from __future__ import annotations

import atexit
import sys
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from ..provenance.identifiers import DatasetIdentifiers
from . import confine, state
from .audit import add_audit_hook
from .magic import provenance_magic
from .patches import Patches
from .recorder import Recorder
from .settings import CaptureSettings

_recorder: Recorder | None = None
"""Also in `state.sink` while loaded, where the hooks find it."""
_patches = Patches()
_atexit_registered = False


def _current() -> Recorder | None:
    return _recorder


def _at_exit() -> None:
    if _recorder is not None:
        _recorder.close("kernel exit")


def load_ipython_extension(ip: Any) -> None:
    """Starts recording this kernel's provenance (`%load_ext espri_vre`)."""
    global _recorder, _atexit_registered
    if _recorder is not None:
        return
    # First, and whatever happens to recording: a replay's cells must never write elsewhere.
    refused = confine.install_from_env()
    if refused is not None:
        raise RuntimeError(refused)
    if confine.folder is not None:
        add_audit_hook()
        _patches.install()
    try:
        settings = CaptureSettings.from_env()
    except ValueError as error:
        print(f"espri-vre provenance: not recording, {error}", file=sys.stderr)
        return
    _recorder = recorder = Recorder(ip, settings)
    state.set_sink(recorder)
    ip.register_magic_function(provenance_magic(_current), "line", "provenance")
    ip.events.register("pre_run_cell", recorder.pre_run_cell)
    ip.events.register("post_run_cell", recorder.post_run_cell)
    add_audit_hook()
    if not _atexit_registered:
        atexit.register(_at_exit)
        _atexit_registered = True
    _patches.install()
    if settings.enabled:
        recorder.start(lazily=True)


def unload_ipython_extension(ip: Any) -> None:
    """Ends the log and removes every hook and wrapper (the audit hook stays, inert)."""
    global _recorder
    recorder = _recorder
    if recorder is None:
        return
    recorder.close("extension unloaded")
    _recorder = None
    state.set_sink(None)
    for name, callback in (
        ("pre_run_cell", recorder.pre_run_cell),
        ("post_run_cell", recorder.post_run_cell),
    ):
        with suppress(ValueError):
            ip.events.unregister(name, callback)
    ip.magics_manager.magics["line"].pop("provenance", None)
    if confine.folder is None:  # a replay's library wrappers redirect its writes: they stay
        _patches.remove()


def status() -> dict[str, Any]:
    """The recording state: what the notebook toolbar shows and keeps (run id, last hash)."""
    if _recorder is None:
        return {"state": "off", "reason": "not loaded"}
    return _recorder.status()


def record_job(job_id: str, spec: Mapping[str, Any], *, provenance: str | None = None) -> bool:
    """Records a job submitted from this kernel (spec: espri_vre.jobs JobSpec.to_dict());
    False when not recording."""
    return _recorder.record_job(job_id, spec, provenance) if _recorder is not None else False


def record_dataset(
    identifiers: DatasetIdentifiers, *, path: str | None = None, url: str | None = None
) -> bool:
    """Records identifiers that came with a dataset from the catalogue (DOI, citation)."""
    if _recorder is None:
        return False
    return _recorder.record_dataset(identifiers, path=path, url=url)
