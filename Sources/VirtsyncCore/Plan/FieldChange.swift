/// One changed field, for humans and review bots. `before` and `after` are what people read
/// (`"512MiB"`, `"true"`); `beforeValue` and `afterValue` are the same values typed for
/// programs (536870912, true), with `unit` saying what an integer counts.
public struct FieldChange: Hashable, Sendable {
    /// A key path in spec terms, e.g. `memory`, `interfaces[0].link`.
    public var field: String
    public var before: String?
    public var after: String?
    public var disruption: Disruption
    public var beforeValue: FieldValue?
    public var afterValue: FieldValue?
    /// What an integer value counts, when it is not a plain number.
    public var unit: FieldUnit?

    /// A change of a text, count or flag: the typed values are read from the display strings
    /// (`"true"`/`"false"` a boolean, a decimal integer an integer, anything else a string).
    public init(field: String, before: String?, after: String?, disruption: Disruption) {
        self.field = field
        self.before = before
        self.after = after
        self.disruption = disruption
        self.beforeValue = before.map(FieldValue.reading)
        self.afterValue = after.map(FieldValue.reading)
    }

    /// A change of a size: shown as `512MiB`, typed as a number of bytes.
    public init(field: String, before: ByteSize?, after: ByteSize?, disruption: Disruption) {
        self.field = field
        self.before = before?.description
        self.after = after?.description
        self.disruption = disruption
        self.beforeValue = before.map { .integer(Int64(clamping: $0.bytes)) }
        self.afterValue = after.map { .integer(Int64(clamping: $0.bytes)) }
        self.unit = .bytes
    }
}

/// A typed value of a plan's field change, as JSON writes it: a string, an integer or a boolean.
public enum FieldValue: Hashable, Sendable, Codable {
    case string(String)
    case integer(Int64)
    case boolean(Bool)

    /// The value a display string stands for: `true`/`false`, a decimal integer without sign
    /// noise or leading zeros, otherwise the string itself.
    static func reading(_ text: String) -> FieldValue {
        switch text {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        default:
            let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
            if !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
               digits == "0" || digits.first != "0", let value = Int64(text) {
                return .integer(value)
            }
            return .string(text)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = .boolean(flag)
        } else if let number = try? container.decode(Int64.self) {
            self = .integer(number)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .integer(let number): try container.encode(number)
        case .boolean(let flag): try container.encode(flag)
        }
    }
}

/// What a field change's integer values count.
public enum FieldUnit: String, Hashable, Sendable, Codable {
    case bytes
}

extension FieldChange: Codable {
    enum CodingKeys: String, CodingKey {
        case field, before, after, disruption, beforeValue, afterValue, unit
    }

    /// Plans saved before the typed values existed have only the display strings: the values
    /// are read from them as the string initializer does.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        field = try container.decode(String.self, forKey: .field)
        before = try container.decodeIfPresent(String.self, forKey: .before)
        after = try container.decodeIfPresent(String.self, forKey: .after)
        disruption = try container.decode(Disruption.self, forKey: .disruption)
        unit = try container.decodeIfPresent(FieldUnit.self, forKey: .unit)
        beforeValue = try container.decodeIfPresent(FieldValue.self, forKey: .beforeValue) ?? before.map(FieldValue.reading)
        afterValue = try container.decodeIfPresent(FieldValue.self, forKey: .afterValue) ?? after.map(FieldValue.reading)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(field, forKey: .field)
        try container.encodeIfPresent(before, forKey: .before)
        try container.encodeIfPresent(after, forKey: .after)
        try container.encode(disruption, forKey: .disruption)
        try container.encodeIfPresent(beforeValue, forKey: .beforeValue)
        try container.encodeIfPresent(afterValue, forKey: .afterValue)
        try container.encodeIfPresent(unit, forKey: .unit)
    }
}
