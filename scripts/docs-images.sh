#!/usr/bin/env bash
# Refreshes docs/images from the Galata tests (npm run docs:images). The tests write their
# screenshots to .test-runtime/screenshots/ and never into the tree (npm test checks that);
# this runs the spec files that take screenshots, then copies each image the docs show
# (every `images/<name>.png` named in docs/*.md and README.md). Review with `git diff --stat`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
RT="$ROOT/.test-runtime"
SHOTS="$RT/screenshots"
rm -rf "$SHOTS"

mapfile -t specs < <(grep -l "'screenshots'" ui-tests/tests/*.spec.ts | xargs -n1 basename)
mapfile -t images < <(grep -ohE 'images/[A-Za-z0-9_.-]+\.png' docs/*.md README.md | sort -u | sed 's|images/||')

# What the Galata tests need, as in scripts/test.sh: the real Slurm and the demo.
bash scripts/slurm/start.sh
export SLURM_CONF="${ESPRI_SLURM_DIR:-/tmp/espri-vre-slurm}/slurm.conf"
export ESPRI_VRE_DEMO_DIR="$RT/demo"
python -m espri_vre.demo build "$ESPRI_VRE_DEMO_DIR"
# A failed test may leave an image half-way through its story: copy nothing then.
(cd ui-tests && npx playwright test "${specs[@]}")

missing=0
for name in "${images[@]}"; do
  if [ -f "$SHOTS/$name" ]; then
    cp "$SHOTS/$name" "docs/images/$name"
  else
    echo "docs:images: no test took $name (the docs show it)" >&2
    missing=1
  fi
done
git status --short -- docs/images
exit "$missing"
