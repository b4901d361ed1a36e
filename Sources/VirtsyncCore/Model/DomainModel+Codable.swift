extension DomainModel {
    // `extraXml` so that JSON's snake_case conversion round-trips (`extra_xml` decodes to
    // `extraXml`, never to `extraXML`).
    private enum CodingKeys: String, CodingKey {
        case name, uuid, vcpus, maxVcpus, memory, maxMemory, machine, firmware, loader, cpuMode, disks, interfaces
        case graphics, graphicsPassword, serialConsole, autostart, power, restartForUpdates, restart
        case extraXML = "extraXml"
        case platform
        case cpu, memoryTuning, graphicsListen
    }

    /// Decodes a domain; a missing `restart` is the default policy (plans saved before it existed).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        uuid = try c.decodeIfPresent(String.self, forKey: .uuid)
        vcpus = try c.decode(Int.self, forKey: .vcpus)
        maxVcpus = try c.decodeIfPresent(Int.self, forKey: .maxVcpus)
        memory = try c.decode(ByteSize.self, forKey: .memory)
        maxMemory = try c.decodeIfPresent(ByteSize.self, forKey: .maxMemory)
        machine = try c.decodeIfPresent(String.self, forKey: .machine)
        firmware = try c.decode(Firmware.self, forKey: .firmware)
        loader = try c.decodeIfPresent(String.self, forKey: .loader)
        cpuMode = try c.decodeIfPresent(CPUMode.self, forKey: .cpuMode)
        disks = try c.decode([DiskModel].self, forKey: .disks)
        interfaces = try c.decode([InterfaceModel].self, forKey: .interfaces)
        graphics = try c.decode(GraphicsType.self, forKey: .graphics)
        graphicsPassword = try c.decodeIfPresent(SecretMaterial.self, forKey: .graphicsPassword)
        serialConsole = try c.decode(Bool.self, forKey: .serialConsole)
        autostart = try c.decode(Bool.self, forKey: .autostart)
        power = try c.decode(PowerState.self, forKey: .power)
        restartForUpdates = try c.decode(Bool.self, forKey: .restartForUpdates)
        restart = try c.decodeIfPresent(RestartPolicy.self, forKey: .restart) ?? RestartPolicy()
        extraXML = try c.decode(ExtraXML.self, forKey: .extraXML)
        platform = try c.decodeIfPresent(DomainPlatform.self, forKey: .platform) ?? DomainPlatform()
        cpu = try c.decodeIfPresent(DomainCPU.self, forKey: .cpu) ?? DomainCPU()
        memoryTuning = try c.decodeIfPresent(DomainMemoryTuning.self, forKey: .memoryTuning) ?? DomainMemoryTuning()
        graphicsListen = try c.decodeIfPresent(String.self, forKey: .graphicsListen)
    }

    /// Encodes a domain; `restart` only when it is not the default, so that saved plans and
    /// observed fingerprints of domains with the default policy are what they always were.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(uuid, forKey: .uuid)
        try c.encode(vcpus, forKey: .vcpus)
        try c.encodeIfPresent(maxVcpus, forKey: .maxVcpus)
        try c.encode(memory, forKey: .memory)
        try c.encodeIfPresent(maxMemory, forKey: .maxMemory)
        try c.encodeIfPresent(machine, forKey: .machine)
        try c.encode(firmware, forKey: .firmware)
        try c.encodeIfPresent(loader, forKey: .loader)
        try c.encodeIfPresent(cpuMode, forKey: .cpuMode)
        try c.encode(disks, forKey: .disks)
        try c.encode(interfaces, forKey: .interfaces)
        try c.encode(graphics, forKey: .graphics)
        try c.encodeIfPresent(graphicsPassword, forKey: .graphicsPassword)
        try c.encode(serialConsole, forKey: .serialConsole)
        try c.encode(autostart, forKey: .autostart)
        try c.encode(power, forKey: .power)
        try c.encode(restartForUpdates, forKey: .restartForUpdates)
        if restart != RestartPolicy() { try c.encode(restart, forKey: .restart) }
        try c.encode(extraXML, forKey: .extraXML)
        // Only when managed, so saved plans and fingerprints of other domains stay as they were.
        if !platform.isEmpty { try c.encode(platform, forKey: .platform) }
        // Only when set, so that plans and fingerprints of domains without them do not change.
        if !cpu.isEmpty { try c.encode(cpu, forKey: .cpu) }
        if !memoryTuning.isEmpty { try c.encode(memoryTuning, forKey: .memoryTuning) }
        try c.encodeIfPresent(graphicsListen, forKey: .graphicsListen)
    }
}
