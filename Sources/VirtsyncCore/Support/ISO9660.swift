/// Builds small ISO 9660 images in memory (the cloud-init NoCloud seed: volume label `cidata`,
/// files `user-data`, `meta-data`, `network-config`). Pure; no external tool.
public enum ISO9660 {
    /// An image with the given volume identifier and files in the root directory.
    public static func image(volumeID: String, files: [(name: String, bytes: [UInt8])]) -> [UInt8] {
        []
    }
}
