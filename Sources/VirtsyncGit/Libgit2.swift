import CLibgit2
import VirtsyncEngine

/// Process-wide libgit2 initialisation (once, before the first call).
enum Libgit2 {
    private static let initialised: Bool = {
        BrokenPipes.ignore()
        git_libgit2_init()
        return true
    }()

    static func ensureInitialised() {
        _ = initialised
    }

    /// Trusts the certificate authorities of `caFile` (PEM) for HTTPS, instead of the system's.
    static func trust(caFile: String) {
        _ = virtsync_git_set_ssl_cert_file(caFile)
    }
}

extension GitError {
    /// The last libgit2 error on this thread, after a call returned `code`, as a `GitError`
    /// whose message starts with `context`.
    static func last(_ code: Int32, _ context: String) -> GitError {
        var detail = ""
        var klass = Int32(0)
        if let e = git_error_last() {
            klass = e.pointee.klass
            if let m = e.pointee.message { detail = String(cString: m) }
        }
        let kind: Kind
        switch (code, klass) {
        case (GIT_ENOTFOUND.rawValue, _): kind = .notFound
        case (GIT_EAUTH.rawValue, _): kind = .authentication
        case (GIT_ECERTIFICATE.rawValue, _): kind = .hostVerification
        case (_, Int32(GIT_ERROR_NET.rawValue)), (_, Int32(GIT_ERROR_SSH.rawValue)), (_, Int32(GIT_ERROR_HTTP.rawValue)),
             (_, Int32(GIT_ERROR_SSL.rawValue)): kind = .remote
        case (_, Int32(GIT_ERROR_ODB.rawValue)), (_, Int32(GIT_ERROR_ZLIB.rawValue)), (_, Int32(GIT_ERROR_OBJECT.rawValue)),
             (_, Int32(GIT_ERROR_REPOSITORY.rawValue)), (_, Int32(GIT_ERROR_CONFIG.rawValue)),
             (_, Int32(GIT_ERROR_INDEXER.rawValue)):
            kind = .cache
        default: kind = .other
        }
        return GitError(kind, detail.isEmpty ? context : "\(context): \(detail)")
    }
}

/// Throws the last libgit2 error when `code` is negative.
@discardableResult
func check(_ code: Int32, _ context: @autoclosure () -> String) throws -> Int32 {
    guard code >= 0 else { throw GitError.last(code, context()) }
    return code
}

extension git_oid {
    /// The 40-digit hex form.
    var commitID: CommitID {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(40)
        withUnsafeBytes(of: id) { bytes in
            for byte in bytes.prefix(20) {
                text.append(digits[Int(byte >> 4)])
                text.append(digits[Int(byte & 0xF)])
            }
        }
        return CommitID(String(decoding: text, as: UTF8.self))!
    }

    init(_ id: CommitID) {
        self.init()
        _ = git_oid_fromstr(&self, id.hex)
    }
}

/// Owns a libgit2 object pointer and frees it.
final class GitHandle {
    let pointer: OpaquePointer
    private let free: (OpaquePointer) -> Void

    init(_ pointer: OpaquePointer, free: @escaping (OpaquePointer) -> Void) {
        self.pointer = pointer
        self.free = free
    }

    deinit { free(pointer) }
}
