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
}, required=["apiVersion", "kind", "name"], desc="A KVM host and how to reach its libvirt.")

lease = obj({
    "mac": ref("mac", "The guest's MAC."),
    "ip": ref("ipv4Address", "The address leased to it, inside the subnet."),
    "name": {"type": "string", "pattern": r"^[A-Za-z0-9._:-]{1,253}$", "description": "Host name for the lease."},
}, required=["mac", "ip"], desc="A static DHCP lease.")

def hatch(parent, key, owned, examples, disruption):
    """The escape hatch of a network or pool: `xml: {<key>: fragment}`."""
    return obj({key: {"type": "string",
                      "description": f"Raw XML placed inside {parent} at each element's path, for what the model has no field "
                                     f"for (e.g. {examples}). Elements the model owns ({owned}) are refused naming their field. "
                                     f"Compared with the definition in canonical form; {disruption}",
                      "not": {"pattern": r"\(\(secret"}}},
               desc=f"Escape hatch: raw libvirt XML for the {key}.")

defs["Network"] = obj({
    **envelope("Network"),
    "name": ref("name", "The libvirt network name."),
    "hosts": ref("hostList", "Hosts to create the network on; default: every host."),
    "mode": {"enum": ["nat", "routed", "isolated", "bridge"], "default": "nat",
             "description": "nat: NAT to the uplink; routed: no NAT; isolated: guests and host only; bridge: an existing host bridge."},
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
    "adopt": adopt("network"),
    "xml": hatch("<network>", "network", "<name>, <uuid>, <forward>, <bridge>, an IPv4 <ip>",
                 "<mtu size='9000'/>, <dns><txt name='x' value='y'/></dns>, <ip family='ipv6'>",
                 "a change to an active network restarts it."),
}, required=["apiVersion", "kind", "name"], desc="A libvirt virtual network.",
    allOf=[
        {"if": {"properties": {"mode": {"const": "bridge"}}, "required": ["mode"]},
         "then": {"required": ["bridge"], "not": {"required": ["ipv4"]}}},
    ])

volume_common = {
    "size": ref("size", "Capacity of the new volume."),
    "format": {"enum": ["qcow2", "raw"], "description": "Image format; default qcow2 (raw in logical pools)."},
    "backing": ref("volumeRef", "Create a qcow2 overlay on this volume (pool/volume)."),
    "clone": ref("volumeRef", "Create the volume as a full copy of this one (pool/volume), once."),
}
not_both = {"not": {"required": ["backing", "clone"]}}
backing_qcow2 = {"if": {"required": ["backing", "format"]}, "then": {"properties": {"format": {"const": "qcow2"}}}}

encrypted_blank = {"if": {"required": ["encryptionSecret"]},
                   "then": {"allOf": [{"not": {"required": [k]}} for k in ["backing", "clone", "adopt"]]}}

defs["PoolVolume"] = obj({
    "name": ref("name", "The volume's name in the pool."),
    **volume_common,
    "adopt": adopt("volume"),
    "encryptionSecret": ref("name", "Create the volume LUKS-encrypted (raw: a LUKS image; qcow2: qcow2 with LUKS encryption), the value of this Secret (without one final line break) being its passphrase, kept in a private libvirt secret object on every host of the pool. Disks that attach the volume open it. Only for a blank volume: not with backing, clone or adopt; only in dir and netfs pools. The passphrase of an existing volume is never changed."),
}, required=["name", "size"], desc="A volume virtsync creates in the pool.", allOf=[not_both, backing_qcow2, encrypted_blank])

defs["StoragePool"] = obj({
    **envelope("StoragePool"),
    "name": ref("name", "The libvirt pool name."),
    "hosts": ref("hostList", "Hosts to define the pool on; default: every host."),
    "type": {"enum": ["dir", "logical", "netfs"], "default": "dir",
             "description": "dir: a directory; logical: an LVM volume group; netfs: an NFS export."},
    "path": ref("absolutePath", "dir: the directory (required); netfs: the mount point (required); logical: default /dev/<volumeGroup>."),
    "volumeGroup": ref("name", "logical only: the volume group; default: the pool name."),
    "devices": {"type": "array", "items": ref("absolutePath"), "description": "logical only: physical volumes."},
    "source": obj({
        "host": {"type": "string", "pattern": r"^[A-Za-z0-9._:-]{1,253}$", "description": "The NFS server."},
        "dir": ref("absolutePath", "The exported directory."),
    }, required=["host", "dir"], desc="netfs only: the NFS export."),
    "autostart": {"type": "boolean", "default": True, "description": "Start the pool when the host boots."},
    "shared": {"type": "boolean", "default": False,
               "description": "Every host of the pool sees the same storage at the same path: disks in it are not copied when their VM migrates, and its volumes are created (and pruned) only by its first host in name order."},
    "volumes": {"type": "array", "items": ref("PoolVolume"), "description": "Volumes virtsync creates in this pool (in a shared pool: once, by its first host)."},
    "adopt": adopt("pool"),
    "xml": hatch("<pool>", "pool", "<name>, <uuid>, <target><path>, the source's <name>, <device>, <host> and <dir>",
                 "<target><permissions><mode>0750</mode></permissions></target>, <source><format type='nfs'/></source>",
                 "a change to an active pool restarts it."),
}, required=["apiVersion", "kind", "name"], desc="A libvirt storage pool and its managed volumes.",
    allOf=[
        {"if": {"properties": {"type": {"const": "logical"}}, "required": ["type"]},
         "then": {"not": {"required": ["source"]},
                  "properties": {"volumes": {"items": {"properties": {"format": {"const": "raw"}},
                                                       "allOf": [{"not": {"required": ["backing"]}},
                                                                 {"not": {"required": ["encryptionSecret"]}}]}}}},
         "else": {"required": ["path"], "allOf": [{"not": {"required": ["volumeGroup"]}}, {"not": {"required": ["devices"]}}]}},
        {"if": {"properties": {"type": {"const": "netfs"}}, "required": ["type"]},
         "then": {"required": ["source"]},
         "else": {"not": {"required": ["source"]}}},
    ])

disk = obj({
    "volume": ref("volumeRef", "A volume of a pool of the spec (pool/volume)."),
    "file": ref("absolutePath", "An image on the host, outside any pool."),
    **volume_common,
    "existing": {"type": "boolean", "default": False,
                 "description": "The volume exists already and is not managed by virtsync (never created or deleted)."},
    "bus": {"enum": ["virtio", "sata", "scsi", "ide"], "description": "Disk bus; default virtio (sata for a CD-ROM)."},
    "target": {"type": "string", "pattern": r"^(vd|sd|hd)[a-z]{1,6}$",
               "description": "Guest device name; default: the next free vd*/sd*/hd* name of the bus."},
    "cdrom": {"type": "boolean", "default": False, "description": "A CD-ROM drive."},
    "readonly": {"type": "boolean", "description": "Attach read-only; default true for a CD-ROM, else false."},
}, desc="A disk: exactly one of volume or file.",
    oneOf=[{"required": ["volume"]}, {"required": ["file"]}],
    allOf=[
        not_both, backing_qcow2,
        {"if": {"required": ["file"]},
         "then": {"allOf": [{"not": {"required": [k]}} for k in ["size", "format", "backing", "clone", "existing"]]}},
        {"if": {"properties": {"existing": {"const": True}}, "required": ["existing"]},
         "then": {"allOf": [{"not": {"required": [k]}} for k in ["size", "format", "backing", "clone"]]}},
        {"if": {"not": {"required": ["size"]}},
         "then": {"allOf": [{"not": {"required": [k]}} for k in ["format", "backing", "clone"]]}},
        {"if": {"properties": {"cdrom": {"const": True}}, "required": ["cdrom"]},
         "then": {"not": {"properties": {"bus": {"const": "virtio"}}, "required": ["bus"]}}},
    ])

nic = obj({
    "network": ref("name", "A Network of the spec."),
    "bridge": ref("bridgeName", "An existing host bridge."),
    "mac": ref("mac", "MAC address; default: generated by libvirt, then kept."),
    "model": {"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,64}$", "default": "virtio", "description": "NIC model."},
    "link": {"enum": ["up", "down"], "default": "up", "description": "Link state; changed live."},
}, desc="A network interface: exactly one of network or bridge.",
    oneOf=[{"required": ["network"]}, {"required": ["bridge"]}])

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
    "description": "Remote display on 127.0.0.1: none, vnc or spice; or a mapping {type, passwordSecret} for a display with a password. Default: none.",
    "default": "none",
    "oneOf": [
        graphics_type,
        obj({
            "type": graphics_type,
            "passwordSecret": ref("name", "The display's password: the value of this Secret. A changed password is applied live to a running VM."),
        }, required=["type"], desc="A display with a password.",
            allOf=[{"if": {"properties": {"type": {"const": "none"}}, "required": ["type"]},
                    "then": {"not": {"required": ["passwordSecret"]}}}]),
    ],
}

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
    "cpu": {"enum": ["host-passthrough", "host-model", "maximum"], "description": "Guest CPU mode; default: libvirt's."},
    "power": {"enum": ["running", "stopped"], "default": "running", "description": "Desired power state, reconciled on every pass."},
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
