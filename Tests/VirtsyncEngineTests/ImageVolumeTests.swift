import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncTesting

/// An image store that hands out a fixed copy, or fails, and counts its calls (the real one is
/// tested in VirtsyncImagesTests and, end to end, in the system tests).
final class FakeImages: ImageStore, @unchecked Sendable {
    private let lock = NSLock()
    var failure: ImageError?
    private(set) var calls: [String] = []

    func localImage(_ image: ImageSource, as format: VolumeFormat, for subject: String,
                    progress: TransferProgressSink?) async throws -> LocalImage {
        try lock.withLock {
            calls.append(subject)
            if let failure { throw failure }
            return LocalImage(path: "/cache/\(image.sha256)", length: 1 << 20, virtualSize: 2 << 30)
        }
    }
}

/// Volumes made from images: planned with their source, fetched before anything is made, and
/// never made again once they exist.
@Suite("volumes from images")
struct ImageVolumeTests {
    static let digest = String(repeating: "ab", count: 32)

    static func desired(sha: String = digest, size: ByteSize = .bytes0) -> DesiredState {
        let pool = PoolModel(name: "lab", type: .dir, path: "/var/lib/virtsync/pools/lab")
        let image = ImageSource(location: .url("http://127.0.0.1:8/debian.qcow2"), sha256: sha)
        let base = VolumeModel(pool: "lab", name: "debian", capacity: size, format: .qcow2, source: .image(image))
        let root = VolumeModel(pool: "lab", name: "web-root", capacity: .gib(10), format: .qcow2, source: .backing(pool: "lab", volume: "debian"))
        let other = VolumeModel(pool: "lab", name: "data", capacity: .gib(1), format: .qcow2)
        let web = DomainModel(name: "web", memory: .mib(64), disks: [DiskModel(target: "vda", source: .volume(pool: "lab", volume: "web-root"))])
        return DesiredState(hosts: [DesiredHost(name: "local", pools: [pool], volumes: [base, root, other], domains: [web])], specDigest: "d1")
    }

    func harness(_ images: FakeImages) throws -> (Harness, ApplyWorkflow.Request) {
        let h = try Harness()
        var request = ApplyWorkflow.Request(desired: Self.desired(), options: PlanOptions(), holder: "test")
        request.images = images
        return (h, request)
    }

    @Test("the plan shows where the image comes from, its digest and its size; apply fetches it once; a second plan is empty")
    func converges() async throws {
        let images = FakeImages()
        let (h, request) = try harness(images)
        let outcome = try await h.workflow.run(request)
        let create = try #require(outcome.plan.steps.first { $0.resource.name == "lab/debian" })
        #expect(create.action == .create)
        #expect(create.changes.map { "\($0.field)=\($0.after ?? "")" } == ["image=http://127.0.0.1:8/debian.qcow2", "sha256=abababababab",
                                                                          "format=qcow2", "size=as the image"])
        #expect(outcome.report?.ok == true)
        #expect(images.calls == ["lab/debian"])
        #expect(h.hypervisor.snapshot.volumes["lab/debian"]?.model.capacity == .gib(2))
        let again = await h.plan(Self.desired())
        #expect(again.steps.isEmpty, "\(again.steps)")
        #expect(again.notes.isEmpty, "\(again.notes)")
    }

    @Test("a wrong checksum fails the image's step only: its users are skipped, the rest is made, and the next pass tries again")
    func checksumFailsThatStepOnly() async throws {
        let images = FakeImages()
        images.failure = ImageError(.checksum, "the image has sha256 0000, the spec says abab")
        let (h, request) = try harness(images)
        let outcome = try await h.workflow.run(request)
        let report = try #require(outcome.report)
        let byName = Dictionary(report.results.map { ($0.step.resource.name, $0.outcome) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["lab/debian"] == .failed("the image has sha256 0000, the spec says abab"))
        if case .skipped = byName["lab/web-root"] {} else { Issue.record("the overlay was not skipped: \(String(describing: byName["lab/web-root"]))") }
        if case .skipped = byName["web"] {} else { Issue.record("the VM was not skipped: \(String(describing: byName["web"]))") }
        #expect(byName["lab/data"] == .succeeded)
        #expect(h.hypervisor.snapshot.volumes["lab/debian"] == nil)
        #expect(h.hypervisor.snapshot.domains["web"] == nil)
        let again = await h.plan(Self.desired())
        #expect(Set(again.steps.map(\.resource.name)) == ["lab/debian", "lab/web-root", "web"])
    }

    @Test("a volume already made from an image is never made again from a new one: the plan warns and changes nothing")
    func newDigestIsAWarning() async throws {
        let images = FakeImages()
        let (h, request) = try harness(images)
        _ = try await h.workflow.run(request)
        let newer = String(repeating: "cd", count: 32)
        let plan = await h.plan(Self.desired(sha: newer))
        #expect(plan.steps.isEmpty, "\(plan.steps)")
        let warning = try #require(plan.notes.first)
        #expect(warning.severity == .warning)
        #expect(warning.message.contains("made from the image with sha256 abababababab; the spec now names cdcdcdcdcdcd"))
    }

    @Test("a volume whose image upload was interrupted is unconfirmed: deleted and made again, never used")
    func interruptedUploadIsMadeAgain() async throws {
        let images = FakeImages()
        let (h, request) = try harness(images)
        _ = try await h.workflow.run(request)
        // What a crash between the create call and the end of the upload leaves: the volume,
        // and the inventory's entry still pending.
        let store = h.workflow.inventory
        let key = h.hypervisor.hostKey
        try await store.recordPending(host: key, kind: .volume, name: "lab/debian", owner: nil, imageDigest: Self.digest)
        let plan = await h.plan(Self.desired())
        #expect(plan.steps.filter { $0.resource.name == "lab/debian" }.map(\.action) == [.delete, .create])
    }
}

extension ByteSize {
    /// No size: a volume from an image as large as the image.
    static let bytes0 = ByteSize(bytes: 0)
}
