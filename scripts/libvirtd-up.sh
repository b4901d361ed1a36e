#!/usr/bin/env bash
# Start a local libvirt for virtsync on a machine without systemd (containers, CI sandboxes).
#
#   scripts/libvirtd-up.sh            # as root; prints the URI to use on stdout
#
# What it does (idempotent; every step is skipped when already done):
#   1. /dev/kvm: gives it group kvm, mode 0660 (what udev's default rule does on a normal Debian
#      host), so QEMU, which the Debian build runs as user libvirt-qemu (groups libvirt-qemu, kvm),
#      can open it. Reports whether guests get KVM or QEMU's TCG (software emulation).
#   2. If libvirtd already answers at qemu:///system (a systemd unit, an earlier run), stops here.
#   3. Otherwise starts virtlogd, virtlockd and libvirtd as daemons (-d), each with its own pid
#      file in /run/virtsync, under a small child subreaper (scripts/lib/subreaper.py) that reaps
#      QEMU and dnsmasq at once: PID 1 of such machines reaps orphans only every ~2 s, and libvirt
#      counts a zombie QEMU as alive, so each destroy would take ~2 s instead of ~0.2 s.
#   4. Waits until `virsh -c qemu:///system version` answers (the first start probes QEMU's
#      capabilities: 5 to 10 s).
#
# No libvirt configuration file is written or changed: the stock defaults of Debian 12's libvirt
# 9.0 work once the user and groups that scripts/install-deps.sh creates exist.
#
# Exit codes: 0 libvirtd answers (stdout: qemu:///system); 3 no daemon can run here (stdout:
# test:///default, libvirt's in-process test driver, the fallback); 1 anything unexpected.
# scripts/libvirtd-down.sh stops what this script started.
set -euo pipefail

readonly URI=qemu:///system
readonly FALLBACK_URI=test:///default
readonly RUN_DIR=${VIRTSYNC_RUN_DIR:-/run/virtsync}
readonly LOG_DIR=/var/log/libvirt
readonly TIMEOUT=${VIRTSYNC_LIBVIRTD_TIMEOUT:-90}
readonly DAEMONS=(virtlogd virtlockd libvirtd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE

say() { printf 'libvirtd-up: %s\n' "$*" >&2; }

fallback() {
    say "$*"
    say "no libvirt daemon can run here; the fallback is libvirt's test driver: $FALLBACK_URI"
    echo "$FALLBACK_URI"
    exit 3
}

# A call with a deadline: a frozen daemon would otherwise hang virsh forever.
answering() { timeout 10 virsh -q -c "$URI" version >/dev/null 2>&1; }

# The pid in a pid file, when that process is alive (not a zombie: a killed daemon whose parent
# is gone stays one until PID 1 reaps it) and has the expected name.
alive_pid() {
    local pidfile=$1 name=$2 pid state
    [[ -r $pidfile ]] || return 1
    pid=$(<"$pidfile") || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] || return 1
    state=$(awk '$1 == "State:" { print $2 }' "/proc/$pid/status" 2>/dev/null) || return 1
    [[ -n $state && $state != Z && $state != X ]] || return 1
    echo "$pid"
}

# --- 0. Preconditions -------------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || fallback "must run as root (the system libvirtd and its QEMU user need it)"
for tool in libvirtd virtlogd virtlockd virsh timeout; do
    command -v "$tool" >/dev/null || fallback "$tool not found (run scripts/install-deps.sh)"
done
PYTHON=$(command -v /usr/bin/python3 || command -v python3 || true)
[[ -n $PYTHON ]] || fallback "python3 not found (run scripts/install-deps.sh)"
getent passwd libvirt-qemu >/dev/null \
    || fallback "user libvirt-qemu missing: the QEMU driver refuses to start (run scripts/install-deps.sh)"
getent group libvirt-qemu >/dev/null \
    || fallback "group libvirt-qemu missing: the QEMU driver refuses to start (run scripts/install-deps.sh)"

# --- 1. /dev/kvm --------------------------------------------------------------------------------
accel="QEMU TCG (software emulation; slower, but tiny guests still boot)"
if [[ -c /dev/kvm ]]; then
    if getent group kvm >/dev/null && [[ $(stat -c '%G %a' /dev/kvm) != "kvm 660" ]]; then
        say "/dev/kvm: $(stat -c '%U:%G %a' /dev/kvm) -> root:kvm 660 (as udev does on a Debian host)"
        if ! { chgrp kvm /dev/kvm && chmod 0660 /dev/kvm; }; then say "could not change /dev/kvm"; fi
    fi
    if { : 9<>/dev/kvm; } 2>/dev/null; then
        if setpriv --reuid=libvirt-qemu --regid=libvirt-qemu --init-groups \
            sh -c ': 9<>/dev/kvm' 2>/dev/null; then
            accel="KVM (/dev/kvm usable by libvirt-qemu)"
        else
            say "/dev/kvm opens as root but not as libvirt-qemu (is it in group kvm?)"
        fi
    else
        say "/dev/kvm exists but does not open"
    fi
else
    say "/dev/kvm absent"
fi

# --- 2. Already running? ----------------------------------------------------------------------
if answering; then
    say "libvirtd already answers at $URI; nothing started"
    say "guests: $accel"
    echo "$URI"
    exit 0
fi

# --- 3. Start the missing daemons under a subreaper -------------------------------------------
mkdir -p "$RUN_DIR" "$LOG_DIR"
missing=()
for daemon in "${DAEMONS[@]}"; do
    if pid=$(alive_pid "$RUN_DIR/$daemon.pid" "$daemon"); then
        say "$daemon already running (pid $pid)"
    else
        missing+=("$daemon")
    fi
done

if ((${#missing[@]} > 0)); then
    say "starting ${missing[*]} (logs in $LOG_DIR)"
    # Each subreaper has its own pid file: a partial restart (one daemon died) adds a second one.
    stamp="$(date +%s)-$$"
    reaper_pid="$RUN_DIR/reaper.$stamp.pid"
    status_file="$RUN_DIR/reaper.$stamp.status"
    # The command run under the reaper: start each daemon in order; -d forks it into the
    # background (re-parented to the reaper), -p gives it its own pid file (the defaults are
    # /run/<daemon>.pid, outside any directory of ours).
    # shellcheck disable=SC2016  # expanded by the inner bash, not here
    spawn='run_dir=$1; shift; for d in "$@"; do "$d" -d -p "$run_dir/$d.pid" || exit 1; done'
    # Descriptors 3-9 are closed: the daemons outlive this script, and an inherited descriptor
    # would hold whatever the caller had open for as long as they run, e.g. the lock of
    # `flock /tmp/virtsync-system.lock scripts/libvirtd-up.sh`, which then nobody gets again.
    setsid "$PYTHON" "$HERE/lib/subreaper.py" --pidfile "$reaper_pid" --status "$status_file" \
        -- bash -c "$spawn" spawn "$RUN_DIR" "${missing[@]}" \
        </dev/null >>"$LOG_DIR/virtsync-reaper.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
    disown || true
    deadline=$((SECONDS + 30))
    until [[ -s $status_file ]]; do
        ((SECONDS < deadline)) || fallback "the daemons did not fork within 30 s"
        sleep 0.1
    done
    spawn_status=$(<"$status_file")
    rm -f "$status_file"
    if [[ $spawn_status != 0 ]]; then
        tail -n 5 "$LOG_DIR"/{virtlogd,virtlockd,libvirtd}.log 2>/dev/null >&2 || true
        fallback "starting ${missing[*]} failed (exit $spawn_status)"
    fi
fi

# --- 4. Wait until it answers -------------------------------------------------------------------
started=$SECONDS
until answering; do
    if ! alive_pid "$RUN_DIR/libvirtd.pid" libvirtd >/dev/null; then
        tail -n 8 "$LOG_DIR/libvirtd.log" >&2 2>/dev/null || true
        fallback "libvirtd exited during start-up"
    fi
    if ((SECONDS - started > TIMEOUT)); then
        tail -n 8 "$LOG_DIR/libvirtd.log" >&2 2>/dev/null || true
        fallback "libvirtd did not answer within $TIMEOUT s"
    fi
    sleep 0.2
done
say "libvirtd answers at $URI after $((SECONDS - started)) s"
if virsh -q -c "$URI" capabilities 2>/dev/null | grep -q "<domain type='kvm'"; then
    say "guests: $accel; libvirt offers domain type kvm"
else
    say "guests: $accel; libvirt offers domain type qemu only (TCG)"
fi
echo "$URI"
