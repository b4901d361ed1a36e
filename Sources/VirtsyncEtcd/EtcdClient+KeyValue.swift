@available(macOS 15.0, *)
extension EtcdClient {
    /// A key with its value and history as etcd stores them.
    public struct KeyValue: Sendable, Hashable {
        /// The key (etcd keys are bytes; these are read as UTF-8).
        public var key: String
        /// The value's bytes; empty in a delete event.
        public var value: [UInt8]
        /// The revision of the transaction that created the key (since its last deletion).
        public var createRevision: Int64
        /// The revision of the key's last change; in a delete event, the deletion's revision.
        public var modRevision: Int64
        /// The lease the key is attached to; 0: none.
        public var lease: Int64

        /// A key-value with everything given.
        public init(key: String, value: [UInt8], createRevision: Int64, modRevision: Int64, lease: Int64) {
            self.key = key
            self.value = value
            self.createRevision = createRevision
            self.modRevision = modRevision
            self.lease = lease
        }

        init(_ kv: Mvccpb_KeyValue) {
            self.init(key: String(decoding: kv.key, as: UTF8.self), value: Array(kv.value),
                      createRevision: kv.createRevision, modRevision: kv.modRevision, lease: kv.lease)
        }
    }
}
