"""espri-vre: the Python half of the ESPRI virtual research environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .version import __version__

__all__ = ["__version__", "load_ipython_extension", "preview", "unload_ipython_extension"]

LABEXTENSIONS = Path(__file__).parent / "labextensions" / "@espri-vre"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import EspriVreApp

    return [{"module": "espri_vre", "app": EspriVreApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Used by `jupyter labextension develop`; only the labextensions that have been built."""
    if not LABEXTENSIONS.is_dir():
        return []
    return [
        {"src": f"labextensions/@espri-vre/{d.name}", "dest": f"@espri-vre/{d.name}"}
        for d in sorted(LABEXTENSIONS.iterdir())
        if (d / "package.json").is_file()
    ]


def preview(obj: Any, **options: Any) -> Any:
    """The data previewer on an xarray Dataset or DataArray held in the kernel, as a
    widget whose chunks travel through its comm (espri_vre.preview_widget.preview)."""
    from .preview_widget import preview as show

    return show(obj, **options)


def load_ipython_extension(ip: Any) -> None:
    """`%load_ext espri_vre`: records the kernel's provenance (espri_vre.kernel)."""
    from .kernel import load_ipython_extension as load

    load(ip)


def unload_ipython_extension(ip: Any) -> None:
    from .kernel import unload_ipython_extension as unload

    unload(ip)
