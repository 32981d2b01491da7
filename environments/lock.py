"""Makes the locks of the single-user environments and their conda mirrors.

    python environments/lock.py           # requirements-*.txt, environment-*.yml, binder's
    python environments/lock.py --check   # exit 1 when a conda file is out of step with its lock

The locks are resolved from PyPI by `uv pip compile` (PyPI's `uv`, in the test extras) for
Python 3.11 on x86_64 Linux, from requirements-<variant>.in plus espri-vre's own dependencies
(kernels-bridge/pyproject.toml), so that installing the lock and then espri-vre with --no-deps
gives a complete environment. The GPU lock is constrained by the CPU lock: the GPU image is
the CPU image plus PyTorch, every other version the same. The conda files pin the same
top-level packages at the locked versions, under their conda-forge names; packages that are
not on conda-forge go to the pip section.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYPROJECT = HERE.parent / "kernels-bridge" / "pyproject.toml"
BINDER = HERE.parent / "binder" / "environment.yml"
VARIANTS = ("cpu", "gpu")
PYTHON = "3.11"

CONDA_NAMES = {
    "netcdf4": "netcdf4",
    "torch": "pytorch",
    "jupyterhub": "jupyterhub-singleuser",
    "jupyter-server": "jupyter_server",
}
"""PyPI name (normalised) -> conda-forge name, where they differ."""
PIP_ONLY = {"rocrate", "roc-validator"}
"""Installed with pip inside the conda environment: rocrate is not packaged on conda-forge, and
roc-validator comes from PyPI, as the lock has it, rather than from a conda-forge build we have
not checked (these machines cannot reach conda-forge)."""

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def top_level(variant: str) -> list[str]:
    """Normalised names of the packages the environment asks for, in file order: the .in file
    (following -r includes) and then espri-vre's dependencies."""
    names: list[str] = []

    def read(path: Path) -> None:
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("-r"):
                read(path.parent / line[2:].strip())
            elif match := _NAME.match(line):
                names.append(normalise(match.group(1)))

    read(HERE / f"requirements-{variant}.in")
    deps = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    names += [normalise(m.group(1)) for d in deps if (m := _NAME.match(d))]
    return list(dict.fromkeys(names))


def read_lock(path: Path) -> dict[str, str]:
    """{normalised name: version} of a pip-compile style lock."""
    pins = {}
    for line in path.read_text().splitlines():
        if match := _PIN.match(line.strip()):
            pins[normalise(match.group(1))] = match.group(2)
    return pins


def compile_lock(variant: str) -> None:
    out = HERE / f"requirements-{variant}.txt"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "uv",
            "pip",
            "compile",
            "--quiet",
            "--python-version",
            PYTHON,
            "--python-platform",
            "x86_64-manylinux_2_28",
            "--custom-compile-command",
            "python environments/lock.py",
            "--output-file",
            str(out),
            *(["--constraint", str(HERE / "requirements-cpu.txt")] if variant == "gpu" else []),
            str(HERE / f"requirements-{variant}.in"),
            str(PYPROJECT),
        ],
        check=True,
        cwd=HERE.parent,
    )
    # uv writes absolute paths of its inputs in the "# via" comments; keep the file portable.
    root = f"{HERE.parent}/"
    out.write_text(out.read_text().replace(root, ""))


def binder_environment() -> str:
    """binder/environment.yml: the CPU environment, plus Node.js, with which binder/postBuild
    builds the labextensions and installs espri-vre from the repository."""
    cpu = conda_environment("cpu").splitlines()
    deps = cpu[cpu.index("dependencies:") + 1 : cpu.index("  - pip:")]
    pip = cpu[cpu.index("  - pip:") : -1]  # without ../kernels-bridge: postBuild installs it
    lines = [
        "# Binder (repo2docker) environment to replay an espri-vre crate: the CPU environment",
        "# (environments/requirements-cpu.txt) plus Node.js for the extension build in postBuild.",
        "# Written by `python environments/lock.py`; see docs/reviewer-guide.md.",
        "name: espri-vre-binder",
        "channels:",
        "  - conda-forge",
        "  - nodefaults",
        "dependencies:",
        *deps,
        "  - nodejs=20",
        *pip,
    ]
    return "\n".join(lines) + "\n"


def conda_environment(variant: str) -> str:
    pins = read_lock(HERE / f"requirements-{variant}.txt")
    conda, pip = [], []
    for name in top_level(variant):
        if name not in pins:
            raise SystemExit(f"{name} is asked for but not in requirements-{variant}.txt")
        if name in PIP_ONLY:
            pip.append(f"{name}=={pins[name]}")
        else:
            # conda-forge packages a post-release under its base version
            version = re.sub(r"\.post\d+$", "", pins[name])
            # conda-forge builds PyTorch for CPU and CUDA under one name: ask for the CUDA build
            build = "=cuda*" if name == "torch" else ""
            conda.append(f"{CONDA_NAMES.get(name, name)}={version}{build}")
    lines = [
        f"# The espri-vre single-user environment ({variant.upper()}), mirrored from",
        f"# requirements-{variant}.txt by `python environments/lock.py`: same versions of the",
        "# top-level packages, conda-forge names. espri-vre itself comes from the repository.",
        f"name: espri-vre-{variant}",
        "channels:",
        "  - conda-forge",
        "  - nodefaults",
        "dependencies:",
        f"  - python={PYTHON}",
        "  - pip",
        *(f"  - {spec}" for spec in conda),
        "  - pip:",
        *(f"      - {spec}" for spec in pip),
        "      - ../kernels-bridge",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    stale = []
    outputs = []
    for variant in VARIANTS:
        if not args.check:
            compile_lock(variant)
        outputs.append((HERE / f"environment-{variant}.yml", conda_environment(variant)))
    outputs.append((BINDER, binder_environment()))
    for path, text in outputs:
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
    if stale:
        print(f"out of step with the locks: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
