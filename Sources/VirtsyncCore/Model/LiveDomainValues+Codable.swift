extension LiveDomainValues {
    private enum CodingKeys: String, CodingKey {
        case memory, maxMemory, vcpus, maxVcpus, linkUp, vcpuPins, emulatorPin, bandwidth
    }

    /// Decodes live values; the pins and the shaping may be absent (saved before they existed).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        memory = try c.decode(ByteSize.self, forKey: .memory)
        maxMemory = try c.decode(ByteSize.self, forKey: .maxMemory)
        vcpus = try c.decode(Int.self, forKey: .vcpus)
        maxVcpus = try c.decode(Int.self, forKey: .maxVcpus)
        linkUp = try c.decode([String: Bool].self, forKey: .linkUp)
        vcpuPins = try c.decodeIfPresent([VCPUPin].self, forKey: .vcpuPins) ?? []
        emulatorPin = try c.decodeIfPresent(CPUSet.self, forKey: .emulatorPin)
        bandwidth = try c.decodeIfPresent([String: InterfaceBandwidth].self, forKey: .bandwidth) ?? [:]
    }

    /// Encodes live values; the pins and the shaping only when there are some, so that the
    /// observed fingerprint of a guest without them is what it always was.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(memory, forKey: .memory)
        try c.encode(maxMemory, forKey: .maxMemory)
        try c.encode(vcpus, forKey: .vcpus)
        try c.encode(maxVcpus, forKey: .maxVcpus)
        try c.encode(linkUp, forKey: .linkUp)
        if !vcpuPins.isEmpty { try c.encode(vcpuPins, forKey: .vcpuPins) }
        try c.encodeIfPresent(emulatorPin, forKey: .emulatorPin)
        if !bandwidth.isEmpty { try c.encode(bandwidth, forKey: .bandwidth) }
    }
}
