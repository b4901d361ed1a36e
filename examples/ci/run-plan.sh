#!/usr/bin/env bash
# Runs the review plan of a pull/merge request in CI and leaves it as comment-sized Markdown parts.
#
#   run-plan.sh BASE HEAD PARTS_DIR
#
# BASE and HEAD are commits (full or abbreviated ids, branch or tag names) of the spec repository
# checked out in the current directory (or at VIRTSYNC_REPO). The plan compares HEAD with the
# state BASE would have produced; it reads no host and needs no credentials for any host.
#
# Writes PARTS_DIR/plan-part-1.md, -2.md, ... each below the comment limit and each carrying the
# hidden marker `<!-- virtsync-plan part=i/n head=<12 chars> -->` that post-plan-comments.sh uses
# to find its own comments again. Exit status: 0 when the plan was made (with or without changes);
# 1 when the plan holds errors (its parts are written, errors called out at the top), or when it
# could not be made (invalid spec at HEAD, untrusted signature, unknown commit, ...): then
# PARTS_DIR/plan-part-1.md holds the error output instead, with the same marker, so that the failure
# replaces the previous plan in the pull request; either way the job fails.
#
# Settings (environment):
#   VIRTSYNC_SPEC_PATH        the spec directory inside the repository (default: its root, ".")
#   VIRTSYNC_REPO             the repository checkout (default: the current directory)
#   VIRTSYNC_STATE_DIR        virtsync's state directory; the bare git cache goes to its git/
#                             (default: a new temporary directory)
#   VIRTSYNC_ALLOWED_SIGNERS  repository path of an OpenSSH allowed-signers file (default:
#                             .virtsync/allowed_signers). Read from BASE, never from HEAD, so a
#                             pull request cannot vouch for itself; when BASE has the file, every
#                             commit after BASE up to HEAD must carry a trusted signature. Set it
#                             to the empty string to never verify.
#   VIRTSYNC_COMMENT_LIMIT    largest part in bytes (default 65536, GitHub's comment limit)
#   VIRTSYNC_BIN              the virtsync program (default: virtsync on PATH)
set -euo pipefail

say() { printf 'run-plan: %s\n' "$*" >&2; }

if [ "$#" -ne 3 ]; then
    say "usage: run-plan.sh BASE HEAD PARTS_DIR"
    exit 64
fi
base=$1
head=$2
parts_dir=$3
repo=${VIRTSYNC_REPO:-.}
spec_path=${VIRTSYNC_SPEC_PATH:-.}
limit=${VIRTSYNC_COMMENT_LIMIT:-65536}
signers_path=${VIRTSYNC_ALLOWED_SIGNERS-.virtsync/allowed_signers}
virtsync=${VIRTSYNC_BIN:-virtsync}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
state_dir=${VIRTSYNC_STATE_DIR:-$scratch/state}
mkdir -p "$parts_dir" "$state_dir"
rm -f "$parts_dir"/plan-part-*.md

# A failure before or during the plan becomes the one part to post: a heading, what was being
# planned, and the error output (at most what fits in a comment), then the marker.
fail() {
    local status=$1 message=$2 errors=$3
    local short_head longest fence
    short_head=$(printf '%s' "$head_id" | tr -cd 'A-Za-z0-9' | cut -c1-12)
    # A code fence longer than any run of backticks in the output, so the output cannot close it.
    longest=$( (grep -o '`*' "$errors" || true) | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
    fence=$(printf "%$(( longest < 3 ? 3 : longest + 1 ))s" '' | tr ' ' '`')
    rm -f "$parts_dir"/plan-part-*.md
    {
        printf '### virtsync plan failed\n\n'
        printf '%s\n\n' "$message"
        printf '%stext\n' "$fence"
        head -c "$((limit - 2048))" "$errors"
        printf '\n%s\n' "$fence"
        printf '\n<!-- virtsync-plan part=1/1 head=%s -->\n' "$short_head"
    } >"$parts_dir/plan-part-1.md"
    cat "$errors" >&2
    say "$message"
    exit "$status"
}

head_id=$head
errors=$scratch/errors.txt
: >"$errors"

# The plan reads the repository through virtsync's own bare cache, which fetches the checkout's
# branches and tags. A CI checkout is usually detached (actions/checkout, GitLab runners) and has
# no branch holding the commits under review, so give both a branch of their own.
if ! shallow=$(git -C "$repo" rev-parse --is-shallow-repository 2>>"$errors"); then
    fail 1 "\`$repo\` is not a git checkout that git can read." "$errors"
fi
if [ "$shallow" != false ]; then
    printf 'the checkout at %s is shallow\n' "$repo" >>"$errors"
    fail 1 "The checkout lacks history: fetch it whole (GitHub: fetch-depth: 0; GitLab: GIT_DEPTH: \"0\")." "$errors"
fi
resolve() { # SIDE REV: the full commit id of REV, or the failure comment
    local id
    if ! id=$(git -C "$repo" rev-parse --verify --quiet "$2^{commit}" 2>>"$errors"); then
        printf '%s commit %s is not in the checkout\n' "$1" "$2" >>"$errors"
        fail 1 "The $1 commit \`$2\` is not in the checkout (is the history complete?)." "$errors"
    fi
    git -C "$repo" update-ref "refs/heads/virtsync-review-$1" "$id"
    printf '%s\n' "$id"
}
base_id=$(resolve base "$base") || exit 1
head_id=$(resolve head "$head") || exit 1
repo_abs=$(cd "$repo" && pwd -P)

if ! command -v "$virtsync" >/dev/null 2>&1; then
    printf '%s: command not found\n' "$virtsync" >"$errors"
    fail 1 "virtsync is not installed in this job." "$errors"
fi

signers_args=()
if [ -n "$signers_path" ]; then
    if git -C "$repo" cat-file -e "$base_id:$signers_path" 2>/dev/null; then
        git -C "$repo" show "$base_id:$signers_path" >"$scratch/allowed_signers"
        signers_args=(--allowed-signers "$scratch/allowed_signers")
        say "verifying commit signatures against $signers_path as of the base commit"
    elif git -C "$repo" cat-file -e "$head_id:$signers_path" 2>/dev/null; then
        say "$signers_path is new in this change: it is not used until it is on the base branch"
    fi
fi

# The plan command line: the one place it is written down.
status=0
"$virtsync" plan --repo "$repo_abs" --path "$spec_path" --base "$base_id" --head "$head_id" \
    --format markdown --parts-dir "$parts_dir" --comment-limit "$limit" --detailed-exitcode \
    ${signers_args[@]+"${signers_args[@]}"} --state-dir "$state_dir" 2>"$errors" || status=$?
case $status in
0 | 2)
    cat "$errors" >&2
    count=$(find "$parts_dir" -maxdepth 1 -name 'plan-part-*.md' | wc -l)
    if [ "$status" -eq 2 ]; then changes=yes; else changes=no; fi
    say "plan of ${spec_path} from ${base_id} to ${head_id}: changes: ${changes}; ${count} part(s) in ${parts_dir}"
    exit 0
    ;;
1)
    # A plan that was made but holds errors (a refused volume shrink, say) is itself the best
    # error report: its parts are written, with the errors called out at the top. Post it, fail.
    if [ -f "$parts_dir/plan-part-1.md" ]; then
        cat "$errors" >&2
        say "the plan of ${spec_path} at ${head_id} has errors (see its Notes): apply would not do all of it"
        exit 1
    fi
    ;;
esac
fail 1 "\`virtsync plan\` failed for \`$spec_path\` at \`${head_id:0:12}\` (base \`${base_id:0:12}\`), exit status $status:" "$errors"
