# shellcheck shell=bash
# The emulated hardware watchdog of a host (scripts/testbed/watchdog.py): a process in the root
# namespaces, outside the host, petted through a FIFO the host sees as /run/libvirt/watchdog,
# that kills the whole host (`kill_host`) when the pets stop. Sourced by scripts/testbed.sh.
#
# A reboot resets it as it would reset a real one: `reboot` stops it (a test starts a new one);
# `kill` does not (power loss leaves it to fire, uselessly, at a dead host: its log says so).

# The FIFO's path inside the host; in the root namespace it is TB/hosts/host-I/run/watchdog.
readonly WATCHDOG_DEVICE=/run/libvirt/watchdog

watchdog_fifo() { echo "$(host_dir "$1")/run/watchdog"; }
watchdog_pidfile() { echo "$(host_dir "$1")/watchdog.pid"; }

# watchdog_pid I: the pid of host I's watchdog when it runs: the pid file's, checked against the
# process's command line (a stale pid file may name a reused pid).
watchdog_pid() {
    local pid
    pid=$(cat "$(watchdog_pidfile "$1")" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]] || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$(watchdog_fifo "$1")" || return 1
    echo "$pid"
}

# stop_watchdog I: ends host I's watchdog without firing (SIGTERM, SIGKILL after 2 s).
stop_watchdog() {
    local i=$1 pid deadline=$((SECONDS + 2))
    pid=$(watchdog_pid "$i") || return 0
    kill -TERM "$pid" 2>/dev/null || true
    while [[ -e /proc/$pid ]] && [[ $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) != Z ]]; do
        if ((SECONDS >= deadline)); then kill -KILL "$pid" 2>/dev/null || true; break; fi
        sleep 0.02
    done
    rm -f "$(watchdog_pidfile "$i")"
}

# cmd_watchdog I TIMEOUT: (re)starts host I's watchdog with a fresh FIFO; prints the FIFO's path
# inside the host once the watchdog holds it open.
cmd_watchdog() {
    local i=$1 timeout=$2 dir fifo deadline
    [[ $timeout =~ ^[0-9]*\.?[0-9]+$ ]] && awk -v t="$timeout" 'BEGIN { exit !(t > 0) }' \
        || die "watchdog: --timeout takes a positive number of seconds, not '$timeout'"
    [[ -n $(host_pids "$i") ]] || die "host-$i is not running (reboot it first)"
    dir=$(host_dir "$i")
    fifo=$(watchdog_fifo "$i")
    stop_watchdog "$i"
    rm -f "$fifo"
    mkfifo -m 0600 "$fifo"
    detach "$dir/log/watchdog.log" "VIRTSYNC_TESTBED_ROOT=$TB_ROOT" "$PYTHON" "$HERE/testbed/watchdog.py" \
        --fifo "$fifo" --timeout "$timeout" --pidfile "$(watchdog_pidfile "$i")" --testbed-dir "$TB" \
        --host "host-$i" -- /bin/bash "$SELF" kill "host-$i" --name "$NAME"
    deadline=$((SECONDS + 10))
    until watchdog_pid "$i" >/dev/null; do
        ((SECONDS < deadline)) || host_failed "$i" "its watchdog did not start" watchdog.log
        sleep 0.02
    done
    echo "$WATCHDOG_DEVICE"
    say "host-$i: watchdog armed at the first pet, timeout $timeout s ($WATCHDOG_DEVICE inside the host, $fifo outside)"
}
