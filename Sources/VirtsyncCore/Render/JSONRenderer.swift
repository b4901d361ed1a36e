import Foundation

/// Renders a plan as JSON (`format_version` first-class, snake_case keys, sorted), the format
/// review bots and `apply --plan` read.
public struct JSONRenderer: Sendable {
    public init() {}

    public func render(_ plan: Plan) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(plan)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Reads a plan written by `render`; refuses other format versions.
    public static func decode(_ bytes: [UInt8]) throws -> Plan {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        // The version first, on its own: a plan of another version may have another shape.
        struct Version: Decodable { var formatVersion: Int? }
        let version = try decoder.decode(Version.self, from: Data(bytes)).formatVersion
        guard version == Plan.formatVersion else {
            throw PlanRefusal("plan file has format_version \(version.map(String.init) ?? "(none)"); this virtsync reads \(Plan.formatVersion)")
        }
        return try decoder.decode(Plan.self, from: Data(bytes))
    }
}
