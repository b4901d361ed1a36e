#!/usr/bin/env bash
# Regenerate Sources/VirtsyncEtcd/Generated/ (the etcd v3 gRPC messages and clients that
# VirtsyncEtcd wraps) from etcd's own .proto files. The output is committed: building virtsync
# never runs this script, only updating etcd's API or the generator versions does.
#
#   scripts/generate-etcd.sh [--etcd-src DIR]
#
# Needs:
#   - protoc (Debian: protobuf-compiler) and python3;
#   - etcd's Go source with its protos, DIR (default /usr/share/gocode/src/go.etcd.io/etcd, from
#     Debian's golang-etcd-server-dev; etcd 3.4): etcdserver/etcdserverpb/rpc.proto,
#     mvcc/mvccpb/kv.proto (and auth/authpb/auth.proto, dropped here);
#   - the plugins protoc-gen-swift (apple/swift-protobuf) and protoc-gen-grpc-swift-2
#     (grpc/grpc-swift-protobuf), at the versions Package.swift resolves (below). Given as
#     PROTOC_GEN_SWIFT and PROTOC_GEN_GRPC_SWIFT (paths), else taken from PATH, else built once
#     with `swift build -c release` into ETCD_GEN_DIR (default /tmp/virtsync-etcd-gen, outside
#     the repository; about 10 minutes).
#
# What it does: copies rpc.proto and kv.proto into a temporary tree, removes what a Swift
# generator does not need (the gogoproto and google.api imports and options), keeps only the KV,
# Watch and Lease services and the messages they reach (Cluster, Maintenance and Auth go, and
# with them auth.proto), then runs protoc with both plugins (internal visibility, client stubs
# only) and replaces the .swift files of Sources/VirtsyncEtcd/Generated/ with rpc.pb.swift,
# kv.pb.swift and rpc.grpc.swift, each with a header naming its source. Nothing else in the
# repository changes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

readonly SWIFT_PROTOBUF_VERSION=1.39.0
readonly GRPC_SWIFT_PROTOBUF_VERSION=2.4.1
readonly OUTPUT=Sources/VirtsyncEtcd/Generated

say() { printf 'generate-etcd: %s\n' "$*" >&2; }

etcd_src=/usr/share/gocode/src/go.etcd.io/etcd
while (($# > 0)); do
    case $1 in
        --etcd-src) etcd_src=$2; shift 2 ;;
        *) echo "usage: $0 [--etcd-src DIR]" >&2; exit 2 ;;
    esac
done
for file in etcdserver/etcdserverpb/rpc.proto mvcc/mvccpb/kv.proto; do
    [[ -f $etcd_src/$file ]] || { say "$etcd_src/$file is missing (apt-get install golang-etcd-server-dev, or --etcd-src)"; exit 2; }
done
command -v protoc >/dev/null || { say "protoc is missing (apt-get install protobuf-compiler)"; exit 2; }
command -v python3 >/dev/null || { say "python3 is missing"; exit 2; }
etcd_version=$(sed -n 's/^[[:space:]]*Version[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' "$etcd_src/version/version.go" 2>/dev/null || true)
etcd_version=${etcd_version:-unknown}

# The plugins: given, in PATH, or built once outside the repository.
gen_dir=${ETCD_GEN_DIR:-/tmp/virtsync-etcd-gen}
plugin_swift=${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}
plugin_grpc=${PROTOC_GEN_GRPC_SWIFT:-$(command -v protoc-gen-grpc-swift-2 || true)}
if [[ -z $plugin_swift || -z $plugin_grpc ]]; then
    checkout=$gen_dir/grpc-swift-protobuf-$GRPC_SWIFT_PROTOBUF_VERSION
    bin=$checkout/.build/release
    if [[ ! -x $bin/protoc-gen-swift || ! -x $bin/protoc-gen-grpc-swift-2 ]]; then
        say "building the protoc plugins in $checkout (once; about 10 minutes)"
        mkdir -p "$gen_dir"
        [[ -d $checkout ]] || git clone -q --branch "$GRPC_SWIFT_PROTOBUF_VERSION" \
            https://github.com/grpc/grpc-swift-protobuf "$checkout"
        # protoc-gen-swift comes from the swift-protobuf this checkout resolves, pinned to the
        # version the generated code is compiled against.
        (cd "$checkout" && swift package resolve \
            && swift package resolve swift-protobuf --version "$SWIFT_PROTOBUF_VERSION" \
            && swift build -c release --product protoc-gen-grpc-swift-2 \
            && swift build -c release --product protoc-gen-swift)
    fi
    plugin_swift=${plugin_swift:-$bin/protoc-gen-swift}
    plugin_grpc=${plugin_grpc:-$bin/protoc-gen-grpc-swift-2}
fi
say "protoc-gen-swift: $("$plugin_swift" --version 2>&1 | head -1)"
say "protoc-gen-grpc-swift-2: $("$plugin_grpc" --version 2>&1 | head -1)"

work=$(mktemp -d "${TMPDIR:-/tmp}/virtsync-etcd-gen.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/proto/etcd/etcdserver/etcdserverpb" "$work/proto/etcd/mvcc/mvccpb" "$work/out"

# Trim the protos: no gogoproto/google.api, only the services HA needs and what they reach.
python3 - "$etcd_src" "$work/proto/etcd" <<'PYTHON'
import re
import sys

src, dst = sys.argv[1], sys.argv[2]
KEEP_SERVICES = {"KV", "Watch", "Lease"}


def strip_options(text):
    """Remove the gogoproto/google.api imports and every option that names them."""
    text = re.sub(r'^import "(gogoproto/gogo|google/api/annotations)\.proto";\n', "", text, flags=re.M)
    text = re.sub(r"^// for grpc-gateway\n", "", text, flags=re.M)
    text = re.sub(r"^option \(gogoproto\.[a-z_]+\) = [a-z]+;\n", "", text, flags=re.M)
    # `option (google.api.http) = { ... };` spans lines and nests braces.
    while True:
        start = text.find("option (google.api.http)")
        if start < 0:
            break
        i = text.index("{", start)
        depth = 0
        while True:
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        end = text.index(";", i) + 1
        line_start = text.rfind("\n", 0, start) + 1
        text = text[:line_start] + text[end:].lstrip(" ").removeprefix("\n")
    # Methods left with an empty option block: `rpc X(A) returns (B) {\n  }` -> `rpc X(A) returns (B);`
    text = re.sub(r"\)\s*\{\s*\}", ");", text)
    if "gogoproto" in text or "google.api" in text:
        sys.exit("generate-etcd: a gogoproto/google.api option is left; extend strip_options")
    return text


def blocks(text):
    """Split a proto file into a preamble and its top-level blocks (with their leading comments)."""
    lines = text.splitlines(keepends=True)
    preamble, result, pending, current, depth = [], [], [], None, 0
    for line in lines:
        if current is None:
            match = re.match(r"(service|message|enum)\s+(\w+)\s*\{", line)
            if match:
                current = {"kind": match.group(1), "name": match.group(2), "lines": pending + [line]}
                pending = []
                depth = line.count("{") - line.count("}")
                if depth == 0:
                    result.append(current)
                    current = None
            elif line.startswith("//"):
                pending.append(line)
            else:
                if not result:
                    preamble.extend(pending + [line])
                pending = []
        else:
            current["lines"].append(line)
            depth += line.count("{") - line.count("}")
            if depth == 0:
                result.append(current)
                current = None
    return preamble, result


def references(block):
    body = "".join(line.split("//")[0] for line in block["lines"][1:])
    return set(re.findall(r"\b[A-Za-z_][\w.]*\b", body))


with open(f"{src}/etcdserver/etcdserverpb/rpc.proto") as f:
    rpc = strip_options(f.read())
preamble, top = blocks(rpc)
by_name = {b["name"]: b for b in top}
keep = {b["name"] for b in top if b["kind"] == "service" and b["name"] in KEEP_SERVICES}
queue = list(keep)
while queue:
    for ref in references(by_name[queue.pop()]):
        if ref in by_name and ref not in keep:
            keep.add(ref)
            queue.append(ref)
kept = [b for b in top if b["name"] in keep]
body = "".join("".join(b["lines"]) + "\n" for b in kept)
header = "".join(preamble)
if "authpb." not in body:
    header = header.replace('import "etcd/auth/authpb/auth.proto";\n', "")
with open(f"{dst}/etcdserver/etcdserverpb/rpc.proto", "w") as f:
    f.write(header.rstrip("\n") + "\n\n" + body)

with open(f"{src}/mvcc/mvccpb/kv.proto") as f:
    kv = strip_options(f.read())
with open(f"{dst}/mvcc/mvccpb/kv.proto", "w") as f:
    f.write(re.sub(r"\n{3,}", "\n\n", kv))
PYTHON

protoc --proto_path="$work/proto" \
    --plugin=protoc-gen-swift="$plugin_swift" \
    --swift_out="$work/out" --swift_opt=Visibility=Internal,FileNaming=DropPath \
    etcd/etcdserver/etcdserverpb/rpc.proto etcd/mvcc/mvccpb/kv.proto
# Only rpc.proto has services.
protoc --proto_path="$work/proto" \
    --plugin=protoc-gen-grpc-swift-2="$plugin_grpc" \
    --grpc-swift-2_out="$work/out" \
    --grpc-swift-2_opt=Visibility=Internal,FileNaming=DropPath,Client=true,Server=false \
    etcd/etcdserver/etcdserverpb/rpc.proto

mkdir -p "$root/$OUTPUT"
rm -f "$root/$OUTPUT"/*.swift
for file in "$work"/out/*.swift; do
    {
        source=$(basename "$file" | sed 's/\..*//').proto
        printf '// Generated by scripts/generate-etcd.sh from etcd %s (%s) without its gogoproto and\n' \
            "$etcd_version" "$source"
        printf '// google.api options; rpc.proto keeps only the KV, Watch and Lease services and their\n'
        printf '// messages. Do not edit: change the script and run it again.\n\n'
        cat "$file"
    } >"$root/$OUTPUT/$(basename "$file")"
done
say "wrote $(cd "$root/$OUTPUT" && ls *.swift | tr '\n' ' ')($(cat "$root/$OUTPUT"/*.swift | wc -l) lines) to $OUTPUT"
