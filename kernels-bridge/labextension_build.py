"""Build function for hatch-jupyter-builder (named in pyproject.toml).

The labextensions are built by `npm run build` at the repository root (scripts/setup.sh does it
before installing this distribution). An editable install therefore never runs npm: it links
whatever has been built, and a fresh clone can be installed before the TypeScript build. A
standard wheel runs the npm build only when the labextensions are missing (`skip-if-exists`),
and `ensured-targets` then checks that they are there.
"""

from __future__ import annotations

import logging
from typing import Any

from hatch_jupyter_builder import npm_builder

log = logging.getLogger(__name__)


def build(target_name: str, version: str, **kwargs: Any) -> None:
    if version == "editable":
        log.info("editable install: labextensions come from `npm run build`, npm is not run here")
        return
    npm_builder(target_name, version, **kwargs)
