# shellcheck shell=bash
# One host of the testbed: its namespaces, its configuration, its daemons. Sourced by
# scripts/testbed.sh after lib.sh.

# The daemons, started by the host's subreaper inside the host. Each forks into the background
# (-d) with its own pid file (-p; the defaults, /run/<daemon>.pid, are shared by every host and
# the root libvirtd). virtlogd first: the QEMU driver needs it before the first guest.
# shellcheck disable=SC2016
readonly SPAWN='
virtlogd -d -p /run/libvirt/virtlogd.pid || exit 1
virtlockd -d -p /run/libvirt/virtlockd.pid || exit 1
exec libvirtd -d --listen -p /run/libvirt/libvirtd.pid
'

# The controller namespace: only a bridge, which every host's veth joins.
create_controller() {
    ip netns add "$CTL"
    ip -n "$CTL" link set lo up
    ip -n "$CTL" link add br0 type bridge
    ip -n "$CTL" link set br0 up
}

# render TEMPLATE TARGET I: a configuration file of scripts/testbed/conf with the host's values.
render() {
    local i=$3
    sed -e "s|@UUID@|$(state_get "UUID_$i")|" -e "s|@ADDRESS@|$(host_address "$i")|" \
        -e "s|@LOCKSPACE@|$(state_get SHARED)/lockd|" "$HERE/testbed/conf/$1" >"$2"
}

# create_host I: network namespace and veth, directories, configuration, mount and UTS namespace.
create_host() {
    local i=$1 ns dir j
    ns=$(host_ns "$i")
    dir=$(host_dir "$i")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # Both ends are created where they live: no interface ever appears in the root namespace.
    ip -n "$CTL" link add "vh$i" type veth peer name eth0 netns "$ns"
    ip -n "$CTL" link set "vh$i" master br0 up
    ip -n "$ns" addr add "$(host_address "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up

    mkdir -p "$dir"/{run,lib,log,cache/qemu/capabilities} \
        "$dir"/etc/{qemu/autostart,qemu/networks/autostart,storage/autostart,nwfilter,secrets}
    for file in libvirtd.conf qemu.conf qemu-lockd.conf virtlogd.conf virtlockd.conf; do
        render "$file" "$dir/etc/$file" "$i"
    done
    {
        printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
        for ((j = 1; j <= $(state_get HOSTS); j++)); do
            printf '%s\thost-%s\n' "$(host_address "$j")" "$j"
        done
    } >"$dir/hosts"

    touch "$(host_mnt "$i")" "$(host_uts "$i")"
    unshare --mount="$(host_mnt "$i")" --uts="$(host_uts "$i")" --propagation private \
        /bin/bash "$HERE/testbed/mount-setup.sh" "host-$i" "$dir" "$TB_ROOT" \
        || die "host-$i: could not set up its mount namespace"
}

# seed_cache FROM_DIR I: QEMU capabilities probed once serve every host (probing costs 1.5 to 8 s
# per daemon); libvirt checks the copies against its binaries and probes again when stale.
seed_cache() {
    local from=$1 to
    to="$(host_dir "$2")/cache/qemu/capabilities"
    compgen -G "$from/*.xml" >/dev/null || return 0
    cp -p "$from"/*.xml "$to"/
}

# start_host I: the host's subreaper and daemons, in its namespaces, detached (see `detach`).
start_host() {
    local i=$1 dir
    dir=$(host_dir "$i")
    rm -f "$dir/run/reaper.status"
    host_enter "$i"
    detach "$dir/log/reaper.log" "${ENTER[@]}" "$PYTHON" "$HERE/lib/subreaper.py" --pidfile /run/libvirt/reaper.pid \
        --status /run/libvirt/reaper.status -- /bin/bash -c "$SPAWN"
}

# host_failed I WHAT: the error of a host that does not come up, with the log to read.
host_failed() {
    local log
    log="$(host_dir "$1")/log/$3"
    [[ -r $log ]] && tail -n 8 "$log" | sed "s/^/  host-$1 $3: /" >&2
    die "host-$1: $2 (read $log)"
}

# wait_host I DEADLINE: until the host's libvirtd answers, or fails, or SECONDS reaches DEADLINE.
wait_host() {
    local i=$1 deadline=$2 dir status
    dir=$(host_dir "$i")
    until [[ -s $dir/run/reaper.status ]]; do
        ((SECONDS < deadline)) || host_failed "$i" "its daemons did not start in time" reaper.log
        sleep 0.05
    done
    status=$(<"$dir/run/reaper.status")
    [[ $status == 0 ]] || host_failed "$i" "starting its daemons failed (exit $status)" reaper.log
    until answering "$i"; do
        libvirtd_pid "$i" >/dev/null || host_failed "$i" "libvirtd exited during start-up" libvirtd.log
        ((SECONDS < deadline)) || host_failed "$i" "libvirtd did not answer within $TB_TIMEOUT s" libvirtd.log
        sleep 0.1
    done
}

# wipe_run I: what a reboot loses (running guests' state, the autostart marker, sockets).
wipe_run() {
    find "$(host_dir "$1")/run" -mindepth 1 -delete
}
