"""python -m espri_vre.demo build DIR [--force] [--shared PATH]
python -m espri_vre.demo serve DIR [--stac-port N] [--opendap-port N]"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .build import CONFIG, build, find_shared


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
    serve_cmd = commands.add_parser(
        "serve",
        help="run the demo's STAC API and OPeNDAP server and point its configuration at them; "
        "prints one JSON line with their URLs, serves until standard input closes",
    )
    serve_cmd.add_argument("dir", type=Path, metavar="DIR")
    serve_cmd.add_argument("--stac-port", type=int, default=0, help="default: a free port")
    serve_cmd.add_argument("--opendap-port", type=int, default=0, help="default: a free port")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args.dir, args.stac_port, args.opendap_port)
    started = time.monotonic()
    shared = find_shared(args.shared)
    outputs = build(args.dir, shared=shared, force=args.force)
    if outputs:
        print(f"done in {time.monotonic() - started:.1f} s")
    return 0


def serve(demo_dir: Path, stac_port: int, dap_port: int) -> int:
    from .services import demo_services

    demo_dir = demo_dir.expanduser().resolve()
    if not (demo_dir / CONFIG).is_file():
        print(f"no demo in {demo_dir}: build it first (python -m espri_vre.demo build DIR)")
        return 2
    with demo_services(demo_dir, stac_port=stac_port, dap_port=dap_port) as services:
        line = {"stac_api": services.stac_api, "opendap": services.opendap}
        print(json.dumps({**line, "problems": list(services.problems)}), flush=True)
        # Until the caller goes: demo.sh holds the pipe, and so does a test.
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    sys.exit(main())
