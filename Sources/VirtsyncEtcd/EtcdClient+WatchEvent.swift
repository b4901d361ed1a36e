@available(macOS 15.0, *)
extension EtcdClient {
    /// A change a watch reported.
    public struct WatchEvent: Sendable, Hashable {
        /// What happened to the key.
        public enum Kind: Sendable, Hashable {
            /// The key was created or its value or lease changed.
            case put
            /// The key was deleted, by a delete or because its lease expired or was revoked.
            case delete
        }

        /// What happened.
        public var kind: Kind
        /// For a put, the key as written; for a delete, the key with an empty value and the
        /// deletion's revision as `modRevision`.
        public var keyValue: KeyValue

        /// The revision of the change.
        public var revision: Int64 { keyValue.modRevision }

        /// An event with everything given.
        public init(kind: Kind, keyValue: KeyValue) {
            self.kind = kind
            self.keyValue = keyValue
        }
    }
}
