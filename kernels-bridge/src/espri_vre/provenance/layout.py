"""Where a notebook's runs lie: one place for the kernels that write them, the server that
lists, exports and moves them, and the replay.

A notebook's runs go into a hidden folder beside it, `.espri-vre-provenance/<stem>/`
(`analysis.ipynb` -> `.espri-vre-provenance/analysis/<run>.jsonl`): one dot-folder per folder of
notebooks, which JupyterLab's file browser does not show, instead of a `<stem>.provenance`
folder per notebook in the user's listing. The provenance panel names the log of each run.

Folders of the earlier layout, `<stem>.provenance/` beside the notebook, are still read: their
runs are listed, exported and replayed like the others. They are migrated when their notebook is
renamed or moved (follow.py moves them into the hidden folder of the new name), or when the user
asks for it (`espri-vre provenance migrate`, migrate.py), never behind the user's back otherwise:
a kernel of the earlier version may still be writing into one.

A kernel that cannot write beside its notebook writes into its fallback folder
(ESPRI_VRE_PROVENANCE_DIR, outside the user's folders), `<stem or 'kernel'>.provenance/`.
"""

from __future__ import annotations

from pathlib import Path

HIDDEN_FOLDER = ".espri-vre-provenance"
LEGACY_SUFFIX = ".provenance"
NOTEBOOK_SUFFIX = ".ipynb"
LOG_GLOBS = (f"{HIDDEN_FOLDER}/*/*.jsonl", f"*{LEGACY_SUFFIX}/*.jsonl")
"""The logs of every notebook of one folder, relative to it (new layout, then the earlier)."""


def hidden_folder(notebook: Path) -> Path:
    """Where a notebook's new runs go."""
    return notebook.parent / HIDDEN_FOLDER / notebook.stem


def legacy_folder(notebook: Path) -> Path:
    """Where a notebook's runs went before the hidden folder (still read)."""
    return notebook.with_name(f"{notebook.stem}{LEGACY_SUFFIX}")


def notebook_folders(notebook: Path) -> list[Path]:
    """The folders of a notebook's runs beside it: the hidden one, then the earlier one."""
    return [hidden_folder(notebook), legacy_folder(notebook)]


def fallback_folder(fallback: Path, notebook: Path | None) -> Path:
    return fallback / f"{notebook.stem if notebook else 'kernel'}{LEGACY_SUFFIX}"


def logs_in(folder: Path) -> list[Path]:
    """Every log of every notebook of `folder` (or of a fallback folder)."""
    return [log for pattern in LOG_GLOBS for log in sorted(folder.glob(pattern))]


def beside_folder(log: Path) -> Path:
    """The folder of the notebooks a log lies beside (for a log in a fallback folder, that
    folder)."""
    if log.parent.parent.name == HIDDEN_FOLDER:
        return log.parent.parent.parent
    return log.parent.parent
