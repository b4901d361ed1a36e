#!/usr/bin/env bash
# Installs virtsync's man page and its bash, zsh and fish completions. All four are generated
# from the command definitions of the built binary, so they list exactly its subcommands and
# options: the completions by `virtsync --generate-completion-script SHELL`, the man page by
# swift-argument-parser's generate-manual (its GenerateManual plugin builds it and renders the
# binary's `--experimental-dump-help`).
#
#   sudo scripts/install-cli-extras.sh [--configuration release|debug]
#
# Installs (under DESTDIR when set, for packaging and the tests):
#   /usr/local/share/man/man1/virtsync.1
#   /usr/share/bash-completion/completions/virtsync   (or /etc/bash_completion.d/virtsync on a
#                                                      system without bash-completion's directory)
#   /usr/local/share/zsh/site-functions/_virtsync
#   /usr/share/fish/vendor_completions.d/virtsync.fish
# Run it after `swift build -c release` (scripts/setup.sh does both).
# Environment: SWIFT_SCRATCH_PATH (swift's build directory, default .build); DESTDIR; VIRTSYNC_BIN
# (the binary, default $SWIFT_SCRATCH_PATH/CONFIGURATION/virtsync); GENERATE_MANUAL (an already
# built generate-manual to use instead of running the plugin, which needs SwiftPM's build lock;
# the plugin leaves one as generate-manual-tool beside virtsync in the build directory).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'install-cli-extras: %s\n' "$*" >&2; }

configuration=release
while (($# > 0)); do
    case $1 in
        --configuration|-c) configuration=${2:?--configuration needs release or debug}; shift 2 ;;
        -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) say "unknown argument '$1' (see --help)"; exit 1 ;;
    esac
done
case $configuration in
    release|debug) ;;
    *) say "--configuration must be release or debug, not '$configuration'"; exit 1 ;;
esac

readonly SCRATCH=${SWIFT_SCRATCH_PATH:-.build}
readonly VIRTSYNC=${VIRTSYNC_BIN:-$SCRATCH/$configuration/virtsync}
readonly DEST=${DESTDIR:-}

[[ -x $VIRTSYNC ]] || { say "$VIRTSYNC is not built: run swift build -c $configuration first"; exit 1; }

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

# The man page.
if [[ -n ${GENERATE_MANUAL:-} ]]; then
    "$GENERATE_MANUAL" "$VIRTSYNC" --section 1 --output-directory "$staging"
else
    say "generating the man page (swift package plugin generate-manual, $configuration)"
    swift package --scratch-path "$SCRATCH" plugin generate-manual --configuration "$configuration" >&2
    cp "$SCRATCH/plugins/GenerateManual/outputs/virtsync/virtsync.1" "$staging/virtsync.1"
fi
[[ -s $staging/virtsync.1 ]] || { say "the man page was not generated"; exit 1; }
# generate-manual copies the blank lines of a command's discussion verbatim, and mdoc warns
# about each ("Empty input line"): make them the paragraph breaks they stand for.
sed -i 's/^$/.Pp/' "$staging/virtsync.1"

# The completions.
for shell in bash zsh fish; do
    "$VIRTSYNC" --generate-completion-script "$shell" > "$staging/completion.$shell"
    [[ -s $staging/completion.$shell ]] || { say "virtsync wrote no $shell completion"; exit 1; }
done
bash -n "$staging/completion.bash"

bash_dir=/usr/share/bash-completion/completions
if [[ -z $DEST && ! -d $bash_dir && -d /etc/bash_completion.d ]]; then
    bash_dir=/etc/bash_completion.d
fi

place() {   # place SOURCE DIRECTORY NAME
    install -D -m 0644 "$1" "$DEST$2/$3"
    say "installed $DEST$2/$3"
}
place "$staging/virtsync.1" /usr/local/share/man/man1 virtsync.1
place "$staging/completion.bash" "$bash_dir" virtsync
place "$staging/completion.zsh" /usr/local/share/zsh/site-functions _virtsync
place "$staging/completion.fish" /usr/share/fish/vendor_completions.d virtsync.fish

if [[ -z $DEST ]] && command -v mandb >/dev/null; then
    mandb -q /usr/local/share/man 2>/dev/null || true
fi
