import Testing
import VirtsyncCore
import VirtsyncSpec

/// `restartPolicy`, `maxRestarts` and `restartWindow` of a VirtualMachine.
@Suite("restart policy fields")
struct RestartPolicySpecTests {
    /// A VM document with `extra` appended (one key per line, from line 5 on).
    private func load(_ extra: String) -> SpecLoadResult {
        let text = "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: vm\nmemory: 64MiB\n" + extra
        return SpecLoader.load(files: [SpecFile(path: "vm.yaml", bytes: Array(text.utf8))])
    }

    private func policy(_ extra: String) throws -> RestartPolicy {
        let result = load(extra)
        #expect(result.diagnostics.items.isEmpty, "\(result.diagnostics)")
        let desired = try #require(result.desired, "\(result.diagnostics)")
        return try #require(desired.hosts.first?.domains.first).restart
    }

    @Test("left out, the policy is always, 5 restarts within 10 minutes")
    func defaults() throws {
        #expect(try policy("") == RestartPolicy(mode: .always, maxRestarts: 5, window: 600))
    }

    @Test("each field is read: the policy by name, the limit, the window as a duration in seconds")
    func fields() throws {
        #expect(try policy("restartPolicy: on-failure\nmaxRestarts: 3\nrestartWindow: 1h30m\n")
            == RestartPolicy(mode: .onFailure, maxRestarts: 3, window: 5400))
        #expect(try policy("restartPolicy: never\n").mode == .never)
        #expect(try policy("restartPolicy: always\nrestartWindow: 1d\nmaxRestarts: 100\n")
            == RestartPolicy(mode: .always, maxRestarts: 100, window: 86_400))
        #expect(try policy("maxRestarts: 1\nrestartWindow: 1m\n") == RestartPolicy(mode: .always, maxRestarts: 1, window: 60))
    }

    @Test("wrong values are errors at the value, naming the field", arguments: [
        ("restartPolicy: on-falure\n",
         "vm.yaml:5:16: error: VirtualMachine[vm].restartPolicy: invalid value 'on-falure'; expected one of always, on-failure, never (did you mean 'on-failure'?)"),
        ("restartPolicy: true\n",
         "vm.yaml:5:16: error: VirtualMachine[vm].restartPolicy: invalid value 'true'; expected one of always, on-failure, never"),
        ("maxRestarts: 0\n", "vm.yaml:5:14: error: VirtualMachine[vm].maxRestarts: 0 is out of range; expected 1...100"),
        ("maxRestarts: 101\n", "vm.yaml:5:14: error: VirtualMachine[vm].maxRestarts: 101 is out of range; expected 1...100"),
        ("restartWindow: 600\n",
         "vm.yaml:5:16: error: VirtualMachine[vm].restartWindow: '600' has no unit; write e.g. 600s or 600m (units: ms, s, m, h, d)"),
        ("restartWindow: 30s\n", "vm.yaml:5:16: error: VirtualMachine[vm].restartWindow: 30s is out of range; expected 1m to 1d"),
        ("restartWindow: 2d\n", "vm.yaml:5:16: error: VirtualMachine[vm].restartWindow: 2d is out of range; expected 1m to 1d"),
        ("restartWindow: 10min\n",
         "vm.yaml:5:16: error: VirtualMachine[vm].restartWindow: '10min': unknown unit 'min' (units: ms, s, m, h, d)"),
    ])
    func errors(_ extra: String, _ expected: String) {
        let result = load(extra)
        #expect(result.desired == nil)
        #expect(result.diagnostics.description == expected)
    }

    @Test("a list where a value belongs is a type error")
    func wrongType() {
        let result = load("maxRestarts: [5]\nrestartWindow: {m: 10}\n")
        #expect(result.desired == nil)
        let lines = result.diagnostics.description.split(separator: "\n")
        #expect(lines.count == 2, "\(result.diagnostics)")
        #expect(lines.first?.hasPrefix("vm.yaml:5:14: error: VirtualMachine[vm].maxRestarts: ") == true, "\(result.diagnostics)")
        #expect(lines.last?.hasPrefix("vm.yaml:6:16: error: VirtualMachine[vm].restartWindow: ") == true, "\(result.diagnostics)")
    }

    @Test("limits with restartPolicy never are a warning: they have no effect")
    func limitsWithNever() throws {
        let result = load("restartPolicy: never\nmaxRestarts: 3\nrestartWindow: 1h\n")
        #expect(result.diagnostics.description == """
            vm.yaml:6:1: warning: VirtualMachine[vm].maxRestarts: 'maxRestarts' has no effect with restartPolicy never
            vm.yaml:7:1: warning: VirtualMachine[vm].restartWindow: 'restartWindow' has no effect with restartPolicy never
            """)
        let vm = try #require(result.desired?.hosts.first?.domains.first)
        #expect(vm.restart == RestartPolicy(mode: .never, maxRestarts: 3, window: 3600))
    }
}
