import ArgumentParser
import Foundation
import VirtsyncCore
import VirtsyncEngine
import VirtsyncSecrets

/// Where this host keeps secrets, for `plan` and `apply` (the agent reads its configuration's
/// `secrets` instead).
struct SecretOptions: ParsableArguments {
    @Option(name: .long, help: "Directory of the host files that Secret documents name with hostFile.")
    var secretsDir: String = SecretSettings.defaultDirectory

    @Option(name: .long, help: "age identity file that decrypts the spec's ageFile secrets (default: /etc/virtsync/age-identity.txt when it exists).")
    var ageIdentity: String?

    @Option(name: .long, help: "Key of the digests plans show for secrets; the same file on every host (made when missing).")
    var secretDigestKey: String = SecretSettings.defaultDigestKey

    /// The reader over this host's files.
    var reader: any SecretReader {
        let identity = ageIdentity ?? (FileManager.default.fileExists(atPath: SecretSettings.defaultIdentity) ? SecretSettings.defaultIdentity : nil)
        return HostSecretReader(settings: SecretSettings(directory: secretsDir, ageIdentity: identity, digestKey: secretDigestKey))
    }
}

