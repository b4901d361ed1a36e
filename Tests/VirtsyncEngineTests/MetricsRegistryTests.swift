import Testing
import VirtsyncEngine
import VirtsyncTesting

/// The Prometheus metrics registry: what it renders, read back with the strict parser.
@Suite("metrics registry")
struct MetricsRegistryTests {
    /// A small registry with one family of each kind and an empty one.
    static func small() -> MetricsRegistry {
        let r = MetricsRegistry()
        r.describe("b_gauge", .gauge, help: "A gauge.")
        r.describe("a_total", .counter, help: "Counts things.")
        r.describe("c_seconds", .histogram(buckets: [1, 0.5]), help: "Durations.")
        r.describe("d_empty", .gauge, help: "Nothing yet.")
        r.describe("e_total", .counter, help: "Never incremented.")
        r.increment("a_total", labels: ["kind": "x"], by: 2)
        r.increment("a_total", labels: ["kind": "a"])
        r.set("b_gauge", 1.5)
        for value in [0.25, 0.75, 3] { r.observe("c_seconds", value) }
        return r
    }

    @Test("families and series render in a stable sorted order, histograms with cumulative buckets")
    func golden() {
        let expected = """
            # HELP a_total Counts things.
            # TYPE a_total counter
            a_total{kind="a"} 1
            a_total{kind="x"} 2
            # HELP b_gauge A gauge.
            # TYPE b_gauge gauge
            b_gauge 1.5
            # HELP c_seconds Durations.
            # TYPE c_seconds histogram
            c_seconds_bucket{le="0.5"} 1
            c_seconds_bucket{le="1"} 2
            c_seconds_bucket{le="+Inf"} 3
            c_seconds_sum 4
            c_seconds_count 3
            # HELP d_empty Nothing yet.
            # TYPE d_empty gauge
            # HELP e_total Never incremented.
            # TYPE e_total counter
            e_total 0

            """
        #expect(Self.small().render() == expected)
    }

    @Test("the rendering does not depend on the order of describing and updating")
    func orderIndependent() {
        let r = MetricsRegistry()
        r.describe("e_total", .counter, help: "Never incremented.")
        r.describe("d_empty", .gauge, help: "Nothing yet.")
        r.describe("c_seconds", .histogram(buckets: [0.5, 1, 1, .infinity]), help: "Durations.")
        r.describe("b_gauge", .gauge, help: "A gauge.")
        r.describe("a_total", .counter, help: "Counts things.")
        for value in [3, 0.75, 0.25] { r.observe("c_seconds", value) }
        r.set("b_gauge", 1.5)
        r.increment("a_total", labels: ["kind": "a"])
        r.increment("a_total", labels: ["kind": "x"])
        r.increment("a_total", labels: ["kind": "x"])
        #expect(r.render() == Self.small().render())
    }

    @Test("an empty registry renders nothing")
    func empty() {
        #expect(MetricsRegistry().render() == "")
    }

    @Test("render then parse gives back every series and value")
    func roundTrip() throws {
        let r = MetricsRegistry()
        r.describe("virtsync_steps_total", .counter, help: "Steps.")
        r.describe("virtsync_managed", .gauge, help: "Managed resources.")
        r.increment("virtsync_steps_total", labels: ["action": "define", "outcome": "succeeded"], by: 3)
        r.increment("virtsync_steps_total", labels: ["action": "start", "outcome": "failed"])
        r.set("virtsync_managed", labels: ["kind": "domain", "state": "running"], 7)
        r.set("virtsync_managed", labels: ["kind": "volume", "state": "present"], 0.125)
        let samples = try PrometheusText.parse(r.render())
        #expect(Set(samples) == [
            .init(name: "virtsync_managed", labels: ["kind": "domain", "state": "running"], value: 7),
            .init(name: "virtsync_managed", labels: ["kind": "volume", "state": "present"], value: 0.125),
            .init(name: "virtsync_steps_total", labels: ["action": "define", "outcome": "succeeded"], value: 3),
            .init(name: "virtsync_steps_total", labels: ["action": "start", "outcome": "failed"], value: 1),
        ])
        for sample in samples {
            #expect(r.value(sample.name, labels: sample.labels) == sample.value)
        }
    }

    @Test("histogram buckets are cumulative, +Inf equals the count, and _sum adds the observations")
    func histogram() throws {
        let r = MetricsRegistry()
        r.describe("pass_seconds", .histogram(buckets: [0.1, 1, 10]), help: "Pass durations.")
        let observations: [Double] = [0.05, 0.1, 0.5, 2, 2, 20, 100]
        for value in observations { r.observe("pass_seconds", labels: ["trigger": "timer"], value) }
        r.observe("pass_seconds", labels: ["trigger": "webhook"], 0.01)
        let samples = try PrometheusText.parse(r.render())
        let buckets = samples.filter { $0.name == "pass_seconds_bucket" && $0.labels["trigger"] == "timer" }
        #expect(buckets.map { $0.labels["le"] } == ["0.1", "1", "10", "+Inf"])
        // 0.1 is in the 0.1 bucket: bounds are inclusive.
        #expect(buckets.map(\.value) == [2, 3, 5, 7])
        #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.value <= $1.value })
        let count = samples.first { $0.name == "pass_seconds_count" && $0.labels == ["trigger": "timer"] }
        let sum = samples.first { $0.name == "pass_seconds_sum" && $0.labels == ["trigger": "timer"] }
        #expect(buckets.last?.value == count?.value)
        #expect(count?.value == Double(observations.count))
        #expect(sum?.value == observations.reduce(0, +))
        #expect(r.value("pass_seconds", labels: ["trigger": "timer"]) == 7)
        #expect(r.value("pass_seconds_sum", labels: ["trigger": "webhook"]) == 0.01)
        #expect(r.value("pass_seconds_count", labels: ["trigger": "webhook"]) == 1)
    }

    @Test("label values escape backslash, quote and newline; help escapes backslash and newline")
    func escaping() throws {
        let r = MetricsRegistry()
        r.describe("odd", .gauge, help: "Paths like C:\\vms\nand \"quotes\".")
        let value = "a\\b \"c\"\nd"
        r.set("odd", labels: ["path": value], 1)
        let text = r.render()
        #expect(text == """
            # HELP odd Paths like C:\\\\vms\\nand "quotes".
            # TYPE odd gauge
            odd{path="a\\\\b \\"c\\"\\nd"} 1

            """)
        #expect(try PrometheusText.parse(text) == [.init(name: "odd", labels: ["path": value], value: 1)])
    }

    @Test("special and fractional values render as Prometheus reads them")
    func numbers() throws {
        let r = MetricsRegistry()
        r.describe("g", .gauge, help: "Values.")
        let values: [String: Double] = ["int": 42, "neg": -3, "frac": 0.1, "small": 0.00001, "big": 1.5e20,
                                        "inf": .infinity, "ninf": -.infinity, "nan": .nan, "ts": 1_767_225_600]
        for (name, value) in values { r.set("g", labels: ["v": name], value) }
        let text = r.render()
        #expect(text.contains("g{v=\"int\"} 42\n"))
        #expect(text.contains("g{v=\"ts\"} 1767225600\n"))
        #expect(text.contains("g{v=\"inf\"} +Inf\n"))
        #expect(text.contains("g{v=\"ninf\"} -Inf\n"))
        #expect(text.contains("g{v=\"nan\"} NaN\n"))
        for sample in try PrometheusText.parse(text) {
            guard let expected = sample.labels["v"].flatMap({ values[$0] }) else {
                Issue.record("unexpected sample \(sample)")
                continue
            }
            #expect(sample.value == expected || (sample.value.isNaN && expected.isNaN), "\(sample)")
        }
    }

    @Test("increments from many concurrent tasks all count")
    func concurrentIncrements() async {
        let r = MetricsRegistry()
        r.describe("hits_total", .counter, help: "Hits.")
        r.describe("latency", .histogram(buckets: [1]), help: "Latency.")
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<50 {
                group.addTask {
                    for _ in 0..<1000 {
                        r.increment("hits_total", labels: ["shard": "\(task % 5)"])
                        r.observe("latency", 0.5)
                    }
                    _ = r.render()
                }
            }
        }
        let total = (0..<5).compactMap { r.value("hits_total", labels: ["shard": "\($0)"]) }.reduce(0, +)
        #expect(total == 50_000)
        #expect(r.value("latency_count") == 50_000)
        #expect(r.value("latency_sum") == 25_000)
    }

    @Test("clear drops every series of a family but keeps its HELP and TYPE")
    func clear() throws {
        let r = MetricsRegistry()
        r.describe("managed", .gauge, help: "Managed.")
        r.set("managed", labels: ["kind": "domain"], 3)
        r.set("managed", labels: ["kind": "network"], 1)
        r.clear("managed")
        r.set("managed", labels: ["kind": "pool"], 2)
        #expect(try PrometheusText.parse(r.render()) == [.init(name: "managed", labels: ["kind": "pool"], value: 2)])
        #expect(r.value("managed", labels: ["kind": "domain"]) == nil)
        r.clear("managed")
        #expect(r.render() == "# HELP managed Managed.\n# TYPE managed gauge\n")
    }

    @Test("gauges go both ways; a counter with labels loses its placeholder 0")
    func gaugesAndCounters() {
        let r = MetricsRegistry()
        r.describe("g", .gauge, help: "G.")
        r.describe("c_total", .counter, help: "C.")
        #expect(r.value("c_total") == 0)
        #expect(r.value("g") == nil)
        r.increment("g", by: 5)
        r.increment("g", by: -7)
        #expect(r.value("g") == -2)
        r.increment("c_total", labels: ["x": "1"])
        #expect(!r.render().contains("c_total 0"))
        #expect(r.value("nope") == nil)
    }

    @Test("updating a metric that was never described stops the process")
    func undescribed() async {
        await #expect(processExitsWith: .failure) {
            MetricsRegistry().increment("never_described_total")
        }
    }
}
