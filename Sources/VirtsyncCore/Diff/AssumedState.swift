extension ObservedState {
    /// The state libvirt would report had virtsync applied `desired` and converged: the base of
    /// a review plan (`plan --base --head`), computed without reading any host.
    ///
    /// Planning `desired` against it plans nothing: `Planner.plan(desired: d, observed: .assuming(d))`
    /// has no steps and no warnings or errors, for every spec the planner converges on. What it
    /// holds, per desired host (every host is reachable):
    ///
    /// - every network and pool of the spec, active and managed (in virtsync's inventory), with
    ///   the spec's model; values the spec leaves open (a network's bridge) stay open;
    /// - every volume of the spec, managed and confirmed, at `<pool path>/<name>`, as the adapter
    ///   reports it: no content, a clone's source as `.blank`, a seed's as `.generated` (the
    ///   inventory remembers it);
    /// - every domain of the spec, defined by virtsync (an `OwnershipMarker` with the spec's digest
    ///   and commit and the digest of its raw XML), running when `power` is `running` (live values
    ///   equal to the definition) and shut off otherwise.
    ///
    /// Nothing outside the spec is assumed: no unmanaged networks, pools or domains, and no
    /// volumes the spec uses without declaring (`existing: true`), which the planner never
    /// checks. What libvirt would choose is not guessed: interfaces without a MAC keep none, a domain
    /// without a machine type keeps none, and a domain without a UUID gets a placeholder
    /// (`00000000-0000-0000-0000-` and twelve digits of a digest of host and name).
    ///
    /// Volume capacity: the spec's `capacity`, except that a clone is at least as large as its
    /// source, as libvirt makes it (`virStorageVolCreateXMLFrom` raises a smaller or omitted
    /// capacity to the source's). A clone asked no smaller than its source, and every other
    /// volume, is therefore assumed at exactly the size the spec asks for, so an unchanged
    /// volume never plans a resize.
    ///
    /// The VMs of a multi-host spec are where placement puts them in an empty cluster (every
    /// host reachable, no VM running yet).
    public static func assuming(_ desired: DesiredState) -> ObservedState {
        let placement = ClusterPlacement.resolve(desired, observed: desired.emptyCluster)
        var out = ObservedState()
        for host in placement.desired.hosts {
            var built = AssumedHost.build(host, specDigest: desired.specDigest, commit: desired.commit, owner: desired.owner)
            for (name, home) in placement.evacuatedFrom {
                built.domains[name]?.marker?.evacuatedFrom = home
            }
            out.hosts[host.name] = built
        }
        return out
    }
}

/// Builds one host of `ObservedState.assuming`.
private enum AssumedHost {
    static func build(_ host: DesiredHost, specDigest: String, commit: String?, owner: String?) -> ObservedHost {
        var out = ObservedHost(name: host.name)
        for net in host.networks {
            out.networks[net.name] = ObservedNetwork(model: net, uuid: uuid(host.name, "network", net.name), active: true, managed: true, owner: owner,
                                                     hatch: .written(Hatch.leaves(net.extraXML, in: .network), complete: true))
        }
        for pool in host.pools {
            out.pools[pool.name] = ObservedPool(model: pool, uuid: uuid(host.name, "pool", pool.name), active: true, managed: true, owner: owner,
                                                hatch: .written(Hatch.leaves(pool.extraXML, in: .pool), complete: true))
        }
        for object in host.secretObjects {
            var usageVolume: String?
            if case .volume(let path) = object.usage { usageVolume = path }
            out.secretObjects[object.uuid] = ObservedSecretObject(uuid: object.uuid, usageVolume: usageVolume,
                                                                  marker: .init(secret: object.secret.name, digest: object.secret.digest,
                                                                                consumer: object.consumer, owner: owner))
        }
        let capacities = Capacities(host.volumes)
        let poolPaths = Dictionary(host.pools.map { ($0.name, normalizePath($0.path)) }, uniquingKeysWith: { a, _ in a })
        for volume in host.volumes {
            var model = volume
            model.content = nil
            model.capacity = capacities.assumed(volume.key)
            if case .clone = volume.source { model.source = .blank }   // a full copy has no backing store
            var imageDigest: String?
            if case .image(let image) = volume.source {
                model.source = .blank       // libvirt sees a plain volume; the inventory knows the image
                imageDigest = image.sha256
            }
            let path = "\(poolPaths[volume.pool] ?? "/\(volume.pool)")/\(volume.name)"
            out.volumes[volume.key] = ObservedVolume(model: model, path: path, managed: true, owner: owner, imageDigest: imageDigest)
        }
        for vm in host.domains {
            out.domains[vm.name] = domain(vm, host: host.name, specDigest: specDigest, commit: commit, owner: owner)
        }
        return out
    }

    /// A domain as the adapter would read it back after virtsync defined it from `vm`.
    static func domain(_ vm: DomainModel, host: String, specDigest: String, commit: String?, owner: String?) -> ObservedDomain {
        let uuid = vm.uuid ?? uuid(host, "domain", vm.name)
        var model = vm
        model.uuid = uuid
        model.maxMemory = DomainDiff.effectiveMaxMemory(vm, nil)
        model.maxVcpus = DomainDiff.effectiveMaxVcpus(vm, nil)
        // libvirt forces CD-ROMs read-only; power, restartForUpdates, the restart policy and the
        // raw XML are not read back from libvirt, so they are left at their defaults.
        for i in model.disks.indices where model.disks[i].cdrom { model.disks[i].readonly = true }
        model.power = .running
        model.restartForUpdates = false
        model.restart = RestartPolicy()
        model.extraXML = ExtraXML()
        model.graphicsPassword = nil
        let running = vm.power != .stopped
        let live = running
            ? LiveDomainValues(memory: vm.memory, maxMemory: model.maxMemory ?? vm.memory, vcpus: vm.vcpus,
                               maxVcpus: model.maxVcpus ?? vm.vcpus,
                               linkUp: Dictionary(vm.interfaces.compactMap { nic in nic.mac.map { ($0, nic.linkUp) } },
                                                  uniquingKeysWith: { a, _ in a }),
                               bandwidth: InterfaceBandwidth.byMAC(vm.interfaces))
            : nil
        let marker = OwnershipMarker(specDigest: specDigest, commit: commit, extraDigest: vm.extraXML.digest, owner: owner,
                                     graphicsPassword: vm.graphicsPassword?.markerValue)
        return ObservedDomain(model: model, uuid: uuid, state: vm.power == .paused ? .paused : running ? .running : .shutoff, live: live, marker: marker,
                              hatch: .written(Hatch.leaves(vm.extraXML)))
    }

    /// A placeholder UUID, the same for the same resource, plainly not one libvirt generated.
    static func uuid(_ host: String, _ kind: String, _ name: String) -> String {
        let digest = Digest.sha256Hex(Array("\(kind)\u{0}\(host)\u{0}\(name)".utf8))
        return "00000000-0000-0000-0000-" + digest.prefix(12)
    }

    /// Assumed capacities: the spec's, a clone raised to its source's (itself assumed).
    struct Capacities {
        private let byKey: [String: VolumeModel]

        init(_ volumes: [VolumeModel]) {
            byKey = Dictionary(volumes.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        }

        func assumed(_ key: String) -> ByteSize {
            var seen: Set<String> = []
            var size = ByteSize(bytes: 0)
            var current = key
            // Follow clone sources up the chain; the validator refuses cycles, the set stops one anyway.
            while let volume = byKey[current], seen.insert(current).inserted {
                size = max(size, volume.capacity)
                guard case .clone(let pool, let name) = volume.source else { break }
                current = "\(pool)/\(name)"
            }
            return size
        }
    }
}
