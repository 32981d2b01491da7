"""The `espri-vre` command: export a recorded notebook run as an RO-Crate, replay a crate or a
notebook and write the per-cell report, check a log's hash chain.

    espri-vre export NOTEBOOK --out DIR [--log LOG]
    espri-vre replay CRATE_OR_NOTEBOOK --report OUT [--inputs DIR] [--log LOG] [--atol A] ...
    espri-vre verify LOG_OR_CRATE
    espri-vre provenance migrate [PATH] [--dry-run]
    espri-vre course link|check|example ...   (practical classes: espri_vre.course.cli)

`replay` exits 0 when every cell is identical or equivalent (or differs as it declared it
may), 1 when one differs or is unverifiable, 2 on a usage or input error. `verify` exits 0 for
an intact log, 1 for a broken or cut one, 2 when it cannot be read. `provenance migrate` exits
0 when every folder found moved (or would) with intact logs, 1 when one was refused or has a
log that is not intact, 2 when PATH cannot be searched."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any


def _parser() -> argparse.ArgumentParser:
    from espri_vre.provenance.replay_compare import DEFAULT_ATOL, DEFAULT_IMAGE_SSIM, DEFAULT_RTOL

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
    replay.add_argument(
        "--image-ssim",
        type=float,
        default=DEFAULT_IMAGE_SSIM,
        help="the structural similarity two images need to be equivalent (0 to 1)",
    )
    replay.add_argument(
        "--inputs",
        help="a folder where inputs missing from the crate may be (found by size and sha256)",
    )
    replay.add_argument(
        "--esgf-index",
        help="an ESGF esg-search URL: flag inputs whose version was retracted or superseded",
    )
    verify = commands.add_parser("verify", help="check a log's hash chain and its end")
    verify.add_argument("target", help="a provenance log (.jsonl) or a crate directory")
    provenance = commands.add_parser("provenance", help="manage the provenance log folders")
    provenance_commands = provenance.add_subparsers(dest="action", required=True)
    migrate = provenance_commands.add_parser(
        "migrate",
        help="move the <notebook>.provenance folders under PATH into .espri-vre-provenance/",
    )
    migrate.add_argument(
        "path", nargs="?", default=".", help="the folder to search (default: the current one)"
    )
    migrate.add_argument(
        "--dry-run", action="store_true", help="say what would move, and check the logs in place"
    )
    from espri_vre.course.cli import add_parser as add_course_parser

    add_course_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "course":
        from espri_vre.course.cli import run

        return run(args)
    from espri_vre.errors import EspriVreError

    try:
        if args.command == "export":
            from espri_vre.provenance.crate import export_crate

            out = export_crate(args.notebook, args.out, log=args.log, license=args.license)
            print(f"crate written to {out}")
            return 0
        if args.command == "verify":
            from espri_vre.provenance.verification import check_target

            checked = check_target(args.target)
            return _print_verification(checked)
        if args.command == "provenance":
            from espri_vre.provenance.migrate import migrate
            from espri_vre.provenance.service import default_fallback_dir

            done = migrate(args.path, dry_run=args.dry_run, fallback=default_fallback_dir())
            return _print_migration(done)
        from espri_vre.provenance.replay import Tolerance, accepted, replay_to

        report, out = replay_to(
            args.target,
            args.report,
            log=args.log,
            tolerance=Tolerance(args.atol, args.rtol, args.image_ssim),
            inputs_dir=args.inputs,
            esgf_index=args.esgf_index,
        )
    except (OSError, ValueError, KeyError, EspriVreError) as error:
        print(f"espri-vre {args.command}: {error}", file=sys.stderr)
        return 2
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for cell in report.cells:
        print(f"{cell.order:4} {cell.cell_id or '-':40} {cell.verdict}  {cell.reason or ''}")
        for written in cell.outputs:
            print(f"{'':45} wrote {written.original} -> {written.path}: {written.verdict}")
    print(", ".join(f"{k}: {v}" for k, v in report.summary.items()))
    print(f"files written by the replay are in {report.workdir}")
    print(f"report written to {out / 'report.html'} and {out / 'report.json'}")
    return 0 if accepted(report) else 1


def _print_verification(checked: Any) -> int:
    result = checked.verification
    print(f"{checked.log}: {result.events} events, last line sha256 {result.last_hash}")
    for problem in [*result.problems, *checked.crate_problems]:
        print(f"problem: {problem}")
    if result.torn_bytes:
        print(f"a torn last line of {result.torn_bytes} bytes (a kernel killed mid-write)")
    for cell in checked.unfinished:
        print(f"cell {cell} and did not finish: the kernel stopped during it")
    if not result.ended:
        print("the log has no end event: the kernel did not close it (killed, or still running)")
    print("intact" if checked.ok else "NOT intact: the log or the crate was changed or cut")
    return 0 if checked.ok else 1


def _print_migration(done: Sequence[Any]) -> int:
    for migration in done:
        line = f"{migration.outcome} {migration.source} -> {migration.target}"
        if migration.outcome == "refused":
            line += f": {migration.reason}; both left as they were"
        elif migration.reason:
            line += f": {migration.reason}"
        print(line)
        for check in migration.checks:
            state = "intact" if check.ok else "NOT intact"
            print(f"  {check.path.name}: {check.events} events, {state}")
            for problem in check.problems:
                print(f"    problem: {problem}")
    counts = Counter(migration.outcome for migration in done)
    print(", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "nothing found")
    return 0 if all(m.ok for m in done) else 1


if __name__ == "__main__":
    sys.exit(main())
