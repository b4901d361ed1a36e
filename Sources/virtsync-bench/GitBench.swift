import Foundation
import VirtsyncGit
import VirtsyncEngine
import VirtsyncSpec

/// The git side of a pass, as an agent polling a repository pays it: a fetch when nothing
/// changed, and reading a 1,000-file spec tree from a commit (no working tree).
enum GitBench {
    static func run(files count: Int, rounds: Int = 30) throws {
        let root = NSTemporaryDirectory() + "virtsync-gitbench-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let remote = root + "/remote"
        try FileManager.default.createDirectory(atPath: remote + "/clusters/prod", withIntermediateDirectories: true)
        let written = try writeTree(files: count, under: remote + "/clusters/prod")
        for command in [["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "spec"]] {
            try git(command, in: remote)
        }

        let clock = ContinuousClock()
        let cache = GitRepositoryCache(remote: try RemoteURL("file://" + remote), cacheDirectory: root + "/state/git")
        let first = try clock.measure { _ = try cache.fetch() }
        var fetches: [Duration] = [], reads: [Duration] = [], loads: [Duration] = []
        var fileCount = 0
        for _ in 0..<rounds {
            fetches.append(try clock.measure { _ = try cache.fetch() })
            let head = try cache.resolve(nil)
            reads.append(try clock.measure { fileCount = try cache.files(at: head, path: "clusters/prod").0.count })
            let (files, _) = try cache.files(at: head, path: "clusters/prod")
            loads.append(clock.measure { _ = SpecLoader.load(files: files, commit: head.hex) })
        }
        func ms(_ d: Duration) -> String { String(format: "%.2f", Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000) }
        func stats(_ values: [Duration]) -> String {
            let sorted = values.sorted()
            return "best \(ms(sorted[0])) ms, median \(ms(sorted[sorted.count / 2])) ms"
        }
        print("")
        print("git (release build: target < 20 ms each), file:// remote, \(written) files in the spec directory, \(rounds) rounds:")
        print("  first fetch (clone into the bare cache): \(ms(first)) ms")
        print("  no-change fetch:                        \(stats(fetches))")
        print("  read the \(fileCount)-file tree of a commit:   \(stats(reads))")
        print("  (then validate those files:             \(stats(loads)); YAML decoding, not git)")
    }

    /// Writes `count` files: one Machine per file, plus a pool and a network.
    static func writeTree(files count: Int, under directory: String) throws -> Int {
        try FileManager.default.createDirectory(atPath: directory + "/vms", withIntermediateDirectories: true)
        try """
        apiVersion: virtsync/v1
        kind: StoragePool
        name: bench-pool
        type: dir
        path: /var/lib/virtsync/bench-pool
        ---
        apiVersion: virtsync/v1
        kind: Network
        name: bench-net
        mode: isolated

        """.write(toFile: directory + "/infra.yaml", atomically: false, encoding: .utf8)
        for i in 1..<count {
            let name = String(format: "vm-%04d", i)
            try """
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(name)
            vcpus: 1
            memory: 64MiB
            power: stopped
            interfaces:
              - network: bench-net

            """.write(toFile: "\(directory)/vms/\(name).yaml", atomically: false, encoding: .utf8)
        }
        return count
    }

    static func git(_ arguments: [String], in directory: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = ["-C", directory] + arguments
        p.environment = ["GIT_CONFIG_NOSYSTEM": "1", "HOME": directory, "PATH": "/usr/bin:/bin"]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw GitError(.other, "git \(arguments.joined(separator: " ")) failed") }
    }
}
