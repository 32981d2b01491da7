#!/usr/bin/env bash
# Starts a one-node Slurm 22.05 on this machine (node `localhost`, partitions `debug` and `gpu`,
# two count-only GPUs declared as gres) for the demo and the tests. See DESIGN.md, "Real
# components, and how they start". Idempotent: when Slurm is already up with the same
# configuration it only prints the ready line.
#
#   ESPRI_SLURM_DIR   state dir: slurm.conf, gres.conf, logs, pids, spool [/tmp/espri-vre-slurm]
#   ESPRI_SLURM_WAIT  seconds to wait for the node to become idle [60]
#
# Where the configuration lives: the daemons read $ESPRI_SLURM_DIR/slurm.conf (and gres.conf next
# to it). So that plain `sinfo`, `squeue` and `sbatch` work for every user, the same slurm.conf is
# copied to /etc/slurm/slurm.conf, which Debian's client commands read when SLURM_CONF is unset.
# An /etc/slurm/slurm.conf that this script did not write (a real cluster's) is never replaced;
# clients then need SLURM_CONF=$ESPRI_SLURM_DIR/slurm.conf, as the script says.
#
# Needs root to install the Debian packages and start the daemons. munged runs as user munge with
# Debian's default key and socket (/etc/munge/munge.key, /run/munge/munge.socket.2).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${ESPRI_SLURM_DIR:-/tmp/espri-vre-slurm}
WAIT=${ESPRI_SLURM_WAIT:-60}
CTLD_PORT=6817
SLURMD_PORT=6818
ETC_CONF=/etc/slurm/slurm.conf
MARKER='# Written by espri-vre scripts/slurm/start.sh'
DEBS=(munge slurmctld slurmd slurm-client)
export SLURM_CONF="$DIR/slurm.conf"
export PATH="$PATH:/usr/sbin:/sbin"
started_at=$(date +%s.%N)

log_tail() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    printf -- '--- last lines of %s\n' "$f" >&2
    tail -n 15 "$f" >&2
  done
}
die() {
  printf 'slurm: error: %s\n' "$1" >&2
  shift
  log_tail "$@"
  exit 1
}
# A zombie (a daemon whose parent does not reap, as under some container inits) counts as gone.
# /proc rather than kill -0, which a user may not send to root's daemons.
proc_alive() {
  [ -e "/proc/$1/stat" ] && ! grep -qE '^[0-9]+ \(.*\) Z' "/proc/$1/stat" 2>/dev/null
}
pid_alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && proc_alive "$pid"
}
munge_ok() { command -v munge >/dev/null && munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
# State of node localhost as sinfo prints it (idle, mix, alloc, drain, down*, ...), or nothing.
node_state() {
  timeout 10 sinfo --noheader --node=localhost -o '%t' 2>/dev/null | head -n 1 || true
}
node_usable() {
  case "$(node_state)" in
    idle | mix | alloc | comp) return 0 ;;
    *) return 1 ;;
  esac
}
ready_line() {
  local parts took
  parts=$(timeout 10 sinfo --noheader -o '%R' 2>/dev/null | paste -sd, -)
  took=$(awk -v a="$started_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  if ! etc_conf_is_ours; then
    echo "slurm: note: $ETC_CONF belongs to another cluster and was left alone:" \
      "clients need SLURM_CONF=$SLURM_CONF"
  fi
  echo "slurm: ready (1 node, 2 gpus, partitions $parts; SLURM_CONF=$SLURM_CONF; ${took} s)"
}

# The configuration, rendered from the templates next to this script. CPUs and RealMemory are
# what slurmd -C reports: a node that declares more than it has is drained.
render_conf() {
  local hw cpus mem
  hw=$(slurmd -C 2>/dev/null | head -n 1) || die "slurmd -C failed: is the slurmd package complete?"
  cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
  mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
  [ -n "$cpus" ] && [ -n "$mem" ] || die "cannot read CPUs and RealMemory from slurmd -C: $hw"
  sed -e "s|@DIR@|$DIR|g" -e "s|@CPUS@|$cpus|g" -e "s|@MEMORY@|$mem|g" \
    -e "s|@CTLD_PORT@|$CTLD_PORT|g" -e "s|@SLURMD_PORT@|$SLURMD_PORT|g" "$HERE/slurm.conf.in"
}

# Slurm's MailProg: a wrapper in the state dir (slurmctld gives MailProg no arguments of ours
# and no PATH) that calls mailprog.py next to this script.
render_mailprog() { sed -e "s|@DIR@|$DIR|g" -e "s|@HERE@|$HERE|g" "$HERE/mailprog.in"; }

etc_conf_is_ours() { [ ! -e "$ETC_CONF" ] || head -n 1 "$ETC_CONF" | grep -qF "$MARKER"; }
etc_conf_current() { cmp -s "$ETC_CONF" "$DIR/slurm.conf"; }

# Everything is up, with this configuration, and clients find it.
healthy() {
  command -v slurmd >/dev/null && [ -f "$DIR/slurm.conf" ] && [ -f "$DIR/gres.conf" ] &&
    pid_alive "$DIR/slurmctld.pid" && pid_alive "$DIR/slurmd.pid" && munge_ok &&
    cmp -s <(render_conf) "$DIR/slurm.conf" && cmp -s <(render_mailprog) "$DIR/mailprog" &&
    { ! etc_conf_is_ours || etc_conf_current; } &&
    node_usable
}

# Daemons started with this state dir's slurm.conf, found by their command line: their pid files
# may be gone (a cleaned /tmp) while they still hold the ports.
our_pids() {
  local f cmd
  for f in /proc/[0-9]*/cmdline; do
    cmd=$(tr '\0' ' ' <"$f" 2>/dev/null) || continue
    case "$cmd" in
      "$1 "*"-f $DIR/slurm.conf"*) f=${f#/proc/} && echo "${f%/cmdline}" ;;
    esac
  done
}

if healthy; then
  ready_line
  exit 0
fi

[ "$(id -u)" = 0 ] || die "Slurm is not running in $DIR and starting it needs root (sudo $0)"

# One start at a time (the demo and the tests may call this together); the loser finds it healthy.
mkdir -p "$DIR"
exec 9>"$DIR/start.lock"
flock -w 120 9 || die "another start.sh holds $DIR/start.lock for more than 120 s"
if healthy; then
  ready_line
  exit 0
fi

# 1. Debian packages.
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing Debian packages ${missing[*]} and no apt-get"
  echo "slurm: installing ${missing[*]}"
  out=$(apt-get update -qq 2>&1 && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" 2>&1) ||
    die "apt-get install ${missing[*]} failed: $(tail -n 5 <<<"$out")"
fi

# 2. munge: key, runtime dir, daemon.
if ! munge_ok; then
  if [ ! -s /etc/munge/munge.key ]; then
    install -d -o munge -g munge -m 0700 /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
  if pid_alive /run/munge/munged.pid; then
    kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
    sleep 0.5
  fi
  runuser -u munge -- munged --force 9>&- ||
    die "munged did not start" /var/log/munge/munged.log
  for _ in $(seq 50); do munge_ok && break || sleep 0.1; done
  munge_ok || die "munged started but munge -n | unmunge fails" /var/log/munge/munged.log
fi

# 3. Stop our daemons if any still run (unhealthy, or the configuration changed).
for d in slurmd slurmctld; do
  pids=$( (cat "$DIR/$d.pid" 2>/dev/null || true; our_pids "$d") | sort -u)
  for pid in $pids; do
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do proc_alive "$pid" && sleep 0.1 || break; done
    if proc_alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  done
  rm -f "$DIR/$d.pid"
done

# 4. Configuration and state dir.
mkdir -p "$DIR/state" "$DIR/spool"
chmod 0755 "$DIR"
touch "$DIR/fakegpu0" "$DIR/fakegpu1"
render_conf >"$DIR/slurm.conf.new"
mv "$DIR/slurm.conf.new" "$DIR/slurm.conf"
sed -e "s|@DIR@|$DIR|g" "$HERE/gres.conf.in" >"$DIR/gres.conf"
render_mailprog >"$DIR/mailprog.new"
chmod 0755 "$DIR/mailprog.new"
mv "$DIR/mailprog.new" "$DIR/mailprog"

# 5. Daemons: each forks into the background once it has read its configuration. None may inherit
# the lock's descriptor, or the next start would wait for it forever.
slurmctld -i -f "$DIR/slurm.conf" 9>&- || die "slurmctld did not start" "$DIR/slurmctld.log"
slurmd -N localhost -f "$DIR/slurm.conf" 9>&- || die "slurmd did not start" "$DIR/slurmd.log"

# 6. Wait until the node is usable, as seen by our controller (not another one on the same port);
# a node left drained or down by an earlier run is resumed once.
deadline=$((SECONDS + WAIT))
resumed=0
# A daemon writes its pid file a moment after it forks: until then, look for it in /proc.
daemon_alive() { pid_alive "$DIR/$1.pid" || [ -n "$(our_pids "$1")" ]; }
controller_is_ours() {
  timeout 10 scontrol show config 2>/dev/null |
    awk -F' *= *' -v d="$DIR/state" '$1 == "StateSaveLocation" && $2 == d { ok = 1 } END { exit !ok }'
}
until daemon_alive slurmctld && daemon_alive slurmd && controller_is_ours && node_usable; do
  daemon_alive slurmctld || die "slurmctld exited" "$DIR/slurmctld.log"
  daemon_alive slurmd || die "slurmd exited" "$DIR/slurmd.log"
  state=$(node_state)
  if [ $resumed = 0 ] && [[ "$state" =~ ^(drain|drng|down|fail) ]]; then
    scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true
    resumed=1
  fi
  [ $SECONDS -lt $deadline ] ||
    die "node localhost not idle after ${WAIT} s (state: ${state:-no answer from sinfo})" \
      "$DIR/slurmctld.log" "$DIR/slurmd.log"
  sleep 0.2
done

# 7. Only a cluster that started is given to the client commands.
if etc_conf_is_ours; then
  mkdir -p /etc/slurm
  cp "$DIR/slurm.conf" "$ETC_CONF"
fi
ready_line
