#!/usr/bin/env bash
# Builds docs/ to HTML with Sphinx and MyST (myst-parser), warnings as errors.
#   npm run docs               -> docs/_build/html/index.html
#   bash scripts/docs.sh OUT   -> OUT/index.html
# Sphinx and myst-parser come with the dev extras of kernels-bridge (npm run setup).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-"$ROOT/docs/_build/html"}
SPHINX="$ROOT/.venv/bin/sphinx-build"
[ -x "$SPHINX" ] || { echo "docs: $SPHINX is missing: run npm run setup" >&2; exit 1; }
# -W: a warning fails the build; --keep-going: report every warning, not only the first;
# -n: nitpicky (every cross-reference must resolve); -E: no stale environment.
"$SPHINX" -W --keep-going -n -E -q -b html "$ROOT/docs" "$OUT"
echo "docs: built $OUT/index.html"
