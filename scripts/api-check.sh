#!/usr/bin/env bash
# Tests a running agent's or `virtsync serve`'s REST API against its OpenAPI document
# (specs/api/openapi.yaml, a link to the copy compiled into the binary), with schemathesis: first
# the document itself (valid OpenAPI 3.0, every $ref resolves, operationIds unique); then a GET
# of /api/v1/cluster that must answer 200 (so that a missing token cannot turn the run into 401s
# that all conform) and a few GETs with valid `limit`, `since` and `host` values that must answer
# 200; then `schemathesis run`: generated requests for every read operation, each answer checked
# for server errors, its status, content type, headers and body against the document, and the
# 400s the document promises for invalid query values. Bounded (30 cases an operation, a fixed
# seed): about 30 s against a local server. Prints schemathesis's report; exits 1 on any
# failure, 2 on a usage error.
#
#   scripts/api-check.sh BASE_URL [TOKEN]       e.g. scripts/api-check.sh http://127.0.0.1:9479
#
# TOKEN goes out as `Authorization: Bearer TOKEN`; a caller on the server's own host needs none.
# The write operations (POST reconcile, suspend, resume) are left out, and no POST is sent at
# all, unless API_CHECK_WRITES=1: then the agent runs passes and is suspended and resumed by the
# run (it is resumed at the end when it was not suspended before). Other requests are the
# unexpected methods schemathesis probes every path with (PUT, DELETE, PATCH, OPTIONS, TRACE,
# QUERY), which must not be a 5xx. Environment: VIRTSYNC_TOOLS_VENV (default
# /opt/virtsync-tools, where scripts/install-deps.sh installs schemathesis);
# API_CHECK_MAX_EXAMPLES (default 30); API_CHECK_SEED (default 20261207). Needs curl and jq.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'api-check: %s\n' "$*" >&2; }
usage() { echo "usage: scripts/api-check.sh BASE_URL [TOKEN]" >&2; exit 2; }
(($# >= 1 && $# <= 2)) || usage
base=${1%/}
token=${2:-}
[[ $base =~ ^https?://[^/]+$ ]] || { say "BASE_URL is scheme://host:port, without a path: $1"; usage; }
venv=${VIRTSYNC_TOOLS_VENV:-/opt/virtsync-tools}
document=specs/api/openapi.yaml
examples=${API_CHECK_MAX_EXAMPLES:-30}
seed=${API_CHECK_SEED:-20261207}
writes=${API_CHECK_WRITES:-0}

[[ -x $venv/bin/schemathesis ]] || { say "no schemathesis in $venv (run scripts/install-deps.sh as root)"; exit 2; }
[[ -f $document ]] || { say "$document is missing (or a broken link)"; exit 1; }
auth=()
[[ -n $token ]] && auth=(-H "Authorization: Bearer $token")
# schemathesis and Hypothesis keep state in the working directory (.schemathesis: crash files and
# values seen, which later runs reuse; .hypothesis): a fresh one for each run keeps the run
# deterministic and the repository clean. Kept when the run fails, for `schemathesis replay`.
work=$(mktemp -d "${TMPDIR:-/tmp}/virtsync-api-check.XXXXXX")
keep_work=0
resume_agent() { :; }
finish() {
    resume_agent
    if ((keep_work)); then say "crash files: cd $work && $venv/bin/schemathesis replay"; else rm -rf "$work"; fi
}
trap finish EXIT
export HYPOTHESIS_STORAGE_DIRECTORY=$work/.hypothesis

# 1. The document: schemathesis's own OpenAPI 3.0 meta-schema, and what a meta-schema cannot see.
(cd "$work" && "$venv/bin/python3" - "$OLDPWD/$document" "$document") <<'EOF' || { say "$document is not a valid OpenAPI document"; exit 1; }
import sys
import schemathesis

schema = schemathesis.openapi.from_path(sys.argv[1])
path = sys.argv[2]
errors = []
try:
    schema.validate()
except Exception as error:  # the meta-schema's verdict (its message, and where)
    where = "/".join(str(part) for part in getattr(error, "instance_path", []))
    message = getattr(error, "message", str(error))[:500]
    errors.append(f"not valid OpenAPI {schema.raw_schema.get('openapi')}: at /{where}: {message}")


def resolve(pointer):
    node = schema.raw_schema
    for part in pointer[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def refs(node, where):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value, where
            else:
                yield from refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from refs(value, f"{where}/{index}")


for ref, where in refs(schema.raw_schema, "#"):
    try:
        if not ref.startswith("#/"):
            raise KeyError(ref)
        resolve(ref)
    except (KeyError, IndexError, ValueError):
        errors.append(f"{where}: $ref {ref} does not resolve within the document")

operation_ids = {}
count = 0
for result in schema.get_all_operations():
    try:
        operation = result.ok()
    except Exception as error:
        errors.append(f"an operation cannot be loaded: {error}")
        continue
    count += 1
    operation_id = operation.definition.raw.get("operationId")
    if not operation_id:
        errors.append(f"{operation.label} has no operationId")
    elif operation_id in operation_ids:
        errors.append(f"{operation.label}: operationId {operation_id} is also {operation_ids[operation_id]}'s")
    else:
        operation_ids[operation_id] = operation.label
for error in errors:
    print(f"api-check: {path}: {error}", file=sys.stderr)
if errors:
    sys.exit(1)
print(f"api-check: {path}: valid OpenAPI {schema.raw_schema['openapi']}, {count} operations", file=sys.stderr)
EOF

# 2. The server answers (with the token, when one was given), and serves this document.
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${auth[@]}" "$base/api/v1/cluster") || status=000
if [[ $status != 200 ]]; then
    case $status in
        000) say "$base does not answer (is the agent or virtsync serve running, with its HTTP endpoint on?)" ;;
        401) say "$base/api/v1/cluster answered 401: give the read token (http.tokenFile) as TOKEN" ;;
        *) say "$base/api/v1/cluster answered $status, not 200" ;;
    esac
    exit 1
fi
if ! curl -s --fail --max-time 10 "$base/openapi.yaml" | cmp -s - "$document"; then
    say "note: $base/openapi.yaml differs from $document (a server built from other sources); testing against $document"
fi
# The query values a client writes must be taken (schemathesis checks that invalid ones are
# refused, not these: see below). The `since` values are RFC 3339 with Z, an offset (%2B is a
# +) and fractional seconds.
failed=0
for query in "passes?limit=1" "passes?limit=100&host=none" "events?limit=1" "events?limit=1000" \
    "events?since=2026-12-07T20:40:00Z" "events?since=2026-12-07T21:40:00%2B01:00&limit=5" \
    "events?since=2026-12-07T20:40:00.250Z" "vms?host=none"; do
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${auth[@]}" "$base/api/v1/$query") || status=000
    if [[ $status != 200 ]]; then
        say "FAILED: GET /api/v1/$query answered $status, not 200"
        failed=1
    fi
done

filters=(--exclude-method POST)
if [[ $writes == 1 ]]; then
    filters=()
    suspended() {
        curl -s --fail --max-time 10 "${auth[@]}" "$base/api/v1/cluster" \
            | jq -r '.server as $s | [.hosts[] | select($s.kind == "agent" and .name == $s.host) | .agent.suspended == true]
                | if length == 0 then "n/a" else .[0] end'
    }
    say "API_CHECK_WRITES=1: testing the writes too (the agent runs passes, is suspended and resumed)"
    if [[ $(suspended) == false ]]; then
        # Leave the agent as it was found, not suspended, however the run ends.
        resume_agent() {
            [[ $(suspended) == false ]] && return
            curl -s --fail --max-time 10 -X POST "${auth[@]}" "$base/api/v1/resume" >/dev/null \
                || { say "FAILED: the run left the agent suspended and cannot resume it: run virtsync resume"; exit 1; }
            say "resumed the agent (the run had suspended it)"
        }
    fi
fi

# 3. The run. Checks that fit a read API; not ignored_auth (a loopback caller needs no token, so
# requests without one are answered), nor positive_data_acceptance (it would hold the server to
# every corner of RFC 3339 in `since`, offsets of -23:59 and years from 0001 included), nor the
# 405 checks (unsupported_method, allow_header_conformance: the document leaves 405 out).
color=()
[[ -t 1 ]] || color=(--no-color)
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance
checks+=,response_schema_conformance,negative_data_rejection
run=("$venv/bin/schemathesis" run "$PWD/$document" --url "$base" "${auth[@]}" "${filters[@]}"
    --checks "$checks" --max-examples "$examples" --seed "$seed" --workers 1
    --generation-database none --generation-with-security-parameters false
    --request-timeout 10 "${color[@]}")
started=$SECONDS
rc=0
(cd "$work" && "${run[@]}") || rc=$?

if ((rc != 0)); then
    keep_work=1
    say "FAILED: $base does not answer as $document says (schemathesis exited $rc, $((SECONDS - started)) s)"
    exit 1
fi
if ((failed != 0)); then
    say "FAILED: see above (schemathesis found nothing, $((SECONDS - started)) s)"
    exit 1
fi
say "$base answers as $document says ($((SECONDS - started)) s)"
