"""python -m espri_vre.demo build DIR [--force] [--shared PATH]"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .build import build, find_shared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m espri_vre.demo",
        description="Builds the espri-vre demo: data, catalogues and server configuration.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build the demo into DIR (skipped when current)")
    build_cmd.add_argument("dir", type=Path, metavar="DIR")
    build_cmd.add_argument("--force", action="store_true", help="rebuild even when up to date")
    build_cmd.add_argument(
        "--shared",
        metavar="PATH",
        help="the project's shared folder, whose data/cmip6-sample is registered when present "
        "(default: ../shared beside the repository)",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    shared = find_shared(args.shared)
    outputs = build(args.dir, shared=shared, force=args.force)
    if outputs:
        print(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
