import Testing
import VirtsyncAgent

@Suite("agent files")
struct AgentFilesTests {
    @Test("every agent file lives in the state directory")
    func filesInStateDirectory() {
        let files = AgentFiles(stateDirectory: "/var/lib/virtsync")
        for path in [files.status, files.restarts] {
            #expect(path.hasPrefix("/var/lib/virtsync/"))
        }
    }
}
