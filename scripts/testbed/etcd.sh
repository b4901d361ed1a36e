# shellcheck shell=bash
# An etcd cluster across the testbed: one member per host, inside the host's namespaces, so that
# `kill`, `freeze`, `partition` and `reboot` of a host do to its member what they do to its
# libvirtd. Sourced by scripts/testbed.sh after lib.sh.
#
# Member host-I listens on the host's testbed address (clients :2379, peers :2380) and, for
# commands run inside the host, on 127.0.0.1:2379. Its data directory, TB/hosts/host-I/etcd,
# outlives a reboot (which wipes only the run directory): a restarted member rejoins with it.
# Its log is TB/hosts/host-I/log/etcd.log (/var/log/libvirt/etcd.log inside the host).

readonly ETCD_CLIENT_PORT=2379 ETCD_PEER_PORT=2380

etcd_client_url() { echo "http://$(host_address "$1"):$ETCD_CLIENT_PORT"; }
etcd_peer_url() { echo "http://$(host_address "$1"):$ETCD_PEER_PORT"; }

# Every member's client URL, comma-separated: what clients are given.
etcd_endpoints() {
    local i urls=()
    for ((i = 1; i <= $(host_count); i++)); do urls+=("$(etcd_client_url "$i")"); done
    (IFS=,; echo "${urls[*]}")
}

# The pid of host I's etcd member when it runs (frozen counts): found among the processes of the
# host's network namespace, never by name alone (every host's member is called etcd).
etcd_pid() {
    local pid
    for pid in $(ip netns pids "$(host_ns "$1")" 2>/dev/null); do
        if [[ $(cat "/proc/$pid/comm" 2>/dev/null) == etcd ]]; then echo "$pid"; return 0; fi
    done
    return 1
}

# Whether host I has any process (a killed host has none); quicker than `host_pids`, as
# every process of a host is in its network namespace.
host_powered() { [[ -n $(ip netns pids "$(host_ns "$1")" 2>/dev/null) ]]; }

# start_etcd I: host I's member, in its namespaces, detached. The same command line starts a new
# member and restarts one: with a data directory present, etcd ignores the --initial-* flags and
# rejoins with its write-ahead log. VIRTSYNC_TESTBED_ETCD_ELECTION_MS (with
# VIRTSYNC_TESTBED_ETCD_HEARTBEAT_MS, default a tenth of it) replaces etcd's timings (1000 / 100);
# `etcd-up` records them in the state file, so a member started again later gets the same ones.
start_etcd() {
    local i=$1 dir j cluster=() timings=() election heartbeat
    election=${VIRTSYNC_TESTBED_ETCD_ELECTION_MS:-$(state_get ETCD_ELECTION_MS || true)}
    if [[ -n $election ]]; then
        heartbeat=${VIRTSYNC_TESTBED_ETCD_HEARTBEAT_MS:-$(state_get ETCD_HEARTBEAT_MS || echo $((election / 10)))}
        timings=(--election-timeout "$election" --heartbeat-interval "$heartbeat")
    fi
    dir=$(host_dir "$i")
    for ((j = 1; j <= $(host_count); j++)); do cluster+=("host-$j=$(etcd_peer_url "$j")"); done
    mkdir -p "$dir/etcd"
    chmod 0700 "$dir/etcd"
    host_enter "$i"
    detach "$dir/log/etcd.log" "${ENTER[@]}" etcd --name "host-$i" --data-dir "$dir/etcd" \
        --listen-client-urls "$(etcd_client_url "$i"),http://127.0.0.1:$ETCD_CLIENT_PORT" \
        --advertise-client-urls "$(etcd_client_url "$i")" \
        --listen-peer-urls "$(etcd_peer_url "$i")" --initial-advertise-peer-urls "$(etcd_peer_url "$i")" \
        --initial-cluster "$(IFS=,; echo "${cluster[*]}")" --initial-cluster-token "$NAME" \
        --initial-cluster-state new --logger zap --log-outputs stderr "${timings[@]}"
    # Until it has entered the host's namespaces, where `wait_etcd` looks for it.
    local deadline=$((SECONDS + 5))
    until etcd_pid "$i" >/dev/null; do
        ((SECONDS < deadline)) || host_failed "$i" "its etcd member did not start" etcd.log
        sleep 0.02
    done
}

# etcd_healthy I: whether host I's member answers a linearizable read (etcdctl endpoint health,
# run inside the host): it runs, and its cluster has a leader and a quorum.
etcd_healthy() {
    host_enter "$1"
    "${ENTER[@]}" etcdctl --endpoints "$(etcd_client_url "$1")" --dial-timeout 1s --command-timeout 2s \
        endpoint health >/dev/null 2>&1
}

# wait_etcd DEADLINE I...: until every member named is healthy, or fails, or SECONDS reaches
# DEADLINE.
wait_etcd() {
    local deadline=$1 i pending
    shift
    pending=("$@")
    while ((${#pending[@]} > 0)); do
        for i in "${pending[@]}"; do
            etcd_pid "$i" >/dev/null || host_failed "$i" "its etcd member exited" etcd.log
        done
        # Side by side: one etcdctl takes 0.1 to 0.5 s to start on a loaded machine.
        local still=() checks=()
        for i in "${pending[@]}"; do etcd_healthy "$i" & checks+=("$!"); done
        for i in "${!pending[@]}"; do wait "${checks[$i]}" || still+=("${pending[$i]}"); done
        pending=("${still[@]}")
        ((${#pending[@]} > 0)) || break
        ((SECONDS < deadline)) || host_failed "${pending[0]}" "its etcd member was not healthy within $TB_TIMEOUT s" etcd.log
        sleep 0.1
    done
}

# cmd_etcd_start all|I: starts the member of host I, or of every host, where none runs (a running
# or frozen member is left alone), waits until those members are healthy, prints the endpoints.
# A killed host gets no member (it has no power): `etcd-start` refuses it, `etcd-up` skips it.
cmd_etcd_start() {
    local i started=$EPOCHREALTIME count=0 hosts=()
    command -v etcd >/dev/null && command -v etcdctl >/dev/null \
        || unavailable "etcd or etcdctl not found (apt-get install etcd-server etcd-client, or scripts/install-deps.sh)"
    if [[ $1 == all ]]; then
        if [[ -n ${VIRTSYNC_TESTBED_ETCD_ELECTION_MS:-} ]]; then
            state_set ETCD_ELECTION_MS "$VIRTSYNC_TESTBED_ETCD_ELECTION_MS"
            state_set ETCD_HEARTBEAT_MS "${VIRTSYNC_TESTBED_ETCD_HEARTBEAT_MS:-$((VIRTSYNC_TESTBED_ETCD_ELECTION_MS / 10))}"
        fi
        for ((i = 1; i <= $(host_count); i++)); do
            if host_powered "$i"; then hosts+=("$i"); else say "host-$i is killed: no etcd member there"; fi
        done
    else
        host_powered "$1" || die "host-$1 is killed: reboot it first"
        hosts=("$1")
    fi
    for i in "${hosts[@]}"; do
        if ! etcd_pid "$i" >/dev/null; then
            start_etcd "$i"
            count=$((count + 1))
        fi
    done
    wait_etcd $((SECONDS + TB_TIMEOUT)) "${hosts[@]}"
    etcd_endpoints
    say "etcd: $count member(s) started, ${#hosts[@]} healthy in $(elapsed "$started") s"
}
