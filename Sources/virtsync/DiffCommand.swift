import ArgumentParser
import Foundation
import VirtsyncCore
import VirtsyncEngine

/// `virtsync diff PATH KIND/NAME`: one resource of the spec against its host, field by field:
/// the part of the plan that concerns it. Changes nothing.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare one resource of the spec with its host, field by field. Changes nothing.",
        discussion: """
        RESOURCE is vm/NAME (or domain/NAME), network/NAME, pool/NAME, volume/POOL/NAME or \
        secret/NAME. Exit status: 0 when the host matches the spec, 2 when it differs, 1 on error.

        Examples:
          virtsync diff ./spec vm/web-1
          virtsync diff ./cluster vm/db-1 --host kvm-2
          virtsync diff ./spec volume/images/web-1-root.qcow2 --format json
        """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var host: HostOptions
    @OptionGroup var secrets: SecretOptions

    @Argument(help: "The resource: vm/NAME, network/NAME, pool/NAME, volume/POOL/NAME or secret/NAME.")
    var resource: String

    @Option(name: .customLong("host"), help: "The host of the resource, when the spec has several that hold one of that name.")
    var onHost: String?

    @Option(name: .long, help: "Output format: text, markdown or json.")
    var format: PlanFormat = .text

    @OptionGroup var colors: ColorOptions

    func validate() throws {
        try source.requireSource()
        _ = try Self.parse(resource)
    }

    /// `KIND/NAME` as a resource kind and name.
    static func parse(_ text: String) throws -> (ResourceKind, String) {
        guard let slash = text.firstIndex(of: "/") else {
            throw ValidationError("'\(text)' is not KIND/NAME (vm/web-1, network/lan, pool/images, volume/images/root.qcow2)")
        }
        let kindText = String(text[..<slash]).lowercased(), name = String(text[text.index(after: slash)...])
        let kinds: [String: ResourceKind] = ["vm": .domain, "domain": .domain, "virtualmachine": .domain, "network": .network,
                                             "pool": .pool, "storagepool": .pool, "volume": .volume, "secret": .secret]
        guard let kind = kinds[kindText] else {
            throw ValidationError("unknown resource kind '\(kindText)' in '\(text)'; use vm, network, pool, volume or secret")
        }
        guard !name.isEmpty, kind == .volume ? name.split(separator: "/").count == 2 : !name.contains("/") else {
            throw ValidationError(kind == .volume ? "a volume is volume/POOL/NAME, not '\(text)'" : "'\(text)' has no name after the kind")
        }
        return (kind, name)
    }

    /// The hosts whose spec or live state has the resource.
    static func hosts(holding kind: ResourceKind, _ name: String, desired: DesiredState, observed: ObservedState) -> Set<String> {
        var out = Set<String>()
        for host in desired.hosts {
            let names: [String]
            switch kind {
            case .domain: names = host.domains.map(\.name)
            case .network: names = host.networks.map(\.name)
            case .pool: names = host.pools.map(\.name)
            case .volume: names = host.volumes.map { "\($0.pool)/\($0.name)" }
            case .secret: names = host.secretObjects.map(\.consumer)
            }
            if names.contains(name) { out.insert(host.name) }
        }
        for (hostName, host) in observed.hosts {
            let present: Bool
            switch kind {
            case .domain: present = host.domains[name] != nil
            case .network: present = host.networks[name] != nil
            case .pool: present = host.pools[name] != nil
            case .volume: present = host.volumes[name] != nil
            case .secret: present = host.secretObjects.values.contains { $0.marker?.consumer == name }
            }
            if present { out.insert(hostName) }
        }
        return out
    }

    func run() async throws {
        Frontend.bootstrapLogging(host.logLevel)
        let plan: Plan
        do {
            let (kind, name) = try Self.parse(resource)
            let (full, desired, observed) = try await Frontend.liveRead(source, host: host, secrets: secrets, ref: nil)
            let holders = Self.hosts(holding: kind, name, desired: desired, observed: observed).filter { onHost == nil || $0 == onHost }
            guard !holders.isEmpty else {
                throw EngineError("no \(resource) in the spec or on \(onHost.map { "host \($0)" } ?? "its hosts")")
            }
            let steps = full.steps.filter { $0.resource.kind == kind && $0.resource.name == name && (onHost == nil || $0.resource.host == onHost) }
            if onHost == nil, holders.count > 1 {
                throw EngineError("\(resource) is on several hosts (\(holders.sorted().joined(separator: ", "))): name one with --host")
            }
            var narrowed = full
            narrowed.steps = steps
            let ids = Set(steps.map(\.id))
            narrowed.steps = steps.map { step in
                var step = step
                step.dependsOn = step.dependsOn.filter(ids.contains)
                return step
            }
            narrowed.notes = full.notes.filter { note in
                guard let ref = note.resource else { return false }
                return ref.kind == kind && ref.name == name && (onHost == nil || ref.host == onHost)
            }
            plan = narrowed
            let inSpec = !Self.hosts(holding: kind, name, desired: desired, observed: ObservedState()).isEmpty
            if !inSpec && plan.isEmpty && format == .text {
                // Plans say nothing of what the spec does not hold; a diff should.
                print("\(resource) is on \(holders.sorted().joined(separator: ", ")) but not in the spec: virtsync leaves it alone"
                      + " (it is never changed; with prune, only what this owner made is deleted).")
                return
            }
            print(try Frontend.render(plan, format: format, color: colors.enabled), terminator: "")
        } catch let e as ExitCode {
            throw e
        } catch let diagnostics as Diagnostics {
            Environment.printError(diagnostics.description)
            throw ExitCode(Exit.error)
        } catch {
            Environment.printError("error: \(error)")
            throw ExitCode(Exit.error)
        }
        if plan.notes.contains(where: { $0.severity == .error }) { throw ExitCode(Exit.error) }
        if !plan.isEmpty { throw ExitCode(Exit.changes) }
    }
}
