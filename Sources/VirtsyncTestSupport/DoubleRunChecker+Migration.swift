import Foundation

extension DoubleRunChecker {
    /// How a checker counts QEMU processes started with `-incoming` (live-migration destinations).
    public enum Incoming: Sendable, Equatable {
        /// Every copy counts: a live migration in flight is a double run. For tests without
        /// migrations, where a second copy of any kind is a failure.
        case counted
        /// `-incoming` processes are left out entirely. This also hides a migrated guest on its new
        /// host for as long as that process lives, and so any double run it takes part in.
        case ignored
        /// Two copies where the newer one was started with `-incoming` are a migration, reported in
        /// `Report.migrations`; anything else on two hosts or more is a double run (the rule is on
        /// `overlap(of:counting:)`). For tests with live migrations, such as an HA failback.
        case migrationAware
    }

    /// One running copy of a guest, as the counting rule sees it.
    public struct Copy: Sendable, Equatable {
        /// The host it runs on (`host-1`, ...).
        public let host: String
        /// Its QEMU process id.
        public let pid: Int32
        /// When its QEMU process started, in clock ticks since boot (field 22 of /proc/PID/stat).
        public let startTicks: UInt64
        /// Whether its QEMU process was started with `-incoming`; it keeps the flag in its command
        /// line for its whole life, long after the migration that started it has finished.
        public let incoming: Bool

        /// A copy on `host` in process `pid`, started `startTicks` after boot, `incoming` or not.
        public init(host: String, pid: Int32, startTicks: UInt64, incoming: Bool) {
            self.host = host
            self.pid = pid
            self.startTicks = startTicks
            self.incoming = incoming
        }
    }

    /// What one guest's copies at one poll amount to.
    public enum Overlap: Sendable, Equatable {
        /// At most one host has a copy.
        case none
        /// A live migration in flight: the source and the `-incoming` destination.
        case migration
        /// Copies on two hosts or more that no migration explains.
        case doubleRun
    }

    /// The counting rule: what `copies` of one guest (all those seen at one poll) amount to when
    /// `-incoming` processes are counted as `incoming` says.
    ///
    /// Copies on a single host are never an overlap. Otherwise, with `.counted` it is a double run;
    /// `.ignored` first drops the `-incoming` copies. With `.migrationAware` the copies are ordered
    /// by start time and it is a double run when there are three or more, or exactly two and the
    /// newer one was not started with `-incoming`: a migration's destination is always the newer
    /// process and always has `-incoming`, while a fresh start beside a living copy has not, even
    /// when that living copy is itself a migrated one (still `-incoming`). Two copies where the
    /// newer one is incoming are a migration. Two copies started in the same clock tick cannot be
    /// ordered and are a double run: no destination starts that close to its source.
    ///
    /// What the rule cannot tell: a guest started from a saved state (`virsh restore`, a managed
    /// save) also runs with `-incoming`, so such a start beside a living copy counts as a migration.
    public static func overlap(of copies: [Copy], counting incoming: Incoming) -> Overlap {
        let counted = incoming == .ignored ? copies.filter { !$0.incoming } : copies
        guard Set(counted.map(\.host)).count > 1 else { return .none }
        guard incoming == .migrationAware, counted.count == 2 else { return .doubleRun }
        let ordered = counted.sorted { $0.startTicks < $1.startTicks }
        let (older, newer) = (ordered[0], ordered[1])
        return newer.incoming && newer.startTicks > older.startTicks ? .migration : .doubleRun
    }

    /// One stretch of polls during which a guest was being live-migrated (`.migrationAware` only).
    public struct Migration: Sendable, Equatable, CustomStringConvertible {
        /// The guest's name (libvirt's domain name).
        public let guest: String
        /// The source's host, then the destination's.
        public let hosts: [String]
        /// The source's and the destination's QEMU process ids, in the order of `hosts`.
        public let pids: [Int32]
        /// The first poll that saw both copies.
        public let firstSeen: Date
        /// The last poll that saw both copies (equal to `firstSeen` when only one did).
        public internal(set) var lastSeen: Date
        /// How many polls in a row saw them.
        public internal(set) var polls: Int

        /// `guest from host-1 to host-2 (pids 1, 2) for 0.412 s, 17 polls, from 1796559892.120` (epoch seconds).
        public var description: String {
            let span = String(format: "%.3f", lastSeen.timeIntervalSince(firstSeen))
            return "\(guest) from \(hosts.joined(separator: " to ")) (pids \(pids.map(String.init).joined(separator: ", "))) "
                + "for \(span) s, \(polls) polls, from \(String(format: "%.3f", firstSeen.timeIntervalSince1970))"
        }
    }
}

/// A stretch of polls that saw the same copies of one guest: a double run or a migration.
protocol OverlapStretch {
    init(guest: String, hosts: [String], pids: [Int32], firstSeen: Date, lastSeen: Date, polls: Int)
    var hosts: [String] { get }
    var pids: [Int32] { get }
    var lastSeen: Date { get set }
    var polls: Int { get set }
}

extension DoubleRunChecker.DoubleRun: OverlapStretch {}
extension DoubleRunChecker.Migration: OverlapStretch {}
