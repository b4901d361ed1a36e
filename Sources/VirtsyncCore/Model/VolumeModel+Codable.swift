import Foundation

extension VolumeModel {
    private enum CodingKeys: String, CodingKey { case pool, name, capacity, format, source, content }

    /// Decodes a volume; `content` is base64 so that saved plans stay compact.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pool = try c.decode(String.self, forKey: .pool)
        name = try c.decode(String.self, forKey: .name)
        capacity = try c.decode(ByteSize.self, forKey: .capacity)
        format = try c.decode(VolumeFormat.self, forKey: .format)
        source = try c.decode(VolumeSource.self, forKey: .source)
        if let text = try c.decodeIfPresent(String.self, forKey: .content) {
            guard let data = Data(base64Encoded: text) else {
                throw DecodingError.dataCorruptedError(forKey: .content, in: c, debugDescription: "content is not base64")
            }
            content = Array(data)
        } else {
            content = nil
        }
    }

    /// Encodes a volume with `content` as base64.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pool, forKey: .pool)
        try c.encode(name, forKey: .name)
        try c.encode(capacity, forKey: .capacity)
        try c.encode(format, forKey: .format)
        try c.encode(source, forKey: .source)
        if let content { try c.encode(Data(content).base64EncodedString(), forKey: .content) }
    }
}
