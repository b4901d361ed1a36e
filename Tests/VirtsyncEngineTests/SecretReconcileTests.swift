import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncTesting

/// Secrets through plan and apply against the in-memory hypervisor: held VMs are never touched,
/// a display password is compared by digest and changed live, and no value reaches a plan.
@Suite("secrets in plans and applies")
struct SecretReconcileTests {
    static let key = Array("0123456789abcdef0123456789abcdef".utf8)

    static func password(_ value: String) -> SecretMaterial {
        SecretMaterial(name: "vnc", digest: SecretDigest.keyed(Array(value.utf8), key: key), value: SecretBytes(Array(value.utf8)))
    }

    static func withPassword(_ value: String?, memory: ByteSize = .mib(64)) -> DesiredState {
        var desired = lab(memory: memory)
        desired.hosts[0].domains[0].graphics = .vnc
        desired.hosts[0].domains[0].graphicsPassword = value.map(password)
        return desired
    }

    @Test("a display password is applied, then compared by its digest: the second pass plans nothing, and no plan holds the value")
    func passwordRoundTrip() async throws {
        let harness = try Harness()
        let desired = Self.withPassword("canary-pw-1")
        let (first, report) = await harness.apply(desired)
        #expect(report.failed == 0)
        let create = try #require(first.steps.first { $0.id == "create:domain:local/web-1" })
        #expect(create.changes.contains { $0.field == "graphics.password" && $0.after == Self.password("canary-pw-1").description })
        let marker = harness.hypervisor.snapshot.domains["web-1"]?.marker
        #expect(marker?.graphicsPassword == Self.password("canary-pw-1").markerValue)
        #expect(await harness.plan(desired).isEmpty)
        let json = try JSONRenderer().render(first)
        #expect(!json.contains("canary-pw-1"))
        #expect(!TextRenderer(color: false).render(first).contains("canary-pw-1"))
        #expect(!MarkdownRenderer().render(first).contains("canary-pw-1"))
    }

    @Test("a changed password on a running VM is a live update; a removed one waits for the next boot")
    func rotation() async throws {
        let harness = try Harness()
        await harness.apply(Self.withPassword("one"))
        let changed = await harness.plan(Self.withPassword("two"))
        let step = try #require(changed.steps.first)
        #expect(changed.steps.count == 1)
        #expect(step.action == .update && step.disruption == .live)
        #expect(step.changes.map(\.field) == ["graphics.password"])
        #expect(step.changes.first?.before == Self.password("one").description)
        guard case .domain(_, let live, let marker) = step.payload else { Issue.record("no domain payload"); return }
        #expect(live == [.setGraphicsPassword])
        #expect(marker.graphicsPassword == Self.password("two").markerValue)
        await harness.apply(Self.withPassword("two"))
        #expect(await harness.plan(Self.withPassword("two")).isEmpty)
        let removed = await harness.plan(Self.withPassword(nil))
        #expect(removed.steps.first?.changes.first { $0.field == "graphics.password" }?.disruption == .nextBoot)
    }

    @Test("a held VM gets no step at all (not updated, created, started or pruned) and an error note; the rest is planned")
    func held() async throws {
        let harness = try Harness()
        await harness.apply(lab())
        var desired = lab(memory: .mib(96))
        desired.hosts[0].domains[1].memory = .mib(48)
        desired.held = [HeldResource(kind: .domain, name: "web-1", reason: "secret 'vnc' (host file web-1/vnc): missing")]
        let plan = await harness.plan(desired, prune: true)
        #expect(!plan.steps.contains { $0.resource.name == "web-1" })
        #expect(plan.steps.contains { $0.resource.name == "web-2" && $0.action == .update })
        #expect(plan.notes.contains { $0.severity == .error && $0.message == "domain web-1 is left exactly as it is: secret 'vnc' (host file web-1/vnc): missing" })
        // Gone from the host: still not created.
        let fresh = try Harness()
        var empty = lab()
        empty.held = desired.held
        let created = await fresh.plan(empty)
        #expect(!created.steps.contains { $0.resource.name == "web-1" })
        #expect(created.steps.contains { $0.resource.name == "web-2" && $0.action == .create })
        #expect(created.steps.allSatisfy { step in step.dependsOn.allSatisfy { id in created.steps.contains { $0.id == id } } })
    }

    @Test("a saved plan read back has no values; applied with --plan it runs the fresh plan, values and all")
    func savedPlan() async throws {
        let harness = try Harness()
        await harness.apply(Self.withPassword("one"))
        let desired = Self.withPassword("two")
        let (sessions, failed) = await harness.reconciler.connect(desired)
        let fresh = await harness.reconciler.plan(desired, sessions: sessions, failed: failed, options: PlanOptions()).0
        let text = try JSONRenderer().render(fresh)
        #expect(!text.contains("\"two\""))
        let saved = try JSONRenderer.decode(Array(text.utf8))
        guard case .domain(let model, _, _)? = saved.steps.first?.payload else { Issue.record("no domain payload"); return }
        #expect(model.graphicsPassword?.value == nil)
        var request = ApplyWorkflow.Request(desired: desired, options: PlanOptions(), holder: "test")
        request.saved = saved
        let outcome = try await harness.workflow.run(request)
        #expect(outcome.refusal == nil)
        #expect(outcome.report?.failed == 0)
        guard case .domain(let ran, _, _)? = outcome.plan.steps.first?.payload else { Issue.record("no domain payload"); return }
        #expect(ran.graphicsPassword?.value?.bytes == Array("two".utf8))
        #expect(await harness.plan(desired).isEmpty)
    }

    static func encrypted(_ value: String?, keepVolume: Bool = true) -> DesiredState {
        var desired = lab()
        let uuid = SecretObjectModel.uuid(consumer: "lab/data.raw")
        if keepVolume {
            desired.hosts[0].volumes.append(VolumeModel(pool: "lab", name: "data.raw", capacity: .mib(64), format: .raw, encryption: uuid))
            desired.hosts[0].domains[0].disks.append(DiskModel(target: "vdb", source: .volume(pool: "lab", volume: "data.raw"), encryption: uuid))
            if let value {
                let material = SecretMaterial(name: "disk-key", digest: SecretDigest.keyed(Array(value.utf8), key: key), value: SecretBytes(Array(value.utf8)))
                desired.hosts[0].secretObjects = [SecretObjectModel(uuid: uuid, consumer: "lab/data.raw", usage: .volume(path: "/var/lib/virtsync/pools/lab/data.raw"), secret: material)]
            }
        }
        desired.settings.deleteVolumesWithVM = true
        return desired
    }

    @Test("an encrypted volume's secret object is made first, then the volume, then the VM that opens it; a second pass plans nothing")
    func encryptedVolumeOrder() async throws {
        let harness = try Harness()
        let plan = await harness.plan(Self.encrypted("luks-1"))
        let secret = try #require(plan.steps.firstIndex { $0.resource.kind == .secret && $0.action == .create })
        let volume = try #require(plan.steps.firstIndex { $0.resource.name == "lab/data.raw" && $0.resource.kind == .volume })
        let domain = try #require(plan.steps.firstIndex { $0.id == "create:domain:local/web-1" })
        #expect(secret < volume && volume < domain)
        #expect(plan.steps[volume].dependsOn.contains(plan.steps[secret].id))
        #expect(plan.steps[domain].dependsOn.contains(plan.steps[secret].id))
        #expect(!(try JSONRenderer().render(plan)).contains("luks-1"))
        let (_, report) = await harness.apply(Self.encrypted("luks-1"))
        #expect(report.failed == 0)
        #expect(harness.hypervisor.snapshot.secretObjects[SecretObjectModel.uuid(consumer: "lab/data.raw")]?.marker?.secret == "disk-key")
        #expect(await harness.plan(Self.encrypted("luks-1")).isEmpty)
    }

    @Test("a changed passphrase is an error and changes nothing; the secret object goes after its volume, never before")
    func encryptedVolumeChangeAndRemoval() async throws {
        let harness = try Harness()
        await harness.apply(Self.encrypted("luks-1"))
        let changed = await harness.plan(Self.encrypted("luks-2"))
        #expect(changed.steps.isEmpty)
        #expect(changed.notes.contains { $0.severity == .error && $0.message.contains("the passphrase of encrypted volume lab/data.raw changed") })
        // The VM and the volume leave the spec (pruning, volumes with their VM).
        var gone = Self.encrypted(nil, keepVolume: false)
        gone.hosts[0].domains.removeAll { $0.name == "web-1" }
        let removal = await harness.plan(gone, prune: true)
        let volume = try #require(removal.steps.first { $0.resource.kind == .volume && $0.resource.name == "lab/data.raw" })
        let secret = try #require(removal.steps.first { $0.resource.kind == .secret })
        #expect(secret.action == .delete && secret.dependsOn.contains(volume.id))
        await harness.apply(gone, prune: true)
        #expect(harness.hypervisor.snapshot.secretObjects.isEmpty)
        #expect(await harness.plan(gone, prune: true).isEmpty)
    }

    @Test("the encryption of a disk the spec does not manage (an adopted VM's LUKS disk) is no difference")
    func unmanagedDiskEncryption() async throws {
        let harness = try Harness()
        await harness.apply(lab())
        harness.hypervisor.mutate { host in host.domains["web-1"]?.model.disks[0].encryption = "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f" }
        #expect(await harness.plan(lab()).isEmpty)
    }

    static func withObject(_ value: String?, type: String = "iscsi") -> DesiredState {
        var desired = lab()
        let consumer = SecretObjectModel.consumer(domain: "web-1", secret: "auth", type: type)
        let uuid = SecretObjectModel.uuid(consumer: consumer)
        guard let value else { return desired }
        desired.hosts[0].domains[0].extraXML = ExtraXML(devices: "<hostdev mode='subsystem' type='scsi'><source protocol='iscsi' name='iqn.x/1'><host name='127.0.0.1'/><auth username='u'><secret type='iscsi' uuid='\(uuid)'/></auth></source></hostdev>")
        let material = SecretMaterial(name: "auth", digest: SecretDigest.keyed(Array(value.utf8), key: key), value: SecretBytes(Array(value.utf8)))
        desired.hosts[0].secretObjects = [SecretObjectModel(uuid: uuid, consumer: consumer, usage: .named(type: type, id: "virtsync/web-1/auth"), secret: material)]
        return desired
    }

    @Test("an escape-hatch secret object comes before its VM; a new value is a next-boot update (vtpm: an error); it goes after the VM stops naming it")
    func escapeHatchObjects() async throws {
        let harness = try Harness()
        let plan = await harness.plan(Self.withObject("one"))
        let secret = try #require(plan.steps.first { $0.resource.kind == .secret })
        let domain = try #require(plan.steps.first { $0.id == "create:domain:local/web-1" })
        #expect(secret.resource.name == "web-1:auth:iscsi")
        #expect(domain.dependsOn.contains(secret.id))
        await harness.apply(Self.withObject("one"))
        #expect(await harness.plan(Self.withObject("one")).isEmpty)

        let rotated = await harness.plan(Self.withObject("two"))
        #expect(rotated.steps.map(\.id) == ["update:secret:local/web-1:auth:iscsi"])
        #expect(rotated.steps.first?.disruption == .nextBoot)
        await harness.apply(Self.withObject("two"))
        #expect(await harness.plan(Self.withObject("two")).isEmpty)

        // The XML no longer names it: the VM is redefined first, then the object goes.
        let gone = await harness.plan(Self.withObject(nil))
        let update = try #require(gone.steps.first { $0.id == "update:domain:local/web-1" })
        let delete = try #require(gone.steps.first { $0.id == "delete:secret:local/web-1:auth:iscsi" })
        #expect(delete.dependsOn.contains(update.id))
        await harness.apply(Self.withObject(nil))
        #expect(harness.hypervisor.snapshot.secretObjects.isEmpty)
        #expect(await harness.plan(Self.withObject(nil)).isEmpty)

        let tpm = try Harness()
        await tpm.apply(Self.withObject("one", type: "vtpm"))
        let refused = await tpm.plan(Self.withObject("two", type: "vtpm"))
        #expect(refused.steps.isEmpty)
        #expect(refused.notes.contains { $0.severity == .error && $0.message.contains("does not re-key it") })
    }
}
