#!/usr/bin/env bash
# Checks that a dry run is safe by type: a snippet that writes through a read-only session
# (what `plan` holds) must fail to type-check against the built modules, with the error naming
# the missing member, while the same snippet over a writing session type-checks.
#
#   scripts/compile-fail.sh [build directory, default .build/debug]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
modules=${1:-${SWIFT_SCRATCH_PATH:-.build}/debug}/Modules
dir=scripts/compile-fail
say() { printf 'compile-fail: %s\n' "$*" >&2; }

[[ -d $modules ]] || { say "no built modules in $modules: run swift build first"; exit 1; }
swiftc -typecheck -swift-version 6 -I "$modules" "$dir/write-through-writer.swift" \
    || { say "FAILED: the control snippet does not type-check"; exit 1; }
if output=$(swiftc -typecheck -swift-version 6 -I "$modules" "$dir/write-through-reader.swift" 2>&1); then
    say "FAILED: writing through a HypervisorReadSession type-checks"; exit 1
fi
grep -q "has no member 'apply'" <<<"$output" \
    || { say "FAILED: unexpected error:"; printf '%s\n' "$output" >&2; exit 1; }
say "ok: a read-only session cannot write (and the control compiles)"
