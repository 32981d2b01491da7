"""The Binder folder of an exported crate: what repo2docker (mybinder.org, a BinderHub) needs to
build an image that replays the run, so that a reviewer can replay a published crate without
installing anything.

repo2docker reads `binder/` when it exists: `runtime.txt` picks the recorded Python (major
and minor), `requirements.txt` pins every package of the session's lock at its recorded
version (Binder's advice: pin everything, not only the direct dependencies), and `postBuild`,
run in the crate's folder once they are installed, replays the crate with `espri-vre replay`
into `replay-report/`, which the reviewer opens in the image."""

from __future__ import annotations

from typing import Any

BINDER_DIR = "binder"
REPORT_DIR = "replay-report"

POST_BUILD = f"""#!/bin/bash
# Written by espri-vre with this crate. repo2docker runs it in the crate's folder once the
# packages of binder/requirements.txt are installed: it replays the recorded run in a fresh
# kernel and writes the per-cell report to {REPORT_DIR}/ (report.html, report.json).
# A replay whose cells differ still builds the image (the report says which and why); a crate
# that cannot be replayed at all (exit 2: unreadable, no log) fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
espri-vre replay . --report {REPORT_DIR} || status=$?
if [ "$status" -ge 2 ]; then
  echo "postBuild: the crate could not be replayed (espri-vre exit $status)" >&2
  exit "$status"
fi
if [ "$status" -eq 0 ]; then
  echo "postBuild: every cell replayed as recorded; the report is in {REPORT_DIR}/"
else
  echo "postBuild: some cells differ from the recorded run; the report is in {REPORT_DIR}/"
fi
"""


def binder_files(session: dict[str, Any]) -> dict[str, str]:
    """The Binder folder's files (name in the crate: text) for a run's session record."""
    version = (session.get("python") or {}).get("version") or ""
    major_minor = ".".join(version.split(".")[:2])
    packages = sorted(
        (p for p in session.get("packages") or [] if p.get("name") and p.get("version")),
        key=lambda p: p["name"].lower(),
    )
    requirements = "".join(f"{p['name']}=={p['version']}\n" for p in packages)
    files = {
        f"{BINDER_DIR}/requirements.txt": "# the packages the recorded kernel ran with\n"
        + requirements,
        f"{BINDER_DIR}/postBuild": POST_BUILD,
    }
    if major_minor.count(".") == 1:
        files[f"{BINDER_DIR}/runtime.txt"] = f"python-{major_minor}\n"
    return files
