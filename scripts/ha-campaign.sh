#!/usr/bin/env bash
# The HA fault campaign: randomized faults on a testbed of three hosts (real etcd, real agents
# with the emulated watchdog, tiny HA guests) while a checker outside the hosts reads every
# host's guests from /proc every 25 ms. As root (the testbed needs it).
#
#   scripts/ha-campaign.sh [--faults N] [--vms N] [--seed S]
#
# Faults, drawn at random: kill a host, reboot a host, partition a host from everything,
# partition only its etcd traffic, freeze and thaw it, kill its agent, its libvirtd, its etcd
# member, or the etcd leader's host. Each is held a few seconds, undone, and followed until every
# HA VM that went down runs exactly once again; the next comes once every agent holds a lease
# and every etcd member is healthy. Prints a line per fault and a summary (faults by kind,
# recovery median / p99 / max, double runs, VMs not recovered and why).
#
# Defaults: 200 faults, 6 VMs, a seed from the clock (printed: the same seed gives the same
# faults, not the same timings). Environment: SWIFT_SCRATCH_PATH (default .build).
# Exit codes: 0 every VM recovered and nothing ran twice; 1 otherwise; 3 no testbed here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
faults=200 vms=6 seed=$(date +%s)
while (($# > 0)); do
    case $1 in
        --faults) faults=$2; shift 2 ;;
        --vms) vms=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        *) sed -n '6p' "$0" | sed 's/^# *//' >&2; exit 2 ;;
    esac
done
scratch=${SWIFT_SCRATCH_PATH:-.build}
swift build --scratch-path "$scratch" --product virtsync >&2
swift build --scratch-path "$scratch" --product virtsync-bench >&2
exec "$scratch/debug/virtsync-bench" --ha-campaign --faults "$faults" --ha-vms "$vms" --campaign-seed "$seed"
