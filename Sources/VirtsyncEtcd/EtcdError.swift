/// A failed etcd operation: what was being done, at which endpoint, a code callers switch on and
/// the underlying cause (usually a gRPC `RPCError`).
public struct EtcdError: Error, Sendable, CustomStringConvertible {
    /// Broad classes of failure. A struct rather than an enum, so that codes can be added without
    /// breaking callers' `switch` statements.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// No endpoint could be reached, or the connection broke (etcd also says this while it
        /// has no leader). For a write, the outcome is unknown.
        public static let unavailable = Code("unavailable")
        /// The call did not finish within its deadline. For a write, the outcome is unknown.
        public static let deadlineExceeded = Code("deadlineExceeded")
        /// The calling task was cancelled, or the client was shut down.
        public static let cancelled = Code("cancelled")
        /// etcd answered with an error (a bad request, a missing permission, an internal error).
        public static let rejected = Code("rejected")
        /// What was to be created exists already (a lease id granted before).
        public static let alreadyExists = Code("alreadyExists")
        /// The configuration or an argument is invalid: found before sending, or etcd said so.
        public static let invalidArgument = Code("invalidArgument")
        /// A watch asked for a revision etcd has compacted away: list again, then watch from the
        /// listing's revision + 1.
        public static let compacted = Code("compacted")
        /// An established watch ended (the stream broke, or etcd cancelled it): list again, then
        /// watch from the listing's revision + 1.
        public static let watchEnded = Code("watchEnded")
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong, for operators.
    public var message: String
    /// The operation, e.g. `grant lease` or `compare and put /virtsync/c1/owners/web`.
    public var operation: String
    /// The endpoint (`host:port`) that failed last; nil when nothing was sent.
    public var endpoint: String?
    /// The error this one was made from (a gRPC `RPCError` most of the time).
    public var cause: (any Error)?

    /// An error with everything given.
    public init(code: Code, message: String, operation: String, endpoint: String? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.operation = operation
        self.endpoint = endpoint
        self.cause = cause
    }

    /// `etcd <operation> at <endpoint>: <message>`.
    public var description: String {
        "etcd \(operation)\(endpoint.map { " at \($0)" } ?? ""): \(message)"
    }
}
