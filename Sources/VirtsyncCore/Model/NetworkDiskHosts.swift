/// `host` or `host:port` as written in specs, split for libvirt's `<host name port>` (an IPv6
/// address is written in brackets: `[fd00::1]:6789`).
public enum NetworkDiskHosts {
    public static func split(_ text: String) -> (name: String, port: String?) {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let name = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            return (name, rest.hasPrefix(":") ? String(rest.dropFirst()) : nil)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2 { return (String(parts[0]), String(parts[1])) }
        return (text, nil)
    }

    public static func join(_ name: String, _ port: String?) -> String {
        guard let port else { return name }
        return name.contains(":") ? "[\(name)]:\(port)" : "\(name):\(port)"
    }
}
