#!/usr/bin/env bash
# First command on a fresh Debian 12 machine with Swift: install dependencies, build virtsync,
# start a local libvirt, and apply the lab example (examples/lab) to it.
#
#   sudo scripts/setup.sh
#
# Steps: scripts/install-deps.sh; swift build -c release; scripts/install-cli-extras.sh (man page
# and completions); scripts/libvirtd-up.sh; then, with
# .build/release/virtsync: validate, plan, apply --auto-approve, and a second plan with
# --detailed-exitcode that must report no changes (exit 0): the lab converged.
# Without a usable libvirtd (libvirtd-up.sh exits 3) it runs against libvirt's in-process test
# driver, test:///default, whose state lives only as long as one virtsync process: the final
# check then cannot see what apply did, and only reports it.
# Environment: VIRTSYNC_EXAMPLE (default examples/lab); SWIFT_SCRATCH_PATH (swift's build
# directory, default .build: the binary is then .build/release/virtsync).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly EXAMPLE=${VIRTSYNC_EXAMPLE:-examples/lab}
readonly SCRATCH=${SWIFT_SCRATCH_PATH:-.build}
readonly VIRTSYNC=$SCRATCH/release/virtsync

say() { printf '\n== %s\n' "$*" >&2; }

[[ $(id -u) -eq 0 ]] || { echo "setup.sh: run as root (it installs packages and starts libvirtd)" >&2; exit 1; }

say "installing dependencies"
scripts/install-deps.sh

say "building virtsync (release)"
swift build -c release --scratch-path "$SCRATCH"

say "installing the man page and the bash, zsh and fish completions"
SWIFT_SCRATCH_PATH=$SCRATCH scripts/install-cli-extras.sh --configuration release

say "starting libvirt"
status=0
uri=$(scripts/libvirtd-up.sh) || status=$?
case $status in
    0) ;;
    3) echo "setup.sh: continuing against $uri" >&2 ;;
    *) echo "setup.sh: scripts/libvirtd-up.sh failed (exit $status)" >&2; exit "$status" ;;
esac

say "virtsync validate $EXAMPLE"
"$VIRTSYNC" validate "$EXAMPLE"

say "virtsync plan $EXAMPLE --connect $uri"
"$VIRTSYNC" plan "$EXAMPLE" --connect "$uri"

say "virtsync apply $EXAMPLE --connect $uri --auto-approve"
"$VIRTSYNC" apply "$EXAMPLE" --connect "$uri" --auto-approve

say "virtsync plan $EXAMPLE --connect $uri --detailed-exitcode (expecting no changes)"
status=0
"$VIRTSYNC" plan "$EXAMPLE" --connect "$uri" --detailed-exitcode || status=$?
case $status in
    0) say "done: $EXAMPLE is applied at $uri and has no pending changes" ;;
    2) if [[ $uri == test:* ]]; then
           say "done (test driver: each run starts from an empty state, so changes show again)"
       else
           echo "setup.sh: the plan after apply still has changes (exit 2)" >&2
           exit 2
       fi ;;
    *) echo "setup.sh: plan failed (exit $status)" >&2; exit "$status" ;;
esac
