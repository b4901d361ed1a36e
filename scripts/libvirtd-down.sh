#!/usr/bin/env bash
# Stop what scripts/libvirtd-up.sh started, found by its pid files in /run/virtsync: libvirtd,
# virtlockd, virtlogd, then the subreaper(s). Nothing else: running guests and networks' dnsmasq
# keep running (as after a libvirtd restart on a real host; the next libvirtd-up.sh reconnects),
# and a libvirtd this script did not start (systemd's, say) is left alone.
set -euo pipefail

readonly RUN_DIR=${VIRTSYNC_RUN_DIR:-/run/virtsync}

say() { printf 'libvirtd-down: %s\n' "$*" >&2; }

# alive PID NAME: the process exists, is not a zombie, and is named NAME.
alive() {
    local pid=$1 name=$2 state
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] || return 1
    state=$(awk '$1 == "State:" { print $2 }' "/proc/$pid/status" 2>/dev/null) || return 1
    [[ -n $state && $state != Z && $state != X ]]
}

# stop PIDFILE NAME: SIGTERM the process named NAME whose pid is in PIDFILE, wait up to 15 s,
# then SIGKILL. A stale pid file (dead process, or a reused pid with another name) is removed.
stop() {
    local pidfile=$1 name=$2 pid
    [[ -e $pidfile ]] || return 0
    pid=$(<"$pidfile")
    if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" "$name"; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 150); do
            alive "$pid" "$name" || break
            sleep 0.1
        done
        if alive "$pid" "$name"; then
            say "$name (pid $pid) ignored SIGTERM for 15 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        say "stopped $name (pid $pid)"
    fi
    rm -f "$pidfile"
}

[[ -d $RUN_DIR ]] || { say "nothing to stop ($RUN_DIR absent)"; exit 0; }
for daemon in libvirtd virtlockd virtlogd; do
    stop "$RUN_DIR/$daemon.pid" "$daemon"
done
shopt -s nullglob
for pidfile in "$RUN_DIR"/reaper.*.pid; do
    stop "$pidfile" virtsync-reaper
done
rm -f "$RUN_DIR"/reaper.*.status
