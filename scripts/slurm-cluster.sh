#!/usr/bin/env bash
# A real single-node Slurm (Debian's slurmctld + slurmd + munge) on this machine, for the Slurm runner's tests.
#   scripts/slurm-cluster.sh install   apt-get the packages (root; idempotent)
#   scripts/slurm-cluster.sh start     generate slurm.conf from `slurmd -C`, start munged, slurmctld, slurmd; wait idle
#   scripts/slurm-cluster.sh stop      stop the daemons (with a timeout)
#   scripts/slurm-cluster.sh conf      print the SLURM_CONF path
# Facts and pitfalls: docs/testing.md. State lives in $STACKSEG_SLURM_DIR (default /tmp/stackseg-slurm).
set -euo pipefail
DIR="${STACKSEG_SLURM_DIR:-/tmp/stackseg-slurm}"
CONF="$DIR/slurm.conf"

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then return 0; fi
  if [ "$(id -u)" != 0 ]; then echo "slurm-cluster: need root to apt-get install slurm" >&2; return 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
}

start() {
  mkdir -p "$DIR"/{state,spool,log}
  if SLURM_CONF="$CONF" sinfo -h -o %T 2>/dev/null | grep -q idle; then echo "$CONF"; return 0; fi
  # munge: key from the package install; socket dir owned by munge.
  [ -f /etc/munge/munge.key ] || { /usr/sbin/mungekey -c 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
  mkdir -p /run/munge /var/log/munge /var/lib/munge && chown munge:munge /run/munge /var/log/munge /var/lib/munge
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then runuser -u munge -- /usr/sbin/munged; sleep 0.5; fi
  local host node cpus mem
  host="$(hostname -s)"
  node="$(slurmd -C | head -1)"
  cpus="$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node")"
  mem="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")"
  cat >"$CONF" <<CONF
ClusterName=stackseg
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
SchedulerParameters=sched_interval=1
DependencyParameters=kill_invalid_depend
EnforcePartLimits=ALL
GresTypes=gpu
MinJobAge=600
ReturnToService=2
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  slurmctld -f "$CONF"
  slurmd -f "$CONF"
  for _ in $(seq 1 100); do
    if SLURM_CONF="$CONF" sinfo -h -o %T 2>/dev/null | grep -q idle; then echo "$CONF"; return 0; fi
    sleep 0.2
  done
  echo "slurm-cluster: node did not become idle; see $DIR/log" >&2
  SLURM_CONF="$CONF" sinfo >&2 || true
  return 1
}

stop() {
  for pidf in "$DIR/slurmd.pid" "$DIR/slurmctld.pid"; do
    [ -f "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null || true
  done
  for _ in $(seq 1 50); do
    pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null || return 0
    sleep 0.2
  done
  pkill -9 -x slurmctld 2>/dev/null || true
  pkill -9 -x slurmd 2>/dev/null || true
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  conf) echo "$CONF" ;;
  *) echo "usage: $0 install|start|stop|conf" >&2; exit 2 ;;
esac
