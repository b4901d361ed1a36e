#!/usr/bin/env python3
"""Checks specs/virtsync-v1.schema.json: a valid draft 2020-12 schema that accepts every `yaml`
example of specs/spec-v1.md and the good test spec, and refuses typical mistakes.

Usage: python3 specs/tools/check_schema.py   (needs the jsonschema and PyYAML packages)
"""
import json
import pathlib
import sys

import jsonschema
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "specs/virtsync-v1.schema.json").read_text())
GOOD_SPEC = ROOT / "Tests/VirtsyncSpecTests/Fixtures/good/spec"


class Loader(yaml.SafeLoader):
    """YAML 1.2-like booleans (what editors use): yes/no/on/off stay strings."""


Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)

def yaml_blocks(markdown):
    blocks, current = [], None
    for line in markdown.splitlines():
        if current is None:
            if line == "```yaml":
                current = []
        elif line == "```":
            blocks.append("\n".join(current) + "\n")
            current = None
        else:
            current.append(line)
    return blocks


def documents(text):
    return [doc for doc in yaml.load_all(text, Loader=Loader) if doc is not None]


POOL = "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\npath: /srv/p\n"
VM = "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\n"
TPM = "<tpm model='tpm-crb'><backend type='emulator' version='2.0'><encryption secret='%s'/></backend></tpm>"

BAD = {
    "unknown key": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\nmemroy: 1GiB\n",
    "bare number": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 2048\n",
    "bad unit": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 2Gb\n",
    "missing memory": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\n",
    "unsafe name": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: ../etc\nmemory: 1GiB\n",
    "long name": "apiVersion: virtsync/v1\nkind: Host\nname: " + "a" * 65 + "\n",
    "bad enum": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: natt\n",
    "ipv4 in bridge mode": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: bridge\nbridge: br0\nipv4: {address: 10.0.0.1/24}\n",
    "bridge mode without bridge": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: bridge\n",
    # Networks (issue 17)
    "ipv6 in bridge mode": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: bridge\nbridge: br0\nipv6: {address: 'fd00::1/64'}\n",
    "ipv6 without prefix": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\nipv6: {address: 'fd00::1'}\n",
    "ipv6 host with a mac": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\n"
                            "ipv6: {address: 'fd00::1/64', dhcp: {hosts: [{mac: '52:54:00:00:00:01', ip: 'fd00::10'}]}}\n",
    "ipv6 host without id or name": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\n"
                                    "ipv6: {address: 'fd00::1/64', dhcp: {hosts: [{ip: 'fd00::10'}]}}\n",
    "dns host without names": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\ndns: {hosts: [{ip: 10.0.0.5}]}\n",
    "dns forwarder empty": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\ndns: {forwarders: [{}]}\n",
    "dns localOnly without domain": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\ndns: {localOnly: true}\n",
    "dns in bridge mode": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: bridge\nbridge: br0\ndns: {domain: x.example}\n",
    "network mtu below 68": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\nmtu: 67\n",
    "network mtu above 65535": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\nmtu: 65536\n",
    "network mtu in bridge mode": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: bridge\nbridge: br0\nmtu: 9000\n",
    "uplink in open mode": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: open\nipv4: {address: 10.0.0.1/24}\nuplink: eth0\n",
    "uplink in isolated mode": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\nuplink: eth0\n",
    "uplink not a device name": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: nat\nipv4: {address: 10.0.0.1/24}\nuplink: eth/0\n",
    "open without ipv4": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: open\n",
    "network bandwidth with a floor": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\nbandwidth: {inbound: {average: 1MiB, floor: 100KiB}}\n",
    "network bandwidth without average": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\nbandwidth: {outbound: {peak: 1MiB}}\n",
    "network bandwidth in bridge mode": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: bridge\nbridge: br0\nbandwidth: {inbound: {average: 1MiB}}\n",
    "portgroup without name": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\nportgroups: [{default: true}]\n",
    "two default portgroups": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\nportgroups: [{name: a, default: true}, {name: b, default: true}]\n",
    "portgroup vlan outside bridge mode": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\nportgroups: [{name: a, vlan: {tag: 42}}]\n",
    "portgroup vlan tag out of range": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: bridge\nbridge: ovsbr0\nportgroups: [{name: a, vlan: {tag: 4095}}]\n",
    "interface portgroup on a bridge": VM + "interfaces: [{bridge: br0, portgroup: web}]\n",
    "ipv6 range without end": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\n"
                              "ipv6: {address: 'fd00::1/64', dhcp: {ranges: [{start: 'fd00::100'}]}}\n",
    "relative pool path": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\npath: var/lib\n",
    "dir pool without path": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\n",
    "rbd disk without a name": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: v\nmemory: 1GiB\ndisks:\n  - network: {protocol: rbd, hosts: [mon]}\n",
    "nbd disk with auth": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: v\nmemory: 1GiB\ndisks:\n  - network: {protocol: nbd, hosts: [a], auth: {username: u, secret: s}}\n",
    "block disk with a size": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: v\nmemory: 1GiB\ndisks:\n  - block: /dev/sdb\n    size: 1GiB\n",
    "fs pool without source": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: fs\npath: /srv/p\n",
    "fs pool with an NFS source": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: fs\npath: /srv/p\nsource: {device: /dev/vdb, dir: /x}\n",
    "fs pool with an unknown file system": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: fs\npath: /srv/p\nsource: {device: /dev/vdb, format: ntfs}\n",
    "unknown pool type": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: gluster\npath: /srv/p\n",
    # iscsi, rbd and zfs pools (spec 1.1)
    "rbd pool with a path": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: rbd\npath: /srv/p\nsource: {name: vms, monitors: [mon-1]}\n",
    "rbd pool without monitors": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: rbd\nsource: {name: vms}\n",
    "rbd pool with a key in clear text": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: rbd\nsource: {name: vms, monitors: [mon-1], auth: {username: u, key: AQBabc==}}\n",
    "rbd pool with a qcow2 volume": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: rbd\nsource: {name: vms, monitors: [mon-1]}\nvolumes: [{name: v, size: 1GiB, format: qcow2}]\n",
    "zfs pool with a cloned volume": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: zfs\nsource: {name: tank}\nvolumes: [{name: v, size: 1GiB, clone: p/w}]\n",
    "iscsi pool with a volume": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: iscsi\nsource: {host: san, target: iqn.2013-06.com.example:t}\nvolumes: [{name: v, size: 1GiB}]\n",
    "iscsi pool without a target": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: iscsi\nsource: {host: san}\n",
    "iscsi target that is no IQN": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: iscsi\nsource: {host: san, target: vms}\n",
    "zfs pool with an iscsi key": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: zfs\nsource: {name: tank, target: iqn.2013-06.com.example:t}\n",
    "fs pool with monitors": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: fs\npath: /srv/p\nsource: {device: /dev/vdb, monitors: [m]}\n",
    "disk with volume and file": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\ndisks: [{volume: p/v, file: /x}]\n",
    "multicast mac": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\ninterfaces: [{bridge: br0, mac: '01:00:5e:00:00:01'}]\n",
    "wrong apiVersion": "apiVersion: virtsync/v2\nkind: Settings\n",
    "unknown kind": "apiVersion: virtsync/v1\nkind: VirtualMachin\nname: a\n",
    "percent out of range": "apiVersion: virtsync/v1\nkind: Settings\nmaxDeletePercent: 150\n",
    "quoted boolean": "apiVersion: virtsync/v1\nkind: Settings\nprune: 'true'\n",
    "bad restart policy": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\nrestartPolicy: on-crash\n",
    "restarts out of range": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\nmaxRestarts: 0\n",
    "bare-number window": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\nrestartWindow: 600\n",
    "host and placement": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\nhost: h\nplacement: {hosts: [h]}\n",
    "placed VM creates a volume": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\nplacement: {}\ndisks: [{volume: p/v, size: 1GiB}]\n",
    "unknown placement key": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\nplacement: {antiAfinity: [b]}\n",
    "bad onMaintenance": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\nonMaintenance: drain\n",
    "bad label": "apiVersion: virtsync/v1\nkind: Host\nname: h\nlabels: {zone: a/b}\n",
    "labels as a list": "apiVersion: virtsync/v1\nkind: Host\nname: h\nlabels: [zone]\n",
    "migration per host out of range": "apiVersion: virtsync/v1\nkind: Settings\nmigration: {maxPerHost: 0}\n",
    "bare-number bandwidth": "apiVersion: virtsync/v1\nkind: Settings\nmigration: {bandwidth: 100}\n",
    "unknown migration key": "apiVersion: virtsync/v1\nkind: Settings\nmigration: {maxDowntme: 1s}\n",
    "ha with autostart": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\nha: true\nautostart: true\n",
    "quoted failback": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\nha: true\nfailback: 'false'\n",
    "secret without a source": "apiVersion: virtsync/v1\nkind: Secret\nname: s\n",
    "secret with two sources": "apiVersion: virtsync/v1\nkind: Secret\nname: s\nageFile: s.age\nhostFile: s\n",
    "secret value in the spec": "apiVersion: virtsync/v1\nkind: Secret\nname: s\nvalue: hunter2\n",
    "age file read as a document": "apiVersion: virtsync/v1\nkind: Secret\nname: s\nageFile: secrets/s.yaml\n",
    "absolute host file": "apiVersion: virtsync/v1\nkind: Secret\nname: s\nhostFile: /etc/shadow\n",
    "host file outside": "apiVersion: virtsync/v1\nkind: Secret\nname: s\nhostFile: ../shadow\n",
    "user data inline and secret": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\ncloudInit: {userData: x, userDataSecret: s}\n",
    "network config file and secret": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\ncloudInit: {networkConfigFile: n.cfg, networkConfigSecret: s}\n",
    "graphics mapping without type": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\ngraphics: {passwordSecret: s}\n",
    "password without a display": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\ngraphics: {type: none, passwordSecret: s}\n",
    "graphics password in clear": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\ngraphics: {type: vnc, password: hunter2}\n",
    "encrypted overlay": POOL + "volumes: [{name: v, size: 1GiB, backing: p/base, encryptionSecret: k}]\n",
    "encrypted clone": POOL + "volumes: [{name: v, size: 1GiB, format: raw, clone: p/base, encryptionSecret: k}]\n",
    "encrypted adopted volume": POOL + "volumes: [{name: v, size: 1GiB, adopt: true, encryptionSecret: k}]\n",
    "encrypted with adopt false": POOL + "volumes: [{name: v, size: 1GiB, adopt: false, encryptionSecret: k}]\n",
    "encryption secret not a name": POOL + "volumes: [{name: v, size: 1GiB, encryptionSecret: ../k}]\n",
    "encryption secret as a list": POOL + "volumes: [{name: v, size: 1GiB, encryptionSecret: [k]}]\n",
    "encrypted logical volume": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: logical\nvolumes: [{name: v, size: 1GiB, encryptionSecret: k}]\n",
    "encrypted disk-created volume": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\ndisks: [{volume: p/v, size: 1GiB, encryptionSecret: k}]\n",
    "encryption on an attached disk": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: a\nmemory: 1GiB\ndisks: [{volume: p/v, encryptionSecret: k}]\n",
    "secret value in xml": VM + "xml: {devices: \"" + TPM % "((secret:k))" + "\"}\n",
    "secret value in domain xml": VM + "xml: {domain: \"<description>((secret:k))</description>\"}\n",
    "unknown secret object type": VM + "xml: {devices: \"" + TPM % "((secret-uuid:k:luks))" + "\"}\n",
    "secret object without a type": VM + "xml: {devices: \"" + TPM % "((secret-uuid:k))" + "\"}\n",
    "secret object not closed": VM + "xml: {devices: \"" + TPM % "((secret-uuid:k:vtpm" + "\"}\n",
    "secret object with a bad name": VM + "xml: {devices: \"" + TPM % "((secret-uuid:../k:vtpm))" + "\"}\n",
    "image without sha256": POOL + "volumes: [{name: v, image: {url: https://example.org/v.qcow2}}]\n",
    "image with a short sha256": POOL + "volumes: [{name: v, image: {url: https://example.org/v.qcow2, sha256: abc}}]\n",
    "image with url and file": POOL + "volumes: [{name: v, image: {url: https://example.org/v.qcow2, file: /srv/v, sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}}]\n",
    "image from ftp": POOL + "volumes: [{name: v, image: {url: ftp://example.org/v.qcow2, sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}}]\n",
    "image url with a password": POOL + "volumes: [{name: v, image: {url: \"https://u:p@example.org/v\", sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}}]\n",
    "image overlay": POOL + "volumes: [{name: v, backing: p/base, image: {url: https://example.org/v, sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}}]\n",
    "image encrypted": POOL + "volumes: [{name: v, encryptionSecret: k, image: {file: /srv/v, sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}}]\n",
    "disk io native with writeback": VM + "disks: [{file: /srv/a.raw, cache: writeback, io: native}]\n",
    "disk iotune total and read": VM + "disks: [{file: /srv/a.raw, iotune: {totalIops: 10, readIops: 5}}]\n",
    "disk serial too long": VM + "disks: [{file: /srv/a.raw, serial: abcdefghijklmnopqrstuvwxyz}]\n",
    "image format vmdk": POOL + "volumes: [{name: v, image: {file: /srv/v, sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef, format: vmdk}}]\n",
    "secure boot with bios": VM + "secureBoot: true\n",
    "nvram template without loader": VM + "firmware: uefi\nnvramTemplate: /usr/share/OVMF/OVMF_VARS_4M.ms.fd\n",
    "unknown boot device": VM + "boot: {order: [floppy]}\n",
    "repeated boot device": VM + "boot: {order: [disk, disk]}\n",
    "kernel without path": VM + "kernel: {initrd: /boot/initrd.img}\n",
    "kernel true": VM + "kernel: true\n",
    "tpm version as a number": VM + "tpm: {version: 2.0}\n",
    "unknown watchdog action": VM + "watchdog: {action: explode}\n",
    "bad pci address": VM + "hostDevices: [{pci: '0000:03:00.9'}]\n",
    "pci and usb in one": VM + "hostDevices: [{pci: '03:00.0', usb: {vendor: '0x1234', product: '0x5678'}}]\n",
    "ha with host devices": VM + "ha: true\nhostDevices: [{pci: '03:00.0'}]\n",
    "network xml under the VM's key": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\nxml: {domain: \"<port isolated='yes'/>\"}\n",
    "pool xml as a string": POOL + "xml: \"<target><permissions><mode>0750</mode></permissions></target>\"\n",
    "secret object in network xml": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\nxml: {network: \"<x a='((secret-uuid:k:tls))'/>\"}\n",
    # Interface options.
    "vlan 4095": VM + "interfaces: [{bridge: ovs0, virtualport: {type: openvswitch}, vlan: {tag: 4095}}]\n",
    "vlan 0 in a trunk": VM + "interfaces: [{bridge: ovs0, virtualport: {type: openvswitch}, vlan: {trunk: true, tags: [0, 10]}}]\n",
    "vlan tags without trunk": VM + "interfaces: [{bridge: ovs0, virtualport: {type: openvswitch}, vlan: {tags: [10, 20]}}]\n",
    "vlan on a linux bridge": VM + "interfaces: [{bridge: br0, vlan: {tag: 10}}]\n",
    "vlan on macvtap bridge mode": VM + "interfaces: [{direct: {device: eth0, mode: bridge}, vlan: {tag: 10}}]\n",
    "native vlan without trunk": VM + "interfaces: [{bridge: ovs0, virtualport: {type: openvswitch}, vlan: {tag: 10, native: 10}}]\n",
    "virtualport on a network": VM + "interfaces: [{network: n, virtualport: {type: openvswitch}}]\n",
    "virtualport midonet": VM + "interfaces: [{bridge: ovs0, virtualport: {type: midonet}}]\n",
    "bandwidth without average": VM + "interfaces: [{network: n, bandwidth: {inbound: {peak: 2MiB}}}]\n",
    "bandwidth as a number": VM + "interfaces: [{network: n, bandwidth: {inbound: {average: 1024}}}]\n",
    "mtu too small": VM + "interfaces: [{network: n, mtu: 20}]\n",
    "queues with e1000": VM + "interfaces: [{network: n, model: e1000, queues: 4}]\n",
    "queues zero": VM + "interfaces: [{network: n, queues: 0}]\n",
    "network and direct": VM + "interfaces: [{network: n, direct: {device: eth0}}]\n",
    "direct without device": VM + "interfaces: [{direct: {mode: bridge}}]\n",
    "mtu on macvtap": VM + "interfaces: [{direct: {device: eth0}, mtu: 9000}]\n",
    "direct mode unknown": VM + "interfaces: [{direct: {device: eth0, mode: passthru}}]\n",
    # I/O threads and virtio-scsi (issue 17)
    "iothread on a sata disk": VM + "iothreads: 2\ndisks: [{file: /srv/a.raw, bus: sata, iothread: 1}]\n",
    "iothread without iothreads": VM + "disks: [{file: /srv/a.raw, iothread: 1}]\n",
    "iothreads above 64": VM + "iothreads: 65\n",
    "iothread zero": VM + "iothreads: 2\ndisks: [{file: /srv/a.raw, iothread: 0}]\n",
    "bus unknown": VM + "disks: [{file: /srv/a.raw, bus: virtio_scsi}]\n",
}

# Documents the schema must accept beside the examples of spec-v1.md and the good test spec.
GOOD = {
    # Interface options.
    "interface options": VM + "interfaces: [{network: n, mtu: 9000, queues: 4, bandwidth: {inbound: {average: 10MiB, peak: 20MiB, burst: 1MiB}, outbound: {average: 5MiB}}}]\n",
    "bandwidth removed": VM + "interfaces: [{network: n, bandwidth: {}}]\n",
    "ovs access port": VM + "interfaces: [{bridge: ovs0, virtualport: {type: openvswitch, interfaceId: 09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f, profileId: menial}, vlan: {tag: 42}}]\n",
    "ovs trunk": VM + "interfaces: [{bridge: ovs0, virtualport: {type: openvswitch}, vlan: {trunk: true, tags: [10, 20, 30], native: 10, nativeMode: tagged}}]\n",
    "macvtap": VM + "interfaces: [{direct: {device: eth0, mode: bridge}}, {direct: {device: enp1s0f0v3, mode: passthrough}, vlan: {tag: 7}}, {direct: {device: eth1}}]\n",
    "iothreads and virtio-scsi": VM + "iothreads: 2\ndisks: [{file: /srv/os.qcow2, iothread: 1}, {file: /srv/a.raw, bus: virtio-scsi, iothread: 2, discard: unmap}, {file: /srv/b.raw, bus: virtio-scsi}]\n",
    "disk options": VM + "disks: [{file: /srv/a.raw, cache: none, io: native, discard: unmap, detectZeroes: unmap, serial: db-1, shareable: true, iotune: {totalBytesPerSecond: 100MiB, readIops: 100, writeIops: 50}}]\n",
    "image volume without a size": POOL + "volumes: [{name: v, image: {url: https://example.org/v.qcow2, sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}}]\n",
    "image volume converted and sized": POOL + "volumes: [{name: v, size: 4GiB, format: raw, image: {file: /srv/v.qcow2, sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef, format: qcow2}}]\n",
    "devices switched off": VM + "kernel: false\ntpm: false\nrng: false\nwatchdog: false\nguestAgent: false\ntablet: false\nhostDevices: []\n",
    "devices with defaults": VM + "tpm: true\nrng: true\nwatchdog: true\nvideo: {model: qxl, vram: 64MiB}\n",
    "encrypted raw volume": POOL + "volumes: [{name: v.raw, size: 1GiB, format: raw, encryptionSecret: k}]\n",
    "encrypted qcow2 volume": POOL + "volumes: [{name: v.qcow2, size: 1GiB, encryptionSecret: k}]\n",
    "encrypted volume in a netfs pool": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: netfs\npath: /mnt/p\n"
        "source: {host: nfs-1, dir: /export}\nshared: true\nvolumes: [{name: v, size: 1GiB, encryptionSecret: k}]\n",
    "network xml": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\nxml: {network: \"<port isolated='yes'/>\"}\n",
    "block and network disks": "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: v\nmemory: 1GiB\ndisks:\n  - block: /dev/sdb\n  - network: {protocol: rbd, name: vms/v, hosts: [\"mon-1:6789\", \"[fd00::1]:6789\"], auth: {username: libvirt, secret: ceph}}\n  - network: {protocol: nbd, hosts: [\"127.0.0.1:10809\"]}\n",
    "fs pool": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: fs\npath: /srv/p\nsource: {device: /dev/vdb1, format: ext4}\n",
    "iscsi pool": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: iscsi\nsource: {host: \"san:3260\", target: iqn.2013-06.com.example:t, initiator: iqn.2013-06.com.example:h, auth: {username: chap, secret: chap-key}}\n",
    "iscsi pool with a path": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: iscsi\npath: /dev/disk/by-path\nsource: {host: \"[fd00::1]:3260\", target: iqn.2013-06.com.example:t}\n",
    "rbd pool": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: rbd\nsource: {name: vms, monitors: [mon-1, \"mon-2:6789\"], auth: {username: libvirt, secret: ceph-key}}\nvolumes: [{name: v, size: 10GiB}]\n",
    "zfs pool": "apiVersion: virtsync/v1\nkind: StoragePool\nname: p\ntype: zfs\nsource: {name: tank, devices: [/dev/sdb]}\nvolumes: [{name: v, size: 10GiB, format: raw}]\n",
    # Networks (issue 17)
    "network dns": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: isolated\n"
                   "dns:\n  domain: lab.example\n  localOnly: true\n  hosts:\n    - {ip: 10.0.0.5, names: [db, db.lab.example]}\n"
                   "    - {ip: 'fd00::5', names: [db6]}\n  forwarders:\n    - {addr: 192.0.2.53}\n    - {domain: corp.example, addr: 192.0.2.54}\n"
                   "    - {domain: local.test}\n",
    "network mtu uplink bandwidth portgroups": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: nat\nipv4: {address: 10.0.0.1/24}\nmtu: 9000\nuplink: eth0\n"
                                                "bandwidth: {inbound: {average: 1000KiB, peak: 2000KiB, burst: 512KiB}, outbound: {average: 500KiB}}\n"
                                                "portgroups:\n  - {name: web, default: true, bandwidth: {inbound: {average: 100KiB}}}\n  - {name: db}\n",
    "network open": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: open\nipv4: {address: 10.0.0.1/24}\n",
    "network ovs portgroups with vlans": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: bridge\nbridge: ovsbr0\nportgroups:\n  - {name: v42, default: true, vlan: {tag: 42}}\n"
                                         "  - {name: trunk, vlan: {trunk: true, tags: [10, 20], native: 10}}\n"
                                         "xml: {network: \"<virtualport type='openvswitch'/>\"}\n",
    "interface portgroup": VM + "interfaces: [{network: lab, portgroup: web}]\n",
    "network ipv6 with dhcpv6": "apiVersion: virtsync/v1\nkind: Network\nname: n\nmode: nat\nipv4: {address: 10.0.0.1/24}\n"
                                "ipv6:\n  address: fd00:10:1::1/64\n  dhcp:\n    ranges: [{start: 'fd00:10:1::100', end: 'fd00:10:1::1ff'}]\n"
                                "    hosts:\n      - {id: '0:3:0:1:52:54:0:12:34:56', name: web-1, ip: 'fd00:10:1::10'}\n      - {name: db-1, ip: 'fd00:10:1::11'}\n",
    "pool xml": POOL + "xml: {pool: \"<target><permissions><mode>0750</mode></permissions></target>\"}\n",
    "secret objects in xml": VM + "xml:\n  devices: |\n    " + TPM % "((secret-uuid:tpm.state-1:vtpm))" + "\n"
        "    <hostdev mode='subsystem' type='scsi'><source protocol='iscsi' name='iqn.2026-01.example:t/1'>"
        "<host name='10.0.0.5'/><auth username='u'><secret type='iscsi' uuid='((secret-uuid:k:iscsi))'/></auth>"
        "</source></hostdev>\n",
}


def main():
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    import generate_schema
    if generate_schema.render() != (ROOT / "specs/virtsync-v1.schema.json").read_text():
        print("FAIL virtsync-v1.schema.json is not what generate_schema.py produces; run it")
        return 1
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    failures = 0
    good = [("spec-v1.md example %d" % (i + 1), block)
            for i, block in enumerate(yaml_blocks((ROOT / "specs/spec-v1.md").read_text()))]
    good += [(str(path.relative_to(ROOT)), path.read_text())
             for path in sorted(GOOD_SPEC.rglob("*.y*ml")) if not path.read_text().startswith("#cloud-config")]
    good += list(GOOD.items())
    count = 0
    for name, text in good:
        for doc in documents(text):
            count += 1
            for error in validator.iter_errors(doc):
                failures += 1
                print(f"FAIL {name}: {error.json_path}: {error.message}")
    for name, text in BAD.items():
        (doc,) = documents(text)
        if validator.is_valid(doc):
            failures += 1
            print(f"FAIL bad document accepted: {name}")
    print(f"{count} good documents, {len(BAD)} bad documents, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
