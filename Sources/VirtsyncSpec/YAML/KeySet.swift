/// The keys allowed in one kind of mapping, in the order the documentation lists them.
package struct KeySet: Sendable {
    package let ordered: [String]
    private let set: Set<String>

    package init(_ keys: [String]) {
        ordered = keys
        set = Set(keys)
    }

    package func contains(_ key: String) -> Bool { set.contains(key) }

    /// The allowed key that `key` is probably a typo of.
    package func suggestion(for key: String) -> String? {
        Suggest.closest(to: key, among: ordered)
    }

    /// `unknown key 'memroy'; did you mean 'memory'?`, or the list of allowed keys.
    package func unknownKeyMessage(_ key: String) -> String {
        if let close = suggestion(for: key) {
            return "unknown key \(key.quotedForMessage); did you mean '\(close)'?"
        }
        return "unknown key \(key.quotedForMessage); allowed keys: \(ordered.joined(separator: ", "))"
    }
}

/// "Did you mean" suggestions by edit distance.
package enum Suggest {
    /// The candidate closest to `word` (case-insensitive optimal string alignment distance, so a
    /// swap of two neighbours counts once), when it is close enough to be a likely typo.
    package static func closest(to word: String, among candidates: [String]) -> String? {
        let target = Array(word.lowercased().unicodeScalars)
        guard !target.isEmpty, target.count <= 64 else { return nil }
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = self.distance(target, Array(candidate.lowercased().unicodeScalars))
            if best == nil || distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        guard let best else { return nil }
        let limit = target.count <= 3 ? 1 : (target.count <= 6 ? 2 : 3)
        return best.distance <= limit ? best.name : nil
    }

    /// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
    package static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        let width = b.count + 1
        var previous2 = [Int](repeating: 0, count: width)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: width)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previous2[j - 2] + 1)
                }
                current[j] = value
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
