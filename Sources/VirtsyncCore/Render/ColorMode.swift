/// Whether text output gets ANSI colour: the one decision behind `--color auto|always|never`.
///
/// `always` and `never` are the operator's word and win over everything (an explicit flag
/// overrides `NO_COLOR`, as no-color.org asks). `auto` colours only when the output is a
/// terminal, `NO_COLOR` is unset or empty, and `TERM` is not `dumb`.
public enum ColorMode: String, CaseIterable, Sendable {
    case auto, always, never

    /// Whether to colour output, given the process environment and whether the output goes to
    /// a terminal.
    ///
    /// - Parameters:
    ///   - environment: the process environment (only `NO_COLOR` and `TERM` are read).
    ///   - isTerminal: whether the stream that gets the coloured text is a terminal.
    public func enabled(environment: [String: String], isTerminal: Bool) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto:
            if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
            if environment["TERM"] == "dumb" { return false }
            return isTerminal
        }
    }
}
