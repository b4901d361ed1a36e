import CLibgit2
import Foundation
import VirtsyncEngine

/// State shared with libgit2's C callbacks during one fetch: credentials to offer, the host-key
/// check, the deadline, and why the fetch was refused (so the error names the real reason, not
/// libgit2's generic one).
final class FetchContext: @unchecked Sendable {
    // Used only on the fetching thread while the fetch runs, then read after it finished.
    let remote: RemoteURL
    let credentials: GitCredentials
    let deadline: ContinuousClock.Instant
    var credentialAttempts = 0
    var refusal: GitError?
    var receivedObjects = 0

    init(remote: RemoteURL, credentials: GitCredentials, deadline: ContinuousClock.Instant) {
        self.remote = remote
        self.credentials = credentials
        self.deadline = deadline
    }

    var expired: Bool { ContinuousClock.now >= deadline }

    /// Credential callback body: one attempt per kind, then give up (libgit2 would ask forever).
    func credential(_ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>?, urlUser: String?, allowed: UInt32) -> Int32 {
        if expired {
            refusal = GitError(.timeout, "fetch from \(remote) timed out")
            return GIT_EUSER.rawValue
        }
        credentialAttempts += 1
        guard credentialAttempts <= 2 else {
            refusal = GitError(.authentication, "authentication to \(remote) failed: the credentials were refused")
            return GIT_EUSER.rawValue
        }
        let user = remote.user ?? urlUser ?? credentials.username ?? "git"
        if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
            if let key = credentials.sshKey {
                let publicKey = key + ".pub"
                let pub = FileManager.default.fileExists(atPath: publicKey) ? publicKey : nil
                guard FileManager.default.isReadableFile(atPath: key) else {
                    refusal = GitError(.authentication, "cannot read the SSH key \(key)")
                    return GIT_EUSER.rawValue
                }
                return git_credential_ssh_key_new(out, user, pub, key, nil)
            }
            if credentials.sshAgent, ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"] != nil {
                return git_credential_ssh_key_from_agent(out, user)
            }
            refusal = GitError(.authentication, "\(remote) wants an SSH key: give --ssh-key FILE or run an ssh-agent (SSH_AUTH_SOCK)")
            return GIT_EUSER.rawValue
        }
        if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 {
            guard let secret = credentials.secret else {
                refusal = GitError(.authentication, "\(remote) asks for credentials: give --token-file FILE or --token-env VAR")
                return GIT_EUSER.rawValue
            }
            return git_credential_userpass_plaintext_new(out, credentials.username ?? remote.user ?? "git", secret.value)
        }
        if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
            return git_credential_username_new(out, user)
        }
        refusal = GitError(.authentication, "\(remote) asks for an authentication method virtsync does not offer")
        return GIT_EUSER.rawValue
    }

    /// Certificate callback body: SSH host keys against known_hosts; TLS as libgit2 verified it.
    func certificate(_ cert: UnsafeMutablePointer<git_cert>, valid: Int32, host: String) -> Int32 {
        switch cert.pointee.cert_type {
        case GIT_CERT_HOSTKEY_LIBSSH2:
            let hostkey = UnsafeMutableRawPointer(cert).assumingMemoryBound(to: git_cert_hostkey.self).pointee
            guard hostkey.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostkey.hostkey else {
                refusal = GitError(.hostVerification, "\(host) did not present a host key virtsync can check")
                return GIT_ECERTIFICATE.rawValue
            }
            let key = [UInt8](UnsafeRawBufferPointer(start: raw, count: hostkey.hostkey_len))
            let name = remote.knownHostsName ?? host
            let path = credentials.resolvedKnownHosts
            let known: KnownHosts
            do { known = try KnownHosts(path: path) } catch {
                refusal = GitError(.hostVerification, "cannot check the host key of \(name): \(error); give --known-hosts FILE")
                return GIT_ECERTIFICATE.rawValue
            }
            switch known.verdict(name: name, key: key) {
            case .trusted:
                return 0
            case .unknown:
                refusal = GitError(.hostVerification, "the host key of \(name) is not in \(path): refused (add it after checking its fingerprint out of band)")
            case .changed:
                refusal = GitError(.hostVerification, "the host key of \(name) CHANGED: it does not match \(path); refused (someone may be intercepting the connection, or the server was reinstalled)")
            case .revoked:
                refusal = GitError(.hostVerification, "the host key of \(name) is marked @revoked in \(path): refused")
            }
            return GIT_ECERTIFICATE.rawValue
        case GIT_CERT_X509:
            if valid != 0 { return 0 }
            refusal = GitError(.hostVerification, "the TLS certificate of \(host) could not be verified (not issued by a trusted authority, or not for this name): refused\(credentials.caFile == nil ? "; for a private authority give --ca-file" : "")")
            return GIT_ECERTIFICATE.rawValue
        default:
            if valid != 0 { return 0 }
            refusal = GitError(.hostVerification, "the identity of \(host) could not be verified: refused")
            return GIT_ECERTIFICATE.rawValue
        }
    }

    /// Transfer-progress callback body: aborts a fetch that runs past its deadline.
    func progress(_ stats: git_indexer_progress) -> Int32 {
        receivedObjects = Int(stats.received_objects)
        if expired {
            refusal = GitError(.timeout, "fetch from \(remote) timed out")
            return GIT_EUSER.rawValue
        }
        return 0
    }

    /// The callbacks structure wired to this context.
    func callbacks() -> git_remote_callbacks {
        var callbacks = git_remote_callbacks()
        git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION))
        callbacks.payload = Unmanaged.passUnretained(self).toOpaque()
        callbacks.credentials = { out, url, userFromURL, allowed, payload in
            guard let payload else { return GIT_EUSER.rawValue }
            let context = Unmanaged<FetchContext>.fromOpaque(payload).takeUnretainedValue()
            return context.credential(out, urlUser: userFromURL.map { String(cString: $0) }, allowed: allowed)
        }
        callbacks.certificate_check = { cert, valid, host, payload in
            guard let payload, let cert else { return GIT_ECERTIFICATE.rawValue }
            let context = Unmanaged<FetchContext>.fromOpaque(payload).takeUnretainedValue()
            return context.certificate(cert, valid: valid, host: host.map { String(cString: $0) } ?? "the server")
        }
        callbacks.transfer_progress = { stats, payload in
            guard let payload, let stats else { return 0 }
            return Unmanaged<FetchContext>.fromOpaque(payload).takeUnretainedValue().progress(stats.pointee)
        }
        return callbacks
    }
}

/// Calls `body` with the strings as a `git_strarray`.
@discardableResult
func withStrarray<R>(_ strings: [String], _ body: (UnsafeMutablePointer<git_strarray>) throws -> R) rethrows -> R {
    let cStrings = strings.map { strdup($0) }
    defer { cStrings.forEach { free($0) } }
    var pointers: [UnsafeMutablePointer<CChar>?] = cStrings
    return try pointers.withUnsafeMutableBufferPointer { buffer in
        var array = git_strarray(strings: buffer.baseAddress, count: strings.count)
        return try body(&array)
    }
}
