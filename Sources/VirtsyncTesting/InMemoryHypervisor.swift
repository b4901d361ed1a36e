import Foundation
import VirtsyncCore
import VirtsyncEngine

/// An honest in-memory hypervisor: it applies what it is told to an `ObservedHost`, the way
/// libvirt would (generated MACs and UUIDs, refusal to touch unmarked domains), so a second
/// plan after an apply must be empty. Stopped domains carry a stop reason and whether virtsync
/// stopped them, as the libvirt adapter reports them; `crash(domain:)` and `destroyByHand(domain:)`
/// stop one behind virtsync's back. For unit tests of the core and the engine.
public final class InMemoryHypervisor: HypervisorSession, @unchecked Sendable {
    public let uri: String
    /// The host's identity (its libvirt host UUID, in a real adapter): the URI unless given.
    public let hostKey: String
    private let lock = NSLock()
    private var state: ObservedHost
    private var nextID = 1
    /// Resource names (`kind name`) whose next `apply` fails, for failure tests.
    private var failing: Set<String> = []
    /// Every applied step id, in order.
    public private(set) var log: [String] = []

    public init(uri: String = "memory:///", host: String = "local", state: ObservedHost? = nil, hostKey: String? = nil) {
        self.uri = uri
        self.hostKey = hostKey ?? uri
        self.state = state ?? ObservedHost(name: host)
    }

    /// The current state.
    public var snapshot: ObservedHost { lock.withLock { state } }

    /// Changes the state directly (drift, unmanaged resources made by "someone else").
    public func mutate(_ change: (inout ObservedHost) -> Void) { lock.withLock { change(&state) } }

    /// Makes the next apply to this resource fail.
    public func failNext(_ ref: ResourceRef) { lock.withLock { _ = failing.insert(ref.description) } }

    /// The guest crashes: the domain shuts off with reason `crashed`, as libvirt reports a
    /// guest that died. Nothing happens to a domain that does not exist.
    public func crash(domain name: String) { stopOutside(name, reason: .crashed) }

    /// Someone destroys the domain by hand (`virsh destroy`), outside virtsync: it shuts off
    /// with reason `destroyed`.
    public func destroyByHand(domain name: String) { stopOutside(name, reason: .destroyed) }

    /// The guest shuts itself down (`poweroff` inside it): reason `shutdown`, not marked.
    public func shutDownFromGuest(domain name: String) { stopOutside(name, reason: .shutdown) }

    private func stopOutside(_ name: String, reason: StopReason) {
        lock.withLock {
            guard state.domains[name] != nil else { return }
            state.domains[name]?.state = .shutoff
            state.domains[name]?.live = nil
            state.domains[name]?.stopReason = reason
            state.domains[name]?.stoppedByVirtsync = false
        }
    }

    public func observe(host: String) async throws -> ObservedHost {
        lock.withLock {
            var s = state
            s.name = host
            for (k, v) in s.volumes { s.volumes[k]?.managed = false; if case .generated = v.model.source { s.volumes[k]?.model.source = .blank } }
            for k in s.networks.keys { s.networks[k]?.managed = false }
            for k in s.pools.keys { s.pools[k]?.managed = false }
            return s
        }
    }

    public func apply(_ step: PlanStep) async throws {
        try lock.withLock {
            if failing.remove(step.resource.description) != nil {
                throw HypervisorError(code: .rejected, message: "injected failure", operation: "\(step.action.rawValue) \(step.resource)")
            }
            log.append(step.id)
            try applyLocked(step)
        }
    }

    /// Moves the domain to `destination` (another `InMemoryHypervisor`), as libvirt's
    /// peer-to-peer migration with `PERSIST_DEST | UNDEFINE_SOURCE` leaves it: defined there
    /// only, in the same run state, with the migration's marker. An injected failure leaves it
    /// here, untouched.
    public func migrate(_ step: PlanStep, _ migration: Migration, destination: any HypervisorSession) async throws -> MigrationReport {
        guard let target = destination as? InMemoryHypervisor, target !== self else {
            throw fail(step, "the destination is not another in-memory host")
        }
        let moving: ObservedDomain = try lock.withLock {
            if failing.remove(step.resource.description) != nil {
                throw HypervisorError(code: .rejected, message: "injected failure", operation: "migrate \(step.resource)")
            }
            guard let domain = state.domains[step.resource.name], domain.marker != nil else {
                throw fail(step, "no managed domain \(step.resource.name)", .notFound)
            }
            log.append(step.id)
            return domain
        }
        try target.lock.withLock {
            // As the libvirt adapter: a stopped copy on the destination is replaced, a running one refuses.
            if let existing = target.state.domains[step.resource.name], existing.state.isActive || existing.marker == nil {
                throw fail(step, "domain \(step.resource.name) already exists on \(migration.to)")
            }
            var arrived = moving
            arrived.marker = migration.marker
            target.state.domains[step.resource.name] = arrived
        }
        lock.withLock { state.domains[step.resource.name] = nil }
        return MigrationReport(downtimeMilliseconds: migration.live ? 0 : nil, seconds: 0)
    }

    private func fail(_ step: PlanStep, _ message: String, _ code: HypervisorError.Code = .rejected) -> HypervisorError {
        HypervisorError(code: code, message: message, operation: "\(step.action.rawValue) \(step.resource)")
    }

    private func applyLocked(_ step: PlanStep) throws {
        let name = step.resource.name
        switch (step.resource.kind, step.action, step.payload) {
        case (.pool, .create, .pool(let p)), (.pool, .replace, .pool(let p)), (.pool, .update, .pool(let p)):
            // As libvirt: an rbd or iscsi pool reads its key from the secret object when it starts.
            if let auth = p.auth, state.secretObjects[auth.secretUUID] == nil {
                throw fail(step, "no secret object with UUID \(auth.secretUUID) (pool \(name) authenticates with it)", .notFound)
            }
            state.pools[name] = ObservedPool(model: p, uuid: state.pools[name]?.uuid ?? uuid(), active: true,
                                             hatch: .written(Hatch.leaves(p.extraXML, in: .pool), complete: true))
        case (.pool, .start, _):
            if let auth = state.pools[name]?.model.auth, state.secretObjects[auth.secretUUID] == nil {
                throw fail(step, "no secret object with UUID \(auth.secretUUID) (pool \(name) authenticates with it)", .notFound)
            }
            state.pools[name]?.active = true
        case (.pool, .delete, _):
            state.pools[name] = nil
            for key in state.volumes.keys where key.hasPrefix(name + "/") { state.volumes[key] = nil }
        case (.network, .create, .network(let n)), (.network, .replace, .network(let n)), (.network, .update, .network(let n)):
            var n = n
            // Parts the spec leaves open are libvirt's: a redefinition keeps them, as the adapter does.
            if n.ipv6 == nil { n.ipv6 = state.networks[name]?.model.ipv6 }
            n.dns = n.dns.map { $0.filled(from: state.networks[name]?.model.dns) } ?? state.networks[name]?.model.dns
            n = n.keepingOpenParts(of: state.networks[name]?.model)
            state.networks[name] = ObservedNetwork(model: n, uuid: state.networks[name]?.uuid ?? uuid(), active: true,
                                                   hatch: .written(Hatch.leaves(n.extraXML, in: .network), complete: true))
        case (.network, .start, _):
            state.networks[name]?.active = true
        case (.network, .delete, _):
            state.networks[name] = nil
        case (.volume, .create, .volume(let v)):
            guard state.pools[v.pool]?.active == true else { throw fail(step, "pool \(v.pool) is not active", .notFound) }
            var model = v
            model.content = nil
            if case .generated = v.source { model.source = .blank }
            if case .image = v.source {
                // As libvirt reports it: a plain volume as large as the image or the spec's size.
                guard let local = v.localImage else { throw fail(step, "the image was not fetched") }
                model.source = .blank
                model.capacity = ByteSize(bytes: max(v.capacity.bytes, local.virtualSize))
                model.localImage = nil
            }
            state.volumes[name] = ObservedVolume(model: model, path: "/pools/\(v.pool)/\(v.name)")
        case (.volume, .update, .volume(let v)):
            guard state.volumes[name] != nil else { throw fail(step, "no such volume", .notFound) }
            state.volumes[name]?.model.capacity = v.capacity
        case (.volume, .delete, _):
            state.volumes[name] = nil
        case (.secret, .create, .secretObject(let s)), (.secret, .update, .secretObject(let s)):
            guard s.secret.value != nil else { throw fail(step, "the secret was not read") }
            var usageVolume: String?
            if case .volume(let path) = s.usage { usageVolume = path }
            state.secretObjects[s.uuid] = ObservedSecretObject(uuid: s.uuid, usageVolume: usageVolume,
                                                               marker: .init(secret: s.secret.name, digest: s.secret.digest, consumer: s.consumer, owner: s.owner))
        case (.secret, .delete, _):
            state.secretObjects[SecretObjectModel.uuid(consumer: name)] = nil
        case (.domain, .create, .domain(let d, _, let marker)):
            guard state.domains[name] == nil else { throw fail(step, "domain already exists") }
            state.domains[name] = ObservedDomain(model: observable(d, old: nil), uuid: d.uuid ?? uuid(), state: .shutoff, marker: marker,
                                                 stopReason: .unknown, hatch: .written(Hatch.leaves(d.extraXML)))
        case (.domain, .update, .domain(let d, let liveOps, let marker)):
            guard let old = state.domains[name] else { throw fail(step, "no such domain", .notFound) }
            guard old.marker != nil else { throw fail(step, "not managed by virtsync") }
            var new = old
            new.model = observable(d, old: old.model)
            new.marker = marker
            new.hatch = .written(Hatch.leaves(d.extraXML))
            if var live = new.live {
                for op in liveOps {
                    switch op {
                    case .setMemory(let m): live.memory = m
                    case .setVcpus(let n): live.vcpus = n
                    case .setLink(let mac, let up): live.linkUp[mac] = up
                    case .setGraphicsPassword, .setIOTune: break
                    case .setInterfaceBandwidth(let mac, let shaping): live.bandwidth[mac] = shaping.isEmpty ? nil : shaping
                    case .pinVcpu(let vcpu, let cpuset):
                        live.vcpuPins.removeAll { $0.vcpu == vcpu }
                        live.vcpuPins.append(VCPUPin(vcpu: vcpu, cpuset: cpuset))
                        live.vcpuPins.sort { $0.vcpu < $1.vcpu }
                    case .pinEmulator(let cpuset): live.emulatorPin = cpuset
                    case .attachDisk: break
                    case .attachInterface(_, let index):
                        if index < new.model.interfaces.count, let mac = new.model.interfaces[index].mac {
                            live.linkUp[mac] = new.model.interfaces[index].linkUp
                        }
                    }
                }
                new.live = live
            }
            state.domains[name] = new
        case (.domain, .start, _):
            guard let d = state.domains[name] else { throw fail(step, "no such domain", .notFound) }
            guard d.marker != nil else { throw fail(step, "not managed by virtsync") }
            if !d.state.isActive {
                state.domains[name]?.state = .running
                state.domains[name]?.live = liveValues(d.model)
            }
            state.domains[name]?.stopReason = nil
            state.domains[name]?.stoppedByVirtsync = false
        case (.domain, .stop, _):
            guard state.domains[name]?.marker != nil else { throw fail(step, "not managed by virtsync") }
            state.domains[name]?.state = .shutoff
            state.domains[name]?.live = nil
            state.domains[name]?.stopReason = .shutdown
            state.domains[name]?.stoppedByVirtsync = true
        case (.domain, .restart, _):
            guard let d = state.domains[name], d.marker != nil else { throw fail(step, "not managed by virtsync") }
            state.domains[name]?.state = .running
            state.domains[name]?.live = liveValues(d.model)
            state.domains[name]?.stopReason = nil
            state.domains[name]?.stoppedByVirtsync = false
        case (.domain, .suspend, _), (.domain, .resume, _):
            guard let d = state.domains[name], d.marker != nil else { throw fail(step, "not managed by virtsync") }
            guard d.state.isActive else { throw fail(step, "domain is not running", .rejected) }
            state.domains[name]?.state = step.action == .suspend ? .paused : .running
        case (.domain, .delete, _):
            guard state.domains[name]?.marker != nil else { throw fail(step, "not managed by virtsync") }
            state.domains[name] = nil
        case (.domain, .adopt, .domain(_, _, let marker)):
            guard let d = state.domains[name] else { throw fail(step, "no such domain", .notFound) }
            if let held = d.marker, held.owner != nil, held.owner != marker.owner {
                throw fail(step, "owned by \(held.owner ?? "")")
            }
            state.domains[name]?.marker = marker
        case (.network, .adopt, .adopted(let uuid)):
            guard state.networks[name]?.uuid == uuid else { throw fail(step, "not the network that was planned", .notFound) }
        case (.pool, .adopt, .adopted(let uuid)):
            guard state.pools[name]?.uuid == uuid else { throw fail(step, "not the pool that was planned", .notFound) }
        case (.volume, .adopt, .adopted(let path)):
            guard state.volumes[name]?.path == path else { throw fail(step, "not the volume that was planned", .notFound) }
        default:
            throw fail(step, "unsupported step")
        }
    }

    /// What libvirt would report back for a definition: generated MACs, power and
    /// restart policy not observable.
    private func observable(_ d: DomainModel, old: DomainModel?) -> DomainModel {
        var m = d
        m.power = .running
        m.restartForUpdates = false
        m.restart = RestartPolicy()
        m.extraXML = ExtraXML()
        m.graphicsPassword = nil   // libvirt shows it only to secure readers; the marker has its digest
        m.maxMemory = d.maxMemory ?? d.memory
        m.maxVcpus = d.maxVcpus ?? d.vcpus
        m.machine = d.machine ?? "pc-q35-7.2"
        m.platform = d.platform.keeping(old?.platform)
        m = Self.keepingOpenTuning(m, old: old)
        for i in m.interfaces.indices where m.interfaces[i].mac == nil {
            m.interfaces[i].mac = String(format: "52:54:00:00:%02x:%02x", nextID / 256 % 256, nextID % 256)
            nextID += 1
        }
        return m
    }

    private func liveValues(_ d: DomainModel) -> LiveDomainValues {
        LiveDomainValues(memory: d.memory, maxMemory: d.maxMemory ?? d.memory, vcpus: d.vcpus, maxVcpus: d.maxVcpus ?? d.vcpus,
                         linkUp: Dictionary(d.interfaces.compactMap { n in n.mac.map { ($0, n.linkUp) } }, uniquingKeysWith: { a, _ in a }),
                         vcpuPins: d.cpu.vcpuPins ?? [], emulatorPin: d.cpu.emulatorPin, bandwidth: InterfaceBandwidth.byMAC(d.interfaces))
    }

    private func uuid() -> String {
        nextID += 1
        return String(format: "00000000-0000-4000-8000-%012x", nextID)
    }
}

/// Hands out in-memory hypervisors by URI (one per host).
public final class InMemoryConnector: HypervisorConnector, @unchecked Sendable {
    private let lock = NSLock()
    private var hosts: [String: InMemoryHypervisor] = [:]
    /// URIs that refuse connections (an unreachable host).
    public var unreachable: Set<String> = []

    public init() {}

    /// The hypervisor behind `uri`, created on first use.
    public func hypervisor(_ uri: String) -> InMemoryHypervisor {
        lock.withLock {
            if let h = hosts[uri] { return h }
            let h = InMemoryHypervisor(uri: uri)
            hosts[uri] = h
            return h
        }
    }

    public func connect(host: String, uri: String) async throws -> any HypervisorSession {
        if lock.withLock({ unreachable.contains(uri) }) {
            throw HypervisorError(code: .unreachable, message: "connection refused", operation: "connect \(uri)")
        }
        return hypervisor(uri)
    }
}
