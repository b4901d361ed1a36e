import Foundation
import Testing
import VirtsyncTestSupport

/// `packaging/systemd/virtsync-agent.service` is what operators install: its key settings are
/// part of the agent's contract (notify protocol, watchdog, reload by SIGHUP, hardening).
@Suite("systemd unit")
struct SystemdUnitTests {
    static let unitPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("packaging/systemd/virtsync-agent.service").path

    static func unit() throws -> UnitFile {
        try UnitFile(text: String(contentsOfFile: unitPath, encoding: .utf8))
    }

    @Test("the service notifies systemd, is watched by the watchdog and restarts on failure")
    func lifecycle() throws {
        let unit = try Self.unit()
        #expect(unit.value("Service", "Type") == "notify")
        #expect(unit.value("Service", "NotifyAccess") == "main")
        let watchdog = try #require(unit.value("Service", "WatchdogSec"))
        #expect((Int(watchdog) ?? 0) > 0)
        #expect(unit.value("Service", "Restart") == "on-failure")
        #expect(unit.value("Service", "RestartSec") != nil)
        #expect(unit.value("Unit", "StartLimitBurst") != nil)
        #expect(unit.value("Service", "KillSignal") == "SIGTERM")
        #expect(unit.value("Service", "TimeoutStopSec") == "120s")
        #expect(unit.value("Install", "WantedBy") == "multi-user.target")
    }

    @Test("ExecStart runs the agent with its configuration file, and reload sends SIGHUP")
    func commands() throws {
        let unit = try Self.unit()
        let start = try #require(unit.value("Service", "ExecStart"))
        #expect(start.hasPrefix("/usr/local/bin/virtsync agent --config /etc/virtsync/agent.yaml"))
        #expect(unit.value("Service", "ExecReload") == "/bin/kill -HUP $MAINPID")
    }

    @Test("the service starts after the network and libvirt")
    func ordering() throws {
        let unit = try Self.unit()
        let after = unit.values("Unit", "After").flatMap { $0.split(separator: " ").map(String.init) }
        for dependency in ["network-online.target", "libvirtd.service", "virtqemud.socket"] {
            #expect(after.contains(dependency), "After= lacks \(dependency)")
        }
        #expect(unit.values("Unit", "Wants").contains("network-online.target"))
    }

    @Test("the file system is read-only except the private state directory")
    func fileSystem() throws {
        let unit = try Self.unit()
        #expect(unit.value("Service", "ProtectSystem") == "strict")
        #expect(unit.value("Service", "ProtectHome") == "yes")
        let writable = unit.values("Service", "ReadWritePaths")
            + unit.values("Service", "StateDirectory").map { "/var/lib/" + $0 }
        #expect(writable == ["/var/lib/virtsync"])
        #expect(unit.value("Service", "StateDirectoryMode") == "0700")
        #expect(unit.value("Service", "ConfigurationDirectory") == "virtsync")
        #expect(unit.value("Service", "UMask") == "0077")
    }

    @Test("the sandbox drops capabilities and keeps UNIX and IP sockets only")
    func sandbox() throws {
        let unit = try Self.unit()
        #expect(unit.value("Service", "CapabilityBoundingSet") == "")
        #expect(unit.value("Service", "RestrictAddressFamilies") == "AF_UNIX AF_INET AF_INET6")
        #expect(unit.value("Service", "SystemCallFilter") == "@system-service")
        for key in ["NoNewPrivileges", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
                    "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock",
                    "ProtectHostname", "RestrictNamespaces", "RestrictRealtime", "RestrictSUIDSGID",
                    "LockPersonality"] {
            #expect(unit.value("Service", key) == "yes", "\(key) is not yes")
        }
        #expect(unit.value("Service", "SystemCallArchitectures") == "native")
    }

    @Test("systemd-analyze verify accepts the unit without any complaint")
    func systemdAnalyzeVerify() throws {
        let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        let binary = ["/usr/bin/true", "/bin/true"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let analyze, let binary else {
            print("systemd-analyze or true not found; skipping the verification of the unit")
            return
        }
        let scratch = try ScratchDirectory(prefix: "unit")
        // verify checks that ExecStart's binary exists; the agent is not installed here.
        let text = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
            .replacingOccurrences(of: "ExecStart=/usr/local/bin/virtsync ", with: "ExecStart=\(binary) ")
        let copy = scratch.path("virtsync-agent.service")
        try text.write(toFile: copy, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: analyze)
        process.arguments = ["verify", "--man=no", copy]
        process.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_LOG_COLOR": "0"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let messages = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(messages)")
        // Unknown keys and bad values are only warnings (exit status 0), naming the file.
        let aboutUnit = messages.split(separator: "\n").filter { $0.contains("virtsync-agent.service") }
        #expect(aboutUnit.isEmpty, "\(aboutUnit.joined(separator: "\n"))")
    }
}

/// The sections and assignments of a systemd unit file: `[Section]` headers, `Key=value`
/// lines, `#`/`;` comments, backslash line continuations. Enough for the tests, not a full parser.
struct UnitFile {
    private var entries: [(section: String, key: String, value: String)] = []

    init(text: String) throws {
        var section = ""
        var pending = ""
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if pending.isEmpty && (line.hasPrefix("#") || line.hasPrefix(";")) { continue }
            if line.hasSuffix("\\") {
                line.removeLast()
                pending += line + " "
                continue
            }
            line = pending + line
            pending = ""
            if line.isEmpty { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
                continue
            }
            guard let equals = line.firstIndex(of: "="), !section.isEmpty else {
                throw UnitFileError(line: String(rawLine))
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            entries.append((section, key, value))
        }
    }

    /// Every value assigned to `key` in `section`, in order.
    func values(_ section: String, _ key: String) -> [String] {
        entries.filter { $0.section == section && $0.key == key }.map(\.value)
    }

    /// The last value assigned to `key` in `section` (a later assignment wins, as in systemd).
    func value(_ section: String, _ key: String) -> String? { values(section, key).last }
}

struct UnitFileError: Error, CustomStringConvertible {
    let line: String
    var description: String { "not a unit file line: \(line)" }
}
