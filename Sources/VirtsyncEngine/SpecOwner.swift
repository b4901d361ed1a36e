import Foundation
import VirtsyncCore

/// The owner identity of a spec source: what every marker and inventory entry it writes
/// carries, so that specs of different teams on one host never touch each other's resources.
///
/// The rule (documented in `specs/spec-v1.md`, Settings `owner`):
/// 1. `Settings.owner` when the spec declares one (recommended: it stays the same however the
///    repository is reached, and when a spec moves from a directory to git);
/// 2. for a spec from git, the repository's identity (`file://` and the real path for local
///    repositories, the URL as written for remote ones) and the spec path: `git:<identity>#<path>`;
/// 3. for a spec directory, its real path (symbolic links resolved): `dir:<path>`.
public enum SpecOwner {
    /// The owner of a spec read from git.
    public static func repository(identity: String, path: String) -> String {
        "git:" + SourceRecordStore.key(repository: identity, path: path)
    }

    /// The owner of a spec read from a directory (or a single file).
    public static func directory(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let resolved = (absolute as NSString).resolvingSymlinksInPath
        return "dir:" + (resolved.isEmpty ? absolute : resolved)
    }

    /// Fills in `desired.owner` when the spec declares none.
    public static func assign(_ desired: inout DesiredState, derived: @autoclosure () -> String) {
        if desired.owner == nil { desired.owner = desired.settings.owner ?? derived() }
    }
}
