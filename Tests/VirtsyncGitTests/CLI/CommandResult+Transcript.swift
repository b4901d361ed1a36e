import VirtsyncTestSupport
/// What a failed expectation about a run shows: the status and both outputs.
extension CommandResult {
    /// `exit N`, then stdout and stderr, for expectation messages.
    var transcript: String {
        "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)"
    }

    /// Both outputs together, for "the message says X" checks that do not care which stream.
    var output: String { stdout + stderr }
}
