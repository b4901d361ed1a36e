#!/usr/bin/env bash
# Run by scripts/testbed.sh inside a host's new mount and UTS namespaces (unshare):
#   mount-setup.sh HOST_NAME HOST_DIR TESTBED_ROOT
# What it mounts stays, held by the namespace files after it exits.
set -euo pipefail

name=$1 dir=$2 root=$3

echo "$name" >/proc/sys/kernel/hostname

# The copies of the testbeds' namespace files (this testbed's and any other's) and of /run/netns
# would keep those namespaces alive as long as this host lives, and a teardown would not end them.
awk -v root="$root" '$5 == "/run/netns" || $5 == root || index($5, root "/") == 1 { print $5 }' \
    /proc/self/mountinfo | sort -r | while read -r target; do
    umount -l "$target" 2>/dev/null || true
done

mount --bind "$dir/etc" /etc/libvirt
mount --bind "$dir/run" /run/libvirt
mount --bind "$dir/lib" /var/lib/libvirt
mount --bind "$dir/log" /var/log/libvirt
mount --bind "$dir/cache" /var/cache/libvirt
mount --bind "$dir/hosts" /etc/hosts

# Under the unmounted copies lie the empty files `ip netns add` mounts namespaces on; `ip` inside
# the host would try each of them and complain. The host sees an empty /run/netns instead.
if [[ -d /run/netns ]]; then
    mount -t tmpfs -o size=64k,mode=0755 testbed-netns /run/netns
fi
