import Foundation
import Testing
import VirtsyncCore
@testable import VirtsyncEngine

/// The event-maintained view's bookkeeping: what each read must cover.
@Suite("observed-state cache")
struct ObservedCacheTests {
    final class Clock: @unchecked Sendable {
        let lock = NSLock()
        var now = ContinuousClock.now
        func advance(_ by: Duration) { lock.withLock { now += by } }
        func read() -> ContinuousClock.Instant { lock.withLock { now } }
    }

    static func domain(_ name: String, _ state: RunState = .running) -> ObservedDomain {
        ObservedDomain(model: DomainModel(name: name, memory: .mib(64)), uuid: "u-\(name)", state: state)
    }

    static func host(_ names: [String]) -> ObservedHost {
        ObservedHost(name: "h", domains: Dictionary(uniqueKeysWithValues: names.map { ($0, domain($0)) }))
    }

    @Test("the first read is full; then a read covers only the domains events named since the last one, and none when nothing happened")
    func eventsNarrowTheRead() {
        let clock = Clock()
        let cache = ObservedCache(resync: .seconds(300), clock: { clock.read() })
        #expect(cache.begin() == .full(reason: "first read"))
        cache.storeFull(Self.host(["a", "b", "c"]), at: clock.read())
        #expect(cache.begin() == .domains([]))
        cache.note(.domain(name: "b", kind: .stopped))
        cache.note(.domain(name: "z", kind: .defined))
        cache.note(.network(name: "lan", started: false))
        cache.touch("c")
        #expect(cache.begin() == .domains(["b", "c", "z"]))
        #expect(cache.begin() == .domains([]), "the marks are cleared by the read that covers them")
    }

    @Test("a partial read replaces the domains it asked for, drops those gone and keeps the others")
    func mergeKeepsTheRest() {
        let cache = ObservedCache(resync: .seconds(300))
        _ = cache.begin()
        cache.storeFull(Self.host(["a", "b", "c"]), at: .now)
        var rest = ObservedHost(name: "h")
        rest.networks["lan"] = ObservedNetwork(model: NetworkModel(name: "lan", mode: .isolated), uuid: "n", active: true)
        let merged = cache.merge(["b": Self.domain("b", .shutoff), "z": Self.domain("z")], asked: ["b", "c", "z"], rest: rest)
        #expect(merged.domains.keys.sorted() == ["a", "b", "z"], "c was asked for and is gone")
        #expect(merged.domains["b"]?.state == .shutoff && merged.domains["a"]?.state == .running)
        #expect(merged.networks["lan"] != nil, "everything but the domains is the fresh read's")
        #expect(cache.count == 3)
    }

    @Test("lost events, a closed connection, a failed read and the resync interval each make the next read full",
          arguments: ["lost", "closed", "failed", "interval"])
    func resyncs(_ cause: String) {
        let clock = Clock()
        let cache = ObservedCache(resync: .seconds(300), clock: { clock.read() })
        _ = cache.begin()
        cache.storeFull(Self.host(["a"]), at: clock.read())
        cache.note(.domain(name: "a", kind: .stopped))
        let expected: String
        switch cause {
        case "lost": cache.note(.eventsLost); expected = "libvirt events were lost"
        case "closed": cache.note(.connectionClosed(reason: "eof")); expected = "the connection closed"
        case "failed": cache.invalidate("the last read failed"); expected = "the last read failed"
        default: clock.advance(.seconds(299)); #expect(cache.begin() == .domains(["a"])); clock.advance(.seconds(1)); expected = "the resync interval passed"
        }
        #expect(cache.begin() == .full(reason: expected))
        cache.storeFull(Self.host(["a"]), at: clock.read())
        #expect(cache.begin() == .domains([]), "one full read, then back to events")
    }
}
