import Testing
import VirtsyncCore

/// The one decision behind `--color`: the flag, `NO_COLOR`, `TERM` and whether stdout is a
/// terminal (the CLI tests check the same with the built binary in a real pseudo-terminal).
@Suite("Colour decision (--color, NO_COLOR, TERM, terminal)")
struct ColorModeTests {
    @Test("auto colours a terminal and nothing else")
    func autoFollowsTheTerminal() {
        #expect(ColorMode.auto.enabled(environment: ["TERM": "xterm-256color"], isTerminal: true))
        #expect(ColorMode.auto.enabled(environment: [:], isTerminal: true))
        #expect(!ColorMode.auto.enabled(environment: ["TERM": "xterm-256color"], isTerminal: false))
    }

    @Test("auto honours NO_COLOR with any non-empty value, and ignores an empty one")
    func autoHonoursNoColor() {
        for value in ["1", "0", "true", "yes", " "] {
            #expect(!ColorMode.auto.enabled(environment: ["NO_COLOR": value, "TERM": "xterm"], isTerminal: true), "NO_COLOR=\(value)")
        }
        #expect(ColorMode.auto.enabled(environment: ["NO_COLOR": "", "TERM": "xterm"], isTerminal: true))
    }

    @Test("auto gives no colour to TERM=dumb, and colour to every other TERM")
    func autoHonoursDumbTerminals() {
        #expect(!ColorMode.auto.enabled(environment: ["TERM": "dumb"], isTerminal: true))
        #expect(ColorMode.auto.enabled(environment: ["TERM": "vt100"], isTerminal: true))
        #expect(ColorMode.auto.enabled(environment: ["TERM": "dumber"], isTerminal: true))
    }

    @Test("always and never are the operator's word: terminal, NO_COLOR and TERM do not change them")
    func explicitModesWin() {
        let environments: [[String: String]] = [[:], ["NO_COLOR": "1"], ["TERM": "dumb"], ["NO_COLOR": "1", "TERM": "dumb"]]
        for environment in environments {
            for isTerminal in [true, false] {
                #expect(ColorMode.always.enabled(environment: environment, isTerminal: isTerminal))
                #expect(!ColorMode.never.enabled(environment: environment, isTerminal: isTerminal))
            }
        }
    }

    @Test("the modes are spelled auto, always and never")
    func spellings() {
        #expect(ColorMode.allCases.map(\.rawValue) == ["auto", "always", "never"])
        #expect(ColorMode(rawValue: "sometimes") == nil)
    }
}
