"""Capture settings, from environment variables, and where a kernel's log goes.

The log goes beside the notebook, in its hidden folder (`.espri-vre-provenance/<notebook
stem>/<run_id>.jsonl`, provenance/layout.py) when the kernel knows its notebook
(JPY_SESSION_NAME, set by jupyter_server 2, or `__session__`), else into
ESPRI_VRE_PROVENANCE_DIR (by default the Jupyter data directory's espri-vre/provenance)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..provenance.events import ENV_ALLOW, FsyncPolicy
from ..provenance.hashing import DEFAULT_CHUNK_SIZE, DEFAULT_MANIFEST_ABOVE
from ..provenance.layout import fallback_folder, hidden_folder

ENV = "ESPRI_VRE_PROVENANCE"


@dataclass(frozen=True)
class CaptureSettings:
    """From environment variables, so that a hub's kernel spec or a job can set them."""

    enabled: bool = True
    directory: Path = field(default_factory=lambda: _default_directory())
    fsync: FsyncPolicy = "cell"
    manifest_above: int = DEFAULT_MANIFEST_ABOVE
    chunk_size: int = DEFAULT_CHUNK_SIZE
    env_allow: tuple[str, ...] = ENV_ALLOW
    ignore: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CaptureSettings:
        env = os.environ if environ is None else environ

        def size(name: str, default: int) -> int:
            raw = env.get(f"{ENV}_{name}")
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise ValueError(f"{ENV}_{name} must be a number of bytes, not {raw!r}") from None
            if value < 1:
                raise ValueError(f"{ENV}_{name} must be positive, not {value}")
            return value

        fsync = env.get(f"{ENV}_FSYNC", "cell")
        if fsync not in ("event", "cell", "none"):
            raise ValueError(f"{ENV}_FSYNC must be event, cell or none, not {fsync!r}")
        extra_env = tuple(n.strip() for n in env.get(f"{ENV}_ENV", "").split(",") if n.strip())
        ignore = tuple(p for p in env.get(f"{ENV}_IGNORE", "").split(os.pathsep) if p)
        directory = env.get(f"{ENV}_DIR")
        return cls(
            enabled=env.get(ENV, "on").lower() not in ("off", "0", "false", "no"),
            directory=Path(directory).expanduser() if directory else _default_directory(),
            fsync=fsync,  # type: ignore[arg-type]
            manifest_above=size("MANIFEST_ABOVE", DEFAULT_MANIFEST_ABOVE),
            chunk_size=size("CHUNK_SIZE", DEFAULT_CHUNK_SIZE),
            env_allow=ENV_ALLOW + extra_env,
            ignore=ignore,
        )


def _default_directory() -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "espri-vre" / "provenance"


def notebook_path(
    user_ns: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> Path | None:
    """The notebook this kernel runs, when it can be known.

    jupyter_server 2 gives it in JPY_SESSION_NAME (and ipykernel copies it to `__session__`):
    an absolute path, or a path relative to the server's root when the session has no name, in
    which case the kernel's working directory is the notebook's folder."""
    env = os.environ if environ is None else environ
    for raw in (env.get("JPY_SESSION_NAME"), user_ns.get("__session__")):
        if not isinstance(raw, str) or not raw:
            continue
        given = Path(raw).expanduser()
        options = [given] if given.is_absolute() else [Path.cwd() / given, Path.cwd() / given.name]
        for option in options:
            if option.is_file():
                return option.resolve()
    return None


def named_notebook(
    user_ns: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> Path | None:
    """The notebook the session names, as a real path, whether or not it exists: a notebook
    renamed while its kernel started (JupyterLab's new "Untitled.ipynb", renamed at once) is
    no longer there, and the server's rename tells the kernel its new name by this one."""
    env = os.environ if environ is None else environ
    for raw in (env.get("JPY_SESSION_NAME"), user_ns.get("__session__")):
        if isinstance(raw, str) and raw.endswith(".ipynb"):
            given = Path(raw).expanduser()
            return (given if given.is_absolute() else Path.cwd() / given.name).resolve()
    return None


def log_directories(notebook: Path | None, fallback: Path) -> list[Path]:
    """Where the log may go, in order of preference: beside the notebook, else the fallback
    (a notebook in a read-only course folder still gets its log)."""
    places = [hidden_folder(notebook)] if notebook else []
    return [*places, fallback_folder(fallback, notebook)]
