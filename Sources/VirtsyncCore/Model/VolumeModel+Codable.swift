
extension VolumeModel {
    private enum CodingKeys: String, CodingKey { case pool, name, capacity, format, source, content, encryption }

    /// Decodes a volume. `content` is never written (a seed may hold secrets, and apply builds
    /// it again from the spec); one in an older plan file is read and ignored.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pool = try c.decode(String.self, forKey: .pool)
        name = try c.decode(String.self, forKey: .name)
        capacity = try c.decode(ByteSize.self, forKey: .capacity)
        format = try c.decode(VolumeFormat.self, forKey: .format)
        source = try c.decode(VolumeSource.self, forKey: .source)
        _ = try c.decodeIfPresent(String.self, forKey: .content)
        content = nil
        encryption = try c.decodeIfPresent(String.self, forKey: .encryption)
    }

    /// Encodes a volume without its `content`: the source's digest names it.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pool, forKey: .pool)
        try c.encode(name, forKey: .name)
        try c.encode(capacity, forKey: .capacity)
        try c.encode(format, forKey: .format)
        try c.encode(source, forKey: .source)
        try c.encodeIfPresent(encryption, forKey: .encryption)
    }
}

extension VolumeModel {
    /// Equal when everything but `content` is: a generated volume's digest names its content.
    public static func == (a: VolumeModel, b: VolumeModel) -> Bool {
        a.pool == b.pool && a.name == b.name && a.capacity == b.capacity && a.format == b.format && a.source == b.source
            && a.encryption == b.encryption
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(pool)
        hasher.combine(name)
        hasher.combine(capacity)
        hasher.combine(format)
        hasher.combine(source)
        hasher.combine(encryption)
    }
}
