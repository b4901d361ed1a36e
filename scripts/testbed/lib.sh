# shellcheck shell=bash
# Shared by scripts/testbed.sh and its parts: names, the state file, finding a host's processes.
# Sourced, not run. Expects HERE (the scripts directory) to be set.

readonly TB_ROOT=${VIRTSYNC_TESTBED_ROOT:-/var/lib/virtsync-testbed}
readonly TB_TIMEOUT=${VIRTSYNC_TESTBED_TIMEOUT:-90}
PYTHON=$(command -v /usr/bin/python3 || command -v python3 || true)
readonly PYTHON

say() { printf 'testbed: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
# Seconds since START (an $EPOCHREALTIME), for the messages.
elapsed() { awk -v start="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.2f", now - start }'; }

# select_testbed NAME: the variables every command works with.
select_testbed() {
    NAME=$1
    [[ $NAME =~ ^[a-z][a-z0-9-]{0,23}$ ]] \
        || die "bad testbed name '$NAME' (lower-case letters, digits and '-', at most 24, a letter first)"
    TB=$TB_ROOT/$NAME
    CTL=$NAME-ctl
    STATE=$TB/state
    state_load
}

host_ns() { echo "$NAME-host-$1"; }
host_dir() { echo "$TB/hosts/host-$1"; }
host_mnt() { echo "$TB/ns/host-$1.mnt"; }
host_uts() { echo "$TB/ns/host-$1.uts"; }
host_socket() { echo "$(host_dir "$1")/run/libvirt-sock"; }
host_root_uri() { echo "qemu+unix:///system?socket=$(host_socket "$1")"; }
host_address() { echo "$(state_get SUBNET).$((10 + $1))"; }
host_peer_uri() { echo "qemu+tcp://$(host_address "$1")/system"; }

# host_enter I: sets ENTER to the nsenter command line that runs a command inside host I (its
# network, mount and UTS namespaces). Every way into a host (its daemons, its etcd member, `exec`)
# goes through it, so `kill`, `freeze` and `partition` of the host reach whatever was started so.
host_enter() {
    ENTER=(nsenter --net="/run/netns/$(host_ns "$1")" --mount="$(host_mnt "$1")" --uts="$(host_uts "$1")" --)
}

# detach LOG [NAME=VALUE...] COMMAND [ARG...]: COMMAND in the background, in a session of its own,
# with a clean environment (PATH, LANG and the NAME=VALUE given: nothing of the caller's LIBVIRT_*
# or VIRTSYNC_* leaks in), stdin /dev/null, stdout and stderr appended to LOG, and no other
# descriptor: a pipe of the caller (a test runner's) held open by a daemon would make the caller
# wait for the testbed's end.
detach() {
    local log=$1 path fd
    shift
    (
        for path in /proc/self/fd/*; do
            fd=${path##*/}
            # The directory listing's own descriptor is gone by now: skip what is no longer open.
            if ((fd > 2)) && [[ -e $path ]]; then exec {fd}>&-; fi
        done
        exec setsid env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
    ) </dev/null >>"$log" 2>&1 &
    disown
}

# The state file: KEY=VALUE lines, read back without evaluating anything, once per run.
declare -A STATE_VALUES=()
state_load() {
    local key value
    STATE_VALUES=()
    [[ -r $STATE ]] || return 0
    while IFS='=' read -r key value; do STATE_VALUES[$key]=$value; done <"$STATE"
}
state_get() {
    [[ -n ${STATE_VALUES[$1]+set} ]] || return 1
    echo "${STATE_VALUES[$1]}"
}
state_set() {
    printf '%s=%s\n' "$1" "$2" >>"$STATE"
    STATE_VALUES[$1]=$2
}

# host_count: from the state file, else from what exists (a crash before the state was written).
host_count() {
    local n
    if n=$(state_get HOSTS 2>/dev/null); then echo "$n"; return; fi
    local found
    n=0
    for found in $(ip netns list 2>/dev/null | awk '{ print $1 }') "$TB"/ns/host-*.mnt; do
        if [[ $found =~ (^$NAME-host-|/host-)([0-9]+)(\.mnt)?$ ]] && ((BASH_REMATCH[2] > n)); then
            n=${BASH_REMATCH[2]}
        fi
    done
    echo "$n"
}

# host_index HOST: "host-3" or "3" to 3, checked against the testbed.
host_index() {
    local i=${1#host-} n
    n=$(host_count)
    if ! [[ $i =~ ^[0-9]+$ ]] || ((i < 1 || i > n)); then
        die "no host '$1' in testbed $NAME (hosts: host-1..host-$n)"
    fi
    echo "$i"
}

netns_exists() { [[ -e /run/netns/$1 ]]; }

# ns_pids NETNS MOUNT_NS_FILE: every process in the host's network namespace or its mount
# namespace, alive (a zombie has left its namespaces). By namespace, never by name: every host's
# daemons and guests look alike in ps (and so do those of the root libvirtd).
ns_pids() {
    local netns=$1 mntfile=$2 ino
    {
        if netns_exists "$netns"; then ip netns pids "$netns" 2>/dev/null || true; fi
        if is_mounted "$mntfile"; then
            ino=$(stat -L -c %i "$mntfile")
            find /proc/[0-9]*/ns/mnt -maxdepth 0 -lname "mnt:?$ino?" -printf '%h\n' 2>/dev/null | cut -d/ -f3
        fi
    } | sort -un || true
}

host_pids() { ns_pids "$(host_ns "$1")" "$(host_mnt "$1")"; }

# signal_host I SIGNAL: sends SIGNAL to every process of host I, twice, so a child forked
# between the listing and the signal is caught too.
signal_host() {
    local i=$1 signal=$2 pids
    for _ in 1 2; do
        pids=$(host_pids "$i")
        [[ -n $pids ]] || return 0
        # shellcheck disable=SC2086  # one pid per word
        kill "-$signal" $pids 2>/dev/null || true
    done
}

# kill_host I: SIGKILL until no process of host I is left (10 s at most). The subreaper last, so
# it reaps the others at once instead of leaving them to a slow PID 1 as zombies.
kill_host() {
    local i=$1 deadline=$((SECONDS + 10)) reaper="" pids others
    reaper=$(cat "$(host_dir "$i")/run/reaper.pid" 2>/dev/null) || true
    # A frozen reaper could not reap.
    [[ $reaper =~ ^[0-9]+$ ]] && kill -CONT "$reaper" 2>/dev/null || true
    while pids=$(host_pids "$i") && [[ -n $pids ]]; do
        ((SECONDS < deadline)) || die "host-$i: processes survive SIGKILL: ${pids//$'\n'/ }"
        others=$(grep -vx -e "${reaper:-none}" <<<"$pids") || true
        # shellcheck disable=SC2086  # one pid per word
        kill -KILL ${others:-$pids} 2>/dev/null || true
        sleep 0.02
    done
}

# The pid of the host's libvirtd, when alive.
libvirtd_pid() {
    local pidfile pid
    pidfile="$(host_dir "$1")/run/libvirtd.pid"
    [[ -r $pidfile ]] && pid=$(<"$pidfile") && [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == libvirtd ]] || return 1
    echo "$pid"
}

# A call with a deadline: a frozen or cut-off daemon would otherwise hang virsh forever.
answering() { timeout "${2:-5}" virsh -q -c "$(host_root_uri "$1")" version >/dev/null 2>&1; }

is_mounted() { awk -v p="$1" '$5 == p { found = 1 } END { exit !found }' /proc/self/mountinfo; }

# Mount points at or under DIR in the root mount namespace, deepest first.
mounts_under() {
    awk -v dir="$1" '$5 == dir || index($5, dir "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
