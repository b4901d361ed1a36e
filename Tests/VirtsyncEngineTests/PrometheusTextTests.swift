import Testing
import VirtsyncTesting

/// The strict exposition-format parser tests use to read `/metrics`.
@Suite("Prometheus text parser")
struct PrometheusTextTests {
    @Test("reads comments, labels with escapes, special values, timestamps and summaries")
    func accepts() throws {
        let text = """
            # A free comment.
            # HELP up Whether the target is up.
            # TYPE up gauge
            up{job="a\\\\b",instance="x\\"y\\nz",} 1 1700000000000
            up 0
            # TYPE lat summary
            lat{quantile="0.5"} NaN
            lat_sum -Inf
            lat_count +Inf
            # TYPE h histogram
            h_bucket{le="1e-05"} 0
            h_bucket{le="+Inf"} 2.5e+00
            h_sum .5
            h_count 2

            """
        let samples = try PrometheusText.parse(text)
        #expect(samples.count == 9)
        #expect(samples[0] == .init(name: "up", labels: ["job": "a\\b", "instance": "x\"y\nz"], value: 1))
        #expect(samples[1] == .init(name: "up", value: 0))
        #expect(samples[2].value.isNaN)
        #expect(samples[3].value == -.infinity && samples[4].value == .infinity)
        #expect(samples[5].value == 0 && samples[6].value == 2.5 && samples[7].value == 0.5 && samples[8].value == 2)
    }

    @Test("refuses malformed text", arguments: [
        ("no TYPE for the family", "x 1\n"),
        ("no final newline", "# TYPE x gauge\nx 1"),
        ("an empty line", "# TYPE x gauge\n\nx 1\n"),
        ("no value", "# TYPE x gauge\nx\n"),
        ("a value that is not a number", "# TYPE x gauge\nx one\n"),
        ("a hex value", "# TYPE x gauge\nx 0x10\n"),
        ("lower-case inf", "# TYPE x gauge\nx inf\n"),
        ("a trailing space", "# TYPE x gauge\nx 1 \n"),
        ("an unterminated label value", "# TYPE x gauge\nx{a=\"b} 1\n"),
        ("an unknown escape", "# TYPE x gauge\nx{a=\"\\t\"} 1\n"),
        ("a label without quotes", "# TYPE x gauge\nx{a=b} 1\n"),
        ("a repeated label", "# TYPE x gauge\nx{a=\"1\",a=\"2\"} 1\n"),
        ("an invalid metric name", "# TYPE 1x gauge\n1x 1\n"),
        ("an unknown type", "# TYPE x thing\nx 1\n"),
        ("two TYPE lines", "# TYPE x gauge\n# TYPE x gauge\nx 1\n"),
        ("TYPE after the samples", "# HELP x X.\nx 1\n# TYPE x gauge\n"),
        ("a family split in two", "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a=\"b\"} 2\n"),
        ("a repeated series", "# TYPE x gauge\nx 1\nx 2\n"),
        ("a bucket without le", "# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n"),
        ("a bare histogram sample", "# TYPE h histogram\nh 1\n"),
        ("a bad timestamp", "# TYPE x gauge\nx 1 soon\n"),
    ])
    func refuses(_ problem: String, _ text: String) {
        #expect(throws: PrometheusText.ParseError.self, "\(problem)") { try PrometheusText.parse(text) }
    }

    @Test("an error names the line")
    func lineNumber() {
        #expect {
            try PrometheusText.parse("# TYPE x gauge\nx 1\ny 2\n")
        } throws: { error in
            (error as? PrometheusText.ParseError)?.line == 3
        }
    }
}
