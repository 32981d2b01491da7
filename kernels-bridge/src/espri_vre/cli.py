"""The `espri-vre` command: export a recorded notebook run as an RO-Crate, replay a crate or a
notebook and write the per-cell report.

    espri-vre export NOTEBOOK --out DIR [--log LOG]
    espri-vre replay CRATE_OR_NOTEBOOK --report OUT [--log LOG] [--atol A] [--rtol R]
    espri-vre course link|check|example ...   (practical classes: espri_vre.course.cli)

`replay` exits 0 when every cell is identical or equivalent, 1 when one differs or is
unverifiable, 2 on a usage or input error."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    from espri_vre.provenance.replay import DEFAULT_ATOL, DEFAULT_IMAGE_BITS, DEFAULT_RTOL

    parser = argparse.ArgumentParser(prog="espri-vre", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write a recorded run as a Workflow Run RO-Crate")
    export.add_argument("notebook", help="the recorded notebook (.ipynb)")
    export.add_argument("--out", required=True, help="the crate's directory (replaced)")
    export.add_argument("--log", help="the run's log (default: the notebook's newest run)")
    export.add_argument(
        "--license",
        help="the crate's licence: a URL (SPDX...) or a text (default: the "
        "notebook metadata's `license`, else 'unspecified')",
    )
    replay = commands.add_parser("replay", help="replay a run in a fresh kernel")
    replay.add_argument("target", help="a crate directory or a recorded notebook")
    replay.add_argument("--report", required=True, help="the report's directory (replaced)")
    replay.add_argument("--log", help="the run's log (default: the crate's, or the newest run)")
    replay.add_argument("--atol", type=float, default=DEFAULT_ATOL)
    replay.add_argument("--rtol", type=float, default=DEFAULT_RTOL)
    replay.add_argument("--image-bits", type=int, default=DEFAULT_IMAGE_BITS)
    replay.add_argument("--cwd", help="the kernel's working directory (default: the recorded one)")
    replay.add_argument(
        "--esgf-index",
        help="an ESGF esg-search URL: flag inputs whose version was retracted or superseded",
    )
    from espri_vre.course.cli import add_parser as add_course_parser

    add_course_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "course":
        from espri_vre.course.cli import run

        return run(args)
    try:
        if args.command == "export":
            from espri_vre.provenance.crate import export_crate

            out = export_crate(args.notebook, args.out, log=args.log, license=args.license)
            print(f"crate written to {out}")
            return 0
        from espri_vre.provenance.replay import Tolerance, replay, write_report

        report = replay(
            args.target,
            log=args.log,
            tolerance=Tolerance(args.atol, args.rtol, args.image_bits),
            cwd=args.cwd,
            esgf_index=args.esgf_index,
        )
        out = write_report(report, args.report)
    except (OSError, ValueError, KeyError) as error:
        print(f"espri-vre {args.command}: {error}", file=sys.stderr)
        return 2
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for cell in report.cells:
        print(f"{cell.order:4} {cell.cell_id or '-':40} {cell.verdict}  {cell.reason or ''}")
    print(", ".join(f"{k}: {v}" for k, v in report.summary.items()))
    print(f"report written to {out / 'report.html'} and {out / 'report.json'}")
    good = all(c.verdict in ("identical", "equivalent") for c in report.cells)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
