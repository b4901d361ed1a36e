import Testing
import VirtsyncSpec

@Suite("duration format")
struct DurationFormatTests {
    @Test("a number with a unit is read as seconds",
          arguments: [("500ms", 0.5), ("30s", 30.0), ("5m", 300.0), ("1h30m", 5400.0), ("2d", 172_800.0),
                      ("1.5s", 1.5), (" 10s ", 10.0), ("1d2h3m4s", 93_784.0)])
    func parses(_ text: String, _ seconds: Double) throws {
        #expect(try DurationFormat.parse(text).get() == seconds)
    }

    @Test("a bare number is refused: it could mean seconds or minutes")
    func bareNumber() {
        guard case .failure(let error) = DurationFormat.parse("60") else {
            Issue.record("60 was accepted")
            return
        }
        #expect(error.description.contains("has no unit"))
        #expect(error.description.contains("60s"))
    }

    @Test("an unknown unit is refused, naming the units", arguments: ["5y", "10sec", "3M"])
    func unknownUnit(_ text: String) {
        guard case .failure(let error) = DurationFormat.parse(text) else {
            Issue.record("\(text) was accepted")
            return
        }
        #expect(error.description.contains("unknown unit"))
        #expect(error.description.contains("ms, s, m, h, d"))
    }

    @Test("empty text and text that is not a duration are refused", arguments: ["", "  ", "s", "fast", "-5s", "1..5s"])
    func notADuration(_ text: String) {
        guard case .failure = DurationFormat.parse(text) else {
            Issue.record("\(text.debugDescription) was accepted")
            return
        }
    }

    @Test("format writes what parse reads back",
          arguments: [0.0, 0.25, 1, 59, 60, 90, 3600, 5400, 86_400, 93_784, 172_800])
    func roundTrip(_ seconds: Double) throws {
        let text = DurationFormat.format(seconds)
        #expect(try DurationFormat.parse(text).get() == seconds, "\(seconds) → \(text)")
    }

    @Test("format uses the largest units first")
    func formatShape() {
        #expect(DurationFormat.format(0.5) == "500ms")
        #expect(DurationFormat.format(90) == "1m30s")
        #expect(DurationFormat.format(5400) == "1h30m")
        #expect(DurationFormat.format(172_800) == "2d")
    }
}
