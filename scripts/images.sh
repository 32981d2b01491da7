#!/usr/bin/env bash
# Builds the single-user CPU image without a Docker engine and runs its smoke test in it:
#   npm run images              (after scripts/setup.sh: the labextensions are built)
#   bash scripts/images.sh --gpu   also builds the GPU image on top (several GB of CUDA wheels)
# 1. a Debian bookworm base made by debootstrap from Debian's packages (kept in the cache);
# 2. the espri-vre wheel, with the prebuilt labextensions, into dist/;
# 3. environments/Dockerfile built by buildah (chroot isolation, vfs storage: no daemon, no
#    overlay or user namespaces needed), the base given as the BASE build argument;
# 4. environments/smoke/smoke_test.py run inside the image as its non-root user.
# Too long for npm test (the lock is downloaded and installed into the image each time). The
# cache (base, buildah's storage) lives outside the clone: ESPRI_VRE_IMAGES_CACHE, by default
# /var/cache/espri-vre/images. Needs root (buildah's chroot isolation and debootstrap do).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CACHE=${ESPRI_VRE_IMAGES_CACHE:-/var/cache/espri-vre/images}
SUITE=bookworm
BASE_IMAGE=localhost/espri-vre/debian-base:$SUITE
VERSION=$(.venv/bin/python -c 'import espri_vre; print(espri_vre.__version__)')
CPU_IMAGE=localhost/espri-vre/singleuser-cpu:$VERSION
GPU_IMAGE=localhost/espri-vre/singleuser-gpu:$VERSION
GPU=false
[ "${1:-}" = --gpu ] && GPU=true

log() { printf '\033[1m[images]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[images] error:\033[0m %s\n' "$*" >&2; exit 1; }
now() { printf '%s' "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }'; }

[ "$(id -u)" = 0 ] || die "run as root: debootstrap and buildah's chroot isolation need it"
missing=()
for p in buildah debootstrap; do command -v "$p" >/dev/null || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -f kernels-bridge/src/espri_vre/labextensions/@espri-vre/catalog/package.json ] \
  || die "the labextensions are not built: run npm run setup (or npm run build) first"

mkdir -p "$CACHE"
BUILDAH=(buildah --root "$CACHE/storage" --runroot "$CACHE/run" --storage-driver vfs)
# The host's CA bundle as the build secret (environments/Dockerfile): this machine reaches
# PyPI through a TLS-intercepting proxy whose CA the image's pip must trust while it builds.
SECRET=()
CA=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
[ -s "$CA" ] && SECRET=(--secret "id=build-ca,src=$CA")

# 1. The base ----------------------------------------------------------------
if ! "${BUILDAH[@]}" inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
  start=$(now)
  if [ ! -s "$CACHE/$SUITE.tar" ]; then
    log "making the Debian $SUITE base with debootstrap (minbase, a few minutes; kept in $CACHE)"
    rm -rf "$CACHE/rootfs"
    # DEBIAN_MIRROR: a site's own mirror; debootstrap's default otherwise.
    debootstrap --variant=minbase "$SUITE" "$CACHE/rootfs" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"} >"$CACHE/debootstrap.log" 2>&1 \
      || die "debootstrap failed: see $CACHE/debootstrap.log"
    rm -rf "$CACHE/rootfs/var/cache/apt/archives/"*.deb "$CACHE/rootfs/var/lib/apt/lists/"*
    tar -C "$CACHE/rootfs" --numeric-owner -cf "$CACHE/$SUITE.tar.part" .
    mv "$CACHE/$SUITE.tar.part" "$CACHE/$SUITE.tar"
    rm -rf "$CACHE/rootfs"
  fi
  log "importing the base as $BASE_IMAGE"
  printf 'FROM scratch\nADD %s.tar /\nCMD ["bash"]\n' "$SUITE" >"$CACHE/Containerfile.base"
  "${BUILDAH[@]}" build --isolation chroot --quiet -f "$CACHE/Containerfile.base" -t "$BASE_IMAGE" "$CACHE" >/dev/null
  log "base ready in $(since "$start") s"
fi

# 2. The wheel ---------------------------------------------------------------
log "building the espri-vre wheel into dist/"
rm -f dist/espri_vre-*.whl
.venv/bin/uv build --quiet --wheel --out-dir dist kernels-bridge
wheel=$(ls dist/espri_vre-*.whl)
labexts=$(.venv/bin/python -m zipfile -l "$wheel" | grep -c '/share/jupyter/labextensions/@espri-vre/[a-z]*/package.json ' || true)
log "$wheel: $labexts labextensions"

# 3. The CPU image -----------------------------------------------------------
log "building $CPU_IMAGE from environments/Dockerfile (the lock from PyPI: about 1 GB)"
start=$(now)
# No --layers: with vfs each cached layer is a whole copy of the file system (about 1.5 GB
# each), so the image is committed once; the lock's wheels then come from PyPI again.
# ROCRATE_CONTEXTS empty: this machine cannot reach w3id.org, where the centre's build fetches
# the RO-Crate contexts (environments/Dockerfile).
"${BUILDAH[@]}" build --isolation chroot "${SECRET[@]}" \
  --ignorefile environments/Dockerfile.dockerignore --build-arg "ROCRATE_CONTEXTS=" \
  --build-arg "BASE=$BASE_IMAGE" -f environments/Dockerfile -t "$CPU_IMAGE" .
cpu_seconds=$(since "$start")
"${BUILDAH[@]}" rmi --prune >/dev/null 2>&1 || true  # the previous build's image, untagged now
cpu_size=$("${BUILDAH[@]}" images --format '{{.Size}}' "$CPU_IMAGE")
log "built $CPU_IMAGE in $cpu_seconds s: $cpu_size"

# 4. The smoke test inside the image -----------------------------------------
# The local one-node Slurm (as npm test starts it): its slurm.conf mounted where the chart
# mounts the cluster's, its munge socket where a munged beside the server would put one.
bash scripts/slurm/start.sh >/dev/null
slurm_conf=${ESPRI_SLURM_DIR:-/tmp/espri-vre-slurm}/slurm.conf
names=$(ls kernels-bridge/src/espri_vre/labextensions/@espri-vre | paste -sd, -)
ctr=""
trap '[ -z "$ctr" ] || "${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT

# smoke IMAGE LOCK [--gpu]: environments/smoke/smoke_test.py in a container of IMAGE.
smoke() {
  log "smoke test in $1 (environments/smoke/smoke_test.py, as the image's user)"
  local start
  start=$(now)
  ctr=$("${BUILDAH[@]}" from --quiet "$1")
  # buildah run takes the image's user and working directory; chroot isolation shares the
  # host's network, so the hub and the server listen on the host's loopback.
  "${BUILDAH[@]}" run --isolation chroot \
    -v "$ROOT/environments/smoke:/smoke:ro" -v "$ROOT/environments/hub/values.yaml:/smoke-values.yaml:ro" \
    -v "$ROOT/environments/$2:/smoke-lock.txt:ro" \
    -v "$slurm_conf:/etc/slurm/slurm.conf:ro" -v /run/munge:/run/munge \
    "$ctr" -- python /smoke/smoke_test.py /smoke-values.yaml /smoke-lock.txt --labextensions "$names" "${@:3}"
  "${BUILDAH[@]}" rm "$ctr" >/dev/null
  ctr=""
  log "smoke test passed in $(since "$start") s"
}
smoke "$CPU_IMAGE" requirements-cpu.txt

# 5. The GPU image (asked for) -------------------------------------------------
if $GPU; then
  log "building $GPU_IMAGE from environments/Dockerfile.gpu on $CPU_IMAGE (PyTorch's CUDA wheels)"
  start=$(now)
  "${BUILDAH[@]}" build --isolation chroot "${SECRET[@]}" \
    --ignorefile environments/Dockerfile.gpu.dockerignore \
    --build-arg "BASE=$CPU_IMAGE" -f environments/Dockerfile.gpu -t "$GPU_IMAGE" .
  log "built $GPU_IMAGE in $(since "$start") s: $("${BUILDAH[@]}" images --format '{{.Size}}' "$GPU_IMAGE")"
  "${BUILDAH[@]}" rmi --prune >/dev/null 2>&1 || true
  smoke "$GPU_IMAGE" requirements-gpu.txt --gpu
fi
log "done: $CPU_IMAGE ($cpu_size, built in $cpu_seconds s)"
