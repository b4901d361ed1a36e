import VirtsyncCore

/// A spec at two commits, for review plans: the base as it runs, and the pull request's head.
enum ReviewLab {
    static let baseCommit = "3c5e8a1f0d2b4c6e9a7f1b3d5c8e0a2f4b6d9c1e"
    static let baseDigest = "0b5e7c1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e"
    static let signer = "alice@example.com (ssh-ed25519 SHA256:Qm9vYmFyYmF6cXV4cXV1eA)"
    static let repository = "https://git.example.com/infra/lab.git (specs/lab)"

    static let dbRoot = VolumeModel(pool: "lab", name: "db-1-root.qcow2", capacity: .gib(10), format: .qcow2,
                                    source: .backing(pool: "lab", volume: "debian-12.qcow2"))
    static let dbData = VolumeModel(pool: "lab", name: "db-1-data.qcow2", capacity: .gib(20), format: .qcow2)
    static let cacheRoot = VolumeModel(pool: "lab", name: "cache-1-root.qcow2", capacity: .gib(4), format: .qcow2,
                                       source: .backing(pool: "lab", volume: "debian-12.qcow2"))
    static let web = DomainModel(name: "web-1", vcpus: 2, memory: .mib(512), maxMemory: .gib(1),
                                 disks: [Lab.root("web-1-root.qcow2")],
                                 interfaces: [InterfaceModel(source: .network("labnet"), mac: "52:54:00:aa:00:01")])
    static let db = DomainModel(name: "db-1", vcpus: 2, memory: .gib(2),
                                disks: [Lab.root("db-1-root.qcow2"),
                                        DiskModel(target: "vdb", source: .volume(pool: "lab", volume: "db-1-data.qcow2"))],
                                interfaces: [InterfaceModel(source: .network("labnet"), mac: "52:54:00:aa:00:02")],
                                restartForUpdates: true)
    static let cache = DomainModel(name: "cache-1", memory: .mib(256), disks: [Lab.root("cache-1-root.qcow2")],
                                   interfaces: [InterfaceModel(source: .network("labnet"))])
    static let batch = DomainModel(name: "batch-1", memory: .mib(256), interfaces: [InterfaceModel(source: .network("labnet"))],
                                   power: .stopped)

    /// The lab at the base commit: four VMs (one stopped) on one network and one pool.
    static func base(settings: SpecSettings) -> DesiredState {
        let host = DesiredHost(name: "local", networks: [Lab.labnet], pools: [Lab.pool],
                               volumes: [Lab.base, Lab.webRoot, dbRoot, dbData, cacheRoot], domains: [web, db, cache, batch])
        return DesiredState(hosts: [host], settings: settings, specDigest: baseDigest, commit: baseCommit)
    }

    /// The base with `change` applied to its host, as the head commit.
    static func head(settings: SpecSettings, _ change: (inout DesiredHost) -> Void) -> DesiredState {
        var state = base(settings: settings)
        change(&state.hosts[0])
        state.specDigest = PlanCase.specDigest
        state.commit = PlanCase.commit
        return state
    }
}

extension PlanCase {
    /// A pull request, reviewed without a host: web-1 gets more memory (live), db-1's data disk
    /// moves to another bus (a restart, which restartForUpdates allows), the data volume is made
    /// smaller (refused), cache-1 and its root volume leave the spec (deleted: pruning and
    /// deleteVolumesWithVM are on) and a network is added. Signed, from a named repository.
    static let reviewPullRequest: PlanCase = {
        let settings = SpecSettings(prune: true, deleteVolumesWithVM: true)
        let head = ReviewLab.head(settings: settings) { host in
            host.domains[0].memory = .mib(768)
            host.domains[1].disks[1].bus = .scsi
            host.domains[1].disks[1].target = "sdb"
            host.volumes[3].capacity = .gib(10)
            host.domains.remove(at: 2)
            host.volumes.remove(at: 4)
            host.networks.append(NetworkModel(name: "storage", mode: .routed, ipv4: IPv4Config(address: "10.50.0.1", prefix: 24)))
        }
        return PlanCase("review-pull-request", base: ReviewLab.base(settings: settings), head: head,
                        signer: ReviewLab.signer, repository: ReviewLab.repository)
    }()

    /// A pull request without pruning: cache-1 leaves the spec and is kept (a note); a new VM
    /// with a cloned root disk is created and started; the stopped batch-1 gets more memory (no
    /// disruption); web-1 gets a cloud-init seed (a new CD-ROM: next boot).
    static let reviewWithoutPrune: PlanCase = {
        let settings = SpecSettings()
        let head = ReviewLab.head(settings: settings) { host in
            host.domains.remove(at: 2)
            host.domains[2].memory = .mib(512)
            let appRoot = VolumeModel(pool: "lab", name: "app-1-root.qcow2", capacity: .gib(20), format: .qcow2,
                                      source: .clone(pool: "lab", volume: "debian-12.qcow2"))
            host.volumes += [appRoot, Lab.seed]
            host.domains[0].disks.append(Lab.seedDisk(Lab.seed))
            host.domains.append(DomainModel(name: "app-1", vcpus: 2, memory: .gib(1), disks: [Lab.root(appRoot.name)],
                                            interfaces: [InterfaceModel(source: .network("labnet"))]))
        }
        return PlanCase("review-without-prune", base: ReviewLab.base(settings: settings), head: head)
    }()
}
