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
        let plan = try decoder.decode(Plan.self, from: Data(bytes))
        guard plan.formatVersion == Plan.formatVersion else {
            throw PlanRefusal("plan file has format_version \(plan.formatVersion); this virtsync reads \(Plan.formatVersion)")
        }
        return plan
    }
}
