import VirtsyncCore

extension DocumentDecoder {
    static let poolSourceKeys = KeySet(["host", "dir", "device", "format", "name", "target", "initiator", "monitors", "devices", "auth"])
    static let poolAuthKeys = KeySet(["username", "secret"])

    /// The pool types whose `source` may hold each key, in the order messages list them.
    static let poolSourceKeyTypes: [String: [PoolType]] = [
        "host": [.netfs, .iscsi], "dir": [.netfs], "device": [.fs], "format": [.fs], "name": [.rbd, .zfs],
        "target": [.iscsi], "initiator": [.iscsi], "monitors": [.rbd], "devices": [.zfs], "auth": [.iscsi, .rbd],
    ]

    /// The types whose pools have a `source`.
    static let typesWithSource: [PoolType] = [.netfs, .fs, .iscsi, .rbd, .zfs]

    /// Reads `source` for a pool of `type` into `pool`: every key another type's source takes
    /// is an error at that key, and each type's required keys must be there.
    ///
    /// - `netfs`: `host`, `dir`; `fs`: `device`, `format`;
    /// - `iscsi`: `host` (the portal, `host[:port]`), `target` (IQN), `initiator` (IQN), `auth`;
    /// - `rbd`: `name` (the Ceph pool), `monitors` (`host[:port]`, at least one), `auth`;
    /// - `zfs`: `name` (the zpool), `devices` (its vdevs, optional).
    func readPoolSource(_ map: MapReader, type: PoolType, into pool: inout PoolSpec) {
        guard Self.typesWithSource.contains(type) else {
            if map.has("source") {
                reporter.error(map.keyLocation("source"), map.keyPath("source"),
                               "'source' is only allowed in pools of type \(Self.typeList(Self.typesWithSource))")
            }
            return
        }
        guard let source = map.map("source", keys: Self.poolSourceKeys, required: true) else { return }
        for key in Self.poolSourceKeys.ordered where source.has(key) {
            guard let types = Self.poolSourceKeyTypes[key], !types.contains(type) else { continue }
            let list = Self.typeList(types)
            reporter.error(source.keyLocation(key), source.keyPath(key),
                           "'\(key)' is only allowed in the source of \(list.first.map { "fir".contains($0) ? "an" : "a" } ?? "a") \(list) pool")
        }
        switch type {
        case .fs:
            if let device = readAbsolutePath(source, "device", required: true) { pool.devices = [device] }
            if let format = source.string("format") {
                if Self.fsFormats.contains(format.value) {
                    pool.sourceFormat = format
                } else {
                    reporter.error(format.location, source.keyPath("format"),
                                   "invalid value \(format.value.quotedForMessage); expected one of \(Self.fsFormats.joined(separator: ", "))")
                }
            }
        case .netfs:
            if let host = source.string("host", required: true) {
                if let problem = Formats.hostnameProblem(host.value) {
                    reporter.error(host.location, source.keyPath("host"), problem)
                } else {
                    pool.sourceHost = host
                }
            }
            pool.sourceDir = readAbsolutePath(source, "dir", required: true)
        case .iscsi:
            if let host = source.string("host", required: true) {
                if let problem = Self.serverProblem(host.value) {
                    reporter.error(host.location, source.keyPath("host"), problem)
                } else {
                    pool.sourceHost = host
                }
            }
            if let target = readIQN(source, "target", required: true) { pool.devices = [target] }
            pool.initiator = readIQN(source, "initiator")
            readPoolAuth(source, into: &pool)
        case .rbd:
            pool.sourceName = readPoolSourceName(source, what: "Ceph pool")
            if !source.has("monitors") { source.missing("monitors", required: true) }
            if let monitors = source.stringList("monitors") {
                if monitors.isEmpty {
                    reporter.error(source.valueLocation("monitors"), source.keyPath("monitors"), "give at least one monitor (host or host:port)")
                }
                for (index, monitor) in monitors.enumerated() {
                    if let problem = Self.serverProblem(monitor.value) {
                        reporter.error(monitor.location, "\(source.keyPath("monitors"))[\(index)]", problem)
                    } else {
                        pool.monitors.append(monitor.value)
                    }
                }
            }
            readPoolAuth(source, into: &pool)
            if !source.has("auth") {
                reporter.warning(source.location, source.path,
                                 "an rbd pool without 'auth' starts only where Ceph lets clients in without cephx (auth_client_required = none)")
            }
        case .zfs:
            pool.sourceName = readPoolSourceName(source, what: "zpool")
            for (index, device) in (source.stringList("devices") ?? []).enumerated() {
                if let problem = Formats.absolutePathProblem(device.value) {
                    reporter.error(device.location, "\(source.keyPath("devices"))[\(index)]", problem)
                } else {
                    pool.devices.append(device)
                }
            }
        case .dir, .logical:
            break
        }
    }

    /// `auth: {username, secret}` of an iscsi (CHAP) or rbd (cephx) pool's source; the secret
    /// names a Secret document, never a value.
    private func readPoolAuth(_ source: MapReader, into pool: inout PoolSpec) {
        guard let auth = source.map("auth", keys: Self.poolAuthKeys) else { return }
        if let username = auth.string("username", required: true) {
            if username.value.isEmpty || username.value.count > 256
                || username.value.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\"" || $0 == "<" || $0 == "&" }) {
                reporter.error(username.location, auth.keyPath("username"), "a user name is one word without quotes, '<' or '&'")
            } else {
                pool.authUsername = username
            }
        }
        // Kept even beside a bad user name, so the reference is checked (and counts as a use).
        pool.authSecret = readNameRef(auth, "secret", required: true)
    }

    /// `name` of an rbd or zfs pool's source: a plain name.
    private func readPoolSourceName(_ source: MapReader, what: String) -> Located<String>? {
        guard let name = source.string("name", required: true) else { return nil }
        if let problem = Formats.nameProblem(name.value) {
            reporter.error(name.location, source.keyPath("name"), "the \(what): \(problem)")
            return nil
        }
        return name
    }

    /// An iSCSI qualified name (`iqn.2013-06.com.example:target`, or `eui.`/`naa.` form).
    private func readIQN(_ map: MapReader, _ key: String, required: Bool = false) -> Located<String>? {
        guard let text = map.string(key, required: required) else { return nil }
        let value = text.value
        let prefixed = ["iqn.", "eui.", "naa."].contains { value.lowercased().hasPrefix($0) }
        if !prefixed || value.count > 223 || value.contains(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || ".-:_".contains($0))) }) {
            reporter.error(text.location, map.keyPath(key),
                           "\(value.quotedForMessage) is not an iSCSI name: iqn.YYYY-MM.reversed.domain[:name] (or eui./naa.), at most 223 letters, digits, '.', '-', ':'")
            return nil
        }
        return text
    }

    /// `a` or `an` before a pool type, as it is read aloud (`an fs`, `an rbd`, `a zfs`).
    static func article(_ type: PoolType) -> String { "fir".contains(type.rawValue.prefix(1)) ? "an" : "a" }

    /// `netfs or iscsi`, `netfs, fs, iscsi, rbd or zfs`.
    static func typeList(_ types: [PoolType]) -> String {
        let names = types.map(\.rawValue)
        guard names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
    }
}
