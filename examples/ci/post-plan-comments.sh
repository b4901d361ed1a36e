#!/usr/bin/env bash
# Posts the parts of a virtsync plan as comments on a GitHub pull request or notes on a GitLab
# merge request, updating the bot's earlier comments instead of adding new ones each time.
#
#   post-plan-comments.sh PARTS_DIR
#
# PARTS_DIR holds plan-part-1.md ... plan-part-N.md (written by run-plan.sh: the plan's parts, or
# one part with the error). The bot's comments are those whose body carries the hidden marker
# `<!-- virtsync-plan part=i/n head=... -->` (and, with VIRTSYNC_BOT_LOGIN, that login as
# author). Oldest first, the first N of them are edited to hold parts 1..N (left alone when
# already equal), missing ones are created, and the bot's comments beyond N are deleted. Nothing
# else in the conversation is read for more than its marker, and nothing else is changed.
#
# Settings (environment):
#   VIRTSYNC_FORGE       github or gitlab (default: github under GitHub Actions, gitlab under GitLab CI)
#   VIRTSYNC_BOT_LOGIN   only comments by this login count as the bot's (GitHub: e.g.
#                        github-actions[bot]; GitLab default: the token's own user, from /user)
#   VIRTSYNC_HTTP_CLIENT gh or curl (GitHub only; default: gh when it is installed, else curl)
# GitHub:
#   GH_TOKEN or GITHUB_TOKEN  a token that may write pull-request comments
#   GITHUB_REPOSITORY    owner/name
#   VIRTSYNC_PR_NUMBER   the pull request's number (default: from the event at GITHUB_EVENT_PATH)
#   GITHUB_API_URL       the REST API root (default https://api.github.com; curl only, gh uses GH_HOST)
# GitLab:
#   VIRTSYNC_BOT_TOKEN   a project access token (role Reporter or above, scope api)
#   CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID  (set by GitLab CI)
#
# Needs bash, jq and curl (or gh). Exit status 0 when every comment is in place, 1 otherwise.
set -euo pipefail

say() { printf 'post-plan-comments: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}

[ "$#" -eq 1 ] || die "usage: post-plan-comments.sh PARTS_DIR"
parts_dir=$1
command -v jq >/dev/null 2>&1 || die "jq is needed"

forge=${VIRTSYNC_FORGE:-}
if [ -z "$forge" ]; then
    if [ "${GITHUB_ACTIONS:-}" = true ]; then
        forge=github
    elif [ "${GITLAB_CI:-}" = true ]; then
        forge=gitlab
    else
        die "set VIRTSYNC_FORGE to github or gitlab"
    fi
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The parts, in order; they must be plan-part-1.md .. plan-part-N.md with no gap.
count=0
while [ -f "$parts_dir/plan-part-$((count + 1)).md" ]; do count=$((count + 1)); done
[ "$count" -gt 0 ] || die "no plan-part-1.md in $parts_dir: nothing to post"
extra=$(find "$parts_dir" -maxdepth 1 -name 'plan-part-*.md' | wc -l)
[ "$extra" -eq "$count" ] || die "$parts_dir has plan-part files beyond plan-part-$count.md (a gap?)"

# --- the two APIs --------------------------------------------------------------------------------
# api METHOD PATH [BODY_FILE]: the response body on stdout; fails on an HTTP error.
client=curl
case $forge in
github)
    repository=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}
    number=${VIRTSYNC_PR_NUMBER:-}
    if [ -z "$number" ] && [ -n "${GITHUB_EVENT_PATH:-}" ]; then
        number=$(jq -r '.pull_request.number // empty' "$GITHUB_EVENT_PATH")
    fi
    [ -n "$number" ] || die "no pull request number (VIRTSYNC_PR_NUMBER, or a pull_request event)"
    token=${GH_TOKEN:-${GITHUB_TOKEN:-}}
    [ -n "$token" ] || die "set GH_TOKEN or GITHUB_TOKEN"
    if [ "${VIRTSYNC_HTTP_CLIENT:-}" != curl ] && command -v gh >/dev/null 2>&1; then client=gh; fi
    [ "${VIRTSYNC_HTTP_CLIENT:-$client}" = "$client" ] || die "VIRTSYNC_HTTP_CLIENT must be curl, or gh when gh is installed"
    api_root=${GITHUB_API_URL:-https://api.github.com}
    list_path="repos/$repository/issues/$number/comments"
    item_path="repos/$repository/issues/comments"
    edit_method=PATCH
    login_field=.user.login
    {
        printf 'Authorization: Bearer %s\n' "$token"
        printf 'Accept: application/vnd.github+json\n'
        printf 'X-GitHub-Api-Version: 2022-11-28\n'
    } >"$scratch/headers"
    ;;
gitlab)
    token=${VIRTSYNC_BOT_TOKEN:-}
    [ -n "$token" ] || die "set VIRTSYNC_BOT_TOKEN (a project access token with scope api) as a masked CI/CD variable"
    api_root=${CI_API_V4_URL:?CI_API_V4_URL is not set}
    project=${CI_PROJECT_ID:?CI_PROJECT_ID is not set}
    iid=${CI_MERGE_REQUEST_IID:?CI_MERGE_REQUEST_IID is not set: run in a merge request pipeline}
    list_path="projects/$project/merge_requests/$iid/notes"
    item_path=$list_path
    edit_method=PUT
    login_field=.author.username
    printf 'PRIVATE-TOKEN: %s\n' "$token" >"$scratch/headers"
    ;;
*) die "VIRTSYNC_FORGE must be github or gitlab, not '$forge'" ;;
esac
chmod 600 "$scratch/headers"
export GH_TOKEN=$token # for gh; curl reads the token from the headers file, never from its argv

api() {
    local method=$1 path=$2 body=${3:-} out=$scratch/response
    if [ "$client" = gh ]; then
        gh api --method "$method" -H 'X-GitHub-Api-Version: 2022-11-28' "$path" ${body:+--input "$body"}
        return
    fi
    local args=(-sS -X "$method" -H "@$scratch/headers" -o "$out" -w '%{http_code}')
    if [ -n "$body" ]; then args+=(-H 'Content-Type: application/json' --data-binary "@$body"); fi
    if [ "$method" = GET ]; then args+=(--retry 3); fi
    local code
    : >"$out" # a 204 has no body, and curl then writes no file
    code=$(curl "${args[@]}" "$api_root/$path") || die "$method $path: curl failed"
    case $code in
    2??) cat "$out" ;;
    *)
        say "$method $path: HTTP $code"
        cat "$out" >&2
        printf '\n' >&2
        return 1
        ;;
    esac
}

# --- the bot's comments, oldest first ------------------------------------------------------------
login=${VIRTSYNC_BOT_LOGIN:-}
if [ -z "$login" ] && [ "$forge" = gitlab ]; then
    login=$(api GET user | jq -r '.username // empty') || die "cannot read the token's user (GET /user)"
    [ -n "$login" ] || die "GET /user named no user"
fi

printf '[]' >"$scratch/all.json"
page=1
while :; do
    api GET "$list_path?per_page=100&page=$page" >"$scratch/page.json" || die "cannot list the comments"
    [ "$(jq 'length' "$scratch/page.json")" -gt 0 ] || break
    jq -s 'add' "$scratch/all.json" "$scratch/page.json" >"$scratch/next.json"
    mv "$scratch/next.json" "$scratch/all.json"
    page=$((page + 1))
    [ "$page" -le 200 ] || die "more than 200 pages of comments"
done
jq --arg login "$login" '
    [ .[]
      | select((.body // "") | test("<!-- virtsync-plan part=[0-9]+/[0-9]+ head=[A-Za-z0-9]* -->"))
      | select($login == "" or ('"$login_field"' // "") == $login)
      | {id, body} ]
    | sort_by(.id)' "$scratch/all.json" >"$scratch/ours.json"
existing=$(jq 'length' "$scratch/ours.json")
say "$forge: $count part(s) to post; $existing earlier plan comment(s) of ${login:-the bot}"

# --- edit, create, delete --------------------------------------------------------------------------
created=0 edited=0 unchanged=0 deleted=0
for i in $(seq 1 "$count"); do
    part=$parts_dir/plan-part-$i.md
    jq -n --rawfile body "$part" '{body: $body}' >"$scratch/body.json"
    if [ "$i" -le "$existing" ]; then
        id=$(jq -r --argjson i "$i" '.[$i - 1].id' "$scratch/ours.json")
        # Equal up to line endings and trailing white space (a forge may normalise either).
        if jq -e --argjson i "$i" --rawfile body "$part" '
            def norm: gsub("\r\n"; "\n") | sub("\\s+\\z"; "");
            (.[$i - 1].body | norm) == ($body | norm)' "$scratch/ours.json" >/dev/null; then
            unchanged=$((unchanged + 1))
            continue
        fi
        api "$edit_method" "$item_path/$id" "$scratch/body.json" >/dev/null || die "cannot edit comment $id"
        edited=$((edited + 1))
    else
        api POST "$list_path" "$scratch/body.json" >/dev/null || die "cannot post part $i"
        created=$((created + 1))
    fi
done
for id in $(jq -r --argjson n "$count" '.[$n:][].id' "$scratch/ours.json"); do
    api DELETE "$item_path/$id" >/dev/null || die "cannot delete comment $id"
    deleted=$((deleted + 1))
done
say "created $created, edited $edited, unchanged $unchanged, deleted $deleted"
