#!/usr/bin/env bash
# Install what virtsync needs to build and test on Debian 12 (bookworm), as root. Idempotent:
# when every package is installed and the users exist, it touches nothing (no apt at all).
#
#   build:        libvirt-dev libgit2-dev pkgconf        (Swift itself is expected in PATH)
#   libvirtd:     libvirt-daemon (its storage and network drivers included in Debian 12)
#                 libvirt-daemon-driver-qemu libvirt-clients (virsh)
#   guests:       qemu-system-x86 (with qemu-system-data: the qboot firmware of tiny guests)
#                 qemu-utils (qemu-img, for qcow2 volumes)
#   import:       ovmf (UEFI firmware) swtpm swtpm-tools (emulated TPM): the import fixtures
#                 define VMs with UEFI and a TPM, as operators' existing VMs have them
#   networks:     iptables dnsmasq-base iproute2         (NAT/isolated libvirt networks)
#   tests:        genisoimage (isoinfo) xorriso          (read back the cloud-init seed ISO)
#   git:          git (test repositories), openssh-client (ssh-keygen verifies commit
#                 signatures; ssh), openssh-server (sshd, started by the tests on loopback only;
#                 the package's own service is kept from starting), jq (the CI examples' script)
#   metrics:      prometheus (promtool checks the agent's /metrics in the tests; its service is
#                 kept from starting like every package's)
#   http:         openssl (the TLS test makes a throwaway certificate), wrk (scripts/http-load.sh
#                 puts the agent's endpoint under load from a second process, on loopback)
#   scripts:      python3 (the subreaper of scripts/libvirtd-up.sh)
#   ha:           etcd-server (etcd, started by the tests on loopback only; its service is kept
#                 from starting) etcd-client (etcdctl, to look at its keys by hand). Regenerating
#                 the etcd client code (scripts/generate-etcd.sh) also needs protobuf-compiler and
#                 golang-etcd-server-dev, left out here: the generated code is committed
#   secrets:      age (ageFile secrets)
#   pools:        lvm2 (the logical pool test makes a volume group on a loop device),
#                 e2fsprogs (mkfs.ext4: the fs pool test's file system on a loop device)
#   cli:          man-db groff-base (the CLI tests render the man page with man -l),
#                 util-linux (script: the colour test runs virtsync in a pseudo-terminal)
#   schemas:      python3-jsonschema python3-yaml (specs/tools check the JSON Schemas with a
#                 real validator), python3-venv: /opt/virtsync-tools, a virtual environment
#                 with regopy (rego-cpp's Rego engine, pinned, from PyPI), for
#                 scripts/rego-eval.py, which runs examples/policy in the tests, and schemathesis
#                 (pinned, from PyPI), for scripts/api-check.sh, which tests a running server's
#                 REST API against its OpenAPI document (specs/api/openapi.yaml)
#   dashboard:    chromium (headless: the dashboard tests open the page in a real browser)
#   bench:        ansible python3-libvirt (virtsync-bench --small-only runs Ansible's
#                 community.libvirt modules on the same guests, beside virtsync)
#
# It also creates what Debian's libvirt-daemon-system package would (that package is not
# installed: it wants systemd, polkit, a default network): the groups kvm, libvirt and
# libvirt-qemu and the system user libvirt-qemu (groups libvirt-qemu, kvm), under which the QEMU
# driver of Debian's libvirt runs guests; libvirtd refuses to start its QEMU driver without them.
set -euo pipefail

readonly PACKAGES=(
    libvirt-dev libgit2-dev pkgconf
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
    qemu-system-x86 qemu-utils
    ovmf swtpm swtpm-tools
    iptables dnsmasq-base iproute2
    genisoimage xorriso
    git openssh-client openssh-server jq curl
    prometheus
    openssl wrk
    etcd-server etcd-client
    age
    lvm2 e2fsprogs
    man-db groff-base util-linux
    python3-jsonschema python3-yaml python3-venv
    ansible python3-libvirt
    chromium
)
readonly TOOLS_VENV=/opt/virtsync-tools REGOPY_VERSION=1.5.2 SCHEMATHESIS_VERSION=4.32.5

say() { printf 'install-deps: %s\n' "$*" >&2; }

[[ $(id -u) -eq 0 ]] || { say "must run as root"; exit 1; }

installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

missing=()
for package in "${PACKAGES[@]}"; do
    installed "$package" || missing+=("$package")
done
if ! command -v python3 >/dev/null; then
    missing+=(python3)
fi

if ((${#missing[@]} > 0)); then
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt=(apt-get -q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
    "${apt[@]}" update
    # No service starts from a package's install scripts (openssh-server would start sshd on
    # port 22 of every interface): tests start what they need, on loopback.
    policy=/usr/sbin/policy-rc.d
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod +x "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    "${apt[@]}" install "${missing[@]}"
else
    say "all packages installed"
fi

# Users and groups of the QEMU driver (the same names and options as libvirt-daemon-system's
# postinst). Each step runs only when needed.
for group in kvm libvirt libvirt-qemu; do
    if ! getent group "$group" >/dev/null; then
        groupadd --system "$group"
        say "created group $group"
    fi
done
if ! getent passwd libvirt-qemu >/dev/null; then
    useradd --system --gid libvirt-qemu --groups kvm --home-dir /var/lib/libvirt --no-create-home \
        --shell /usr/sbin/nologin --comment "Libvirt Qemu" libvirt-qemu
    say "created user libvirt-qemu"
elif ! id -nG libvirt-qemu | tr ' ' '\n' | grep -qx kvm; then
    usermod -a -G kvm libvirt-qemu
    say "added user libvirt-qemu to group kvm"
fi

# The Rego engine of the policy tests, apart from Debian's Python (PEP 668), with Debian's own.
if ! "$TOOLS_VENV/bin/python3" -c "import regopy, sys; sys.exit(regopy.__version__ != '$REGOPY_VERSION')" 2>/dev/null; then
    say "installing regopy $REGOPY_VERSION into $TOOLS_VENV"
    /usr/bin/python3 -m venv "$TOOLS_VENV"
    "$TOOLS_VENV/bin/pip" install --quiet --disable-pip-version-check "regopy==$REGOPY_VERSION"
fi
# The REST API's contract test (scripts/api-check.sh), in the same environment.
if ! "$TOOLS_VENV/bin/python3" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
    say "installing schemathesis $SCHEMATHESIS_VERSION into $TOOLS_VENV"
    [[ -x $TOOLS_VENV/bin/pip ]] || /usr/bin/python3 -m venv "$TOOLS_VENV"
    "$TOOLS_VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

command -v swift >/dev/null || say "warning: swift is not in PATH (needed to build virtsync)"
