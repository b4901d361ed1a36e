import ArgumentParser
import Foundation
import VirtsyncCore

/// `--color auto|always|never` for the commands that print coloured text (a plan).
///
/// Every command that colours asks `enabled` and nothing else, so the flag, `NO_COLOR`,
/// `TERM=dumb` and the terminal test are decided in one place (`ColorMode.enabled`).
struct ColorOptions: ParsableArguments {
    @Option(name: .long,
            help: ArgumentHelp("Colour in text output: auto (the default: on a terminal, unless NO_COLOR is set or TERM=dumb), always or never.",
                               valueName: "when"),
            completion: .list(ColorMode.allCases.map(\.rawValue)),
            transform: ColorOptions.mode)
    var color: ColorMode = .auto

    /// The older spelling of `--color never`, kept for scripts that pass it.
    @Flag(name: .long, help: .hidden)
    var noColor = false

    func validate() throws {
        if noColor && color == .always { throw ValidationError("give --color always or --no-color, not both") }
    }

    /// Whether text printed to stdout gets colour.
    var enabled: Bool {
        (noColor ? ColorMode.never : color).enabled(environment: ProcessInfo.processInfo.environment,
                                                    isTerminal: Environment.isTTY(1))
    }

    /// Parses `--color`'s value, naming the allowed ones when it is none of them.
    static func mode(_ text: String) throws -> ColorMode {
        guard let mode = ColorMode(rawValue: text) else {
            throw ValidationError("use one of \(ColorMode.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "))")
        }
        return mode
    }
}
