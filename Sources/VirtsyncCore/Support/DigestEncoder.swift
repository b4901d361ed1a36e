/// A canonical byte form of any `Encodable` value, for digests: the same value gives the same
/// bytes in every process, whatever order its dictionaries iterate in, and two values that
/// differ in anything they encode give different bytes.
///
/// It exists because `JSONEncoder` with sorted keys, which did this before, cost about 70 ms
/// of CPU for the observed state of 1,000 domains (most of it the encoder's per-value type
/// checks for dates, URLs and data, and text formatting nobody reads). This form is binary:
/// a tag byte per value, lengths before strings and containers, integers as 8 bytes; keyed
/// containers are sorted by key when they are written, so dictionaries and synthesized
/// `Codable` types alike come out in one order. It is never decoded, and never leaves the
/// process: only its digest does. Decision record 0014.
public enum CanonicalBytes {
    /// The canonical bytes of `value`; `nil` when its `encode(to:)` throws.
    public static func of<T: Encodable>(_ value: T) -> [UInt8]? {
        let node = DigestNode()
        do {
            try value.encode(to: DigestEncoderImpl(node: node, codingPath: []))
        } catch {
            return nil
        }
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        node.write(into: &out)
        return out
    }
}

/// Tags of the canonical form.
private enum Tag: UInt8 {
    case empty = 0, null, boolFalse, boolTrue, int, uint, double, string, keyed, unkeyed
}

/// One value being encoded: a scalar's bytes, or a container's entries, written out (keyed
/// entries sorted) once the whole value is encoded.
private final class DigestNode {
    var scalar: [UInt8] = []
    var keyed: [(key: String, node: DigestNode)]?
    var unkeyed: [DigestNode]?

    func write(into out: inout [UInt8]) {
        if let keyed {
            out.append(Tag.keyed.rawValue)
            appendLength(keyed.count, &out)
            // Keys of one container are distinct; a stable sort keeps this deterministic
            // even if a custom `encode(to:)` wrote a key twice.
            let sorted = keyed.enumerated().sorted { a, b in
                a.element.key != b.element.key ? a.element.key.utf8.lexicographicallyPrecedes(b.element.key.utf8) : a.offset < b.offset
            }
            for (_, entry) in sorted {
                appendString(entry.key, &out)
                entry.node.write(into: &out)
            }
        } else if let unkeyed {
            out.append(Tag.unkeyed.rawValue)
            appendLength(unkeyed.count, &out)
            for item in unkeyed { item.write(into: &out) }
        } else if scalar.isEmpty {
            out.append(Tag.empty.rawValue)
        } else {
            out += scalar
        }
    }
}

private func appendLength(_ n: Int, _ out: inout [UInt8]) {
    appendInteger(UInt64(n), &out)
}

private func appendInteger(_ v: UInt64, _ out: inout [UInt8]) {
    for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
}

private func appendString(_ s: String, _ out: inout [UInt8]) {
    var s = s
    s.withUTF8 { bytes in
        appendLength(bytes.count, &out)
        out.append(contentsOf: bytes)
    }
}

/// The scalar forms, shared by the three container kinds.
private enum Scalar {
    static func null() -> [UInt8] { [Tag.null.rawValue] }
    static func bool(_ v: Bool) -> [UInt8] { [v ? Tag.boolTrue.rawValue : Tag.boolFalse.rawValue] }
    static func string(_ v: String) -> [UInt8] {
        var out: [UInt8] = [Tag.string.rawValue]
        appendString(v, &out)
        return out
    }
    static func int<I: FixedWidthInteger & SignedInteger>(_ v: I) -> [UInt8] {
        var out: [UInt8] = [Tag.int.rawValue]
        appendInteger(UInt64(bitPattern: Int64(v)), &out)
        return out
    }
    static func uint<I: FixedWidthInteger & UnsignedInteger>(_ v: I) -> [UInt8] {
        var out: [UInt8] = [Tag.uint.rawValue]
        appendInteger(UInt64(v), &out)
        return out
    }
    static func double(_ v: Double) -> [UInt8] {
        var out: [UInt8] = [Tag.double.rawValue]
        // -0.0 and 0.0 compare equal, and so do every NaN's payloads: one form each.
        let canonical = v == 0 ? 0.0 : v.isNaN ? Double.nan : v
        appendInteger(canonical.bitPattern, &out)
        return out
    }
}

private struct DigestEncoderImpl: Encoder {
    let node: DigestNode
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.keyed == nil { node.keyed = [] }
        return KeyedEncodingContainer(KeyedDigestContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if node.unkeyed == nil { node.unkeyed = [] }
        return UnkeyedDigestContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleDigestContainer(node: node, codingPath: codingPath)
    }
}

/// Encodes `value` into a node of its own.
private func encodeNode<T: Encodable>(_ value: T, path: [any CodingKey]) throws -> DigestNode {
    let child = DigestNode()
    try value.encode(to: DigestEncoderImpl(node: child, codingPath: path))
    return child
}

private func scalarNode(_ bytes: [UInt8]) -> DigestNode {
    let child = DigestNode()
    child.scalar = bytes
    return child
}

private struct KeyedDigestContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: DigestNode
    var codingPath: [any CodingKey]

    private func add(_ key: Key, _ child: DigestNode) { node.keyed?.append((key.stringValue, child)) }

    mutating func encodeNil(forKey key: Key) throws { add(key, scalarNode(Scalar.null())) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { add(key, scalarNode(Scalar.bool(value))) }
    mutating func encode(_ value: String, forKey key: Key) throws { add(key, scalarNode(Scalar.string(value))) }
    mutating func encode(_ value: Double, forKey key: Key) throws { add(key, scalarNode(Scalar.double(value))) }
    mutating func encode(_ value: Float, forKey key: Key) throws { add(key, scalarNode(Scalar.double(Double(value)))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { add(key, scalarNode(Scalar.int(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { add(key, scalarNode(Scalar.int(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { add(key, scalarNode(Scalar.int(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { add(key, scalarNode(Scalar.int(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { add(key, scalarNode(Scalar.int(value))) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { add(key, scalarNode(Scalar.uint(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { add(key, scalarNode(Scalar.uint(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { add(key, scalarNode(Scalar.uint(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { add(key, scalarNode(Scalar.uint(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { add(key, scalarNode(Scalar.uint(value))) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        add(key, try encodeNode(value, path: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = DigestNode()
        child.keyed = []
        add(key, child)
        return KeyedEncodingContainer(KeyedDigestContainer<NestedKey>(node: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = DigestNode()
        child.unkeyed = []
        add(key, child)
        return UnkeyedDigestContainer(node: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = DigestNode()
        add(key, child)
        return DigestEncoderImpl(node: child, codingPath: codingPath + [key])
    }
}

private struct IndexKey: CodingKey {
    var stringValue: String { String(intValue ?? 0) }
    var intValue: Int?
    init(_ i: Int) { intValue = i }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedDigestContainer: UnkeyedEncodingContainer {
    let node: DigestNode
    var codingPath: [any CodingKey]
    var count: Int { node.unkeyed?.count ?? 0 }

    private func add(_ child: DigestNode) { node.unkeyed?.append(child) }

    mutating func encodeNil() throws { add(scalarNode(Scalar.null())) }
    mutating func encode(_ value: Bool) throws { add(scalarNode(Scalar.bool(value))) }
    mutating func encode(_ value: String) throws { add(scalarNode(Scalar.string(value))) }
    mutating func encode(_ value: Double) throws { add(scalarNode(Scalar.double(value))) }
    mutating func encode(_ value: Float) throws { add(scalarNode(Scalar.double(Double(value)))) }
    mutating func encode(_ value: Int) throws { add(scalarNode(Scalar.int(value))) }
    mutating func encode(_ value: Int8) throws { add(scalarNode(Scalar.int(value))) }
    mutating func encode(_ value: Int16) throws { add(scalarNode(Scalar.int(value))) }
    mutating func encode(_ value: Int32) throws { add(scalarNode(Scalar.int(value))) }
    mutating func encode(_ value: Int64) throws { add(scalarNode(Scalar.int(value))) }
    mutating func encode(_ value: UInt) throws { add(scalarNode(Scalar.uint(value))) }
    mutating func encode(_ value: UInt8) throws { add(scalarNode(Scalar.uint(value))) }
    mutating func encode(_ value: UInt16) throws { add(scalarNode(Scalar.uint(value))) }
    mutating func encode(_ value: UInt32) throws { add(scalarNode(Scalar.uint(value))) }
    mutating func encode(_ value: UInt64) throws { add(scalarNode(Scalar.uint(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        add(try encodeNode(value, path: codingPath + [IndexKey(count)]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = DigestNode()
        child.keyed = []
        add(child)
        return KeyedEncodingContainer(KeyedDigestContainer<NestedKey>(node: child, codingPath: codingPath + [IndexKey(count - 1)]))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = DigestNode()
        child.unkeyed = []
        add(child)
        return UnkeyedDigestContainer(node: child, codingPath: codingPath + [IndexKey(count - 1)])
    }

    mutating func superEncoder() -> any Encoder {
        let child = DigestNode()
        add(child)
        return DigestEncoderImpl(node: child, codingPath: codingPath + [IndexKey(count - 1)])
    }
}

private struct SingleDigestContainer: SingleValueEncodingContainer {
    let node: DigestNode
    var codingPath: [any CodingKey]

    private func set(_ bytes: [UInt8]) { node.scalar = bytes }

    mutating func encodeNil() throws { set(Scalar.null()) }
    mutating func encode(_ value: Bool) throws { set(Scalar.bool(value)) }
    mutating func encode(_ value: String) throws { set(Scalar.string(value)) }
    mutating func encode(_ value: Double) throws { set(Scalar.double(value)) }
    mutating func encode(_ value: Float) throws { set(Scalar.double(Double(value))) }
    mutating func encode(_ value: Int) throws { set(Scalar.int(value)) }
    mutating func encode(_ value: Int8) throws { set(Scalar.int(value)) }
    mutating func encode(_ value: Int16) throws { set(Scalar.int(value)) }
    mutating func encode(_ value: Int32) throws { set(Scalar.int(value)) }
    mutating func encode(_ value: Int64) throws { set(Scalar.int(value)) }
    mutating func encode(_ value: UInt) throws { set(Scalar.uint(value)) }
    mutating func encode(_ value: UInt8) throws { set(Scalar.uint(value)) }
    mutating func encode(_ value: UInt16) throws { set(Scalar.uint(value)) }
    mutating func encode(_ value: UInt32) throws { set(Scalar.uint(value)) }
    mutating func encode(_ value: UInt64) throws { set(Scalar.uint(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        // A wrapper's single value is the wrapped value's form, container or scalar.
        try value.encode(to: DigestEncoderImpl(node: node, codingPath: codingPath))
    }
}
