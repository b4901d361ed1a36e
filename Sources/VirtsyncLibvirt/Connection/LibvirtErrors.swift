import CLibvirt
import VirtsyncEngine

/// Maps libvirt's errors to `HypervisorError`.
enum LibvirtErrors {
    /// The class of a libvirt error, from its code and the module that raised it.
    ///
    /// `VIR_ERR_SYSTEM_ERROR` is raised both for a broken socket (by the RPC, remote and SSH
    /// modules: `.unreachable`) and for a failed system call on the host, e.g. a storage
    /// directory that cannot be created (`.rejected`): the host answered, it said no.
    static func classify(code: Int32, domain: Int32) -> HypervisorError.Code {
        switch code {
        case Int32(VIR_ERR_NO_DOMAIN.rawValue), Int32(VIR_ERR_NO_NETWORK.rawValue),
             Int32(VIR_ERR_NO_STORAGE_POOL.rawValue), Int32(VIR_ERR_NO_STORAGE_VOL.rawValue):
            return .notFound
        case Int32(VIR_ERR_RPC.rawValue), Int32(VIR_ERR_NO_CONNECT.rawValue), Int32(VIR_ERR_INVALID_CONN.rawValue),
             Int32(VIR_ERR_AUTH_FAILED.rawValue), Int32(VIR_ERR_AUTH_CANCELLED.rawValue),
             Int32(VIR_ERR_AUTH_UNAVAILABLE.rawValue):
            return .unreachable
        case Int32(VIR_ERR_SYSTEM_ERROR.rawValue):
            return connectionModules.contains(domain) ? .unreachable : .rejected
        case Int32(VIR_ERR_OPERATION_TIMEOUT.rawValue):
            return .timeout
        case Int32(VIR_ERR_OK.rawValue):
            return .other
        default:
            return .rejected
        }
    }

    /// Modules whose system errors mean the connection itself failed.
    private static let connectionModules: Set<Int32> = [
        Int32(VIR_FROM_RPC.rawValue), Int32(VIR_FROM_REMOTE.rawValue), Int32(VIR_FROM_SSH.rawValue),
        Int32(VIR_FROM_LIBSSH.rawValue), Int32(VIR_FROM_AUTH.rawValue), Int32(VIR_FROM_STREAMS.rawValue),
    ]

    /// The calling thread's last libvirt error as a `HypervisorError`, then cleared. Call it on
    /// the thread of the failed call, right after it (libvirt keeps the error per thread).
    /// - Parameter secret: a password from the URI, replaced in the message if it appears.
    static func last(_ operation: String, secret: String?) -> HypervisorError {
        defer { virResetLastError() }
        guard let error = virGetLastError(), error.pointee.code != Int32(VIR_ERR_OK.rawValue) else {
            return HypervisorError(code: .other, message: "libvirt reported a failure without an error", operation: operation)
        }
        let code = error.pointee.code
        var message = error.pointee.message.map { String(cString: $0) } ?? "libvirt error \(code)"
        if let secret, !secret.isEmpty { message = message.replacingAll(secret, with: "***") }
        return HypervisorError(code: classify(code: code, domain: error.pointee.domain),
                               libvirtCode: code, message: message, operation: operation)
    }

    /// Whether `error` says the driver does not know a flag or function (an older driver or
    /// libvirt's test driver), so the call may be retried without it.
    static func isUnsupported(_ error: HypervisorError) -> Bool {
        error.libvirtCode == Int32(VIR_ERR_INVALID_ARG.rawValue) || error.libvirtCode == Int32(VIR_ERR_NO_SUPPORT.rawValue)
    }
}

/// The URI forms shown to humans: never with a password.
enum URIRedaction {
    /// The password in `scheme://user:password@host/...`, if any.
    static func password(in uri: String) -> String? {
        guard let userInfo = userInfo(in: uri), let colon = userInfo.firstIndex(of: ":") else { return nil }
        let password = String(userInfo[userInfo.index(after: colon)...])
        return password.isEmpty ? nil : password
    }

    /// `uri` with the password of its user info removed.
    static func redact(_ uri: String) -> String {
        guard let userInfo = userInfo(in: uri), let colon = userInfo.firstIndex(of: ":") else { return uri }
        let user = userInfo[..<colon]
        return uri.replacingAll("\(userInfo)@", with: "\(user)@")
    }

    private static func userInfo(in uri: String) -> Substring? {
        guard let schemeEnd = uri.firstRange(of: "://") else { return nil }
        let rest = uri[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        guard let at = authority.lastIndex(of: "@") else { return nil }
        return authority[..<at]
    }
}

extension String {
    /// Every occurrence of `target` replaced (no Foundation needed).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
