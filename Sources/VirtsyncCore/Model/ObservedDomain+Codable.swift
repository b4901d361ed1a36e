extension ObservedDomain {
    private enum CodingKeys: String, CodingKey {
        case model, uuid, state, live, marker, persistent, stopReason, stoppedByVirtsync, hatch
    }

    /// Decodes an observed domain; `stopReason` and `stoppedByVirtsync` may be absent.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(DomainModel.self, forKey: .model)
        uuid = try c.decode(String.self, forKey: .uuid)
        state = try c.decode(RunState.self, forKey: .state)
        live = try c.decodeIfPresent(LiveDomainValues.self, forKey: .live)
        marker = try c.decodeIfPresent(OwnershipMarker.self, forKey: .marker)
        persistent = try c.decode(Bool.self, forKey: .persistent)
        stopReason = try c.decodeIfPresent(StopReason.self, forKey: .stopReason)
        stoppedByVirtsync = try c.decodeIfPresent(Bool.self, forKey: .stoppedByVirtsync) ?? false
        hatch = try c.decodeIfPresent(ObservedHatch.self, forKey: .hatch)
    }

    /// Encodes an observed domain; `stoppedByVirtsync` only when set, so that the canonical
    /// JSON (and the observed fingerprint) of a domain without it is what it always was.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(uuid, forKey: .uuid)
        try c.encode(state, forKey: .state)
        try c.encodeIfPresent(live, forKey: .live)
        try c.encodeIfPresent(marker, forKey: .marker)
        try c.encode(persistent, forKey: .persistent)
        try c.encodeIfPresent(stopReason, forKey: .stopReason)
        if stoppedByVirtsync { try c.encode(true, forKey: .stoppedByVirtsync) }
        try c.encodeIfPresent(hatch, forKey: .hatch)
    }
}
