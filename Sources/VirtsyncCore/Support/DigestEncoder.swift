/// A canonical byte form of any `Encodable` value, for digests: the same value gives the same
/// bytes in every process of one build, whatever order its dictionaries iterate in, and two
/// values that differ in anything they encode give different bytes.
///
/// It exists because `JSONEncoder` with sorted keys, which did this before, cost about 70 ms
/// of CPU for the observed state of 1,000 domains (most of it the encoder's per-value type
/// checks for dates, URLs and data, and text formatting nobody reads). This form is binary and
/// written straight into one buffer: a tag byte per value, lengths before strings and
/// containers, integers as 8 bytes. Synthesized `Codable` types write their keys in
/// declaration order, which is fixed for a build; dictionaries write theirs in iteration order,
/// which is not, so a dictionary's entries are sorted by key once it is written. It is never
/// decoded, and never leaves the process: only its digest does, compared with digests of the
/// same version (a saved plan). Decision record 0014.
public enum CanonicalBytes {
    /// The canonical bytes of `value`; `nil` when its `encode(to:)` throws.
    public static func of<T: Encodable>(_ value: T) -> [UInt8]? {
        let sink = DigestSink()
        sink.bytes.reserveCapacity(16_384)
        do {
            try sink.encodeValue(value, codingPath: [])
        } catch {
            return nil
        }
        return sink.bytes
    }
}

/// Tags of the canonical form.
private enum Tag: UInt8 {
    case null = 1, boolFalse, boolTrue, int, uint, double, string, keyed, unkeyed, keyedEnd, unkeyedEnd, sortedKeyed
    /// A value whose `encode(to:)` wrote nothing.
    case empty
}

/// The output, and the containers of the value being written.
private final class DigestSink {
    var bytes: [UInt8] = []
    /// Frames whose containers may still be written to, innermost last.
    var stack: [DigestFrame] = []

    func tag(_ t: Tag) { bytes.append(t.rawValue) }

    func integer(_ v: UInt64) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            integer(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    func null() { tag(.null) }
    func bool(_ v: Bool) { tag(v ? .boolTrue : .boolFalse) }
    func text(_ v: String) { tag(.string); string(v) }
    func int<I: FixedWidthInteger & SignedInteger>(_ v: I) { tag(.int); integer(UInt64(bitPattern: Int64(v))) }
    func uint<I: FixedWidthInteger & UnsignedInteger>(_ v: I) { tag(.uint); integer(UInt64(v)) }
    func double(_ v: Double) {
        // -0.0 and 0.0 compare equal, and so do all NaNs: one form each.
        tag(.double)
        integer((v == 0 ? 0.0 : v.isNaN ? Double.nan : v).bitPattern)
    }

    /// Writes a nested value, then closes the containers it opened (sorting a dictionary's
    /// entries): once its `encode(to:)` returned, nothing more can be written into them.
    func encodeValue<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        let frame = push()
        let before = bytes.count
        try value.encode(to: DigestEncoderImpl(sink: self, frame: frame, codingPath: codingPath))
        if bytes.count == before, case .none = frame.open { tag(.empty) }
        closeAbove(frame)
        close(frame)
        stack.removeLast()
    }

    /// A new frame, innermost.
    func push() -> DigestFrame {
        let frame = DigestFrame()
        stack.append(frame)
        return frame
    }

    /// Before `frame` writes: containers opened inside it (nested containers) are finished.
    func willWrite(_ frame: DigestFrame) {
        if stack.last !== frame { closeAbove(frame) }
    }

    private func closeAbove(_ frame: DigestFrame) {
        while let last = stack.last, last !== frame {
            close(last)
            stack.removeLast()
        }
    }

    /// Ends the frame's open container, if any.
    func close(_ frame: DigestFrame) {
        switch frame.open {
        case .none: break
        case .unkeyed: tag(.unkeyedEnd)
        case .keyed(let start, let entries):
            guard let entries else { tag(.keyedEnd); return }
            // A dictionary: its entries, [key bytes + value bytes] from their starts, in key order.
            var ranges: [(key: String, range: Range<Int>)] = []
            ranges.reserveCapacity(entries.count)
            for (i, entry) in entries.enumerated() {
                ranges.append((entry.key, entry.start..<(i + 1 < entries.count ? entries[i + 1].start : bytes.count)))
            }
            ranges.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            var sorted: [UInt8] = [Tag.sortedKeyed.rawValue]
            withUnsafeBytes(of: UInt64(ranges.count).bigEndian) { sorted.append(contentsOf: $0) }
            for entry in ranges { sorted.append(contentsOf: bytes[entry.range]) }
            bytes.replaceSubrange(start..<bytes.count, with: sorted)
        }
        frame.open = .none
    }
}

/// The container a value opened: written inline into the sink; a dictionary remembers where
/// each entry starts, to sort them when it is closed.
private final class DigestFrame {
    enum Open {
        case none
        case unkeyed
        /// `entries` is non-nil for a dictionary.
        case keyed(start: Int, entries: [(key: String, start: Int)]?)
    }
    var open: Open = .none
}

/// Whether a coding key type is the one `Dictionary` encodes its keys with (the only keyed
/// container whose key order varies from run to run).
private func isDictionaryKey<Key: CodingKey>(_ type: Key.Type) -> Bool {
    String(describing: type) == "_DictionaryCodingKey"
}

private struct DigestEncoderImpl: Encoder {
    let sink: DigestSink
    let frame: DigestFrame
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .keyed = frame.open {} else {
            sink.close(frame)
            let dictionary = isDictionaryKey(type)
            frame.open = .keyed(start: sink.bytes.count, entries: dictionary ? [] : nil)
            if !dictionary { sink.tag(.keyed) }
        }
        return KeyedEncodingContainer(KeyedDigestContainer<Key>(sink: sink, frame: frame, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .unkeyed = frame.open {} else {
            sink.close(frame)
            frame.open = .unkeyed
            sink.tag(.unkeyed)
        }
        return UnkeyedDigestContainer(sink: sink, frame: frame, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleDigestContainer(sink: sink, codingPath: codingPath)
    }
}

private struct KeyedDigestContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let sink: DigestSink
    let frame: DigestFrame
    var codingPath: [any CodingKey]

    /// Starts an entry: its key, remembered when the container is a dictionary.
    private func key(_ key: Key) {
        sink.willWrite(frame)
        if case .keyed(let start, var entries?) = frame.open {
            // Released from the frame first, so the append does not copy the list.
            frame.open = .none
            entries.append((key.stringValue, sink.bytes.count))
            frame.open = .keyed(start: start, entries: entries)
        }
        sink.string(key.stringValue)
    }

    mutating func encodeNil(forKey key: Key) throws { self.key(key); sink.null() }
    mutating func encode(_ value: Bool, forKey key: Key) throws { self.key(key); sink.bool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { self.key(key); sink.text(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { self.key(key); sink.double(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { self.key(key); sink.double(Double(value)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { self.key(key); sink.int(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { self.key(key); sink.int(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { self.key(key); sink.int(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { self.key(key); sink.int(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { self.key(key); sink.int(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { self.key(key); sink.uint(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { self.key(key); sink.uint(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { self.key(key); sink.uint(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { self.key(key); sink.uint(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { self.key(key); sink.uint(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        self.key(key)
        try sink.encodeValue(value, codingPath: codingPath + [key])
    }

    // Nested containers and super encoders are frames of their own, closed before this
    // container writes its next entry or when its value ends.
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        self.key(key)
        return NestedWriter(sink: sink, codingPath: codingPath + [key]).keyed(keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        self.key(key)
        return NestedWriter(sink: sink, codingPath: codingPath + [key]).unkeyed()
    }

    mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        self.key(key)
        return DigestEncoderImpl(sink: sink, frame: NestedWriter.pending(sink), codingPath: codingPath + [key])
    }
}

/// Containers opened inside another one (`nestedContainer`): a frame on the sink's stack,
/// closed when the container that opened it writes again or its own value ends.
private struct NestedWriter {
    let sink: DigestSink
    let codingPath: [any CodingKey]

    static func pending(_ sink: DigestSink) -> DigestFrame { sink.push() }

    func keyed<K: CodingKey>(_ type: K.Type) -> KeyedEncodingContainer<K> {
        DigestEncoderImpl(sink: sink, frame: Self.pending(sink), codingPath: codingPath).container(keyedBy: type)
    }

    func unkeyed() -> any UnkeyedEncodingContainer {
        DigestEncoderImpl(sink: sink, frame: Self.pending(sink), codingPath: codingPath).unkeyedContainer()
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
    let sink: DigestSink
    let frame: DigestFrame
    var codingPath: [any CodingKey]
    private(set) var count = 0

    init(sink: DigestSink, frame: DigestFrame, codingPath: [any CodingKey]) {
        self.sink = sink
        self.frame = frame
        self.codingPath = codingPath
    }

    /// Before each element: nested containers of earlier elements are finished.
    private mutating func next() { sink.willWrite(frame); count += 1 }

    mutating func encodeNil() throws { next(); sink.null() }
    mutating func encode(_ value: Bool) throws { next(); sink.bool(value) }
    mutating func encode(_ value: String) throws { next(); sink.text(value) }
    mutating func encode(_ value: Double) throws { next(); sink.double(value) }
    mutating func encode(_ value: Float) throws { next(); sink.double(Double(value)) }
    mutating func encode(_ value: Int) throws { next(); sink.int(value) }
    mutating func encode(_ value: Int8) throws { next(); sink.int(value) }
    mutating func encode(_ value: Int16) throws { next(); sink.int(value) }
    mutating func encode(_ value: Int32) throws { next(); sink.int(value) }
    mutating func encode(_ value: Int64) throws { next(); sink.int(value) }
    mutating func encode(_ value: UInt) throws { next(); sink.uint(value) }
    mutating func encode(_ value: UInt8) throws { next(); sink.uint(value) }
    mutating func encode(_ value: UInt16) throws { next(); sink.uint(value) }
    mutating func encode(_ value: UInt32) throws { next(); sink.uint(value) }
    mutating func encode(_ value: UInt64) throws { next(); sink.uint(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        next()
        try sink.encodeValue(value, codingPath: codingPath + [IndexKey(count - 1)])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        next()
        return NestedWriter(sink: sink, codingPath: codingPath + [IndexKey(count - 1)]).keyed(keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        next()
        return NestedWriter(sink: sink, codingPath: codingPath + [IndexKey(count - 1)]).unkeyed()
    }

    mutating func superEncoder() -> any Encoder {
        next()
        return DigestEncoderImpl(sink: sink, frame: NestedWriter.pending(sink), codingPath: codingPath + [IndexKey(count - 1)])
    }
}

private struct SingleDigestContainer: SingleValueEncodingContainer {
    let sink: DigestSink
    var codingPath: [any CodingKey]

    mutating func encodeNil() throws { sink.null() }
    mutating func encode(_ value: Bool) throws { sink.bool(value) }
    mutating func encode(_ value: String) throws { sink.text(value) }
    mutating func encode(_ value: Double) throws { sink.double(value) }
    mutating func encode(_ value: Float) throws { sink.double(Double(value)) }
    mutating func encode(_ value: Int) throws { sink.int(value) }
    mutating func encode(_ value: Int8) throws { sink.int(value) }
    mutating func encode(_ value: Int16) throws { sink.int(value) }
    mutating func encode(_ value: Int32) throws { sink.int(value) }
    mutating func encode(_ value: Int64) throws { sink.int(value) }
    mutating func encode(_ value: UInt) throws { sink.uint(value) }
    mutating func encode(_ value: UInt8) throws { sink.uint(value) }
    mutating func encode(_ value: UInt16) throws { sink.uint(value) }
    mutating func encode(_ value: UInt32) throws { sink.uint(value) }
    mutating func encode(_ value: UInt64) throws { sink.uint(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        // A wrapper's single value is the wrapped value's own form.
        try sink.encodeValue(value, codingPath: codingPath)
    }
}
