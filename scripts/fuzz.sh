#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, AddressSanitizer) of the hand-written parsers and of the
# spec loader and validator; see Fuzz/README.md.
#
#   scripts/fuzz.sh xml|known-hosts|spec [seconds]     (default 600 seconds)
#
# Builds the fuzz target from the real parser sources with `swiftc -sanitize=fuzzer,address` into
# .build-fuzz/ (gitignored), runs it at `nice -n 10` on a work corpus outside the repository
# (seeded from Fuzz/<target>/corpus and kept between runs), prints a summary and exits non-zero
# when libFuzzer reports a crash, timeout, leak or memory limit; the failing input is kept in
# .build-fuzz/artifacts/<target>/.
# Environment: SWIFTC (default swiftc); FUZZ_BUILD_DIR (default .build-fuzz);
# FUZZ_WORK_DIR (default ${TMPDIR:-/tmp}/virtsync-fuzz/<target>); FUZZ_TIMEOUT (seconds per
# input, default 10); FUZZ_RSS_MB (default 2048); FUZZ_MALLOC_MB (largest single allocation,
# default 256); FUZZ_MAX_LEN (bytes per input, default 8192 for xml, 4096 for known-hosts, 16384
# for spec); FUZZ_NICE (default 10).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

say() { printf 'fuzz.sh: %s\n' "$*" >&2; }
usage() {
    echo "usage: scripts/fuzz.sh xml|known-hosts|spec [seconds]" >&2
    exit 2
}

(($# >= 1 && $# <= 2)) || usage
target=$1
seconds=${2:-600}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || usage

swiftc=${SWIFTC:-swiftc}
build=$root/${FUZZ_BUILD_DIR:-.build-fuzz}
work=${FUZZ_WORK_DIR:-${TMPDIR:-/tmp}/virtsync-fuzz/$target}
artifacts=$build/artifacts/$target
common=(-swift-version 6 -parse-as-library -package-name virtsync -O -g -use-ld=lld)

case $target in
    xml)
        sources=(Sources/VirtsyncXML/XMLParser.swift Sources/VirtsyncXML/XMLTree.swift)
        entry=Fuzz/XML/FuzzXML.swift
        module=VirtsyncXML
        seeds=Fuzz/XML/corpus
        dict=Fuzz/XML/xml.dict
        stubs=()
        max_len=${FUZZ_MAX_LEN:-8192}
        ;;
    known-hosts)
        sources=(Sources/VirtsyncGit/SSH/KnownHosts.swift)
        entry=Fuzz/KnownHosts/FuzzKnownHosts.swift
        module=VirtsyncGit
        seeds=Fuzz/KnownHosts/corpus
        dict=Fuzz/KnownHosts/known-hosts.dict
        # In dependency order: VirtsyncSpec re-exports VirtsyncEngine.
        stubs=(Crypto VirtsyncEngine VirtsyncSpec)
        max_len=${FUZZ_MAX_LEN:-4096}
        ;;
    spec)
        # Built by SwiftPM (the loader needs Yams, libyaml and swift-crypto), see below.
        sources=()
        seeds=Fuzz/Spec/corpus
        dict=Fuzz/Spec/spec.dict
        stubs=()
        max_len=${FUZZ_MAX_LEN:-16384}
        ;;
    *) usage ;;
esac

# The parser sources may import only the toolchain's modules and the stubbed ones; say so
# plainly instead of failing in the compiler when an import line changes.
allowed=" Swift Foundation FoundationEssentials Glibc ${stubs[*]} "
for source in "${sources[@]}"; do
    while read -r imported; do
        if [[ $allowed != *" $imported "* ]]; then
            say "$source imports $imported, which the fuzz build does not provide: add a stub in Fuzz/Stubs (and to scripts/fuzz.sh)"
            exit 1
        fi
    done < <(sed -nE 's/^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*import[[:space:]]+((typealias|struct|class|enum|protocol|let|var|func)[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*).*/\4/p' "$source")
done

binary=$build/fuzz-$target
mkdir -p "$build" "$artifacts" "$work/corpus"

say "building $binary"
if [[ $target == spec ]]; then
    # The whole graph under the loader is instrumented (Swift and C: Yams, libyaml, swift-crypto),
    # in a scratch directory of its own so the normal build is untouched.
    swift build -c release --product virtsync-fuzz-spec --scratch-path "$build/spm" \
        --sanitize=fuzzer --sanitize=address -Xswiftc -DFUZZING -Xswiftc -g -Xswiftc -package-name -Xswiftc virtsync >&2
    cp "$build/spm/release/virtsync-fuzz-spec" "$binary"
    # Seeds: every example and fixture spec file, and the regression inputs of Fuzz/Spec/corpus.
    while IFS= read -r -d '' file; do
        name=seed-$(printf '%s' "$file" | tr '/' '_')
        [[ -e $work/corpus/$name ]] || cp "$file" "$work/corpus/$name"
    done < <(find examples Tests/VirtsyncSpecTests/Fixtures -name '*.yaml' -print0)
fi
link=()
if ((${#stubs[@]} > 0)); then
    stubdir=$build/stubs
    mkdir -p "$stubdir"
    for stub in "${stubs[@]}"; do
        "$swiftc" "${common[@]}" -sanitize=address -module-name "$stub" -I "$stubdir" \
            -emit-module -emit-module-path "$stubdir/$stub.swiftmodule" \
            -emit-library -static -o "$stubdir/lib$stub.a" "Fuzz/Stubs/$stub.swift"
        link+=(-l"$stub")
    done
    link=(-I "$stubdir" -L "$stubdir" "${link[@]}")
fi
if [[ $target != spec ]]; then
    "$swiftc" "${common[@]}" -sanitize=fuzzer,address -module-name "$module" "${link[@]}" \
        -o "$binary" "${sources[@]}" "$entry"
fi

for seed in "$seeds"/*; do
    [[ -e $work/corpus/${seed##*/} ]] || cp "$seed" "$work/corpus/"
done
if [[ $target == xml ]]; then
    # libvirt's own documents as seeds, gathered here rather than copied into the repository:
    # the CPU model maps the libvirt package installs, and what its test driver writes for a
    # domain, a network, a pool, a volume and the capabilities.
    for file in /usr/share/libvirt/cpu_map/*.xml; do
        [[ -e $file ]] || continue
        name=libvirt-cpu_map-${file##*/}
        [[ -e $work/corpus/$name ]] || cp "$file" "$work/corpus/$name"
    done
    if command -v virsh > /dev/null; then
        for command in "dumpxml test" "dumpxml --inactive test" "net-dumpxml default" "pool-dumpxml default-pool" \
                       "vol-dumpxml --pool default-pool default-vol" "capabilities" "iface-dumpxml eth1" "nodedev-dumpxml computer"; do
            name=libvirt-test-driver-${command// /-}.xml
            [[ -e $work/corpus/$name ]] || virsh -q -c test:///default $command > "$work/corpus/$name" 2> /dev/null || rm -f "$work/corpus/$name"
        done
    fi
fi
log=$work/fuzz.log
marker=$work/.started
touch "$marker"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
say "fuzzing $target for $seconds s (work corpus $work/corpus, log $log)"
status=0
# Swift's own crash backtracer is turned off: it raced libFuzzer's handler for the same signal
# and hung with the output pipe open; libFuzzer and ASan print the stack themselves.
SWIFT_BACKTRACE=enable=no nice -n "${FUZZ_NICE:-10}" "$binary" \
    -max_total_time="$seconds" \
    -timeout="${FUZZ_TIMEOUT:-10}" \
    -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
    -malloc_limit_mb="${FUZZ_MALLOC_MB:-256}" \
    -max_len="$max_len" \
    -dict="$dict" \
    -artifact_prefix="$artifacts/" \
    -print_final_stats=1 \
    "$work/corpus" 2>&1 | tee "$log" || status=$?

final_stat() { sed -nE "s/^stat::$1:[[:space:]]*([0-9]+).*/\1/p" "$log" | tail -n 1; }
last=$(grep -E '^#[0-9]+[[:space:]]+[A-Z]+[[:space:]]+cov:' "$log" | tail -n 1 || true)
cat >&2 <<EOF

fuzz.sh: summary ($target)
  started:     $started
  requested:   $seconds s
  ran:         $(grep -E '^Done [0-9]+ runs' "$log" | tail -n 1 || echo "not to the end")
  executions:  $(final_stat number_of_executed_units)
  exec/s:      $(final_stat average_exec_per_sec)
  new units:   $(final_stat new_units_added)
  peak RSS:    $(final_stat peak_rss_mb) MB
  last status: ${last:-none}
  work dir:    $(find "$work/corpus" -type f | wc -l) files in $work/corpus (the live corpus is "corp:" above)
EOF
if ((status != 0)); then
    say "libFuzzer exited with status $status; failing input(s) kept in $artifacts:"
    find "$artifacts" -type f -newer "$marker" >&2 || true
    say "reproduce: SWIFT_BACKTRACE=enable=no $binary <input>"
    exit "$status"
fi
say "clean: no crash, timeout, leak or out-of-memory in $seconds s"
