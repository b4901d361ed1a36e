import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Process environment and terminal facts for the CLI.
enum Environment {
    static func value(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }

    /// `true` when the file descriptor is a terminal.
    static func isTTY(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
