import VirtsyncCore
import VirtsyncEngine
import VirtsyncSpec

extension SecretReader {
    /// `desired` with the secrets its VMs wait for read on this host and bound: a VM whose
    /// secret could not be read stays held, with the reason. Reads nothing when no VM uses a
    /// secret (the digest key is not even looked at).
    public func bind(_ desired: DesiredState) async -> DesiredState {
        guard !desired.pendingSecrets.isEmpty || !desired.pendingVolumeSecrets.isEmpty else { return desired }
        let values = await read(SecretBinder.needed(desired))
        let key = await digestKey()
        return SecretBinder.bind(desired, values: values, key: key)
    }
}
