#!/usr/bin/env bash
# The agent's HTTP endpoint under load from a second process on loopback (wrk), as a benchmark:
# starts a real agent (libvirt's test driver, a spec repository in a temporary folder, 20 VMs),
# waits until it is ready, then runs wrk against /healthz, /status and /metrics and prints
# requests per second, latency, errors and the agent's memory before and after. Exits 1 when
# wrk saw any socket error or non-2xx answer.
#
#   scripts/http-load.sh [--binary PATH] [--seconds N] [--connections N]
#
# Default binary: .build/release/virtsync if built, else .build/debug/virtsync. Needs git and
# wrk (scripts/install-deps.sh installs both). Nothing leaves loopback.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

binary=""
seconds=10
connections=32
while (($# > 0)); do
    case $1 in
        --binary) binary=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        *) echo "usage: $0 [--binary PATH] [--seconds N] [--connections N]" >&2; exit 2 ;;
    esac
done
if [[ -z $binary ]]; then
    binary=.build/release/virtsync
    [[ -x $binary ]] || binary=.build/debug/virtsync
fi
[[ -x $binary ]] || { echo "http-load: $binary is not built (swift build)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "http-load: wrk is missing (scripts/install-deps.sh)" >&2; exit 2; }
binary=$(realpath "$binary")

work=$(mktemp -d /tmp/virtsync-http-load.XXXXXX)
agent_pid=""
cleanup() {
    [[ -n $agent_pid ]] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# A spec of 20 stopped VMs in a repository of its own.
git init -q -b main "$work/repo"
for i in $(seq -w 1 20); do
    cat > "$work/repo/vm-$i.yaml" <<EOF
apiVersion: virtsync/v1
kind: VirtualMachine
name: load-$i
vcpus: 1
memory: 32MiB
power: stopped
EOF
done
git -C "$work/repo" add -A
git -C "$work/repo" -c user.name=load -c user.email=load@example.com commit -q -m spec

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/agent.yaml" <<EOF
apiVersion: virtsync/v1
kind: AgentConfig
host: local
source:
  repo: file://$work/repo
  ref: main
libvirt:
  uri: test:///default
reconcile:
  interval: 1h
stateDir: $work/state
hostsDir: $work/hosts
http:
  listen: 127.0.0.1:$port
log:
  level: warning
EOF

"$binary" agent --config "$work/agent.yaml" > "$work/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 1 300); do
    if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
    kill -0 "$agent_pid" 2>/dev/null || { echo "http-load: the agent exited:" >&2; cat "$work/agent.log" >&2; exit 1; }
    sleep 0.1
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "http-load: the agent never became ready" >&2; cat "$work/agent.log" >&2; exit 1; }

rss() { awk '/^VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$agent_pid/status"; }
echo "virtsync HTTP endpoint under wrk: $binary, $connections connections, 2 threads, ${seconds}s per path"
echo "agent resident memory before: $(rss)"
failed=0
for path in /healthz /status /metrics; do
    out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port$path")
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(awk '/Socket errors/ {print $0}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    printf '  %-9s %10s req/s   p50 %-9s p99 %-9s non-2xx %s   %s\n' "$path" "$rps" "$p50" "$p99" "${non2xx:-0}" "${errors:-no socket errors}"
    if [[ -n $errors || -n $non2xx ]]; then failed=1; fi
done
echo "agent resident memory after: $(rss)"
kill -0 "$agent_pid" 2>/dev/null || { echo "http-load: the agent died under load" >&2; exit 1; }
exit "$failed"
