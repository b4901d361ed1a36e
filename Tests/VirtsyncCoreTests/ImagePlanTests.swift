import Testing
import VirtsyncCore

/// Image volumes in the pure core: review plans (the assumed state) converge, the saved plan
/// keeps the source, and an existing volume is never made again from another image.
@Suite("image volumes in plans")
struct ImagePlanTests {
    static let digest = String(repeating: "0f", count: 32)

    static func desired(sha: String = digest) -> DesiredState {
        let pool = PoolModel(name: "images", type: .dir, path: "/srv/images")
        let image = VolumeModel(pool: "images", name: "ubuntu", capacity: ByteSize(bytes: 0), format: .qcow2,
                                source: .image(ImageSource(location: .url("https://example.org/u.img"), sha256: sha)))
        let raw = VolumeModel(pool: "images", name: "installer", capacity: .gib(4), format: .raw,
                              source: .image(ImageSource(location: .file("/srv/i.qcow2"), sha256: sha, format: .qcow2)))
        let root = VolumeModel(pool: "images", name: "app-root", capacity: .gib(20), format: .qcow2, source: .backing(pool: "images", volume: "ubuntu"))
        return DesiredState(hosts: [DesiredHost(name: "local", pools: [pool], volumes: [image, raw, root])], specDigest: "s")
    }

    @Test("a spec with image volumes plans nothing against the state it assumes (review plans converge)")
    func assumedConverges() {
        let d = Self.desired()
        let plan = Planner.plan(desired: d, observed: .assuming(d))
        #expect(plan.steps.isEmpty, "\(plan.steps)")
        #expect(plan.notes.isEmpty, "\(plan.notes)")
    }

    @Test("a review plan of a new image digest warns and changes nothing")
    func reviewOfNewDigest() throws {
        let base = Self.desired()
        let head = Self.desired(sha: String(repeating: "e1", count: 32))
        let plan = Planner.plan(desired: head, observed: .assuming(base))
        #expect(plan.steps.isEmpty, "\(plan.steps)")
        #expect(plan.notes.count == 2)
        #expect(plan.notes.allSatisfy { $0.severity == .warning && $0.message.contains("never made again from a new image") })
    }

    @Test("the create steps show source, digest, conversion and size, and survive a saved plan")
    func createSteps() throws {
        let d = Self.desired()
        let plan = Planner.plan(desired: d, observed: ObservedState(hosts: ["local": ObservedHost(name: "local")]))
        let installer = try #require(plan.steps.first { $0.resource.name == "images/installer" })
        #expect(installer.changes.map { "\($0.field)=\($0.after ?? "-")" } == ["image=/srv/i.qcow2", "sha256=0f0f0f0f0f0f",
                                                                              "format=raw (converted from qcow2)", "size=4GiB"])
        let json = try JSONRenderer().render(plan)
        let back = try JSONRenderer.decode(Array(json.utf8))
        #expect(back.steps == plan.steps)
        // The overlay waits for its image.
        let root = try #require(plan.steps.first { $0.resource.name == "images/app-root" })
        let ubuntu = try #require(plan.steps.first { $0.resource.name == "images/ubuntu" })
        #expect(root.dependsOn.contains(ubuntu.id))
    }
}
