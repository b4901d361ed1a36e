import Foundation
import Testing
import VirtsyncCore
import VirtsyncISO
import VirtsyncSpec

/// Secret documents, the places that use them, and binding their values into the desired state.
@Suite("secrets in the spec")
struct SecretSpecTests {
    private func file(_ path: String, _ text: String) -> SpecFile { SpecFile(path: path, bytes: Array(text.utf8)) }

    static let pool = "apiVersion: virtsync/v1\nkind: StoragePool\nname: vms\npath: /srv/vms\n"
    static let secrets = """
        apiVersion: virtsync/v1
        kind: Secret
        name: web-password
        ageFile: secrets/web-password.age
        ---
        apiVersion: virtsync/v1
        kind: Secret
        name: web-network
        hostFile: web-1/network-config
        ---
        apiVersion: virtsync/v1
        kind: Secret
        name: vnc
        hostFile: web-1/vnc
        """
    static let machine = """
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: web-1
        memory: 64MiB
        graphics: {type: vnc, passwordSecret: vnc}
        disks:
          - volume: vms/web-1-root
            size: 1GiB
        cloudInit:
          networkConfigSecret: web-network
          userDataFile: cloud/web-1.cfg
        """
    static let userData = "#cloud-config\nusers:\n  - name: ops\n    passwd: ((secret:web-password))\n"

    private func loadLab(userData: String = Self.userData, machine: String = Self.machine) -> SpecLoadResult {
        SpecLoader.load(files: [file("pool.yaml", Self.pool), file("secrets.yaml", Self.secrets), file("vm.yaml", machine),
                                file("cloud/web-1.cfg", userData), file("secrets/web-password.age", "age-encryption.org/v1 (not read here)\n")])
    }

    static let key = Array(repeating: UInt8(7), count: 32)
    static let values: [String: Result<SecretBytes, SecretProblem>] = [
        "web-password": .success(SecretBytes(Array("$6$canary-hash".utf8))),
        "web-network": .success(SecretBytes(Array("version: 2\n".utf8))),
        "vnc": .success(SecretBytes(Array("s3cret".utf8))),
    ]

    @Test("a VM that uses secrets is held until they are bound: no password, a placeholder seed, every use listed with its file and line")
    func heldUntilBound() throws {
        let result = loadLab()
        let desired = try #require(result.desired, "\(result.diagnostics)")
        #expect(result.diagnostics.items.isEmpty, "\(result.diagnostics)")
        #expect(desired.held.map(\.name) == ["web-1"])
        let pending = try #require(desired.pendingSecrets["web-1"])
        #expect(pending.uses.map(\.name) == ["vnc", "web-network", "web-password"])
        #expect(pending.uses.map(\.location) == ["vm.yaml:5", "vm.yaml:10", "cloud/web-1.cfg:4"])
        #expect(desired.secrets["web-password"]?.source == .age(path: "secrets/web-password.age"))
        #expect(desired.secrets["vnc"]?.source == .host(path: "web-1/vnc"))
        #expect(SecretBinder.needed(desired).map(\.name) == ["vnc", "web-network", "web-password"])
        let domain = try #require(desired.hosts.first?.domains.first)
        #expect(domain.graphicsPassword == nil)
        #expect(desired.hosts.first?.volumes.contains { $0.format == .iso } == false)
    }

    @Test("binding fills the password and builds the seed with the values, named by the keyed digest of its image")
    func bound() throws {
        let desired = try #require(loadLab().desired)
        let bound = SecretBinder.bind(desired, values: Self.values, key: .success(Self.key))
        #expect(bound.held.isEmpty)
        #expect(bound.pendingSecrets.isEmpty)
        let host = try #require(bound.hosts.first)
        let domain = try #require(host.domains.first)
        #expect(domain.graphicsPassword == SecretMaterial(name: "vnc", digest: SecretDigest.keyed(Array("s3cret".utf8), key: Self.key)))
        #expect(domain.graphicsPassword?.value?.bytes == Array("s3cret".utf8))
        let image = ISO9660.image(volumeID: "cidata", files: [
            ("meta-data", Array("instance-id: web-1\nlocal-hostname: web-1\n".utf8)),
            ("network-config", Array("version: 2\n".utf8)),
            ("user-data", Array("#cloud-config\nusers:\n  - name: ops\n    passwd: $6$canary-hash\n".utf8)),
        ])
        let seed = try #require(host.volumes.first { $0.format == .iso })
        let digest = SecretDigest.keyed(image, key: Self.key)
        #expect(seed.content == image)
        #expect(seed.source == .generated(digest: digest))
        #expect(seed.name == "web-1-cidata-\(digest.prefix(8)).iso")
        #expect(digest != Digest.sha256Hex(image))
        #expect(domain.disks.contains { $0.source == .volume(pool: "vms", volume: seed.name) })
        // The same values give the same desired state: a second pass plans nothing.
        #expect(SecretBinder.bind(desired, values: Self.values, key: .success(Self.key)) == bound)
    }

    @Test("a secret that cannot be read holds its VM with a reason naming the secret, its file and the field that uses it")
    func unreadable() throws {
        let desired = try #require(loadLab().desired)
        var values = Self.values
        values["web-password"] = .failure(SecretProblem("this host's age identity cannot decrypt it"))
        let bound = SecretBinder.bind(desired, values: values, key: .success(Self.key))
        let held = try #require(bound.held.first)
        #expect(bound.held.count == 1)
        #expect(held.name == "web-1")
        #expect(held.reason.contains("secret 'web-password' (age file secrets/web-password.age, declared at secrets.yaml:1)"))
        #expect(held.reason.contains("VirtualMachine[web-1].cloudInit.userData at cloud/web-1.cfg:4"))
        #expect(held.reason.contains("cannot decrypt"))
        #expect(bound.hosts.first?.domains.first?.graphicsPassword == nil)
        let noKey = SecretBinder.bind(desired, values: Self.values, key: .failure(SecretProblem("no key here")))
        #expect(noKey.held.first?.reason.contains("the digest key is unavailable: no key here") == true)
    }

    @Test("unknown secrets, a malformed placeholder, a secret outside the spec and an unused one are reported at their line")
    func problems() {
        let machine = Self.machine.replacingOccurrences(of: "passwordSecret: vnc", with: "passwordSecret: vcn")
        let result = SpecLoader.load(files: [
            file("pool.yaml", Self.pool),
            file("secrets.yaml", Self.secrets + "\n---\napiVersion: virtsync/v1\nkind: Secret\nname: spare\nhostFile: spare\n---\napiVersion: virtsync/v1\nkind: Secret\nname: lost\nageFile: ../outside.age\n---\napiVersion: virtsync/v1\nkind: Secret\nname: both\nageFile: secrets/web-password.age\nhostFile: x\n"),
            file("vm.yaml", machine),
            file("cloud/web-1.cfg", "#cloud-config\nchpasswd: ((secret:web-pasword))\nbroken: ((secret:vnc\n"),
            file("secrets/web-password.age", "x\n"),
        ])
        let text = result.diagnostics.description
        #expect(result.desired == nil)
        #expect(text.contains("vm.yaml:5:39: error: VirtualMachine[web-1].graphics.passwordSecret: unknown secret 'vcn'; did you mean 'vnc'?"), "\(text)")
        #expect(text.contains("cloud/web-1.cfg:2:1: error: VirtualMachine[web-1].cloudInit.userData: unknown secret 'web-pasword'; did you mean 'web-password'?"), "\(text)")
        #expect(text.contains("cloud/web-1.cfg:3:1: error: VirtualMachine[web-1].cloudInit.userData: '((secret:' is not closed by '))' on the same line"), "\(text)")
        #expect(text.contains("Secret[lost].ageFile: '../outside.age' must be a path relative to the spec directory"), "\(text)")
        #expect(text.contains("Secret[both].hostFile: 'ageFile' and 'hostFile' are mutually exclusive"), "\(text)")
        #expect(text.contains("warning: Secret[spare]: Secret 'spare' is not used by any VM"), "\(text)")
    }

    @Test("a display password needs a display, and an inline template names the line of its placeholder")
    func displayAndInline() {
        let result = SpecLoader.load(files: [
            file("pool.yaml", Self.pool),
            file("secrets.yaml", "apiVersion: virtsync/v1\nkind: Secret\nname: pw\nhostFile: pw\n"),
            file("vm.yaml", """
                apiVersion: virtsync/v1
                kind: VirtualMachine
                name: web-1
                memory: 64MiB
                graphics: {type: none, passwordSecret: pw}
                disks:
                  - volume: vms/web-1-root
                    size: 1GiB
                cloudInit:
                  userData: |
                    #cloud-config
                    password: ((secret:nope))
                """),
        ])
        let text = result.diagnostics.description
        #expect(text.contains("vm.yaml:5:"), "\(text)")
        #expect(text.contains("graphics.passwordSecret: a password needs a display: type vnc or spice"), "\(text)")
        #expect(text.contains("vm.yaml:12:1: error: VirtualMachine[web-1].cloudInit.userData: unknown secret 'nope'"), "\(text)")
    }

    @Test("a spec without secrets is bound to itself: nothing held, seeds named by their plain SHA-256 as before")
    func noSecrets() throws {
        let result = SpecLoader.load(files: [file("pool.yaml", Self.pool), file("vm.yaml", """
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: web-1
            memory: 64MiB
            disks:
              - volume: vms/web-1-root
                size: 1GiB
            cloudInit:
              userData: "#cloud-config\\n"
            """)])
        let desired = try #require(result.desired, "\(result.diagnostics)")
        #expect(desired.held.isEmpty && desired.pendingSecrets.isEmpty)
        let seed = try #require(desired.hosts.first?.volumes.first { $0.format == .iso })
        #expect(seed.source == .generated(digest: Digest.sha256Hex(seed.content ?? [])))
    }

    @Test("one final line break of a secret file is not part of a password or a placeholder's value; a whole file keeps it")
    func finalLineBreak() throws {
        let desired = try #require(loadLab().desired)
        let values: [String: Result<SecretBytes, SecretProblem>] = [
            "web-password": .success(SecretBytes(Array("hash\n".utf8))),
            "web-network": .success(SecretBytes(Array("version: 2\n".utf8))),
            "vnc": .success(SecretBytes(Array("s3cret\r\n".utf8))),
        ]
        let bound = SecretBinder.bind(desired, values: values, key: .success(Self.key))
        let host = try #require(bound.hosts.first)
        #expect(host.domains.first?.graphicsPassword?.value?.bytes == Array("s3cret".utf8))
        let seed = try #require(host.volumes.first { $0.format == .iso }?.content)
        let text = String(decoding: seed, as: UTF8.self)
        #expect(text.contains("passwd: hash\n") && !text.contains("passwd: hash\n\n"))
        #expect(text.contains("version: 2\n"))
    }

    static let encryptedLab = """
        apiVersion: virtsync/v1
        kind: StoragePool
        name: vms
        path: /srv/vms/
        volumes:
          - name: data.raw
            size: 1GiB
            format: raw
            encryptionSecret: disk-key
        ---
        apiVersion: virtsync/v1
        kind: Secret
        name: disk-key
        hostFile: disks/data
        ---
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: db
        memory: 64MiB
        disks:
          - volume: vms/data.raw
        ---
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: web
        memory: 64MiB
        """

    @Test("an encrypted volume gets a secret object (named by the volume, at its path), the disks that open it its UUID; both wait for the passphrase")
    func encryptedVolume() throws {
        let result = SpecLoader.load(files: [file("lab.yaml", Self.encryptedLab)])
        let desired = try #require(result.desired, "\(result.diagnostics)")
        let uuid = SecretObjectModel.uuid(consumer: "vms/data.raw")
        let host = try #require(desired.hosts.first)
        #expect(host.volumes.first { $0.name == "data.raw" }?.encryption == uuid)
        #expect(host.secretObjects.map(\.uuid) == [uuid])
        #expect(host.secretObjects.first?.usage == .volume(path: "/srv/vms/data.raw"))
        #expect(host.domains.first { $0.name == "db" }?.disks.first?.encryption == uuid)
        #expect(Set(desired.held.map { "\($0.kind.rawValue) \($0.name)" }) == ["volume vms/data.raw", "domain db"])
        #expect(SecretBinder.needed(desired).map(\.name) == ["disk-key"])

        let bound = SecretBinder.bind(desired, values: ["disk-key": .success(SecretBytes(Array("luks pass\n".utf8)))], key: .success(Self.key))
        #expect(bound.held.isEmpty)
        let object = try #require(bound.hosts.first?.secretObjects.first)
        #expect(object.secret == SecretMaterial(name: "disk-key", digest: SecretDigest.keyed(Array("luks pass".utf8), key: Self.key)))
        #expect(object.secret.value?.bytes == Array("luks pass".utf8))

        let failed = SecretBinder.bind(desired, values: ["disk-key": .failure(SecretProblem("missing"))], key: .success(Self.key))
        #expect(Set(failed.held.map { "\($0.kind.rawValue) \($0.name)" }) == ["volume vms/data.raw", "domain db"])
        #expect(failed.held.first { $0.name == "db" }?.reason.contains("its encrypted volume vms/data.raw cannot be opened: secret 'disk-key' (host file disks/data") == true)
    }

    @Test("an encrypted volume is blank: with backing, clone or adopt it is an error at that key")
    func encryptedVolumeRules() {
        let result = SpecLoader.load(files: [file("lab.yaml", """
            apiVersion: virtsync/v1
            kind: StoragePool
            name: vms
            path: /srv/vms
            volumes:
              - {name: base.qcow2, size: 1GiB}
              - {name: a, size: 1GiB, backing: vms/base.qcow2, encryptionSecret: k}
              - {name: b, size: 1GiB, adopt: true, encryptionSecret: k}
              - {name: c, size: 1GiB, encryptionSecret: nope}
            ---
            apiVersion: virtsync/v1
            kind: Secret
            name: k
            hostFile: k
            """)])
        let text = result.diagnostics.description
        #expect(text.contains("StoragePool[vms].volumes[1].backing: an encrypted volume (encryptionSecret) cannot have 'backing'"), "\(text)")
        #expect(text.contains("StoragePool[vms].volumes[2].adopt: an encrypted volume (encryptionSecret) cannot have 'adopt'"), "\(text)")
        #expect(text.contains("StoragePool[vms].volumes[3].encryptionSecret: unknown secret 'nope'"), "\(text)")
    }

    static let tpmVM = """
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: vault
        memory: 64MiB
        xml:
          devices: |
            <tpm model='tpm-crb'>
              <backend type='emulator' version='2.0'>
                <encryption secret='((secret-uuid:tpm-key:vtpm))'/>
              </backend>
            </tpm>
        ---
        apiVersion: virtsync/v1
        kind: Secret
        name: tpm-key
        hostFile: vault/tpm
        """

    @Test("the escape hatch names a secret object by ((secret-uuid:NAME:TYPE)): the XML gets its UUID, the host the object, the VM waits for the value")
    func escapeHatchObject() throws {
        let result = SpecLoader.load(files: [file("vault.yaml", Self.tpmVM)])
        let desired = try #require(result.desired, "\(result.diagnostics)")
        let consumer = "vault:tpm-key:vtpm"
        let uuid = SecretObjectModel.uuid(consumer: consumer)
        let host = try #require(desired.hosts.first)
        #expect(host.domains.first?.extraXML.devices?.contains("<encryption secret='\(uuid)'/>") == true)
        #expect(host.secretObjects.map(\.consumer) == [consumer])
        #expect(host.secretObjects.first?.usage == .named(type: "vtpm", id: "virtsync/vault/tpm-key"))
        #expect(desired.held.map(\.name) == ["vault"])
        let bound = SecretBinder.bind(desired, values: ["tpm-key": .success(SecretBytes(Array("tpm pass\n".utf8)))], key: .success(Self.key))
        #expect(bound.held.isEmpty)
        #expect(bound.hosts.first?.secretObjects.first?.secret.value?.bytes == Array("tpm pass".utf8))
        let failed = SecretBinder.bind(desired, values: ["tpm-key": .failure(SecretProblem("missing"))], key: .success(Self.key))
        #expect(failed.held.map(\.name) == ["vault"])
        #expect(failed.held.first?.reason.contains("used by VirtualMachine[vault].xml.devices") == true)
    }

    @Test("in the escape hatch, a secret's value, an unknown type, a malformed placeholder and an unknown secret are errors at their line")
    func escapeHatchProblems() {
        let result = SpecLoader.load(files: [file("vault.yaml", """
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: vault
            memory: 64MiB
            xml:
              devices: |
                <tpm model='tpm-crb'><backend type='emulator' version='2.0'><encryption secret='((secret:tpm-key))'/></backend></tpm>
                <watchdog model='i6300esb' action='((secret-uuid:tpm-key:luks))'/>
                <rng model='virtio'><backend model='random'>((secret-uuid:tpm-key</backend></rng>
                <memballoon model='virtio' autodeflate='((secret-uuid:nope:ceph))'/>
            ---
            apiVersion: virtsync/v1
            kind: Secret
            name: tpm-key
            hostFile: vault/tpm
            """)])
        let text = result.diagnostics.description
        #expect(text.contains("vault.yaml:7:1: error: VirtualMachine[vault].xml.devices: a secret's value never goes into XML"), "\(text)")
        #expect(text.contains("vault.yaml:8:1: error: VirtualMachine[vault].xml.devices: unknown secret object type 'luks'"), "\(text)")
        #expect(text.contains("vault.yaml:9:1: error: VirtualMachine[vault].xml.devices: '((secret-uuid:' is not closed"), "\(text)")
        #expect(text.contains("vault.yaml:10:1: error: VirtualMachine[vault].xml.devices: unknown secret 'nope'"), "\(text)")
    }
}
