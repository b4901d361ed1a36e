import Foundation

/// Watches a testbed for a guest running on two hosts at once, the failure HA must never cause.
///
/// It reads /proc only, on a thread of its own, every `interval` (25 ms by default): each QEMU
/// process (`qemu-system-*`), the guest name in its command line (`-name guest=NAME,...`), and its
/// host from its network namespace (`/proc/PID/ns/net` against each host's `/run/netns/NAME-host-I`).
/// No virsh and no libvirt connection: a frozen or cut-off libvirtd would hang those, and a frozen
/// host is exactly when a double run may happen. A process that exists is a running copy, stopped
/// (frozen host) or not; a zombie is not (it has left its namespaces). QEMU processes outside the
/// testbed's hosts (a root libvirtd's) are not looked at.
///
///     let checker = DoubleRunChecker.start(testbed, guests: ["ha-1", "ha-2"])
///     ... kill, freeze, partition ...
///     let report = checker.stop()
///     #expect(report.doubleRuns.isEmpty, "\(report)")
///
/// A live migration has two copies for a moment (the destination's QEMU is started with
/// `-incoming`, and keeps the flag for its whole life). By default (`.counted`) that is a double
/// run. `.ignored` (or `ignoringIncoming: true`) leaves such processes out entirely, which also
/// hides a migrated guest on its new host for as long as that process lives. `.migrationAware`,
/// for tests with live migrations, orders each guest's copies by process start time: three or
/// more, or two where the newer was not started with `-incoming`, are a double run; two where the
/// newer was are a migration, reported in `Report.migrations` (see `overlap(of:counting:)`):
///
///     let checker = DoubleRunChecker.start(testbed, guests: ["ha-1"], incoming: .migrationAware)
///     ... fail over, then fail back by live migration ...
///     let report = checker.stop()
///     #expect(report.doubleRuns.isEmpty && report.migrations.count == 1, "\(report)")
public final class DoubleRunChecker: @unchecked Sendable {
    /// One stretch of polls during which a guest had copies on several hosts.
    public struct DoubleRun: Sendable, Equatable, CustomStringConvertible {
        /// The guest's name (libvirt's domain name).
        public let guest: String
        /// The hosts with a copy (`host-1`, ...), sorted.
        public let hosts: [String]
        /// The copies' QEMU process ids, in the order of `hosts`.
        public let pids: [Int32]
        /// The first poll that saw the copies.
        public let firstSeen: Date
        /// The last poll that saw the copies (equal to `firstSeen` when only one did).
        public internal(set) var lastSeen: Date
        /// How many polls in a row saw them.
        public internal(set) var polls: Int

        /// `guest on host-1+host-2 (pids 1, 2) for 0.412 s, 17 polls, from 1796559892.120` (epoch seconds).
        public var description: String {
            let span = String(format: "%.3f", lastSeen.timeIntervalSince(firstSeen))
            return "\(guest) on \(hosts.joined(separator: "+")) (pids \(pids.map(String.init).joined(separator: ", "))) "
                + "for \(span) s, \(polls) polls, from \(String(format: "%.3f", firstSeen.timeIntervalSince1970))"
        }
    }

    /// What a checker saw between its start and `stop()`.
    public struct Report: Sendable, CustomStringConvertible {
        /// Every stretch during which a guest had copies on several hosts, in the order they began.
        public let doubleRuns: [DoubleRun]
        /// How many times /proc was scanned.
        public let polls: Int
        /// The longest time from the start of one poll to the start of the next: what a double run
        /// could have lasted unseen.
        public let longestGap: Duration
        /// The mean time one scan of /proc took.
        public let meanScan: Duration
        /// From start to stop.
        public let duration: Duration
        /// QEMU processes left out because they were started with `-incoming` (when ignoring them).
        public let ignoredIncoming: Int
        /// Every stretch during which a guest was being live-migrated, in the order they began
        /// (counted `.migrationAware` only; empty otherwise).
        public let migrations: [Migration]

        /// The double runs, the migrations and the checker's own figures, for test failure messages.
        public var description: String {
            let figures = "\(polls) polls in \(duration), longest gap \(longestGap), mean scan \(meanScan)"
                + (ignoredIncoming > 0 ? ", \(ignoredIncoming) -incoming processes ignored" : "")
            var text = doubleRuns.isEmpty
                ? "no double run (\(figures))"
                : "\(doubleRuns.count) double run(s) (\(figures)):\n" + doubleRuns.map { "  \($0)" }.joined(separator: "\n")
            if !migrations.isEmpty {
                text += "\n\(migrations.count) live migration(s):\n" + migrations.map { "  \($0)" }.joined(separator: "\n")
            }
            return text
        }
    }

    /// The guests watched; nil watches every guest.
    public let guests: Set<String>?
    /// The pause between two scans.
    public let interval: Duration
    /// How QEMU processes started with `-incoming` (live-migration destinations) are counted.
    public let incoming: Incoming
    /// Whether QEMU processes started with `-incoming` are left out (`incoming == .ignored`).
    public var ignoringIncoming: Bool { incoming == .ignored }

    /// Host name by network namespace inode.
    private let hostByNamespace: [UInt64: String]
    private let lock = NSLock()
    private let finished = DispatchSemaphore(value: 0)
    // Guarded by `lock`:
    private var stopping = false
    private var runs: [DoubleRun] = []
    private var open: [String: Int] = [:]  // guest -> index in `runs` of its ongoing double run
    private var migrations: [Migration] = []
    private var migrating: [String: Int] = [:]  // guest -> index in `migrations` of its ongoing migration
    private var latest: [String: [String]] = [:]
    private var polls = 0
    private var longestGap: Duration = .zero
    private var scanTime: Duration = .zero
    private var ignored = Set<Int32>()
    private let started = ContinuousClock.now
    private var stopped: ContinuousClock.Instant?

    private init(hostByNamespace: [UInt64: String], guests: Set<String>?, interval: Duration, incoming: Incoming) {
        self.hostByNamespace = hostByNamespace
        self.guests = guests
        self.interval = interval
        self.incoming = incoming
    }

    /// Starts watching `testbed`'s hosts for copies of `guests` (nil: every guest) on a thread of
    /// its own, scanning /proc every `interval`, leaving `-incoming` processes out or not; returns
    /// once the first scan is done.
    public static func start(_ testbed: Testbed, guests: Set<String>? = nil, interval: Duration = .milliseconds(25),
                             ignoringIncoming: Bool) -> DoubleRunChecker {
        start(testbed, guests: guests, interval: interval, incoming: ignoringIncoming ? .ignored : .counted)
    }

    /// Starts watching `testbed`'s hosts for copies of `guests` (nil: every guest) on a thread of
    /// its own, scanning /proc every `interval` and counting `-incoming` processes as `incoming`
    /// says; returns once the first scan is done.
    public static func start(_ testbed: Testbed, guests: Set<String>? = nil, interval: Duration = .milliseconds(25),
                             incoming: Incoming = .counted) -> DoubleRunChecker {
        var namespaces: [UInt64: String] = [:]
        for host in testbed.hosts {
            var info = stat()
            if stat("/run/netns/\(testbed.name)-\(host.name)", &info) == 0 { namespaces[UInt64(info.st_ino)] = host.name }
        }
        let checker = DoubleRunChecker(hostByNamespace: namespaces, guests: guests, interval: interval, incoming: incoming)
        let scanner = ProcessScanner()
        checker.poll(scanner)
        // Weakly, and strongly only for one poll at a time: a checker dropped without `stop()`
        // ends its thread at the next poll.
        let thread = Thread { [weak checker] in
            var previous = ContinuousClock.now
            while let checker, checker.tick(scanner, previous: &previous) {}
        }
        thread.name = "double-run-checker"
        thread.start()
        return checker
    }

    /// The hosts with a copy of each watched guest at the latest poll (guests with no copy absent).
    public func copies() -> [String: [String]] { lock.withLock { latest } }

    /// The double runs seen so far.
    public func doubleRuns() -> [DoubleRun] { lock.withLock { runs } }

    /// Stops the thread (after its current poll) and reports. Calling it again reports again.
    @discardableResult
    public func stop() -> Report {
        let first = lock.withLock { () -> Bool in
            defer { stopping = true }
            return !stopping
        }
        if first { finished.wait() }
        return lock.withLock {
            let end = stopped ?? ContinuousClock.now
            return Report(doubleRuns: runs, polls: polls, longestGap: longestGap,
                          meanScan: polls > 0 ? scanTime / polls : .zero, duration: end - started,
                          ignoredIncoming: ignored.count, migrations: migrations)
        }
    }

    /// One pause and one poll of the checker's thread; false once stopped (after signalling `stop()`).
    private func tick(_ scanner: ProcessScanner, previous: inout ContinuousClock.Instant) -> Bool {
        if lock.withLock({ stopping }) {
            lock.withLock { stopped = ContinuousClock.now }
            finished.signal()
            return false
        }
        Thread.sleep(forTimeInterval: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
        let now = ContinuousClock.now
        lock.withLock { longestGap = max(longestGap, now - previous) }
        previous = now
        poll(scanner)
        return true
    }

    private func poll(_ scanner: ProcessScanner) {
        let began = ContinuousClock.now
        let processes = scanner.scan()
        let at = Date()
        var byGuest: [String: [Copy]] = [:]
        var skipped: [Int32] = []
        for process in processes {
            guard let host = hostByNamespace[process.netNamespace] else { continue }
            if let guests, !guests.contains(process.guest) { continue }
            if incoming == .ignored && process.incoming {
                skipped.append(process.pid)
                continue
            }
            byGuest[process.guest, default: []].append(
                Copy(host: host, pid: process.pid, startTicks: process.startTicks, incoming: process.incoming))
        }
        let took = ContinuousClock.now - began
        lock.withLock {
            polls += 1
            scanTime += took
            ignored.formUnion(skipped)
            latest = byGuest.mapValues { $0.map(\.host).sorted() }
            var doubled = Set<String>(), moving = Set<String>()
            for (guest, copies) in byGuest {
                switch Self.overlap(of: copies, counting: incoming) {
                case .none:
                    continue
                case .doubleRun:
                    doubled.insert(guest)
                    let sorted = copies.sorted { ($0.host, $0.pid) < ($1.host, $1.pid) }
                    Self.extend(&runs, open: &open, guest: guest, copies: sorted, at: at)
                case .migration:
                    moving.insert(guest)
                    let sorted = copies.sorted { $0.startTicks < $1.startTicks }  // source first
                    Self.extend(&migrations, open: &migrating, guest: guest, copies: sorted, at: at)
                }
            }
            open = open.filter { doubled.contains($0.key) }
            migrating = migrating.filter { moving.contains($0.key) }
        }
    }

    /// Counts one more poll for `guest`'s ongoing stretch in `stretches` when it has the same
    /// `copies`, else begins a new one there.
    private static func extend<Stretch: OverlapStretch>(_ stretches: inout [Stretch], open: inout [String: Int],
                                                         guest: String, copies: [Copy], at: Date) {
        let hosts = copies.map(\.host), pids = copies.map(\.pid)
        if let index = open[guest], stretches[index].hosts == hosts, stretches[index].pids == pids {
            stretches[index].lastSeen = at
            stretches[index].polls += 1
        } else {
            open[guest] = stretches.count
            stretches.append(Stretch(guest: guest, hosts: hosts, pids: pids, firstSeen: at, lastSeen: at, polls: 1))
        }
    }
}
