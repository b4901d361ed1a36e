@available(macOS 15.0, *)
extension EtcdClient {
    /// Where etcd is and how to talk to it.
    public struct Configuration: Sendable, Equatable {
        /// The members' client endpoints, `host:port` (an IPv4 literal, `[IPv6]` or a name), tried
        /// in order until one answers; the last one that answered is tried first next time.
        public var endpoints: [String]
        /// How long one attempt of a call may take on one endpoint; a call that fails over may
        /// take up to this much per endpoint. For a watch: how long etcd may take to confirm it.
        public var deadline: Duration
        /// TLS, with etcd's CA and optionally a client certificate; nil: plaintext.
        public var tls: TLS?

        /// A configuration; a deadline of 2 s unless given, plaintext unless `tls` is given.
        public init(endpoints: [String], deadline: Duration = .seconds(2), tls: TLS? = nil) {
            self.endpoints = endpoints
            self.deadline = deadline
            self.tls = tls
        }
    }

    /// TLS towards etcd: the CA that signed its server certificates and, when etcd checks client
    /// certificates (`--client-cert-auth`), this client's certificate and key. All PEM files.
    public struct TLS: Sendable, Equatable {
        /// The CA (PEM) that signed the members' server certificates; the only trusted root.
        public var caFile: String
        /// The client certificate (PEM); nil: none is presented.
        public var certificateFile: String?
        /// The client certificate's private key (PEM); required with `certificateFile`.
        public var keyFile: String?
        /// Whether the server certificate must name the endpoint's host (as a DNS name or IP
        /// address). On by default; off accepts any certificate the CA signed.
        public var verifyHostname: Bool

        /// TLS trusting `caFile`, with a client certificate when both files are given.
        public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil, verifyHostname: Bool = true) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.verifyHostname = verifyHostname
        }
    }
}
