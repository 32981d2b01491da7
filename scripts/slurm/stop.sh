#!/usr/bin/env bash
# Stops the Slurm daemons that scripts/slurm/start.sh started (slurmd, slurmctld) and munged.
# The state dir ($ESPRI_SLURM_DIR, default /tmp/espri-vre-slurm) is kept: the next start resumes
# the job ids and the queue. --purge deletes it, and the /etc/slurm/slurm.conf start.sh wrote.
set -euo pipefail
DIR=${ESPRI_SLURM_DIR:-/tmp/espri-vre-slurm}

# A zombie (a daemon whose parent does not reap, as under some container inits) counts as gone.
pid_alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && [ -e "/proc/$pid/stat" ] &&
    ! grep -qE '^[0-9]+ \(.*\) Z' "/proc/$pid/stat" 2>/dev/null
}
stop_pidfile() {
  local name=$1 pidfile=$2
  if pid_alive "$pidfile"; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    for _ in $(seq 100); do pid_alive "$pidfile" && sleep 0.1 || break; done
    if pid_alive "$pidfile"; then kill -9 "$(cat "$pidfile")" 2>/dev/null || true; fi
    echo "slurm: stopped $name"
  fi
  rm -f "$pidfile" 2>/dev/null || true
}

stop_pidfile slurmd "$DIR/slurmd.pid"
stop_pidfile slurmctld "$DIR/slurmctld.pid"
stop_pidfile munged /run/munge/munged.pid
if [ "${1:-}" = --purge ]; then
  rm -rf "$DIR"
  echo "slurm: removed $DIR"
  marker='# Written by espri-vre scripts/slurm/start.sh'
  if head -n 1 /etc/slurm/slurm.conf 2>/dev/null | grep -qF "$marker"; then
    rm -f /etc/slurm/slurm.conf
    echo "slurm: removed /etc/slurm/slurm.conf"
  fi
fi
echo "slurm: stopped"
