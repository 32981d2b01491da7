"""The layering of espri_vre (issue 14): the import-linter contracts of pyproject.toml hold, no
module of the package sits in an import cycle, and jobs.types imports nothing of the package but
espri_vre.errors. Imports inside functions and under TYPE_CHECKING count: a cycle hidden there
is still a cycle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grimp

KERNELS_BRIDGE = Path(__file__).resolve().parents[1]
PACKAGE = "espri_vre"


def package_graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE, cache_dir=None)


def import_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_the_import_linter_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=KERNELS_BRIDGE,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "TERM": "dumb"},
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_module_of_espri_vre_is_in_an_import_cycle() -> None:
    graph = package_graph()
    modules = set(graph.modules)
    # The package's own __init__ is left out: its imports are the hooks Jupyter and IPython
    # call by name (_jupyter_server_extension_points, load_ipython_extension, preview), made
    # inside those functions so that a kernel importing espri_vre never loads the server.
    edges = {
        m: ({i for i in graph.find_modules_directly_imported_by(m) if i in modules} - {PACKAGE})
        for m in modules - {PACKAGE}
    }
    cycles = import_cycles(edges)
    described = [
        ", ".join(cycle)
        + "\n  "
        + "\n  ".join(f"{a} -> {b}" for a in cycle for b in sorted(edges[a]) if b in cycle)
        for cycle in cycles
    ]
    assert not cycles, "import cycles in espri_vre:\n" + "\n".join(described)


def test_the_cycle_finder_finds_a_cycle_through_three_modules() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert import_cycles(edges) == [["a", "b", "c"]]


def test_jobs_types_imports_nothing_of_the_package_but_errors() -> None:
    graph = package_graph()
    imported = graph.find_modules_directly_imported_by(f"{PACKAGE}.jobs.types")
    inside = sorted(m for m in imported if m == PACKAGE or m.startswith(f"{PACKAGE}."))
    assert set(inside) <= {f"{PACKAGE}.errors"}, inside
