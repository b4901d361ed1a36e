#!/usr/bin/env bash
# Builds virtsync as operators run it (release: optimized, whole-module) and smoke-tests it on
# libvirt's test driver: an apply of 60 VMs with 8 steps at once, then a plan that must find
# nothing to do, the JSON plan, and `virtsync serve` of the same spec (its cluster view and page).
# The test suites run a debug build; an optimized build can
# break where a debug one does not (Swift 6.3.1 miscompiled a task-local binding: every release
# `apply` crashed at its first step while every test passed). Exits 1 on any failure.
#
#   scripts/release-smoke.sh [--scratch-path DIR]    (default .build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scratch=.build
[[ ${1:-} == --scratch-path ]] && scratch=$2
say() { printf 'release-smoke: %s\n' "$*" >&2; }

swift build --scratch-path "$scratch" -c release --product virtsync >&2
binary="$scratch/release/virtsync"
work=$(mktemp -d /tmp/virtsync-release-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/spec"
for i in $(seq 1 60); do
    printf 'apiVersion: virtsync/v1\nkind: VirtualMachine\nname: smoke-%s\nmemory: 64MiB\npower: %s\n' \
        "$i" "$([[ $((i % 2)) == 0 ]] && echo running || echo stopped)" >"$work/spec/vm-$i.yaml"
done
common=(--connect test:///default --state-dir "$work/state" --hosts-dir "$work/hosts")
# Each command connects anew to a fresh test:///default (the test driver keeps nothing between
# connections), so a plan after the apply cannot show "no changes": the apply's report must show
# every step done, and the plan is checked as JSON.
started=$SECONDS
if ! out=$("$binary" apply "$work/spec" --auto-approve "${common[@]}" 2>&1); then
    say "apply failed:"; printf '%s\n' "$out" | tail -30 >&2; exit 1
fi
grep -q "Apply: 90 succeeded, 0 failed, 0 skipped." <<<"$out" \
    || { say "apply did not do every step:"; printf '%s\n' "$out" | tail -5 >&2; exit 1; }
json=$("$binary" plan "$work/spec" --format json "${common[@]}") || { say "plan --format json failed"; exit 1; }
jq -e '.format_version == 1 and .summary.by_action.create == 60 and .summary.by_action.start == 30' <<<"$json" >/dev/null \
    || { say "the JSON plan is not what was expected"; exit 1; }
"$binary" validate "$work/spec" --format json | jq -e '.valid' >/dev/null || { say "validate --format json failed"; exit 1; }
# The dashboard's server: `serve` of the same spec answers the cluster view (every VM, the plan
# of the test driver's fresh state) and the page, on a port the kernel picks.
"$binary" serve "$work/spec" --listen 127.0.0.1:0 --interval 60 "${common[@]}" >"$work/serve.out" 2>&1 &
serve=$!
trap 'kill "$serve" 2>/dev/null || true; rm -rf "$work"' EXIT
port=
for _ in $(seq 1 100); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/serve.out")
    [[ -n $port ]] && break
    sleep 0.1
done
[[ -n $port ]] || { say "serve did not listen:"; tail -20 "$work/serve.out" >&2; exit 1; }
view=
for _ in $(seq 1 100); do
    view=$(curl -sf "http://127.0.0.1:$port/api/v1/cluster") && jq -e '.vms | length == 60' <<<"$view" >/dev/null && break
    sleep 0.1
done
jq -e '.server.kind == "serve" and (.vms | length) == 60 and (.plan.steps | length) == 90' <<<"$view" >/dev/null \
    || { say "serve's cluster view is not what was expected:"; head -c 600 <<<"$view" >&2; exit 1; }
page=$(curl -sf "http://127.0.0.1:$port/") || { say "serve's page did not load"; exit 1; }
grep -q '<script src="/dashboard.js"' <<<"$page" || { say "serve's page is not the dashboard"; exit 1; }
kill "$serve"
wait "$serve" 2>/dev/null || true
trap 'rm -rf "$work"' EXIT
say "release build: apply of 60 VMs (90 steps), plan and validate as JSON, and serve's cluster view passed in $((SECONDS - started)) s"
