/// Hand-written JSON shapes for the enums that appear in saved plans, so that the plan JSON
/// (`format_version` 1) has readable, stable keys instead of the compiler's `_0`:
///
/// - `InterfaceSource`: `{"network": "lab"}`, `{"bridge": "br0"}` or `{"direct": {"device": "eth0", "mode": "bridge"}}`
/// - `LiveOperation`: `{"set_memory": {"bytes": N}}`, `{"set_vcpus": 2}`, `{"set_link": {"mac": …, "up": true}}`
/// - `StepPayload`: `{"network": {…}}`, `{"pool": {…}}`, `{"volume": {…}}`,
///   `{"domain": {"model": {…}, "live": […], "marker": {…}}}`, `{"migration": {…}}`, or `{}` for none

private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// The single key of a one-key object, for decoding tagged unions.
private func onlyKey(_ c: KeyedDecodingContainer<Key>, _ type: String) throws -> String {
    guard c.allKeys.count == 1, let key = c.allKeys.first?.stringValue else {
        throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "\(type): expected an object with exactly one key"))
    }
    return key
}

extension InterfaceSource {
    private struct Direct: Codable { var device: String; var mode: DirectMode }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        switch try onlyKey(c, "interface source") {
        case "network": self = .network(try c.decode(String.self, forKey: Key("network")))
        case "bridge": self = .bridge(try c.decode(String.self, forKey: Key("bridge")))
        case "direct":
            let direct = try c.decode(Direct.self, forKey: Key("direct"))
            self = .direct(device: direct.device, mode: direct.mode)
        case let other: throw DecodingError.dataCorruptedError(forKey: Key(other), in: c, debugDescription: "unknown interface source \(other)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .network(let n): try c.encode(n, forKey: Key("network"))
        case .bridge(let b): try c.encode(b, forKey: Key("bridge"))
        case .direct(let device, let mode): try c.encode(Direct(device: device, mode: mode), forKey: Key("direct"))
        }
    }
}

extension LiveOperation {
    private struct Link: Codable { var mac: String; var up: Bool }
    private struct Limits: Codable { var target: String; var limits: IOTune }
    private struct Pin: Codable { var vcpu: Int; var cpuset: CPUSet }
    private struct Shaping: Codable { var mac: String; var bandwidth: InterfaceBandwidth }
    private struct Attached: Codable { var mac: String?; var index: Int }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        switch try onlyKey(c, "live operation") {
        case "setMemory": self = .setMemory(try c.decode(ByteSize.self, forKey: Key("setMemory")))
        case "setVcpus": self = .setVcpus(try c.decode(Int.self, forKey: Key("setVcpus")))
        case "setLink":
            let link = try c.decode(Link.self, forKey: Key("setLink"))
            self = .setLink(mac: link.mac, up: link.up)
        case "setGraphicsPassword": self = .setGraphicsPassword
        case "setIOTune":
            let limits = try c.decode(Limits.self, forKey: Key("setIOTune"))
            self = .setIOTune(target: limits.target, limits.limits)
        case "pinVcpu":
            let pin = try c.decode(Pin.self, forKey: Key("pinVcpu"))
            self = .pinVcpu(vcpu: pin.vcpu, cpuset: pin.cpuset)
        case "pinEmulator": self = .pinEmulator(try c.decode(CPUSet.self, forKey: Key("pinEmulator")))
        // Interface options (bandwidth changed live).
        case "setInterfaceBandwidth":
            let shaping = try c.decode(Shaping.self, forKey: Key("setInterfaceBandwidth"))
            self = .setInterfaceBandwidth(mac: shaping.mac, shaping.bandwidth)
        // Hot-plug.
        case "attachDisk": self = .attachDisk(target: try c.decode(String.self, forKey: Key("attachDisk")))
        case "attachInterface":
            let nic = try c.decode(Attached.self, forKey: Key("attachInterface"))
            self = .attachInterface(mac: nic.mac, index: nic.index)
        case let other: throw DecodingError.dataCorruptedError(forKey: Key(other), in: c, debugDescription: "unknown live operation \(other)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .setMemory(let m): try c.encode(m, forKey: Key("setMemory"))
        case .setVcpus(let n): try c.encode(n, forKey: Key("setVcpus"))
        case .setLink(let mac, let up): try c.encode(Link(mac: mac, up: up), forKey: Key("setLink"))
        case .setGraphicsPassword: try c.encode(true, forKey: Key("setGraphicsPassword"))
        case .setIOTune(let target, let limits): try c.encode(Limits(target: target, limits: limits), forKey: Key("setIOTune"))
        case .pinVcpu(let vcpu, let cpuset): try c.encode(Pin(vcpu: vcpu, cpuset: cpuset), forKey: Key("pinVcpu"))
        case .pinEmulator(let cpuset): try c.encode(cpuset, forKey: Key("pinEmulator"))
        // Interface options (bandwidth changed live).
        case .setInterfaceBandwidth(let mac, let bandwidth):
            try c.encode(Shaping(mac: mac, bandwidth: bandwidth), forKey: Key("setInterfaceBandwidth"))
        // Hot-plug.
        case .attachDisk(let target): try c.encode(target, forKey: Key("attachDisk"))
        case .attachInterface(let mac, let index): try c.encode(Attached(mac: mac, index: index), forKey: Key("attachInterface"))
        }
    }
}

extension StepPayload {
    private struct Domain: Codable { var model: DomainModel; var live: [LiveOperation]; var marker: OwnershipMarker }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        if c.allKeys.isEmpty { self = .none; return }
        switch try onlyKey(c, "step payload") {
        case "network": self = .network(try c.decode(NetworkModel.self, forKey: Key("network")))
        case "pool": self = .pool(try c.decode(PoolModel.self, forKey: Key("pool")))
        case "volume": self = .volume(try c.decode(VolumeModel.self, forKey: Key("volume")))
        case "secretObject": self = .secretObject(try c.decode(SecretObjectModel.self, forKey: Key("secretObject")))
        case "domain":
            let d = try c.decode(Domain.self, forKey: Key("domain"))
            self = .domain(d.model, live: d.live, marker: d.marker)
        case "migration": self = .migration(try c.decode(Migration.self, forKey: Key("migration")))
        case "adopted": self = .adopted(uuid: try c.decode(String.self, forKey: Key("adopted")))
        case let other: throw DecodingError.dataCorruptedError(forKey: Key(other), in: c, debugDescription: "unknown payload \(other)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .network(let n): try c.encode(n, forKey: Key("network"))
        case .pool(let p): try c.encode(p, forKey: Key("pool"))
        case .volume(let v): try c.encode(v, forKey: Key("volume"))
        case .secretObject(let s): try c.encode(s, forKey: Key("secretObject"))
        case .domain(let m, let live, let marker): try c.encode(Domain(model: m, live: live, marker: marker), forKey: Key("domain"))
        case .migration(let m): try c.encode(m, forKey: Key("migration"))
        case .adopted(let uuid): try c.encode(uuid, forKey: Key("adopted"))
        case .none: break
        }
    }
}
