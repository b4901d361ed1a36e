/// The version of this virtsync, as `--version` prints it and `virtsync_build_info` labels it.
public enum VirtsyncVersion {
    public static let current = "0.1.0"
}
