#!/usr/bin/env bash
# A multi-host libvirt testbed on one machine, for the cluster tests. As root.
#
#   scripts/testbed.sh up N [--name NAME] [--subnet A.B.C]
#                                         # stdout: "host-I ROOT_URI PEER_URI HOST_UUID" per host
#   scripts/testbed.sh down [--name NAME] # idempotent; exit 0 when nothing is there
#   scripts/testbed.sh kill|freeze|thaw|partition|heal|reboot HOST [--name NAME]
#   scripts/testbed.sh status [--name NAME]          # stdout: "host-I STATE[,STATE]" per host
#   scripts/testbed.sh uri|peer-uri|address HOST [--name NAME]
#   scripts/testbed.sh shared [--name NAME]          # stdout: the shared directory
#   scripts/testbed.sh list                          # stdout: the testbeds on this machine
#   scripts/testbed.sh exec HOST [--name NAME] -- COMMAND [ARG...]
#   scripts/testbed.sh etcd-up [--name NAME]         # stdout: http://A.B.C.11:2379,... (live hosts' healthy)
#   scripts/testbed.sh etcd-start HOST [--name NAME] # stdout: the same; HOST's member healthy
#   scripts/testbed.sh watchdog HOST --timeout SECONDS [--name NAME]
#                                         # stdout: the watchdog's FIFO inside HOST
#   scripts/testbed.sh watchdog-stop HOST [--name NAME]
#   scripts/testbed.sh libvirtd-kill|libvirtd-start HOST [--name NAME]
#   scripts/testbed.sh etcd-kill|etcd-partition|etcd-heal HOST [--name NAME]
#
# Each host is a libvirtd (with its own virtlogd and virtlockd, under its own subreaper) in its
# own network, mount and UTS namespaces, named host-1..host-N. Hosts reach each other over a
# bridge in a controller namespace (addresses A.B.C.11, .12, ...); nothing is added to the root
# namespace's network. From the root namespace each host answers at
#   qemu+unix:///system?socket=/var/lib/virtsync-testbed/NAME/hosts/host-I/run/libvirt-sock
# and from the other hosts (peer-to-peer migration) at qemu+tcp://A.B.C.(10+I)/system. The shared
# storage, /var/lib/virtsync-testbed/NAME/shared, has the same path in every host and in the
# root namespace (it is never covered by a host's mounts); its lockd/ holds the virtlockd leases.
#
# For HA tests: `etcd-up` starts one etcd member inside each host's namespaces (clients at
# http://A.B.C.(10+I):2379, peers :2380, data in TB/hosts/host-I/etcd, log in the host's log
# directory) and waits until every member is healthy; a rebooted host's member is started again,
# with its data, by `etcd-up` or `etcd-start HOST` (a killed host gets none). `watchdog HOST` starts an
# emulated hardware watchdog for HOST in the root namespaces: any bytes written to the FIFO it
# prints (/run/libvirt/watchdog inside the host) pet it; the first pet arms it; once armed, SECONDS
# without a pet make it `kill` the host, log "fired at=EPOCH" to the host's log/watchdog.log and
# exit. `reboot` and `down` stop it. Every process started in a host (its daemons, its etcd member,
# `exec`) enters through one nsenter, so `kill`, `freeze` and `partition` reach them all.
# Details and measurements: scripts/testbed/README.md.
#
# Environment: VIRTSYNC_TESTBED_ROOT (default /var/lib/virtsync-testbed), VIRTSYNC_TESTBED_TIMEOUT
# (seconds to wait for the daemons, default 90), VIRTSYNC_TESTBED_KEEP_LOGS=1 (down copies the
# hosts' logs to /var/log/virtsync-testbed/NAME), VIRTSYNC_TESTBED_KEEP_FAILED=1 (a failed up
# leaves what it made, for debugging).
# Exit codes: 0 done; 1 failed (stderr says which host and which log to read); 2 bad usage;
# 3 this machine cannot run a testbed (not root, no namespaces, libvirt not installed; for etcd-up
# and etcd-start: etcd not installed).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE SELF=$HERE/testbed.sh
# shellcheck source=testbed/lib.sh
source "$HERE/testbed/lib.sh"
# shellcheck source=testbed/host.sh
source "$HERE/testbed/host.sh"
# shellcheck source=testbed/etcd.sh
source "$HERE/testbed/etcd.sh"
# shellcheck source=testbed/watchdog.sh
source "$HERE/testbed/watchdog.sh"

usage() { sed -n '3,18p' "$SELF" | sed 's/^# \{0,1\}//' >&2; exit 2; }
unavailable() { say "unavailable: $*"; exit 3; }

preflight() {
    [[ $(id -u) -eq 0 ]] || unavailable "must run as root (namespaces, mounts, libvirtd)"
    for tool in ip nsenter unshare setsid timeout libvirtd virtlogd virtlockd virsh qemu-system-x86_64; do
        command -v "$tool" >/dev/null || unavailable "$tool not found (run scripts/install-deps.sh)"
    done
    [[ -n $PYTHON ]] || unavailable "python3 not found (run scripts/install-deps.sh)"
    unshare --net --mount --uts true 2>/dev/null || unavailable "cannot create namespaces here"
}

# Creating and deleting namespaces, and unmounting /run/netns when none is left, one testbed at a
# time (fd 9 must be open on this script).
lock_namespaces() { flock -w 60 9 || die "another scripts/testbed.sh held the namespace lock for 60 s"; }

# --- up -----------------------------------------------------------------------------------------
on_up_exit() {
    local status=$?
    ((status != 0)) || return 0
    # An interrupted step may still hold the namespace lock, which the teardown takes again.
    exec 9<&-
    if [[ ${VIRTSYNC_TESTBED_KEEP_FAILED:-0} == 1 ]]; then
        say "up failed; testbed $NAME kept for debugging (scripts/testbed.sh down --name $NAME)"
    else
        say "up failed; tearing down what was started"
        (cmd_down) || say "teardown after the failed up failed too: run scripts/testbed.sh down --name $NAME"
    fi
    exit "$status"
}

cmd_up() {
    local n=$1 subnet=$2 i started=$EPOCHREALTIME deadline root_cache=/var/cache/libvirt/qemu/capabilities
    if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > 50)); then die "up: the host count must be 1 to 50, not '$n'"; fi
    if [[ -z $subnet ]]; then
        # Testbeds cannot see each other's bridges, so equal subnets would not clash; deriving it
        # from the name only keeps addresses in logs unambiguous.
        subnet="10.77.$(($(cksum <<<"$NAME" | cut -d' ' -f1) % 250))"
    fi
    [[ $subnet =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "up: --subnet takes three octets (A.B.C), not '$subnet'"
    if [[ -e $TB ]] || netns_exists "$CTL" || netns_exists "$(host_ns 1)"; then
        say "testbed $NAME exists (an earlier run that did not finish?): tearing it down first"
        cmd_down
    fi
    trap on_up_exit EXIT
    trap 'exit 130' INT TERM

    mkdir -p "$TB"/{ns,shared/lockd,hosts}
    : >"$STATE"
    STATE_VALUES=()
    state_set NAME "$NAME"
    state_set HOSTS "$n"
    state_set SUBNET "$subnet"
    state_set SHARED "$TB/shared"
    for ((i = 1; i <= n; i++)); do state_set "UUID_$i" "$(</proc/sys/kernel/random/uuid)"; done
    # The hosts bind their run directories over /run/libvirt, so it must exist (an empty
    # directory, as the root libvirtd would create it; never removed: another testbed may use it).
    mkdir -p /run/libvirt
    # The namespace files need a private mount to live on (a bind mount of a mount namespace
    # under a shared mount would be refused on machines whose / is shared, as under systemd).
    mount --bind "$TB/ns" "$TB/ns"
    mount --make-private "$TB/ns"
    {
        lock_namespaces
        create_controller
        for ((i = 1; i <= n; i++)); do create_host "$i"; done
    } 9<"$SELF"

    # The first host probes QEMU (or validates the root libvirtd's cache), the others copy it.
    deadline=$((SECONDS + TB_TIMEOUT))
    [[ -d $root_cache ]] && seed_cache "$root_cache" 1
    start_host 1
    wait_host 1 "$deadline"
    timeout $((deadline > SECONDS ? deadline - SECONDS : 1)) virsh -q -c "$(host_root_uri 1)" domcapabilities >/dev/null \
        || host_failed 1 "probing QEMU's capabilities failed" libvirtd.log
    for ((i = 2; i <= n; i++)); do
        seed_cache "$(host_dir 1)/cache/qemu/capabilities" "$i"
        start_host "$i"
    done
    for ((i = 2; i <= n; i++)); do wait_host "$i" "$deadline"; done

    for ((i = 1; i <= n; i++)); do
        echo "host-$i $(host_root_uri "$i") $(host_peer_uri "$i") $(state_get "UUID_$i")"
    done
    # Interrupted before this point, the caller may not know the testbed exists: tear it down.
    trap - EXIT INT TERM
    say "testbed $NAME: $n hosts up in $(elapsed "$started") s (subnet $subnet.0/24, shared $TB/shared)"
}

# --- down ---------------------------------------------------------------------------------------
testbed_netns() { ip netns list 2>/dev/null | awk -v re="^$NAME-(ctl|host-[0-9]+)\$" '$1 ~ re { print $1 }'; }

cmd_down() {
    local n i target started=$EPOCHREALTIME left
    if [[ ! -e $TB ]] && [[ -z $(testbed_netns) ]]; then
        say "testbed $NAME: nothing to tear down"
        return 0
    fi
    n=$(host_count)
    # The watchdogs first: one firing during the teardown would race it.
    for ((i = 1; i <= n; i++)); do stop_watchdog "$i"; done
    for ((i = 1; i <= n; i++)); do kill_host "$i"; done
    # The namespace files, then the private mount under them, then anything else left under the
    # testbed directory; lazily when busy (a process we could not see holds it).
    while read -r target; do
        [[ -n $target ]] || continue
        umount "$target" 2>/dev/null || umount -l "$target" || say "could not unmount $target"
    done < <(mounts_under "$TB")
    {
        lock_namespaces
        for target in $(testbed_netns); do ip netns delete "$target" || say "could not delete namespace $target"; done
        # `ip netns add` mounted /run/netns; nothing else needs that mount once no namespace is left.
        if [[ -z $(ip netns list 2>/dev/null) ]] && is_mounted /run/netns; then
            if umount /run/netns 2>/dev/null; then rmdir /run/netns 2>/dev/null || true; fi
        fi
    } 9<"$SELF"
    if [[ ${VIRTSYNC_TESTBED_KEEP_LOGS:-0} == 1 && -d $TB/hosts ]]; then
        rm -rf "/var/log/virtsync-testbed/$NAME"
        mkdir -p "/var/log/virtsync-testbed/$NAME"
        for target in "$TB"/hosts/host-*; do cp -r "$target/log" "/var/log/virtsync-testbed/$NAME/${target##*/}"; done
        say "logs kept in /var/log/virtsync-testbed/$NAME"
    fi
    rm -rf --one-file-system "$TB"
    rmdir "$TB_ROOT" 2>/dev/null || true

    left=$(testbed_netns; mounts_under "$TB"; [[ ! -e $TB ]] || echo "$TB")
    [[ -z $left ]] || die "testbed $NAME: left behind after down: ${left//$'\n'/ }"
    say "testbed $NAME: down in $(elapsed "$started") s"
}

# --- the other commands -------------------------------------------------------------------------
host_state() {
    local i=$1 pid state flags=()
    if [[ -z $(host_pids "$i") ]]; then
        flags+=(killed)
    elif pid=$(libvirtd_pid "$i") \
        && state=$(awk '$1 == "State:" { print $2 }' "/proc/$pid/status" 2>/dev/null) && [[ $state == T ]]; then
        flags+=(frozen)
    fi
    if ip -n "$CTL" -o link show "vh$i" 2>/dev/null | grep -q 'state DOWN'; then flags+=(partitioned); fi
    ((${#flags[@]} > 0)) || flags=(running)
    (IFS=,; echo "${flags[*]}")
}

cmd_reboot() {
    local i=$1 started=$EPOCHREALTIME
    # A reset disarms a hardware watchdog; its FIFO goes with the run directory.
    stop_watchdog "$i"
    kill_host "$i"
    wipe_run "$i"
    start_host "$i"
    wait_host "$i" $((SECONDS + TB_TIMEOUT))
    say "host-$i rebooted in $(elapsed "$started") s"
}

# kill_one I WHAT PID: SIGKILL to one process of host I (PID empty: none runs), until it is gone.
kill_one() {
    [[ -n $3 ]] || die "host-$1: no $2 runs"
    kill -KILL "$3"
    while kill -0 "$3" 2>/dev/null; do sleep 0.02; done
    say "host-$1: $2 killed"
}

# cmd_libvirtd_kill I: SIGKILL to the host's libvirtd alone; its guests (QEMU) keep running.
cmd_libvirtd_kill() { kill_one "$1" libvirtd "$(libvirtd_pid "$1" || true)"; }

# cmd_libvirtd_start I: starts the host's libvirtd again (after libvirtd-kill), waits until it answers.
cmd_libvirtd_start() {
    local i=$1 started=$EPOCHREALTIME
    libvirtd_pid "$i" >/dev/null && die "host-$i: libvirtd runs already"
    host_powered "$i" || die "host-$i is killed: reboot it instead"
    rm -f "$(host_dir "$i")/run/libvirtd.pid"
    host_enter "$i"
    detach "$(host_dir "$i")/log/libvirtd-restart.log" "${ENTER[@]}" libvirtd -d --listen -p /run/libvirt/libvirtd.pid
    local deadline=$((SECONDS + TB_TIMEOUT))
    until answering "$i"; do
        ((SECONDS < deadline)) || die "host-$i: libvirtd did not answer within $TB_TIMEOUT s"
        sleep 0.1
    done
    say "host-$i: libvirtd started again in $(elapsed "$started") s"
}

# cmd_etcd_kill I: SIGKILL to the host's etcd member alone (`etcd-start` starts it again).
cmd_etcd_kill() { kill_one "$1" "etcd member" "$(etcd_pid "$1" || true)"; }

# etcd_rules I -I|-D: inserts or deletes the rules that drop every packet to or from the etcd
# ports (client 2379, peer 2380) inside host I: its agent, its member and the others' traffic to
# it. Everything else (libvirt, migration) still flows.
etcd_rules() {
    local ns chain port flag
    ns=$(host_ns "$1")
    for chain in INPUT OUTPUT; do
        for port in 2379 2380; do
            for flag in --dport --sport; do
                if [[ $2 == -D ]]; then
                    ip netns exec "$ns" iptables -D "$chain" -p tcp "$flag" "$port" -j DROP 2>/dev/null || true
                else
                    ip netns exec "$ns" iptables -I "$chain" -p tcp "$flag" "$port" -j DROP
                fi
            done
        done
    done
}

require_testbed() { [[ -r $STATE ]] || die "no testbed named $NAME (scripts/testbed.sh up N --name $NAME)"; }

# --- arguments ----------------------------------------------------------------------------------
(($# > 0)) || usage
command=$1
shift
name=vstb subnet="" timeout="" args=() rest=()
while (($# > 0)); do
    case $1 in
        --name) (($# > 1)) || usage; name=$2; shift 2 ;;
        --subnet) (($# > 1)) || usage; subnet=$2; shift 2 ;;
        --timeout) (($# > 1)) || usage; timeout=$2; shift 2 ;;
        --) shift; rest=("$@"); break ;;
        -h | --help) usage ;;
        *) args+=("$1"); shift ;;
    esac
done
select_testbed "$name"

arity() { ((${#args[@]} == $1)) || usage; }
case $command in
    up) arity 1; preflight; cmd_up "${args[0]}" "$subnet"; exit ;;
    down) arity 0; [[ $(id -u) -eq 0 ]] || unavailable "must run as root"; cmd_down; exit ;;
    status)
        arity 0; require_testbed
        for ((i = 1; i <= $(host_count); i++)); do echo "host-$i $(host_state "$i")"; done
        exit ;;
    shared) arity 0; require_testbed; state_get SHARED; exit ;;
    etcd-up)
        arity 0; require_testbed; cmd_etcd_start all; exit ;;
    list)
        # By directory and by controller namespace: a crash may have left either without the other.
        arity 0
        { { compgen -G "$TB_ROOT/*/state" || true; } | awk -F/ '{ print $(NF - 1) }'
          ip netns list 2>/dev/null | awk '$1 ~ /-ctl$/ { sub(/-ctl$/, "", $1); print $1 }'; } | sort -u
        exit ;;
esac

# The commands about one host.
case $command in
    kill | freeze | thaw | partition | heal | reboot | uri | peer-uri | address | exec) ;;
    etcd-start | watchdog | watchdog-stop) ;;
    libvirtd-kill | libvirtd-start | etcd-kill | etcd-partition | etcd-heal) ;;
    *) usage ;;
esac
arity 1
require_testbed
i=$(host_index "${args[0]}")
case $command in
    kill) kill_host "$i"; say "host-$i killed" ;;
    freeze) signal_host "$i" STOP; say "host-$i frozen" ;;
    thaw) signal_host "$i" CONT; say "host-$i thawed" ;;
    partition) ip -n "$CTL" link set "vh$i" down; say "host-$i cut off" ;;
    heal) ip -n "$CTL" link set "vh$i" up; say "host-$i reconnected" ;;
    reboot) cmd_reboot "$i" ;;
    etcd-start) cmd_etcd_start "$i" ;;
    watchdog) [[ -n $timeout ]] || usage; cmd_watchdog "$i" "$timeout" ;;
    watchdog-stop) stop_watchdog "$i"; say "host-$i: watchdog stopped" ;;
    libvirtd-kill) cmd_libvirtd_kill "$i" ;;
    libvirtd-start) cmd_libvirtd_start "$i" ;;
    etcd-kill) cmd_etcd_kill "$i" ;;
    etcd-partition) etcd_rules "$i" -I; say "host-$i: etcd traffic dropped" ;;
    etcd-heal) etcd_rules "$i" -D; say "host-$i: etcd traffic flows again" ;;
    uri) host_root_uri "$i" ;;
    peer-uri) host_peer_uri "$i" ;;
    address) host_address "$i" ;;
    exec)
        ((${#rest[@]} > 0)) || usage
        # exec, twice: nsenter enters the namespaces and becomes the command, so no wrapper is
        # left outside the host for `kill` to miss.
        host_enter "$i"
        exec "${ENTER[@]}" "${rest[@]}" ;;
    *) usage ;;
esac
