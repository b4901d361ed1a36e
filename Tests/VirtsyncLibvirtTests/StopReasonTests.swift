import CLibvirt
import Testing
import VirtsyncCore
import VirtsyncEngine
@testable import VirtsyncLibvirt

/// How a stopped domain stopped: libvirt's reason, and the stop marker virtsync writes when it
/// stops a domain itself, against the test driver.
@Suite("stop reasons and the stop marker")
struct StopReasonTests {
    static let vm = DomainModel(name: "vm", vcpus: 1, memory: .mib(128), interfaces: [InterfaceModel(source: .network("default"))])

    private func seen(_ session: LibvirtSession, _ name: String = vm.name) async throws -> ObservedDomain {
        try #require(try await session.observe(host: Steps.host).domains[name])
    }

    /// A created and started domain.
    private func running(_ options: LibvirtSessionOptions = LibvirtSessionOptions()) async throws -> LibvirtSession {
        let session = try await Fixture.session(options)
        try await session.apply(Steps.domain(.create, Self.vm))
        try await session.apply(Steps.domain(.start, named: Self.vm.name))
        return session
    }

    /// Calls libvirt on the domain the way someone outside virtsync would (`virsh destroy`).
    private func byHand(_ session: LibvirtSession, _ call: @escaping @Sendable (OpaquePointer) -> Int32) async throws {
        try await session.run("by hand") { libvirt in
            let domain = try libvirt.existingDomain(Self.vm.name, "by hand")
            try libvirt.check(call(domain.pointer), "by hand")
        }
    }

    /// The persistent definition as libvirt stores it.
    private func definition(_ session: LibvirtSession) async throws -> String {
        try await session.run("read") { call in
            try call.domainXML(try call.existingDomain(Self.vm.name, "read"), inactive: true, "read")
        }
    }

    @Test("a domain defined and never started reads back as shut off for an unknown reason: not a restart")
    func neverStarted() async throws {
        let session = try await Fixture.session()
        try await session.apply(Steps.domain(.create, Self.vm))
        let domain = try await seen(session)
        #expect(domain.stopReason == .unknown)
        #expect(!domain.stoppedByVirtsync)
        #expect(StopCause.classify(domain) == .notStarted)
    }

    @Test("a running domain has no stop reason")
    func runningHasNone() async throws {
        let domain = try await seen(try await running())
        #expect(domain.state == .running)
        #expect(domain.stopReason == nil)
        #expect(!domain.stoppedByVirtsync)
        #expect(StopCause.classify(domain) == nil)
    }

    @Test("after virtsync's stop the domain is marked as stopped by virtsync, with libvirt's reason",
          arguments: [Duration.zero, .seconds(5)])
    func stopMarks(_ shutdownTimeout: Duration) async throws {
        let session = try await running(LibvirtSessionOptions(shutdownTimeout: shutdownTimeout))
        try await session.apply(Steps.domain(.stop, named: Self.vm.name))
        let domain = try await seen(session)
        #expect(domain.state == .shutoff)
        #expect(domain.stoppedByVirtsync)
        // Destroyed without a timeout; the test driver's ACPI shutdown is immediate.
        #expect(domain.stopReason == (shutdownTimeout == .zero ? .destroyed : .shutdown))
        #expect(StopCause.classify(domain) == .notStarted)
        let xml = try await definition(session)
        #expect(xml.contains(LibvirtXML.stopMarkerNamespace))
        #expect(xml.contains("<\(LibvirtXML.stopMarkerPrefix):stopped"))
    }

    @Test("a domain destroyed by hand reads back as destroyed and not stopped by virtsync: a failure")
    func destroyedByHand() async throws {
        let session = try await running()
        try await byHand(session) { virDomainDestroy($0) }
        let domain = try await seen(session)
        #expect(domain.state == .shutoff)
        #expect(domain.stopReason == .destroyed)
        #expect(!domain.stoppedByVirtsync)
        #expect(StopCause.classify(domain) == .failure)
    }

    @Test("a guest shut down by hand reads back as shut down: a clean shutdown")
    func shutDownByHand() async throws {
        let session = try await running()
        try await byHand(session) { virDomainShutdown($0) }
        let domain = try await seen(session)
        #expect(domain.stopReason == .shutdown)
        #expect(StopCause.classify(domain) == .cleanShutdown)
    }

    @Test("virtsync's start removes the marker; a later destroy by hand is a failure again")
    func startUnmarks() async throws {
        let session = try await running()
        try await session.apply(Steps.domain(.stop, named: Self.vm.name))
        #expect(try await seen(session).stoppedByVirtsync)
        try await session.apply(Steps.domain(.start, named: Self.vm.name))
        #expect(try await seen(session).state == .running)
        #expect(!(try await definition(session)).contains(LibvirtXML.stopMarkerNamespace))
        try await byHand(session) { virDomainDestroy($0) }
        let domain = try await seen(session)
        #expect(!domain.stoppedByVirtsync)
        #expect(domain.stopReason == .destroyed)
    }

    @Test("a restart does not leave the domain marked")
    func restartDoesNotMark() async throws {
        let session = try await running()
        try await session.apply(Steps.domain(.restart, named: Self.vm.name))
        #expect(try await seen(session).state == .running)
        #expect(!(try await definition(session)).contains(LibvirtXML.stopMarkerNamespace))
    }

    @Test("an update of a domain virtsync stopped keeps the marker")
    func updateKeepsMarker() async throws {
        let session = try await running()
        try await session.apply(Steps.domain(.stop, named: Self.vm.name))
        var changed = Self.vm
        changed.memory = .mib(256)
        try await session.apply(Steps.domain(.update, changed))
        let domain = try await seen(session)
        #expect(domain.model.memory == .mib(256))
        #expect(domain.stoppedByVirtsync)
        #expect(StopCause.classify(domain) == .notStarted)
    }

    @Test("libvirt's states and shut-off reasons map to stop reasons; active states have none")
    func mapping() {
        func reason(_ state: virDomainState, _ reason: UInt32 = 0) -> StopReason? {
            LibvirtSession.stopReason(state: Int32(state.rawValue), reason: Int32(reason))
        }
        let shutoff: [(virDomainShutoffReason, StopReason)] = [
            (VIR_DOMAIN_SHUTOFF_UNKNOWN, .unknown), (VIR_DOMAIN_SHUTOFF_SHUTDOWN, .shutdown),
            (VIR_DOMAIN_SHUTOFF_DESTROYED, .destroyed), (VIR_DOMAIN_SHUTOFF_CRASHED, .crashed),
            (VIR_DOMAIN_SHUTOFF_MIGRATED, .migrated), (VIR_DOMAIN_SHUTOFF_SAVED, .saved),
            (VIR_DOMAIN_SHUTOFF_FAILED, .failed), (VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT, .fromSnapshot),
            (VIR_DOMAIN_SHUTOFF_DAEMON, .daemon),
        ]
        for (code, expected) in shutoff {
            #expect(reason(VIR_DOMAIN_SHUTOFF, code.rawValue) == expected)
        }
        #expect(reason(VIR_DOMAIN_SHUTOFF, 99) == .other)
        #expect(reason(VIR_DOMAIN_CRASHED, VIR_DOMAIN_CRASHED_PANICKED.rawValue) == .crashed)
        #expect(reason(VIR_DOMAIN_CRASHED) == .crashed)
        #expect(reason(VIR_DOMAIN_NOSTATE) == .unknown)
        for active in [VIR_DOMAIN_RUNNING, VIR_DOMAIN_PAUSED, VIR_DOMAIN_BLOCKED, VIR_DOMAIN_SHUTDOWN, VIR_DOMAIN_PMSUSPENDED] {
            #expect(reason(active) == nil)
        }
    }

    @Test("the marker is found by its namespace, whatever the prefix; a foreign element of that name is not it")
    func parseMarker() throws {
        func domain(_ metadata: String) -> String {
            "<domain><name>x</name><memory>1024</memory><metadata>\(metadata)</metadata></domain>"
        }
        #expect(try LibvirtXML.parseDomain(domain(
            "<virtsync-stop:stopped xmlns:virtsync-stop='https://virtsync.dev/xmlns/stopped/1' at='2025-01-01T00:00:00Z'/>"
        )).stoppedByVirtsync)
        #expect(try LibvirtXML.parseDomain(domain("<s:stopped xmlns:s='https://virtsync.dev/xmlns/stopped/1'/>")).stoppedByVirtsync)
        #expect(!(try LibvirtXML.parseDomain(domain("<s:stopped xmlns:s='https://example.com/stopped'/>")).stoppedByVirtsync))
        #expect(!(try LibvirtXML.parseDomain(domain("")).stoppedByVirtsync))
    }

    @Test("the update merge keeps the stop marker and replaces only the ownership marker")
    func mergeKeepsMarker() throws {
        let current = """
        <domain type='test'><name>vm</name><metadata>\
        <virtsync:managed xmlns:virtsync='https://virtsync.dev/xmlns/domain/1' spec-digest='old' domain-name='vm'/>\
        <virtsync-stop:stopped xmlns:virtsync-stop='https://virtsync.dev/xmlns/stopped/1' at='2025-01-01T00:00:00Z'/>\
        </metadata><memory unit='KiB'>131072</memory><devices/></domain>
        """
        let merged = try LibvirtXML.updatedDomain(current: current, model: Self.vm, marker: Steps.marker)
        let parsed = try LibvirtXML.parseDomain(merged)
        #expect(parsed.stoppedByVirtsync)
        #expect(parsed.marker?.specDigest == Steps.marker.specDigest)
        #expect(merged.contains("at=\"2025-01-01T00:00:00Z\"") || merged.contains("at='2025-01-01T00:00:00Z'"))
        // A new definition never carries it.
        #expect(!LibvirtXML.domain(Self.vm, marker: Steps.marker, domainType: "test").contains(LibvirtXML.stopMarkerNamespace))
    }

    @Test("the listing's state statistics (one call) give each domain the state and stop reason the per-domain calls give")
    func statisticsAgreeWithStateCalls() async throws {
        let session = try await Fixture.session()
        func vm(_ name: String) -> DomainModel {
            var model = Self.vm
            model.name = name
            return model
        }
        for name in ["runs", "paused", "destroyed", "never"] {
            try await session.apply(Steps.domain(.create, vm(name)))
        }
        for name in ["runs", "paused", "destroyed"] { try await session.apply(Steps.domain(.start, named: name)) }
        try await session.run("by hand") { call in
            let paused = try call.existingDomain("paused", "by hand")
            let destroyed = try call.existingDomain("destroyed", "by hand")
            try withExtendedLifetime((paused, destroyed)) {
                try call.check(virDomainSuspend(paused.pointer), "by hand")
                try call.check(virDomainDestroy(destroyed.pointer), "by hand")
            }
        }
        let (byStatistics, byFilters, perDomain) = try await session.run("list") { call in
            let statistics = try #require(try LibvirtSession.domainStates(call), "the test driver has domain statistics")
            let listed = try LibvirtSession.listDomains(call)
            #expect(statistics.count == listed.count)
            // The fallback for drivers without statistics lists the same domains.
            let filtered = try LibvirtSession.listDomainsByFilters(call)
            var asked: [String: StopReason?] = [:]
            for domain in listed where !domain.state.isActive {
                asked[domain.name] = try LibvirtSession.stopReason(domain.object, "read", call)
            }
            return (listed.map { listed -> (String, RunState, StopReason?, Bool) in
                if case .known(let reason) = listed.reason { return (listed.name, listed.state, reason, true) }
                return (listed.name, listed.state, nil, false)
            }, filtered.count, asked)
        }
        #expect(byFilters == byStatistics.count)
        let byName = Dictionary(uniqueKeysWithValues: byStatistics.map { ($0.0, ($0.1, $0.2, $0.3)) })
        #expect(byName["runs"]?.0 == .running)
        #expect(byName["paused"]?.0 == .paused)
        #expect(byName["destroyed"]?.0 == .shutoff)
        #expect(byName["destroyed"]?.1 == .destroyed)
        #expect(byName["never"]?.1 == .unknown)
        for (name, entry) in byName {
            #expect(entry.2, "\(name): the reason came with the listing")
            if !entry.0.isActive { #expect(perDomain[name] == entry.1, "\(name): statistics and virDomainGetState agree") }
            else { #expect(entry.1 == nil) }
        }
        // And the observed domains carry the same.
        let observed = try await session.observe(host: Steps.host).domains
        #expect(observed["destroyed"]?.stopReason == .destroyed)
        #expect(observed["paused"]?.state == .paused)
    }
}
