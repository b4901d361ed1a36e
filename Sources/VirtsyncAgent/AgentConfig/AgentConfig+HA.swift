import VirtsyncCore

extension AgentConfig {
    /// The `ha` section: how the agent reaches etcd, its lease and watchdog timings, failback.
    public struct HA: Sendable, Equatable {
        /// etcd's client endpoints, `host:port` (3 or 5 members in production).
        public var endpoints: [Listen]
        /// The key prefix of this cluster's HA records (`/virtsync` unless given).
        public var prefix: String
        /// The CA that signed etcd's server certificates (PEM); nil: plaintext.
        public var caFile: String?
        /// The client certificate and key for etcd's client authentication (PEM).
        public var certificateFile: String?
        public var keyFile: String?
        /// Lease TTL, margin, guard, watchdog timeout, failback settling time.
        public var timings: HATimings
        /// The watchdog device (`/dev/watchdog`, or the testbed's emulated one); nil: `off`.
        public var watchdogDevice: String?
        /// Whether a pinned VM goes home by live migration once its host is healthy again.
        public var failback: Bool

        /// An `ha` section with the documented defaults for everything but the endpoints.
        public init(endpoints: [Listen], prefix: String = "/virtsync", caFile: String? = nil, certificateFile: String? = nil,
                    keyFile: String? = nil, timings: HATimings = HATimings(), watchdogDevice: String? = "/dev/watchdog",
                    failback: Bool = true) {
            self.endpoints = endpoints
            self.prefix = prefix
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.timings = timings
            self.watchdogDevice = watchdogDevice
            self.failback = failback
        }
    }
}
