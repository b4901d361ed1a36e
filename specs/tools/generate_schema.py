#!/usr/bin/env python3
"""Generates specs/virtsync-v1.schema.json, the JSON Schema (draft 2020-12) of one virtsync/v1
document. Edit this file, not the JSON, then run:

    python3 specs/tools/generate_schema.py && python3 specs/tools/check_schema.py

Keep it in step with specs/spec-v1.md and with the loader (Sources/VirtsyncSpec).
"""
import json
import pathlib

def s(desc, **kw):
    d = {"description": desc}
    d.update(kw)
    return d

def ref(name, desc=None, **kw):
    d = {"$ref": f"#/$defs/{name}"}
    if desc: d["description"] = desc
    d.update(kw)
    return d

def envelope(kind):
    return {
        "apiVersion": ref("apiVersion"),
        "kind": {"const": kind, "description": "The kind of document."},
    }

def adopt(noun):
    return {"type": "boolean", "default": False,
            "description": f"Take over an existing {noun} of this name that has no owner (or that virtsync did not create)."}

def obj(props, required=(), desc=None, **kw):
    d = {"type": "object", "additionalProperties": False, "properties": props}
    if required: d["required"] = list(required)
    if desc: d["description"] = desc
    d.update(kw)
    return d

size_pattern = r"^([0-9]+(\.[0-9]*)?|\.[0-9]+) ?(B|K|KiB|M|MiB|G|GiB|T|TiB|KB|MB|GB|TB)$"
duration_pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$"
name_pattern = r"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
name_body = r"(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
label_pattern = r"^[A-Za-z0-9._-]{1,64}$"
octet = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
ipv4 = rf"{octet}\.{octet}\.{octet}\.{octet}"

defs = {
    "apiVersion": {"const": "virtsync/v1", "description": "The format version: virtsync/v1."},
    "name": {"type": "string", "pattern": name_pattern, "minLength": 1, "maxLength": 64,
             "description": "1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit, never containing '..'."},
    "bridgeName": {"type": "string", "pattern": r"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,14}$", "maxLength": 15,
                   "description": "A Linux bridge name: a name of at most 15 characters."},
    "duration": {"type": "string", "pattern": duration_pattern,
                 "description": "A duration: numbers each followed by a unit, ms, s, m (minutes), h or d. A bare number is an error.",
                 "examples": ["30s", "10m", "1h30m"]},
    "size": {"type": "string", "pattern": size_pattern,
             "description": "A size with a unit: B; K/KiB, M/MiB, G/GiB, T/TiB (powers of 1024); KB, MB, GB, TB (powers of 1000). A bare number is an error.",
             "examples": ["4GiB", "512MiB", "20G"]},
    "absolutePath": {"type": "string", "pattern": r"^/(?!.*(^|/)\.\.?(/|$))[^\u0000-\u001f]*$",
                     "description": "An absolute path on the host, without '.' or '..' components."},
    "relativePath": {"type": "string", "pattern": r"^(?!/)(?!.*(^|/)\.\.(/|$))[^\u0000-\u001f]+$",
                     "description": "A path relative to the spec directory, without '..'."},
    "volumeRef": {"type": "string", "pattern": rf"^{name_body}/{name_body}$",
                  "description": "A volume of the spec: pool/volume.", "examples": ["vms/base.qcow2"]},
    "hostList": {"type": "array", "items": ref("name"), "minItems": 1, "uniqueItems": True,
                 "description": "Host names of the spec; default: every host."},
    "mac": {"type": "string", "pattern": r"^[0-9A-Fa-f][02468ACEace](:[0-9A-Fa-f]{2}){5}$",
            "description": "A unicast MAC address, six hex octets with colons (quote it).", "examples": ["52:54:00:10:00:01"]},
    "uuid": {"type": "string", "pattern": r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
             "description": "A UUID, 8-4-4-4-12 hex digits."},
    "ipv4Address": {"type": "string", "pattern": rf"^{ipv4}$", "description": "An IPv4 address."},
    "cloudInitContent": {"type": ["string", "object"],
                         "description": "Inline text, or a mapping written out as YAML."},
    "libvirtURI": {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9+.-]*://[^\s]*$",
                   "description": "A libvirt connection URI: a scheme, ://, no spaces."},
    "labels": {"type": "object",
               "propertyNames": {"pattern": label_pattern},
               "additionalProperties": {"type": ["string", "number", "boolean"], "pattern": label_pattern,
                                        "description": "The label's value, read as text (true is the value 'true')."},
               "description": "Labels, name: value; names and values are 1-64 characters of A-Z a-z 0-9 . _ -.",
               "examples": [{"zone": "a", "disk": "ssd"}]},
}

defs["Host"] = obj({
    **envelope("Host"),
    "name": ref("name", "The host's name in the spec."),
    "uri": ref("libvirtURI", "libvirt connection URI, e.g. qemu+ssh://root@host-a/system. Required on every host when the spec has more than one host.",
               examples=["qemu:///system", "qemu+ssh://root@host-a/system"]),
    "migrationURI": ref("libvirtURI", "How the other hosts' libvirt reaches this host for peer-to-peer live migration, e.g. qemu+tcp://10.0.0.1/system on a migration network; default: uri.",
                        examples=["qemu+tcp://10.0.0.1/system"]),
    "labels": ref("labels", "Labels of the host, matched by a VM's placement.labels."),
    "maintenance": {"type": "boolean", "default": False,
                    "description": "Drain the host: its VMs migrate away in waves (or are shut down, per onMaintenance) and nothing new is placed on it. When the mark is removed, VMs that left only for maintenance return."},
    "capacity": obj({
        "memory": ref("size", "Memory the running VMs placed on this host may use."),
        "cpus": {"type": "integer", "minimum": 1, "description": "vCPUs the running VMs placed on this host may use."},
    }, desc="Optional; a spec whose running VMs exceed it on this host is refused."),
    "hugepageSizes": {"type": "array", "items": ref("size"),
                      "description": "The huge page sizes the host offers, e.g. [2MiB, 1GiB]; when declared, a VM on this host asking for another size is refused."},
}, required=["apiVersion", "kind", "name"], desc="A KVM host and how to reach its libvirt.")

lease = obj({
    "mac": ref("mac", "The guest's MAC."),
    "ip": ref("ipv4Address", "The address leased to it, inside the subnet."),
    "name": {"type": "string", "pattern": r"^[A-Za-z0-9._:-]{1,253}$", "description": "Host name for the lease."},
}, required=["mac", "ip"], desc="A static DHCP lease.")

# --- Networks (issue 17): IPv6 with DHCPv6 ---------------------------------------------
ipv6_address = r"[0-9A-Fa-f:]*:[0-9A-Fa-f:]*"
ipv6_range = obj({
    "start": {"type": "string", "pattern": rf"^{ipv6_address}$", "description": "First address of the range, inside the prefix."},
    "end": {"type": "string", "pattern": rf"^{ipv6_address}$", "description": "Last address of the range, inside the prefix; not before start."},
}, required=["start", "end"], desc="A DHCPv6 range; ranges of a network do not overlap.")
ipv6_lease = obj({
    "id": {"type": "string", "pattern": r"^[0-9A-Fa-f]{1,2}(:[0-9A-Fa-f]{1,2})+$",
           "description": "The client's DUID, colon-separated hex bytes, e.g. 0:3:0:1:52:54:0:12:34:56."},
    "name": {"type": "string", "pattern": r"^[A-Za-z0-9._:-]{1,253}$", "description": "The host name the client sends."},
    "ip": {"type": "string", "pattern": rf"^{ipv6_address}$", "description": "The address leased to it, inside the prefix."},
}, required=["ip"], desc="A static DHCPv6 lease, matched by DUID (id) or host name (IPv6 hosts have no MAC).",
    anyOf=[{"required": ["id"]}, {"required": ["name"]}])
ipv6_config = obj({
    "address": {"type": "string", "pattern": rf"^{ipv6_address}/([1-9]|[1-9][0-9]|1[01][0-9]|12[0-7])$",
                "description": "The host's IPv6 address and the prefix length (1-127), e.g. fd00:10:1::1/64."},
    "dhcp": obj({
        "ranges": {"type": "array", "items": ipv6_range, "description": "Dynamic DHCPv6 ranges."},
        "hosts": {"type": "array", "items": ipv6_lease, "description": "Static DHCPv6 leases; a change is applied live."},
    }, desc="Serve DHCPv6 on the network."),
}, required=["address"], desc="The IPv6 prefix served by the network; not allowed in bridge mode. Left out: libvirt's IPv6 is kept and never compared.")
ip_any = {"type": "string", "pattern": rf"^({ipv4}|{ipv6_address})$"}
dns_config = obj({
    "domain": {"type": "string", "pattern": r"^[A-Za-z0-9._:-]{1,253}$", "description": "The network's DNS domain (<domain name>)."},
    "localOnly": {"type": "boolean", "description": "Queries for the domain are answered from the network's records only, never forwarded; needs domain."},
    "enable": {"type": "boolean", "description": "false: the network serves no DNS (then no hosts, forwarders, domain)."},
    "forwardPlainNames": {"type": "boolean", "description": "Forward queries for names without a dot too."},
    "hosts": {"type": "array", "description": "Host records; a change is applied live.",
              "items": obj({"ip": {**ip_any, "description": "IPv4 or IPv6 address."},
                            "names": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": r"^[A-Za-z0-9._:-]{1,253}$"},
                                      "description": "Its names; a name is in one record only."}},
                           required=["ip", "names"], desc="A DNS host record.")},
    "forwarders": {"type": "array", "description": "Upstream servers, tried in order.",
                   "items": obj({"addr": {**ip_any, "description": "The server's address."},
                                 "domain": {"type": "string", "pattern": r"^[A-Za-z0-9._:-]{1,253}$",
                                            "description": "Only queries for this domain; without addr, answered locally only."}},
                                desc="A DNS forwarder: addr, domain or both.", anyOf=[{"required": ["addr"]}, {"required": ["domain"]}])},
}, desc="The DNS the network serves; each part left out is libvirt's and never compared.",
    dependentRequired={"localOnly": ["domain"]})
# --- end of networks (issue 17) -------------------------------------------------------------

def hatch(parent, key, owned, examples, disruption):
    """The escape hatch of a network or pool: `xml: {<key>: fragment}`."""
    return obj({key: {"type": "string",
                      "description": f"Raw XML placed inside {parent} at each element's path, for what the model has no field "
                                     f"for (e.g. {examples}). Elements the model owns ({owned}) are refused naming their field. "
                                     f"Compared with the definition in canonical form; {disruption}",
                      "not": {"pattern": r"\(\(secret"}}},
               desc=f"Escape hatch: raw libvirt XML for the {key}.")

# --- Networks (spec 1.1): MTU, uplink, open forwarding, shaping, port groups ---------------
vlan_id = {"type": "integer", "minimum": 1, "maximum": 4094}
vlan_config = obj({
    "tag": dict(vlan_id, description="The one VLAN of an access port."),
    "trunk": {"type": "boolean", "description": "A trunk port carrying the VLANs in tags."},
    "tags": {"type": "array", "items": vlan_id, "minItems": 1, "uniqueItems": True, "description": "The VLANs of the trunk."},
    "native": dict(vlan_id, description="The trunk's native VLAN, one of tags."),
    "nativeMode": {"enum": ["untagged", "tagged"], "default": "untagged", "description": "How the native VLAN is carried."},
}, desc="VLAN tagging.",
    oneOf=[{"required": ["tag"], "not": {"anyOf": [{"required": ["tags"]}, {"properties": {"trunk": {"const": True}}, "required": ["trunk"]}]}},
           {"required": ["trunk", "tags"], "properties": {"trunk": {"const": True}}}],
    allOf=[{"if": {"required": ["nativeMode"]}, "then": {"required": ["native"]}},
           {"if": {"required": ["native"]}, "then": {"required": ["trunk"]}}])
bandwidth_rate = obj({
    "average": ref("size", "Average rate per second (e.g. 10MiB is 10 MiB/s); whole KiB."),
    "peak": ref("size", "Highest rate per second during a burst; whole KiB, not below average."),
    "burst": ref("size", "How much may be sent at the peak rate; whole KiB."),
}, required=["average"], desc="Traffic shaping of one direction (libvirt counts KiB).")
network_bandwidth = obj({
    "inbound": dict(bandwidth_rate, description="What the network's guests receive, together (libvirt has no floor on a network)."),
    "outbound": dict(bandwidth_rate, description="What the network's guests send, together."),
}, desc="Traffic shaping of the whole network at its bridge (libvirt bandwidth, in KiB/s and KiB). Given, it is compared whole: "
        "a direction left out is not shaped; {} removes all shaping. Left out: libvirt's, never compared. A change restarts the network. Not in bridge mode.")
portgroup = obj({
    "name": {"type": "string", "pattern": label_pattern, "description": "The group's name, unique in the network."},
    "default": {"type": "boolean", "default": False, "description": "Interfaces that name no group get this one; at most one group is the default."},
    "vlan": dict(vlan_config, description="The VLANs of the group's ports; only in bridge mode on Open vSwitch (<virtualport type='openvswitch'/> in xml.network)."),
    "bandwidth": obj({
        "inbound": dict(bandwidth_rate, description="What each guest receives."),
        "outbound": dict(bandwidth_rate, description="What each guest sends."),
    }, desc="Traffic shaping of each port of the group."),
}, required=["name"], desc="A port group: VLAN and shaping under a name, picked by a VM interface's portgroup.")
network_link = {
    "mtu": {"type": "integer", "minimum": 68, "maximum": 65535,
            "description": "The MTU of the network's bridge and its guests' tap devices. Left out: libvirt's, never compared. A change restarts the network. Not in bridge mode."},
    "uplink": ref("bridgeName", "nat and routed: the host device the traffic leaves through (libvirt <forward dev>). Left out: any, never compared. A change restarts the network."),
    "bandwidth": network_bandwidth,
    "portgroups": {"type": "array", "items": portgroup, "contains": {"properties": {"default": {"const": True}}, "required": ["default"]},
                   "minContains": 0, "maxContains": 1,
                   "description": "Port groups, compared by name; changed live (virNetworkUpdate). Left out: libvirt's, never compared; given, the whole set."},
}
network_link_rules = [
    {"if": {"properties": {"mode": {"const": "bridge"}}, "required": ["mode"]},
     "then": {"not": {"anyOf": [{"required": ["mtu"]}, {"required": ["bandwidth"]}]}}},
    {"if": {"properties": {"mode": {"enum": ["open", "isolated", "bridge"]}}, "required": ["mode"]},
     "then": {"not": {"required": ["uplink"]}}},
    {"if": {"properties": {"mode": {"const": "open"}}, "required": ["mode"]}, "then": {"required": ["ipv4"]}},
    {"if": {"not": {"properties": {"mode": {"const": "bridge"}}, "required": ["mode"]}},
     "then": {"properties": {"portgroups": {"items": {"not": {"required": ["vlan"]}}}}}},
]
# --- end of networks (spec 1.1) ------------------------------------------------------------

defs["Network"] = obj({
    **envelope("Network"),
    "name": ref("name", "The libvirt network name."),
    "hosts": ref("hostList", "Hosts to create the network on; default: every host."),
    "mode": {"enum": ["nat", "routed", "open", "isolated", "bridge"], "default": "nat",
             "description": "nat: NAT to the uplink; routed: no NAT; open: routed without firewall rules from libvirt; isolated: guests and host only; bridge: an existing host bridge."},
    "bridge": ref("bridgeName", "bridge mode: the existing host bridge (required). Other modes: the bridge device name libvirt creates."),
    "autostart": {"type": "boolean", "default": True, "description": "Start the network when the host boots."},
    "ipv4": obj({
        "address": {"type": "string", "pattern": rf"^{ipv4}/([1-9]|[12][0-9]|30)$",
                    "description": "The host's address and the prefix length (1-30), e.g. 192.168.100.1/24."},
        "dhcp": obj({
            "start": ref("ipv4Address", "First address of the DHCP range."),
            "end": ref("ipv4Address", "Last address of the DHCP range."),
            "hosts": {"type": "array", "items": lease, "description": "Static leases."},
        }, desc="Serve DHCP on the network.", dependentRequired={"start": ["end"], "end": ["start"]}),
    }, required=["address"], desc="The IPv4 subnet served by the network; not allowed in bridge mode."),
    "ipv6": ipv6_config,
    "dns": dns_config,
    **network_link,
    "adopt": adopt("network"),
    "xml": hatch("<network>", "network", "<name>, <uuid>, <forward>, <bridge>, <ip>, <mtu>, <bandwidth>, <portgroup>",
                 "<port isolated='yes'/>, <dns><txt name='x' value='y'/></dns>, <route>",
                 "a change to an active network restarts it."),
}, required=["apiVersion", "kind", "name"], desc="A libvirt virtual network.",
    allOf=[
        {"if": {"properties": {"mode": {"const": "bridge"}}, "required": ["mode"]},
         "then": {"required": ["bridge"], "not": {"anyOf": [{"required": ["ipv4"]}, {"required": ["ipv6"]}, {"required": ["dns"]}]}}},
        *network_link_rules,
    ])

volume_common = {
    "size": ref("size", "Capacity of the new volume."),
    "format": {"enum": ["qcow2", "raw"], "description": "Image format; default qcow2 (raw in logical, rbd and zfs pools, whose volumes are raw)."},
    "backing": ref("volumeRef", "Create a qcow2 overlay on this volume (pool/volume)."),
    "clone": ref("volumeRef", "Create the volume as a full copy of this one (pool/volume), once."),
}
not_both = {"not": {"required": ["backing", "clone"]}}
backing_qcow2 = {"if": {"required": ["backing", "format"]}, "then": {"properties": {"format": {"const": "qcow2"}}}}

encrypted_blank = {"if": {"required": ["encryptionSecret"]},
                   "then": {"allOf": [{"not": {"required": [k]}} for k in ["backing", "clone", "adopt"]]}}

image_only = {"if": {"required": ["image"]},
              "then": {"allOf": [{"not": {"required": [k]}} for k in ["backing", "clone", "adopt", "encryptionSecret"]]},
              "else": {"required": ["size"]}}

defs["Image"] = obj({
    "url": {"type": "string", "pattern": r"^[hH][tT][tT][pP][sS]?://[^@/?#\s]+([/?#]\S*)?$", "maxLength": 4096,
            "description": "An http:// or https:// URL to download the image from; no user or password in it, no spaces."},
    "file": ref("absolutePath", "An image file on the machine that runs virtsync (the agent's host, or where virtsync apply runs)."),
    "sha256": {"type": "string", "pattern": r"^[0-9a-fA-F]{64}$",
               "description": "The SHA-256 of the file as downloaded or read, before any conversion: 64 hex digits."},
    "format": {"enum": ["qcow2", "raw"], "description": "The file's format; default: the volume's. When it differs, the image is converted with qemu-img before the upload."},
}, required=["sha256"], desc="An OS image: where it comes from (url or file) and its SHA-256.",
    oneOf=[{"required": ["url"]}, {"required": ["file"]}])

defs["PoolVolume"] = obj({
    "name": ref("name", "The volume's name in the pool."),
    **volume_common,
    "adopt": adopt("volume"),
    "image": ref("Image", "Make the volume from an OS image: downloaded or read, verified by its SHA-256, converted when asked, streamed into the pool through libvirt. Without a size, the volume is as large as the image. Exclusive with backing, clone, adopt and encryptionSecret."),
    "encryptionSecret": ref("name", "Create the volume LUKS-encrypted (raw: a LUKS image; qcow2: qcow2 with LUKS encryption), the value of this Secret (without one final line break) being its passphrase, kept in a private libvirt secret object on every host of the pool. Disks that attach the volume open it. Only for a blank volume: not with backing, clone or adopt; only in dir and netfs pools. The passphrase of an existing volume is never changed."),
}, required=["name"], desc="A volume virtsync creates in the pool.", allOf=[not_both, backing_qcow2, encrypted_blank, image_only])

pool_auth = obj({
    "username": {"type": "string", "pattern": r"^[^\s'\"<&]{1,256}$", "description": "iscsi: the CHAP user; rbd: the Ceph client (without client.)."},
    "secret": ref("name", "The Secret holding the key (CHAP password, Ceph key); virtsync keeps it in a private libvirt secret object of this pool, created before the pool and removed after it. Never the value itself."),
}, required=["username", "secret"], desc="iscsi and rbd: authenticate with a user and a Secret.")

server = {"type": "string", "pattern": r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?$"}
iqn = {"type": "string", "pattern": r"^([iI][qQ][nN]|[eE][uU][iI]|[nN][aA][aA])\.[A-Za-z0-9.:_-]{1,219}$"}

# The keys each pool type's source takes, and those it requires.
pool_sources = {
    "netfs": (["host", "dir"], ["host", "dir"]),
    "fs": (["device", "format"], ["device"]),
    "iscsi": (["host", "target", "initiator", "auth"], ["host", "target"]),
    "rbd": (["name", "monitors", "auth"], ["name", "monitors"]),
    "zfs": (["name", "devices"], ["name"]),
}
block_volume = {"properties": {"format": {"const": "raw"}},
                "allOf": [{"not": {"required": [k]}} for k in ["backing", "clone", "image", "encryptionSecret"]]}

def pool_type_is(*types):
    return {"properties": {"type": {"enum": list(types)}}, "required": ["type"]}

defs["StoragePool"] = obj({
    **envelope("StoragePool"),
    "name": ref("name", "The libvirt pool name."),
    "hosts": ref("hostList", "Hosts to define the pool on; default: every host."),
    "type": {"enum": ["dir", "logical", "netfs", "fs", "iscsi", "rbd", "zfs"], "default": "dir",
             "description": "dir: a directory; logical: an LVM volume group; netfs: an NFS export; fs: a block device with a file system, mounted by libvirt (never formatted by virtsync); iscsi: the LUNs of an iSCSI target (no volumes can be created); rbd: a Ceph RBD pool; zfs: a ZFS pool (never created by virtsync: the zpool must exist). Since spec format 1.1."},
    "path": ref("absolutePath", "dir: the directory (required); netfs and fs: the mount point (required); logical: default /dev/<volumeGroup>; iscsi: default /dev/disk/by-path; not for rbd and zfs (they have none)."),
    "volumeGroup": ref("name", "logical only: the volume group; default: the pool name."),
    "devices": {"type": "array", "items": ref("absolutePath"), "description": "logical only: physical volumes."},
    "source": obj({
        "host": {**server, "description": "netfs: the NFS server; iscsi: the portal, host or host:port ([IPv6]:port; libvirt's default port 3260)."},
        "dir": ref("absolutePath", "netfs: the exported directory."),
        "device": ref("absolutePath", "fs: the block device that holds the file system."),
        "format": {"enum": ["auto", "ext2", "ext3", "ext4", "xfs", "btrfs", "vfat"],
                   "description": "fs: the file system's type; default: libvirt probes it."},
        "target": {**iqn, "description": "iscsi: the target's IQN (iqn.2013-06.com.example:vms)."},
        "initiator": {**iqn, "description": "iscsi: the initiator IQN the host logs in with; default: the host's own."},
        "name": ref("name", "rbd: the Ceph pool; zfs: the zpool (it must exist)."),
        "monitors": {"type": "array", "minItems": 1, "items": server,
                     "description": "rbd: the Ceph monitors, host or host:port ([IPv6]:port)."},
        "devices": {"type": "array", "items": ref("absolutePath"), "description": "zfs: the zpool's devices, as libvirt records them (optional; never used to create the zpool)."},
        "auth": pool_auth,
    }, desc="Where the pool's storage is: netfs: host and dir; fs: device (and format); iscsi: host and target (initiator, auth); rbd: name and monitors (auth); zfs: name (devices)."),
    "autostart": {"type": "boolean", "default": True, "description": "Start the pool when the host boots."},
    "shared": {"type": "boolean", "default": False,
               "description": "Every host of the pool sees the same storage at the same path: disks in it are not copied when their VM migrates, and its volumes are created (and pruned) only by its first host in name order."},
    "volumes": {"type": "array", "items": ref("PoolVolume"), "description": "Volumes virtsync creates in this pool (in a shared pool: once, by its first host). Not in iscsi pools; in rbd and zfs pools: blank raw volumes of a size."},
    "adopt": adopt("pool"),
    "xml": hatch("<pool>", "pool", "<name>, <uuid>, <target><path>, the source's <name>, <device>, <host>, <dir>, <initiator> and <auth>",
                 "<target><permissions><mode>0750</mode></permissions></target>, <source><format type='nfs'/></source>",
                 "a change to an active pool restarts it."),
}, required=["apiVersion", "kind", "name"], desc="A libvirt storage pool and its managed volumes.",
    allOf=[
        {"if": pool_type_is("logical"),
         "then": {"properties": {"volumes": {"items": {"properties": {"format": {"const": "raw"}},
                                                       "allOf": [{"not": {"required": ["backing"]}},
                                                                 {"not": {"required": ["encryptionSecret"]}}]}}}},
         "else": {"allOf": [{"not": {"required": ["volumeGroup"]}}, {"not": {"required": ["devices"]}}]}},
        {"if": pool_type_is("logical", "iscsi", "rbd", "zfs"), "else": {"required": ["path"]}},
        {"if": pool_type_is("rbd", "zfs"), "then": {"not": {"required": ["path"]},
                                                     "properties": {"volumes": {"items": block_volume}}}},
        {"if": pool_type_is("iscsi"), "then": {"properties": {"volumes": {"maxItems": 0}}}},
        {"if": pool_type_is(*pool_sources), "else": {"not": {"required": ["source"]}}},
    ] + [
        {"if": pool_type_is(kind),
         "then": {"required": ["source"], "properties": {"source": {"required": required, "propertyNames": {"enum": keys}}}}}
        for kind, (keys, required) in pool_sources.items()
    ])

disk = obj({
    "volume": ref("volumeRef", "A volume of a pool of the spec (pool/volume)."),
    "file": ref("absolutePath", "An image on the host, outside any pool."),
    "block": ref("absolutePath", "A block device on the host (a partition, an LV, a multipath device)."),
    "network": obj({
        "protocol": {"enum": ["rbd", "iscsi", "nbd"], "description": "rbd: a Ceph image; iscsi: a LUN; nbd: an NBD export."},
        "name": {"type": "string", "pattern": r"^[^\s]{1,1024}$",
                 "description": "rbd: pool/image (required); iscsi: the target's IQN and the LUN, IQN/LUN (required); nbd: the export (optional)."},
        "hosts": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?$"},
                  "description": "The servers, host or host:port ([IPv6]:port): rbd's monitors, iscsi's portal, nbd's one server."},
        "auth": obj({
            "username": {"type": "string", "pattern": r"^[^\s'\"]+$", "description": "The user (Ceph client or CHAP user)."},
            "secret": ref("name", "The Secret holding the key; virtsync keeps it in a private libvirt secret object (ceph or iscsi) of this VM."),
        }, required=["username", "secret"], desc="rbd and iscsi: authentication through a Secret."),
    }, required=["protocol", "hosts"], desc="A disk served over the network; shared storage (never copied on migration).",
        allOf=[{"if": {"properties": {"protocol": {"enum": ["rbd", "iscsi"]}}}, "then": {"required": ["name"]}},
               {"if": {"properties": {"protocol": {"const": "nbd"}}},
                "then": {"not": {"required": ["auth"]}, "properties": {"hosts": {"maxItems": 1}}}}]),
    **volume_common,
    "existing": {"type": "boolean", "default": False,
                 "description": "The volume exists already and is not managed by virtsync (never created or deleted)."},
    "bus": {"enum": ["virtio", "sata", "scsi", "virtio-scsi", "ide"],
            "description": "Disk bus; default virtio (sata for a CD-ROM). virtio-scsi: SCSI on a virtio-scsi controller (index 0, shared by the VM's virtio-scsi disks); scsi leaves the controller model to libvirt. A VM's SCSI disks are all scsi or all virtio-scsi. Next boot."},
    "target": {"type": "string", "pattern": r"^(vd|sd|hd)[a-z]{1,6}$",
               "description": "Guest device name; default: the next free vd*/sd*/hd* name of the bus."},
    "cdrom": {"type": "boolean", "default": False, "description": "A CD-ROM drive."},
    "readonly": {"type": "boolean", "description": "Attach read-only; default true for a CD-ROM, else false."},
    "cache": {"enum": ["none", "writethrough", "writeback", "directsync", "unsafe"],
              "description": "Host page cache mode (libvirt driver cache); default: libvirt's. Changed at the next boot."},
    "io": {"enum": ["native", "threads", "io_uring"], "description": "QEMU's I/O mode; native needs cache none or directsync. Next boot."},
    "discard": {"enum": ["unmap", "ignore"], "description": "What the guest's discard (TRIM) does. Next boot."},
    "detectZeroes": {"enum": ["off", "on", "unmap"], "description": "Detect writes of zeroes (unmap: and discard them). Next boot."},
    "serial": {"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,20}$", "description": "The disk's serial number in the guest (/dev/disk/by-id). Next boot."},
    "shareable": {"type": "boolean", "description": "Several VMs may attach the disk at once. Next boot."},
    "iothread": {"type": "integer", "minimum": 1, "maximum": 64,
                 "description": "The VM's I/O thread (1 to its iothreads) that runs this virtio or virtio-scsi disk's I/O; virtio-scsi disks share their controller's, so they name the same one. Next boot."},
    "iotune": obj({
        "totalBytesPerSecond": ref("size", "Limit of read and write bytes per second (a size per second, e.g. 100MiB)."),
        "readBytesPerSecond": ref("size", "Limit of read bytes per second."),
        "writeBytesPerSecond": ref("size", "Limit of written bytes per second."),
        "totalIops": {"type": "integer", "minimum": 1, "maximum": 1000000000, "description": "Limit of I/O operations per second."},
        "readIops": {"type": "integer", "minimum": 1, "maximum": 1000000000, "description": "Limit of reads per second."},
        "writeIops": {"type": "integer", "minimum": 1, "maximum": 1000000000, "description": "Limit of writes per second."},
    }, desc="I/O limits (libvirt iotune), changed live on a running VM. A total limit excludes the read and write limits of its kind.",
        minProperties=1,
        allOf=[{"if": {"required": [t]}, "then": {"allOf": [{"not": {"required": [p]}} for p in parts]}}
               for t, parts in [("totalBytesPerSecond", ["readBytesPerSecond", "writeBytesPerSecond"]), ("totalIops", ["readIops", "writeIops"])]]),
}, desc="A disk: exactly one of volume, file, block or network.",
    oneOf=[{"required": ["volume"]}, {"required": ["file"]}, {"required": ["block"]}, {"required": ["network"]}],
    allOf=[
        not_both, backing_qcow2,
        *[{"if": {"required": [source]},
           "then": {"allOf": [{"not": {"required": [k]}} for k in ["size", "format", "backing", "clone", "existing"]]}}
          for source in ["file", "block", "network"]],
        {"if": {"properties": {"existing": {"const": True}}, "required": ["existing"]},
         "then": {"allOf": [{"not": {"required": [k]}} for k in ["size", "format", "backing", "clone"]]}},
        {"if": {"not": {"required": ["size"]}},
         "then": {"allOf": [{"not": {"required": [k]}} for k in ["format", "backing", "clone"]]}},
        {"if": {"properties": {"cdrom": {"const": True}}, "required": ["cdrom"]},
         "then": {"not": {"properties": {"bus": {"const": "virtio"}}, "required": ["bus"]}}},
        {"if": {"properties": {"io": {"const": "native"}}, "required": ["io", "cache"]},
         "then": {"properties": {"cache": {"enum": ["none", "directsync"]}}}},
        {"if": {"required": ["iothread", "bus"]}, "then": {"properties": {"bus": {"enum": ["virtio", "virtio-scsi"]}}}},
    ])

# --- Interface options (bandwidth, mtu, queues, vlan, virtualport, direct) ---
nic_options = {
    "bandwidth": obj({
        "inbound": dict(bandwidth_rate, description="What the guest receives."),
        "outbound": dict(bandwidth_rate, description="What the guest sends."),
    }, desc="Traffic shaping (libvirt bandwidth), changed live on a running VM. Given, it is compared whole: a direction left out is not shaped; {} removes all shaping."),
    "mtu": {"type": "integer", "minimum": 68, "maximum": 65535, "description": "The MTU of the guest's NIC and the host's tap device. Next boot."},
    "queues": {"type": "integer", "minimum": 1, "maximum": 256,
               "description": "Queue pairs of a virtio NIC (multiqueue); more than 1 needs the virtio model. Next boot."},
    "vlan": dict(vlan_config, description="VLAN tagging (Open vSwitch bridges and SR-IOV passthrough only). Next boot."),
    "portgroup": {"type": "string", "pattern": label_pattern,
                  "description": "A port group of the interface's network (network interfaces only); checked against the network's portgroups when the spec lists them. Next boot."},
    "virtualport": obj({
        "type": {"enum": ["openvswitch"], "description": "The kind of virtual switch."},
        "interfaceId": {"type": "string", "pattern": r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
                        "description": "The port's UUID on the switch; default: generated by libvirt, then kept."},
        "profileId": {"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,64}$", "description": "The port profile's name."},
    }, required=["type"], desc="The virtual switch port of a bridge interface (Open vSwitch). Next boot."),
}
nic_rules = [
    {"if": {"properties": {"queues": {"minimum": 2}}, "required": ["queues", "model"]},
     "then": {"properties": {"model": {"pattern": "^virtio"}}}},
    {"if": {"required": ["virtualport"]}, "then": {"required": ["bridge"]}},
    {"if": {"required": ["portgroup"]}, "then": {"required": ["network"]}},
    {"if": {"required": ["direct"]}, "then": {"not": {"required": ["mtu"]}}},
    {"if": {"required": ["vlan", "bridge"]}, "then": {"required": ["virtualport"]}},
    {"if": {"required": ["vlan", "direct"]},
     "then": {"properties": {"direct": {"properties": {"mode": {"const": "passthrough"}}, "required": ["mode"]}}}},
]

nic = obj({
    "network": ref("name", "A Network of the spec."),
    "bridge": ref("bridgeName", "An existing host bridge."),
    "direct": obj({
        "device": ref("bridgeName", "The host network device (e.g. eth0, enp1s0f0v3)."),
        "mode": {"enum": ["bridge", "vepa", "private", "passthrough"], "default": "vepa", "description": "The macvtap mode."},
    }, required=["device"], desc="A host network device shared through macvtap (libvirt type direct). Next boot."),
    "mac": ref("mac", "MAC address; default: generated by libvirt, then kept."),
    "model": {"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,64}$", "default": "virtio", "description": "NIC model."},
    "link": {"enum": ["up", "down"], "default": "up", "description": "Link state; changed live."},
    **nic_options,
}, desc="A network interface: exactly one of network, bridge or direct.",
    oneOf=[{"required": ["network"]}, {"required": ["bridge"]}, {"required": ["direct"]}],
    allOf=nic_rules)
# --- end of interface options ---

placeholders = " ((secret:NAME)) placeholders are replaced by the Secret's value on the host."

# An escape-hatch fragment names secret objects, never values: no ((secret:NAME)), and every
# ((secret-uuid: is NAME:TYPE)) on its line with a valid name and one of libvirt's usage types.
object_types = ["vtpm", "ceph", "iscsi", "tls"]
local_name = r"[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.)){0,63}"

def xml_fragment(parent):
    return {"type": "string",
            "description": f"Raw XML placed inside {parent} at each element's path (<os>, <cpu> and <devices> are descended "
                           "into; elements the model owns are refused naming their field), with ((secret-uuid:NAME:TYPE)) placeholders "
                           f"(TYPE one of {', '.join(object_types)}): each is replaced by the UUID of a private libvirt secret "
                           "object virtsync creates for the VM with the Secret's value. A value never goes into XML: "
                           "((secret:NAME)) is an error here.",
            "allOf": [{"not": {"pattern": r"\(\(secret:"}},
                      {"not": {"pattern": rf"\(\(secret-uuid:(?!{local_name}:(?:{'|'.join(object_types)})\)\))"}}]}

cloud = obj({
    "userData": ref("cloudInitContent", "User data; a mapping is written after a #cloud-config line. Default: an empty #cloud-config." + placeholders),
    "userDataFile": ref("relativePath", "User data from a file of the spec directory." + placeholders),
    "userDataSecret": ref("name", "The whole user data is the value of this Secret."),
    "metaData": ref("cloudInitContent", "Meta data; default: instance-id and local-hostname = the VM's name." + placeholders),
    "metaDataFile": ref("relativePath", "Meta data from a file of the spec directory." + placeholders),
    "metaDataSecret": ref("name", "The whole meta data is the value of this Secret."),
    "networkConfig": ref("cloudInitContent", "Network configuration (cloud-init v1 or v2)." + placeholders),
    "networkConfigFile": ref("relativePath", "Network configuration from a file of the spec directory." + placeholders),
    "networkConfigSecret": ref("name", "The whole network configuration is the value of this Secret."),
    "pool": ref("name", "Pool for the seed volume; default: the pool of the first volume disk."),
}, desc="A cloud-init NoCloud seed ISO, built by virtsync and attached as a CD-ROM.",
    allOf=[{"not": {"required": [a, b]}} for base in ["userData", "metaData", "networkConfig"]
           for a, b in [(base, base + "File"), (base, base + "Secret"), (base + "File", base + "Secret")]])

graphics_type = {"enum": ["none", "vnc", "spice"], "description": "Remote display on 127.0.0.1."}
graphics = {
    "description": "Remote display on 127.0.0.1: none, vnc or spice; or a mapping {type, passwordSecret, listen} for a display with a password or another listen address. Default: none.",
    "default": "none",
    "oneOf": [
        graphics_type,
        obj({
            "type": graphics_type,
            "passwordSecret": ref("name", "The display's password: the value of this Secret. A changed password is applied live to a running VM."),
            "listen": {"type": "string", "pattern": r"^[0-9A-Fa-f.:]+$",
                       "description": "The IPv4 or IPv6 address the display listens on; default 127.0.0.1. A change takes effect at the next boot.",
                       "examples": ["0.0.0.0", "::"]},
        }, required=["type"], desc="A display with a password or another listen address.",
            allOf=[{"if": {"properties": {"type": {"const": "none"}}, "required": ["type"]},
                    "then": {"not": {"anyOf": [{"required": ["passwordSecret"]}, {"required": ["listen"]}]}}}]),
    ],
}

def device(props, desc, defaults=True, required=()):
    """A device key: a mapping, false to remove the device (and true for one with the defaults)."""
    return {"description": desc,
            "oneOf": [{"type": "boolean"} if defaults else {"const": False, "description": "Remove it."}, obj(props, required=required)]}

pci_address = r"^([0-9A-Fa-f]{1,4}:)?[0-9A-Fa-f]{1,2}:[01]?[0-9A-Fa-f]\.[0-7]$"
usb_id = {"type": "string", "pattern": r"^(0[xX])?[0-9A-Fa-f]{4}$"}
video_model = {"enum": ["virtio", "qxl", "vga", "bochs", "cirrus", "ramfb", "none"], "description": "The video device model."}

platform = {
    "boot": obj({
        "order": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": ["disk", "cdrom", "network"]},
                  "description": "The firmware's boot order: the first disk, the first CD-ROM, network (PXE). Default: libvirt's (disk)."},
        "menu": {"type": "boolean", "description": "The firmware's interactive boot menu."},
    }, desc="Boot order and menu; left out, virtsync keeps what the domain has. Changes take effect at the next boot."),
    "kernel": device({
        "path": ref("absolutePath", "The kernel image on the host (required)."),
        "initrd": ref("absolutePath", "The initial ramdisk on the host."),
        "cmdline": {"type": "string", "maxLength": 4096, "pattern": r"^[^\u0000-\u001f\u007f]*$", "description": "The kernel command line."},
    }, "Direct kernel boot from host files; false removes it.", defaults=False, required=["path"]),
    "secureBoot": {"type": "boolean", "description": "UEFI Secure Boot (needs firmware: uefi and machine: q35); with an autoselected firmware, Microsoft's keys enrolled."},
    "nvramTemplate": ref("absolutePath", "The UEFI variable store a new VM's NVRAM is copied from (needs firmware: uefi and loader)."),
    "tpm": device({
        "model": {"enum": ["tis", "crb"], "default": "tis", "description": "The TPM interface (crb: TPM 2.0 only)."},
        "version": {"enum": ["1.2", "2.0"], "default": "2.0", "description": "The TPM version swtpm emulates (a string: quote it)."},
    }, "An emulated TPM (swtpm); true for the defaults, false removes it. x86 machines only."),
    "guestAgent": {"type": "boolean", "description": "The QEMU guest agent channel (org.qemu.guest_agent.0); false removes it."},
    "rng": device({
        "source": {"enum": ["/dev/urandom", "/dev/random", "/dev/hwrng"], "default": "/dev/urandom", "description": "The host's entropy source."},
        "bytesPerSecond": {"type": "integer", "minimum": 1, "maximum": 1000000000, "description": "Rate limit; default: none."},
    }, "A virtio random number generator; true for the defaults, false removes it."),
    "watchdog": device({
        "model": {"enum": ["i6300esb", "ib700"], "default": "i6300esb", "description": "The watchdog device: a PCI or an ISA card (x86)."},
        "action": {"enum": ["reset", "shutdown", "poweroff", "pause", "none", "dump", "inject-nmi"], "default": "reset",
                   "description": "What happens when it fires."},
    }, "A watchdog; true for the defaults, false removes it."),
    "video": {"description": "The primary video device: a model, or {model, vram}. Default: libvirt's.",
              "oneOf": [video_model, obj({"model": video_model, "vram": ref("size", "Video memory, whole KiB, at least 1MiB; not with none.")},
                                         required=["model"])]},
    "tablet": {"type": "boolean", "description": "A USB tablet (an absolute pointer for VNC/SPICE); false removes it."},
    "hostDevices": {"type": "array", "description": "PCI and USB devices of the host passed through; they pin the VM to its host. [] removes them all.",
                    "items": {"oneOf": [
                        obj({"pci": {"type": "string", "pattern": pci_address, "description": "A PCI address, [domain:]bus:slot.function."}},
                            required=["pci"]),
                        obj({"usb": obj({"vendor": usb_id, "product": usb_id}, required=["vendor", "product"])}, required=["usb"]),
                    ]}},
}
cpuset_pattern = r"^ *\^?[0-9]+(-[0-9]+)?( *, *\^?[0-9]+(-[0-9]+)?)* *$"
cpuset = {"type": "string", "pattern": cpuset_pattern,
          "description": "CPU numbers as libvirt writes them: ranges and lists, ^ excludes, e.g. \"0-3\", \"1,3\", \"0-7,^4\"."}
cpu_modes = ["host-passthrough", "host-model", "maximum"]
topology_count = {"type": "integer", "minimum": 1, "maximum": 4096}
cpu = {
    "description": "The guest CPU: a mode (host-passthrough, host-model, maximum), or a mapping with mode, model, features, topology and pinning. Default: libvirt's.",
    "oneOf": [
        {"enum": cpu_modes, "description": "Guest CPU mode."},
        obj({
            "mode": {"enum": cpu_modes + ["custom"], "description": "Guest CPU mode; custom (the default with a model) presents a named model."},
            "model": {"oneOf": [
                {"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,64}$", "description": "A CPU model name, e.g. qemu64, EPYC-Rome."},
                obj({"name": {"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,64}$", "description": "A CPU model name."},
                     "fallback": {"enum": ["allow", "forbid"], "description": "Whether libvirt may use a close model the host supports; default: libvirt's (allow)."}},
                    required=["name"], desc="A CPU model with its fallback."),
            ], "description": "The named CPU model (mode custom). A change takes effect at the next boot."},
            "features": obj({
                "require": {"type": "array", "items": {"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,64}$"}, "description": "Feature flags the guest gets."},
                "disable": {"type": "array", "items": {"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,64}$"}, "description": "Feature flags the guest never sees."},
            }, desc="CPU feature flags; the lists are the whole set (an update removes flags not listed)."),
            "topology": obj({
                "sockets": topology_count, "dies": {**topology_count, "default": 1}, "cores": topology_count, "threads": topology_count,
            }, required=["sockets", "cores", "threads"],
                desc="sockets x dies x cores x threads must be maxVcpus (vcpus when maxVcpus is not given)."),
            "pinning": obj({
                "vcpus": {"type": "object", "additionalProperties": cpuset,
                          "description": "vCPU number -> host CPUs, e.g. {0: \"2\", 1: \"3\"}; changed live on a running VM."},
                "emulator": {**cpuset, "description": "Host CPUs of QEMU's emulator threads; changed live on a running VM."},
            }, desc="Pinning to host CPUs."),
        }, desc="The guest CPU in detail."),
    ],
}
numa = obj({
    "cells": {"type": "array", "minItems": 1, "items": obj({
        "cpus": {**cpuset, "description": "The vCPUs of the cell."},
        "memory": ref("size", "The cell's memory."),
    }, required=["cpus", "memory"], desc="A guest NUMA cell."),
        "description": "Guest NUMA cells; their memory adds up to maxMemory (memory when maxMemory is not given), no vCPU in two cells."},
    "tune": obj({
        "mode": {"enum": ["strict", "preferred", "interleave", "restrictive"], "default": "strict", "description": "How the memory is bound."},
        "nodeset": {**cpuset, "description": "Host NUMA nodes, e.g. \"0\"."},
    }, required=["nodeset"], desc="Bind the guest's memory to host NUMA nodes (numatune)."),
}, desc="Guest NUMA cells and host NUMA binding; changes take effect at the next boot.")
memory_backing = obj({
    "hugepages": {"oneOf": [{"type": "boolean"}, ref("size")],
                  "description": "Back the memory with huge pages: true (the host's default size), a size such as 2MiB or 1GiB, or false."},
    "locked": {"type": "boolean", "description": "Lock the guest's memory in host RAM (never swapped)."},
}, desc="How the guest's memory is backed; changes take effect at the next boot.")

defs["VirtualMachine"] = obj({
    **envelope("VirtualMachine"),
    "name": ref("name", "The libvirt domain name."),
    "host": ref("name", "The host the VM runs on (pinned). With several hosts, every VM gives host or placement, not both."),
    "placement": obj({
        "hosts": ref("hostList", "Hosts the VM may run on; default: every host."),
        "labels": ref("labels", "Labels the host must carry, each with this value."),
        "affinity": {"type": "array", "items": ref("name"),
                     "description": "VMs this one must share a host with (symmetric and transitive)."},
        "antiAffinity": {"type": "array", "items": ref("name"),
                         "description": "VMs this one must never share a host with (symmetric)."},
    }, desc="Let virtsync choose the host within these constraints; exclusive with host. The VM's disks may not create volumes (no size), and should be in shared pools."),
    "onMaintenance": {"enum": ["migrate", "shutdown"], "default": "migrate",
                      "description": "When the VM's host is in maintenance: migrate it to another host (it returns when the mark is removed), or shut it down in place (it starts again when the mark is removed)."},
    "ha": {"type": "boolean", "default": False,
           "description": "The VM must survive the loss of a host: counted by the N+1 check, which warns when losing some host would leave HA VMs without room. Never with autostart: true. With several hosts, its disks and cloud-init seed belong in shared pools (virtsync validate warns otherwise: the VM could not fail over)."},
    "failback": {"type": "boolean", "default": True,
                 "description": "After HA restarted this pinned VM on another host because its host died, it returns to its own host by live migration once that host has been healthy for the agents' ha.failbackSettle; false keeps it where it runs until someone moves it. Only meaningful with ha: true (virtsync validate warns otherwise); the agents' ha.failback: false turns it off for the whole cluster."},
    "uuid": ref("uuid", "A fixed UUID; default: chosen by libvirt."),
    "vcpus": {"type": "integer", "minimum": 1, "maximum": 4096, "default": 1, "description": "vCPUs."},
    "maxVcpus": {"type": "integer", "minimum": 1, "maximum": 4096, "description": "Hot-plug ceiling, at least vcpus."},
    "memory": ref("size", "Memory (balloon target), at least 1MiB, whole KiB."),
    "maxMemory": ref("size", "Balloon ceiling, at least memory."),
    "machine": {"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,64}$", "description": "Machine type, e.g. q35; default: libvirt's."},
    "firmware": {"enum": ["bios", "uefi"], "default": "bios", "description": "Boot firmware."},
    "loader": ref("absolutePath", "Firmware image, e.g. /usr/share/qemu/qboot.rom."),
    "cpu": cpu,
    "numa": numa,
    "memoryBacking": memory_backing,
    "iothreads": {"type": "integer", "minimum": 0, "maximum": 64,
                  "description": "I/O threads (numbered from 1) that disks name in iothread; 0: none. Next boot (a disk moves to a thread only when the guest starts)."},
    "power": {"enum": ["running", "stopped", "paused"], "default": "running",
              "description": "Desired power state, reconciled on every pass: paused is started (when stopped) and suspended; running resumes a paused VM. Not paused with ha: true."},
    "autostart": {"type": "boolean", "default": False,
                  "description": "libvirt starts the VM when the host boots. Not with ha: true (HA starts the VM where its owner is; autostart would start a stale copy on a host that reboots)."},
    "restartForUpdates": {"type": "boolean", "default": False,
                          "description": "May virtsync restart the VM for changes that need a restart?"},
    "restartPolicy": {"enum": ["always", "on-failure", "never"], "default": "always",
                      "description": "When a VM that should run stopped without virtsync stopping it: start it again always, only after a failure (crash, destroyed outside virtsync), or never."},
    "maxRestarts": {"type": "integer", "minimum": 1, "maximum": 100, "default": 5,
                    "description": "Most restarts within restartWindow; a VM at its limit stays stopped until its spec changes or someone starts it."},
    "restartWindow": ref("duration", "The window over which restarts are counted, 1m to 1d; default 10m.", default="10m"),
    "graphics": graphics,
    "console": {"type": "boolean", "default": True, "description": "A serial console."},
    **platform,
    "disks": {"type": "array", "items": disk, "description": "Disks and CD-ROMs, in order."},
    "interfaces": {"type": "array", "items": nic, "description": "Network interfaces, in order."},
    "cloudInit": cloud,
    "xml": obj({
        "devices": xml_fragment("<devices>"),
        "domain": xml_fragment("<domain>"),
    }, desc="Escape hatch: raw libvirt XML fragments."),
    "adopt": adopt("domain"),
}, required=["apiVersion", "kind", "name", "memory"], desc="A virtual machine.",
    allOf=[
        {"not": {"required": ["host", "placement"]}},
        {"if": {"required": ["placement"]},
         "then": {"properties": {"disks": {"items": {"not": {"required": ["size"]}}}}}},
        {"if": {"properties": {"ha": {"const": True}}, "required": ["ha"]},
         "then": {"not": {"properties": {"autostart": {"const": True}}, "required": ["autostart"]}}},
        {"if": {"required": ["secureBoot"]}, "then": {"required": ["firmware"], "properties": {"firmware": {"const": "uefi"}}}},
        {"if": {"required": ["nvramTemplate"]},
         "then": {"required": ["firmware", "loader"], "properties": {"firmware": {"const": "uefi"}}}},
        {"if": {"properties": {"ha": {"const": True}}, "required": ["ha"]},
         "then": {"not": {"properties": {"hostDevices": {"minItems": 1}}, "required": ["hostDevices"]}}},
        {"if": {"properties": {"disks": {"contains": {"required": ["iothread"]}}}, "required": ["disks"]},
         "then": {"required": ["iothreads"]}},
    ])

defs["Settings"] = obj({
    **envelope("Settings"),
    "owner": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$",
              "description": "The owner identity written into every marker and inventory entry of this spec's resources; default: derived from the repository and path, or the spec directory."},
    "prune": {"type": "boolean", "default": False, "description": "Delete this owner's managed resources removed from the spec."},
    "maxDeletePercent": {"type": "integer", "minimum": 0, "maximum": 100, "default": 50,
                         "description": "Refuse plans deleting more than this share of managed resources."},
    "deleteVolumesWithVM": {"type": "boolean", "default": False, "description": "Delete a pruned VM's volumes too."},
    "migration": obj({
        "maxPerHost": {"type": "integer", "minimum": 1, "maximum": 64, "default": 2,
                       "description": "Migrations a host takes part in at once, outgoing and incoming together."},
        "maxPerCluster": {"type": "integer", "minimum": 1, "maximum": 1024, "default": 4,
                          "description": "Migrations at once in the cluster: the size of a wave."},
        "bandwidth": ref("size", "Bandwidth cap per live migration, a size per second (500MiB is 500 MiB/s), at least 1MiB; default: unlimited."),
        "maxDowntime": ref("duration", "Longest pause of the guest at the switch-over, 1ms to 60s; default 300ms.", default="300ms"),
        "timeout": ref("duration", "A longer migration is aborted and the VM keeps running on its source; 1s to 1d, default 5m.", default="5m"),
        "allowUnsafe": {"type": "boolean", "default": False,
                        "description": "Pass libvirt's VIR_MIGRATE_UNSAFE, for shared storage libvirt cannot recognise as shared (a plain directory shared by other means)."},
    }, desc="How live migrations run (specs with several hosts)."),
}, required=["apiVersion", "kind"], desc="Settings of the spec (at most one).")

defs["Secret"] = obj({
    **envelope("Secret"),
    "name": ref("name", "The secret's name: what graphics.passwordSecret, cloudInit's ...Secret keys, ((secret:NAME)) placeholders and a pool volume's encryptionSecret refer to."),
    "ageFile": {"allOf": [ref("relativePath")], "not": {"pattern": r"\.ya?ml$"},
                "description": "An age-encrypted file of the spec directory (armored or binary), decrypted on the host with its age identity. Not .yaml/.yml; .age by convention.",
                "examples": ["secrets/web-1-password.age"]},
    "hostFile": ref("relativePath", "A file under the host's secrets directory (default /etc/virtsync/secrets), relative to it, without '..': root-owned, mode 0600.",
                    examples=["web-1/vnc"]),
}, required=["apiVersion", "kind", "name"], desc="A secret: its name and where its value is kept (exactly one of ageFile and hostFile), never the value.",
    oneOf=[{"required": ["ageFile"]}, {"required": ["hostFile"]}])

kinds = ["Host", "Network", "StoragePool", "VirtualMachine", "Settings", "Secret"]
schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://virtsync.dev/schemas/virtsync-v1.schema.json",
    "title": "virtsync spec document (apiVersion virtsync/v1)",
    "description": "One document of a virtsync spec; see specs/spec-v1.md. Checks across documents (references, uniqueness, capacity) are done by virtsync validate.",
    "type": "object",
    "required": ["apiVersion", "kind"],
    "properties": {
        "apiVersion": ref("apiVersion"),
        "kind": {"enum": kinds, "description": "The kind of document."},
    },
    "allOf": [
        {"if": {"properties": {"kind": {"const": k}}, "required": ["kind"]}, "then": ref(k)} for k in kinds
    ],
    "$defs": defs,
}
OUTPUT = pathlib.Path(__file__).resolve().parents[1] / "virtsync-v1.schema.json"


def render():
    """The schema as written to the file."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}")
