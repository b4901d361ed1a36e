import ArgumentParser
import VirtsyncCore
import VirtsyncSpec

/// `virtsync validate PATH`: every problem in one run, exit 1 on any error.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a spec: syntax, fields, references, capacity. Changes nothing.")

    @OptionGroup var spec: SpecOptions

    func run() throws {
        let (desired, diagnostics) = Frontend.load(spec.path)
        if !diagnostics.items.isEmpty { Environment.printError(diagnostics.description) }
        guard let desired, !diagnostics.hasErrors else {
            Environment.printError("\(diagnostics.errors.count) error\(diagnostics.errors.count == 1 ? "" : "s") in \(spec.path)")
            throw ExitCode(Exit.error)
        }
        let counts = desired.hosts.reduce(into: (0, 0, 0, 0)) { c, h in
            c.0 += h.domains.count; c.1 += h.networks.count; c.2 += h.pools.count; c.3 += h.volumes.count
        }
        print("\(spec.path): valid (\(desired.hosts.count) host\(desired.hosts.count == 1 ? "" : "s"), \(counts.0) VMs, \(counts.1) networks, \(counts.2) pools, \(counts.3) volumes; digest \(desired.specDigest.prefix(12)))")
    }
}
