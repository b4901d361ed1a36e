import Foundation
import Testing

/// STYLE's rule, checked on the source tree: only the composition roots (the executables and the
/// agent's service) import an adapter; the pure core imports no project module but itself and the
/// pure XML parser.
@Suite("architecture")
struct ArchitectureTests {
    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")
    static let adapters = ["VirtsyncLibvirt", "VirtsyncGit", "VirtsyncEtcd", "VirtsyncSecrets", "VirtsyncImages", "CLibvirt", "CLibgit2"]
    static let compositionRoots: Set<String> = ["virtsync", "virtsync-bench", "VirtsyncAgentService"]

    /// The `import` lines of every Swift file of a target.
    static func imports(of target: String) throws -> [(file: String, module: String)] {
        let root = sources.appendingPathComponent(target)
        let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        return try files.flatMap { file in
            try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8).split(separator: "\n")
                .filter { $0.hasPrefix("import ") || $0.hasPrefix("@testable import ") }
                .map { (file, String($0.split(separator: " ").last ?? "")) }
        }
    }

    @Test("only the composition roots and the adapters themselves import an adapter")
    func adaptersStayAtTheEdge() throws {
        let targets = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path).filter { !$0.hasPrefix(".") }
        #expect(targets.contains("VirtsyncAgent") && targets.contains("VirtsyncEngine"))
        for target in targets where !Self.compositionRoots.contains(target) && !Self.adapters.contains(target) {
            for (file, module) in try Self.imports(of: target) where Self.adapters.contains(module) {
                // The libvirt adapter's own C module and the git adapter's are theirs to import.
                Issue.record("\(target)/\(file) imports the adapter \(module); only \(Self.compositionRoots.sorted()) may")
            }
        }
    }

    /// Project modules as pure as the core (standard library only, no I/O): the XML parser, with
    /// which the core reads the escape hatch's fragments (decision record 0012).
    static let pureModules: Set<String> = ["VirtsyncXML"]

    @Test("the pure core imports no other project module but the pure XML parser")
    func coreIsPure() throws {
        for (file, module) in try Self.imports(of: "VirtsyncCore")
        where (module.hasPrefix("Virtsync") && !Self.pureModules.contains(module)) || Self.adapters.contains(module) {
            Issue.record("VirtsyncCore/\(file) imports \(module)")
        }
    }
}
