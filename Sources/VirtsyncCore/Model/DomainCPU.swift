/// What libvirt does when the host cannot provide the named CPU model exactly.
public enum CPUFallback: String, Codable, Sendable, CaseIterable {
    /// Use the closest model the host supports.
    case allow
    /// Refuse to start.
    case forbid
}

/// A named guest CPU model (`mode: custom`), e.g. `EPYC-Rome`, `qemu64`.
public struct CPUModelChoice: Hashable, Codable, Sendable {
    public var name: String
    /// `nil` leaves libvirt's default (`allow`) and is not compared.
    public var fallback: CPUFallback?

    public init(name: String, fallback: CPUFallback? = nil) {
        self.name = name
        self.fallback = fallback
    }
}

/// How a CPU feature flag is set.
public enum CPUFeaturePolicy: String, Codable, Sendable, CaseIterable {
    /// The guest gets the feature; the VM refuses to start without it.
    case require
    /// The guest never sees the feature.
    case disable
}

/// One CPU feature flag of the guest CPU.
public struct CPUFeature: Hashable, Codable, Sendable {
    public var name: String
    public var policy: CPUFeaturePolicy

    public init(name: String, policy: CPUFeaturePolicy) {
        self.name = name
        self.policy = policy
    }
}

/// The guest CPU topology; the product of its four numbers is the VM's maximum vCPU count.
public struct CPUTopology: Hashable, Codable, Sendable, CustomStringConvertible {
    public var sockets: Int
    public var dies: Int
    public var cores: Int
    public var threads: Int

    public init(sockets: Int, dies: Int = 1, cores: Int, threads: Int) {
        self.sockets = sockets
        self.dies = dies
        self.cores = cores
        self.threads = threads
    }

    /// The number of vCPUs the topology describes.
    public var vcpus: Int { sockets * dies * cores * threads }

    public var description: String { "sockets \(sockets), dies \(dies), cores \(cores), threads \(threads)" }
}

/// The host CPUs one vCPU may run on.
public struct VCPUPin: Hashable, Codable, Sendable {
    public var vcpu: Int
    public var cpuset: CPUSet

    public init(vcpu: Int, cpuset: CPUSet) {
        self.vcpu = vcpu
        self.cpuset = cpuset
    }
}

/// The guest CPU beyond its mode: model, features, topology and pinning. Each field `nil` is
/// left open by the spec: not written, not compared, and an update keeps what exists.
public struct DomainCPU: Hashable, Codable, Sendable {
    public var model: CPUModelChoice?
    /// Feature flags, sorted by name; `[]` means "no flags" (an update removes any).
    public var features: [CPUFeature]?
    public var topology: CPUTopology?
    /// Pinning of vCPUs to host CPUs, sorted by vCPU; the whole list is the spec's.
    public var vcpuPins: [VCPUPin]?
    /// Host CPUs of the emulator threads (QEMU's own work besides the vCPUs).
    public var emulatorPin: CPUSet?
    /// The number of I/O threads (`<iothreads>`), numbered from 1, that disks name in `iothread`;
    /// 0 is none (libvirt then writes no element).
    public var iothreads: Int?

    public init(model: CPUModelChoice? = nil, features: [CPUFeature]? = nil, topology: CPUTopology? = nil,
                vcpuPins: [VCPUPin]? = nil, emulatorPin: CPUSet? = nil, iothreads: Int? = nil) {
        self.iothreads = iothreads
        self.model = model
        self.features = features?.sorted { $0.name < $1.name }
        self.topology = topology
        self.vcpuPins = vcpuPins?.sorted { $0.vcpu < $1.vcpu }
        self.emulatorPin = emulatorPin
    }

    /// `true` when the spec sets none of it.
    public var isEmpty: Bool { self == DomainCPU() }

    /// `true` when `<cputune>` (pinning) is managed.
    public var managesPinning: Bool { vcpuPins != nil || emulatorPin != nil }
}
