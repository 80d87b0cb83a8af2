#!/usr/bin/env bash
# Runs packaging/slurm/grym-batch.sbatch on a real Slurm: a single-node cluster started here on
# loopback (munged as user munge with its own key, slurmctld and slurmd with their own ports,
# state and spool in a temporary folder, three fake GPU devices), a 3-task array over a 12-line
# manifest, then checks that every expected clip was made exactly once with a complete sidecar,
# and stops the daemons. Installs nothing: exits 77 (skipped) where slurm-wlm or munge is
# missing, or when not run as root (munged must run as the munge user).
# Usage: slurm_batch_test.sh GRYM_SYNTH_CLI SBATCH_SCRIPT MODEL_DIR
set -uo pipefail
cli=${1:?grym-synth-cli} script=${2:?grym-batch.sbatch} model=${3:?model folder}

for tool in munged slurmctld slurmd sbatch sinfo scontrol runuser mknod; do
  if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
    echo "skipped: $tool not found (Debian: slurm-wlm munge)"
    exit 77
  fi
done
if [ "$(id -u)" -ne 0 ] || ! getent passwd munge >/dev/null; then
  echo "skipped: needs root and the munge user (munged runs as munge, slurmd as root)"
  exit 77
fi
PATH=$PATH:/usr/sbin

work=$(mktemp -d /tmp/grym-slurm.XXXXXX)
chmod 755 "$work"
munge_pid=""
# Stops what this test started: the Slurm daemons (scontrol shutdown, then by pid file if they
# linger) and munged.
cleanup() {
  if [ -f "$work/slurm.conf" ]; then
    SLURM_CONF=$work/slurm.conf scontrol shutdown >/dev/null 2>&1
    for daemon in slurmctld slurmd; do
      pid=$(cat "$work/$daemon.pid" 2>/dev/null) || continue
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null
    done
  fi
  [ -n "$munge_pid" ] && kill "$munge_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAILED: $*"
  for log in "$work"/log/*.log; do echo "--- $log"; tail -n 20 "$log"; done
  exit 1
}

# A free TCP port on loopback (nothing answers a connect).
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
  return 1
}

# munge: its own key and socket, run as the munge user.
mkdir -p "$work/munge" "$work/log" "$work/state" "$work/spool" "$work/dev" "$work/out"
chown munge:munge "$work/munge" && chmod 711 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chown munge:munge "$work/munge/munge.key" && chmod 600 "$work/munge/munge.key"
runuser -u munge -- munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed" ||
  fail "munged did not start"
munge_pid=$(cat "$work/munge/munged.pid")

# Three fake GPU devices (character devices like /dev/null), so the script's --gres=gpu:1 is
# scheduled as on a GPU cluster; the CLI runs on the CPU (GRYM_DEVICE=cpu).
for i in 0 1 2; do mknod "$work/dev/nvidia$i" c 1 3; done
host=$(hostname -s)
ctld_port=$(free_port) && slurmd_port=$(free_port) || fail "no free port"
cat >"$work/slurm.conf" <<CONF
ClusterName=grymtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
PlugStackConfig=/dev/null
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) Gres=gpu:3 State=UNKNOWN
PartitionName=grymtest Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
printf 'AutoDetect=off\nName=gpu File=%s/dev/nvidia[0-2]\n' "$work" >"$work/gres.conf"
export SLURM_CONF=$work/slurm.conf
slurmctld -c || fail "slurmctld did not start"
slurmd -c || fail "slurmd did not start"
for _ in $(seq 150); do
  [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break
  sleep 0.2
done
[ "$(sinfo -h -o %t)" = idle ] || fail "the node did not come up: $(sinfo -h -o '%t %E' 2>&1)"

# Twelve lines, the fourth with two takes: 13 clips.
manifest=$work/clips.jsonl
for i in $(seq 0 11); do
  takes=""
  [ "$i" = 3 ] && takes=', "takes": 2'
  echo "{\"id\": \"clip$i\", \"prompt\": \"sound number $i\"$takes}" >>"$manifest"
done
expected=(clip0 clip1 clip2 clip3-1 clip3-2 clip4 clip5 clip6 clip7 clip8 clip9 clip10 clip11)

timeout 300 sbatch --wait --array=0-2 --cpus-per-task=1 --chdir="$work" --output="$work/log/task-%a.log" \
  --export=ALL,GRYM_CLI="$cli",GRYM_DEVICE=cpu,GRYM_AUDIOLDM_MODEL="$model" \
  "$script" "$manifest" --out "$work/out" --seconds 0.32 --steps 2 >"$work/log/sbatch.log" 2>&1 ||
  fail "the array job failed: $(cat "$work/log/sbatch.log")"

for i in 0 1 2; do
  grep -q "shard $i/3 (from SLURM_ARRAY_TASK_ID)" "$work/log/task-$i.log" || fail "task $i did not run shard $i/3"
done
status=0
for stem in "${expected[@]}"; do
  [ -s "$work/out/$stem.flac" ] || { echo "missing $stem.flac"; status=1; }
  for key in grym_synth_version seed prompt steps model precision device timings generation_seconds; do
    grep -q "\"$key\":" "$work/out/$stem.json" 2>/dev/null || { echo "$stem.json lacks $key"; status=1; }
  done
  count=$(grep -c "\"file\":\"$stem.flac\"" "$work/out/index.jsonl")
  [ "$count" = 1 ] || { echo "$stem.flac is in index.jsonl $count times"; status=1; }
done
files=$(ls -A "$work/out" | wc -l)
[ "$files" = $((2 * ${#expected[@]} + 1)) ] || { echo "unexpected files: $(ls -A "$work/out")"; status=1; }
[ $status = 0 ] || fail "the outputs are not as expected"
echo "ok: a 3-task Slurm array made all ${#expected[@]} clips once"
