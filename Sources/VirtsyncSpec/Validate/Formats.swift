import Foundation

/// Format rules for the strings of a spec. Each check returns nil when the value is fine, or the
/// message of a diagnostic.
package enum Formats {
    /// Longest name of a resource (host, network, pool, volume, VM).
    package static let maxNameLength = 64
    /// Longest Linux network interface name (IFNAMSIZ - 1).
    package static let maxBridgeLength = 15

    /// Names that reach libvirt and the file system: 1-64 of `A-Z a-z 0-9 . _ -`, starting with
    /// a letter or digit, never containing `/`, `..` or control characters.
    /// Longest owner identity.
    package static let maxOwnerLength = 200

    /// Why `owner` is not a valid owner identity (1 to 200 characters of `A-Z a-z 0-9 . _ - / : @ +`,
    /// starting with a letter or digit), or `nil`.
    package static func ownerProblem(_ owner: String) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@+")
        guard let first = owner.first else { return "owner must not be empty" }
        guard owner.count <= maxOwnerLength else { return "owner is longer than \(maxOwnerLength) characters" }
        guard first.isLetter || first.isNumber, first.isASCII else { return "owner \(owner.quotedForMessage) must start with a letter or a digit" }
        if let bad = owner.first(where: { !allowed.contains($0) }) {
            return "owner \(owner.quotedForMessage) contains \(String(bad).quotedForMessage); allowed are letters, digits and . _ - / : @ +"
        }
        return nil
    }

    package static func nameProblem(_ name: String, maxLength: Int = maxNameLength) -> String? {
        if isPlainName(name, maxLength: maxLength) { return nil }
        let shown = name.quotedForMessage
        if name.isEmpty { return "name must not be empty" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "name \(shown) contains a control character"
        }
        if name.contains("/") { return "name \(shown) must not contain '/'" }
        if name.contains("..") { return "name \(shown) must not contain '..'" }
        if name.count > maxLength {
            return "name \(shown) is longer than \(maxLength) characters (\(name.count))"
        }
        guard let first = name.unicodeScalars.first, isAlphanumeric(first) else {
            return "name \(shown) must start with a letter or a digit"
        }
        if let bad = name.unicodeScalars.first(where: { !isAlphanumeric($0) && $0 != "." && $0 != "_" && $0 != "-" }) {
            return "name \(shown) contains '\(bad)'; use only letters, digits, '.', '_' and '-'"
        }
        return nil
    }

    /// The fast path of `nameProblem`: one pass over the bytes, true when the name is fine.
    private static func isPlainName(_ name: String, maxLength: Int) -> Bool {
        var count = 0
        var previousDot = false
        for byte in name.utf8 {
            let alphanumeric = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
            if count == 0 && !alphanumeric { return false }
            let dot = byte == 0x2E
            guard alphanumeric || dot || byte == 0x5F || byte == 0x2D, !(dot && previousDot) else { return false }
            previousDot = dot
            count += 1
        }
        return count > 0 && count <= maxLength
    }

    /// A Linux bridge or network device name: a name of at most 15 characters.
    package static func bridgeProblem(_ name: String) -> String? {
        nameProblem(name, maxLength: maxBridgeLength).map { $0.replacingFirst("name ", with: "bridge name ") }
    }

    /// A token passed to libvirt as is (machine type, NIC model): letters, digits, `. _ -`.
    /// A label name or value: a token, as for machine types (`zone`, `eu-west-1a`, `true`).
    package static func labelProblem(_ value: String) -> String? {
        tokenProblem(value).map { "label \($0)" }
    }

    package static func tokenProblem(_ value: String) -> String? {
        if value.isEmpty { return "must not be empty" }
        if value.count > 64 { return "\(value.quotedForMessage) is longer than 64 characters" }
        if value.unicodeScalars.contains(where: { !isAlphanumeric($0) && $0 != "." && $0 != "_" && $0 != "-" }) {
            return "\(value.quotedForMessage) may only contain letters, digits, '.', '_' and '-'"
        }
        return nil
    }

    /// An absolute, normalized host path: starts with `/`, no `.` or `..` component, no control
    /// characters.
    package static func absolutePathProblem(_ path: String) -> String? {
        if isPlainAbsolutePath(path) { return nil }
        let shown = path.quotedForMessage
        if path.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "path \(shown) contains a control character"
        }
        guard path.hasPrefix("/") else { return "path \(shown) must be absolute (start with '/')" }
        if path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) {
            return "path \(shown) must not contain '.' or '..' components"
        }
        if path.count > 4096 { return "path is longer than 4096 characters" }
        return nil
    }

    /// The fast path of `absolutePathProblem`: printable ASCII, starting with `/`, no component
    /// that is `.` or `..`.
    private static func isPlainAbsolutePath(_ path: String) -> Bool {
        var count = 0
        var componentLength = 0
        var componentDots = 0
        for byte in path.utf8 {
            guard byte >= 0x20 && byte < 0x7F else { return false }
            if count == 0 && byte != 0x2F { return false }
            if byte == 0x2F {
                if componentLength > 0 && componentLength == componentDots && componentDots <= 2 { return false }
                componentLength = 0
                componentDots = 0
            } else {
                componentLength += 1
                if byte == 0x2E { componentDots += 1 }
            }
            count += 1
        }
        if componentLength > 0 && componentLength == componentDots && componentDots <= 2 { return false }
        return count > 0 && count <= 4096
    }

    /// The path without repeated or trailing slashes (`/srv//vms/` → `/srv/vms`).
    package static func normalizedPath(_ path: String) -> String {
        if !path.contains("//") && (path == "/" || !path.hasSuffix("/")) { return path }
        let parts = path.split(separator: "/")
        return parts.isEmpty ? "/" : "/" + parts.joined(separator: "/")
    }

    /// A libvirt connection URI such as `qemu+ssh://root@host-a/system`.
    package static func uriProblem(_ uri: String) -> String? {
        guard let range = uri.range(of: "://"), range.lowerBound > uri.startIndex else {
            return "URI \(uri.quotedForMessage) is not a libvirt URI such as qemu+ssh://root@host/system"
        }
        if uri.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == " " }) {
            return "URI \(uri.quotedForMessage) contains spaces or control characters"
        }
        return nil
    }

    /// A host name or address (NFS server, DHCP lease name).
    package static func hostnameProblem(_ value: String) -> String? {
        if value.isEmpty || value.count > 253 { return "\(value.quotedForMessage) is not a valid host name" }
        if value.unicodeScalars.contains(where: { !isAlphanumeric($0) && $0 != "." && $0 != "-" && $0 != ":" && $0 != "_" }) {
            return "\(value.quotedForMessage) is not a valid host name"
        }
        return nil
    }

    /// The MAC in lower case, or nil when it is not six colon-separated hex octets. Multicast
    /// and all-zero addresses are refused too: a NIC cannot use them.
    package static func normalizedMAC(_ mac: String) -> String? {
        let parts = mac.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard part.count == 2, let octet = UInt8(part, radix: 16) else { return nil }
            octets.append(octet)
        }
        guard octets[0] & 1 == 0, octets.contains(where: { $0 != 0 }) else { return nil }
        return mac.lowercased()
    }

    /// The UUID in lower case, or nil when it is not 8-4-4-4-12 hex digits.
    package static func normalizedUUID(_ uuid: String) -> String? {
        let groups = uuid.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12],
              groups.allSatisfy({ $0.allSatisfy(\.isHexDigit) }) else { return nil }
        return uuid.lowercased()
    }

    /// A dotted-quad IPv4 address as a number (no leading zeros, each octet 0...255).
    package static func parseIPv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || !part.hasPrefix("0"), let octet = UInt32(part), octet <= 255 else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    /// The dotted-quad form of an IPv4 address.
    package static func formatIPv4(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    /// A guest disk device name: `vda`, `sdb`, `hdc`, `vdaa`.
    package static func targetProblem(_ target: String) -> String? {
        let scalars = Array(target.unicodeScalars)
        guard scalars.count >= 3, scalars.count <= 8,
              scalars.allSatisfy({ ("a"..."z").contains($0) }),
              ["vd", "sd", "hd"].contains(String(target.prefix(2))) else {
            return "target \(target.quotedForMessage) is not a disk device name such as vda, sdb or hdc"
        }
        return nil
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}

extension String {
    /// The string with the first occurrence of `target` replaced.
    package func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
