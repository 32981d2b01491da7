"""An import hook that runs a callback on a module right after it is first imported."""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType


class PatchOnImport(importlib.abc.MetaPathFinder):
    """Installs the wrappers of a library right after it is first imported, even within the
    cell that imports it and opens a file."""

    def __init__(self, modules: set[str], patch: Callable[[ModuleType], None]) -> None:
        self.modules = modules
        self.patch = patch

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in self.modules:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_then_patch(module: ModuleType) -> None:
            exec_module(module)
            self.modules.discard(fullname)
            self.patch(module)

        loader.exec_module = exec_then_patch  # type: ignore[method-assign]
        return spec
