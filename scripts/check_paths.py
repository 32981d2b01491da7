"""Fails when a tracked source or test file names an absolute path of one machine.

Tests and code may read the clone and `../shared` beside it, found from their own location;
`/work/...`, `/root/...` or `/home/<someone>/...` only exist where they were written, so a
test reading them skips or fails on any other machine. Prints `file:line: <the line>` per hit.

Usage: check_paths.py [FILE ...]  (default: every file `git ls-files` lists, from the cwd)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PLACEHOLDER_USERS = {
    "jovyan": "the user of the Jupyter Docker images and of the hub's chart",
    "u": "a made-up user in the job and provenance tests' values",
    "user": "a made-up user in the Slurm parser's tests",
    "ana": "a made-up user in the job view's path tests",
    "anabel": "the job view's test that /home/ana does not contain /home/anabel",
    "dacre": "the owner of the recorded Torque outputs in ../shared/fixtures/jobs/torque",
    "vhartman": "a user in the recorded Slurm 24.05/25.11 JSON answers in ../shared/fixtures",
    "tpearson": "a user in the recorded Slurm 24.05/25.11 JSON answers in ../shared/fixtures",
}
"""`/home/<name>` of users that are values under test or inside images, never this machine's."""

MACHINE_PATH = re.compile(
    # Not preceded by a path or word character, so `../root/x` and `http://h/work/` are not hits.
    r"(?<![\w./~-])(?:/work/|/root/|/Users/[\w.-]+|/home/(?P<user>[\w.-]+))"
)

SKIPPED_DIRS = ("docs/",)
"""Prose: it may describe one machine's layout (a benchmark's set-up) without reading it."""

SKIPPED_FILES = {"scripts/check_paths.py"}
"""The check itself: it spells the patterns out."""

SKIPPED_NAMES = {"package-lock.json", "yarn.lock", "uv.lock", "poetry.lock"}
SKIPPED_SUFFIXES = {".md", ".png", ".svg", ".jpg", ".gif", ".ico", ".woff", ".woff2", ".nc"}


def checked(path: str) -> bool:
    name = Path(path).name
    return not (
        path.startswith(SKIPPED_DIRS)
        or path in SKIPPED_FILES
        or name in SKIPPED_NAMES
        or Path(path).suffix in SKIPPED_SUFFIXES
    )


def machine_paths(text: str) -> list[tuple[int, str]]:
    """(line number, stripped line) of each line of `text` naming an absolute machine path."""
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if any(
            match.group("user") not in PLACEHOLDER_USERS for match in MACHINE_PATH.finditer(line)
        )
    ]


def tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], capture_output=True, text=True, check=True
    ).stdout
    return [path for path in out.split("\0") if path]


def main(argv: list[str]) -> int:
    files = argv or tracked_files()
    found = 0
    for path in files:
        if not checked(path):
            continue
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            # Binary data, or a file deleted in the work tree but not yet in git.
            continue
        for number, line in machine_paths(text):
            print(f"{path}:{number}: {line[:160]}")
            found += 1
    if found:
        print(
            f"{found} absolute machine path(s): make them relative to the clone "
            "(the file's own location) or to ../shared beside it"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
