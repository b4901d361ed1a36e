import ArgumentParser
import Foundation
import VirtsyncCore
import VirtsyncEngine
import VirtsyncLibvirt
import VirtsyncSpec

/// `virtsync import --connect URI [NAME...] [--all] --out DIR`: writes a spec for what exists.
///
/// Reads the host (never changes it) and writes, in the style of `examples/`, one document per
/// resource with `adopt: true`, so that applying the spec adopts each resource with no other
/// change, and the plan after that is empty. What the model does not cover goes into the VM's
/// escape hatch; what cannot (parts of elements the model owns) is listed in a comment above
/// the resource. A domain another owner holds is never imported.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Write a spec (with adopt: true) for existing domains, networks, pools and volumes. Changes nothing on the host.",
        discussion: """
            Examples:
              virtsync import --all --out imported --owner infra-vms
              virtsync import web1 db1 --connect qemu+ssh://kvm2/system --out kvm2
            """)

    @Option(name: .long, help: "libvirt URI of the host to read (default: qemu:///system, or VIRTSYNC_CONNECT).")
    var connect: String?

    @Argument(help: "Names of domains, networks or pools to import; the networks and pools they use come too (without adopt).")
    var names: [String] = []

    @Flag(name: .long, help: "Import every domain, network and pool (and their volumes).")
    var all = false

    @Option(name: .long, help: "Directory to write the spec into (created; must be empty or absent).")
    var out: String

    @Option(name: .long, help: "Owner to declare in the spec's Settings (recommended: it stays the same wherever the spec is applied from).")
    var owner: String?

    func validate() throws {
        guard all != !names.isEmpty else { throw ValidationError("give names to import, or --all (not both)") }
    }

    func run() async throws {
        do {
            try await importSpec()
        } catch let e as ExitCode {
            throw e
        } catch {
            Environment.printError("error: \(error)")
            throw ExitCode(Exit.error)
        }
    }

    private func importSpec() async throws {
        if let existing = try? FileManager.default.contentsOfDirectory(atPath: out), !existing.isEmpty {
            throw EngineError("\(out) is not empty; import writes into a new directory")
        }
        let uri = connect ?? Environment.value("VIRTSYNC_CONNECT") ?? "qemu:///system"
        let session = try await LibvirtSession.connect(uri: uri)
        let host = try await session.observe(host: "local")
        let set = try await Self.importSet(host: host, session: session, names: all ? nil : Set(names), owner: owner)
        for (path, text) in SpecWriter.files(set) {
            let file = (out as NSString).appendingPathComponent(path)
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try AtomicFile.write(path: file, data: Data(text.utf8))
        }
        // What was written must load: a spec that validation refuses is never left behind silently.
        let (_, diagnostics) = Frontend.load(out)
        if !diagnostics.items.isEmpty { Environment.printError(diagnostics.description) }
        if diagnostics.hasErrors { throw EngineError("the spec written to \(out) does not validate (see above); please report this") }
        print("Imported \(set.domains.count) domain(s), \(set.networks.count) network(s), \(set.pools.count) pool(s) with \(set.pools.reduce(0) { $0 + $1.volumes.count }) volume(s) into \(out).")
        print("Next: virtsync plan \(out) --connect \(uri)   (adopt steps only), then apply it.")
    }

    /// What to write: the chosen resources, each with what the model does not cover.
    static func importSet(host: ObservedHost, session: LibvirtSession, names: Set<String>?, owner: String?) async throws -> ImportSet {
        func wanted(_ name: String) -> Bool { names?.contains(name) ?? true }
        var domains: [ImportedDomain] = []
        var usedNetworks: Set<String> = [], usedPools: Set<String> = []
        for name in host.domains.keys.sorted() where wanted(name) {
            guard let seen = host.domains[name] else { continue }
            if let marker = seen.marker, let holder = marker.owner, holder != owner {
                Environment.printError("warning: domain \(name) is owned by \(holder); not imported")
                continue
            }
            guard seen.persistent else {
                Environment.printError("warning: domain \(name) is transient (no persistent definition); not imported")
                continue
            }
            let uncovered = try LibvirtXML.uncovered(domainXML: try await session.inactiveDefinition(ofDomain: name))
            var carried: [String] = [], lacking: [String] = []
            var domainXML: [String] = [], devicesXML: [String] = []
            for element in uncovered.domainElements {
                if let problem = EscapeHatch.check(element, as: .domain).first {
                    lacking.append("not carried (\(problem)): " + firstLine(element))
                } else {
                    domainXML.append(element)
                    carried.append("xml.domain: " + firstLine(element))
                }
            }
            for element in uncovered.deviceElements {
                if let problem = EscapeHatch.check(element, as: .devices).first {
                    lacking.append("not carried (\(problem)): " + firstLine(element))
                } else {
                    devicesXML.append(element)
                    carried.append("xml.devices: " + firstLine(element))
                }
            }
            lacking += uncovered.partlyCovered.map { "kept on the host, not in this spec: \($0)" }
            var comments: [String] = []
            if !carried.isEmpty {
                comments.append("Carried verbatim in the xml escape hatch (the spec has no field for them):")
                comments += carried.map { "  " + $0 }
            }
            if !lacking.isEmpty {
                comments.append("A VM created again from this spec would lack what follows; virtsync's updates keep it on this host:")
                comments += lacking.map { "  " + $0 }
            }
            var model = seen.model
            model.extraXML = ExtraXML(devices: devicesXML.isEmpty ? nil : devicesXML.joined(),
                                      domain: domainXML.isEmpty ? nil : domainXML.joined())
            model.autostart = seen.model.autostart
            var imported = ImportedDomain(model: model, running: seen.state.isActive, adopt: true, comments: comments)
            imported.paused = seen.state == .paused
            domains.append(imported)
            usedNetworks.formUnion(model.interfaces.compactMap { if case .network(let n) = $0.source { return n } else { return nil } })
            usedPools.formUnion(model.disks.compactMap { if case .volume(let p, _) = $0.source { return p } else { return nil } })
        }
        var networks: [ImportedNetwork] = []
        for name in host.networks.keys.sorted() where wanted(name) || usedNetworks.contains(name) {
            guard let seen = host.networks[name] else { continue }
            let adopt = wanted(name)
            var comments: [String] = adopt ? [] : ["Used by an imported VM; not adopted (add adopt: true to manage it)."]
            let definition = try await session.definition(ofNetwork: name)
            var model = seen.model
            // What the model cannot express goes into the escape hatch, checked as validation would.
            if let fragment = try LibvirtXML.hatchFragment(networkXML: definition) {
                if let problem = EscapeHatch.check(fragment, as: .network).first {
                    comments.append("Not carried in xml.network (\(problem)).")
                } else {
                    model.extraXML = fragment
                    comments.append("Carried verbatim in the xml escape hatch (the spec has no field for them): "
                                    + Hatch.paths(of: Hatch.leaves(fragment, in: .network)).map { "<\($0)>" }.joined(separator: ", "))
                }
            }
            let carried = Set(Hatch.leaves(model.extraXML, in: .network).map(\.path))
            let uncovered = try LibvirtXML.uncovered(networkXML: definition).filter { line in
                !carried.contains { line == "<\($0)>" } && !(carried.contains("ip") && line.hasPrefix("an IPv6 address"))
            }
            if !uncovered.isEmpty {
                comments.append("Not in the model, kept until virtsync changes this network (a change redefines it without them):")
                comments += uncovered.map { "  \($0)" }
            }
            networks.append(ImportedNetwork(model: model, adopt: adopt, comments: comments))
        }
        var pools: [ImportedPool] = []
        for name in host.pools.keys.sorted() where wanted(name) || usedPools.contains(name) {
            guard let seen = host.pools[name] else { continue }
            let adopt = wanted(name)
            let volumes = host.volumes.values.filter { $0.model.pool == name }.sorted { $0.model.name < $1.model.name }
                .map { ImportedVolume(model: $0.model, adopt: adopt) }
            var comments: [String] = adopt ? [] : ["Used by an imported VM; not adopted (add adopt: true to manage it and its volumes)."]
            if !seen.active { comments.append("The pool is not active: its volumes could not be listed.") }
            pools.append(ImportedPool(model: seen.model, volumes: volumes, adopt: adopt, comments: comments))
        }
        let header = ["Written by virtsync import from \(session.uri) on \(ISO8601DateFormatter().string(from: Date())).",
                      "Applying it adopts each resource (adopt: true) and changes nothing else."]
        return ImportSet(domains: domains, networks: networks, pools: pools, owner: owner, header: header)
    }

    private static func firstLine(_ xml: String) -> String {
        String(xml.split(separator: "\n").first ?? "").trimmingCharacters(in: .whitespaces)
    }
}
