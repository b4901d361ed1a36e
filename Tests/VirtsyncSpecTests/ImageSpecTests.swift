import Testing
import VirtsyncCore
import VirtsyncSpec

/// `image:` on pool volumes: decoding, the mistakes `validate` names, and the model it becomes.
@Suite("images in the spec")
struct ImageSpecTests {
    static let digest = "9f3c1bb0a4b5d1b7e6a1c3e2f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3"

    private func load(_ text: String) -> SpecLoadResult {
        SpecLoader.load(files: [SpecFile(path: "pool.yaml", bytes: Array(text.utf8))])
    }

    private func pool(_ volumes: String) -> String {
        "apiVersion: virtsync/v1\nkind: StoragePool\nname: images\npath: /srv/images\nvolumes:\n" + volumes
    }

    @Test("a volume from a URL, without a size, becomes an image source as large as the image")
    func urlWithoutSize() throws {
        let result = load(pool("""
              - name: debian-12
                format: qcow2
                image:
                  url: https://cloud.example.org/debian-12-genericcloud-amd64.qcow2
                  sha256: \(Self.digest.uppercased())

            """))
        let desired = try #require(result.desired, "\(result.diagnostics)")
        let volume = try #require(desired.hosts.first?.volumes.first)
        #expect(volume.capacity.bytes == 0)
        #expect(volume.format == .qcow2)
        #expect(volume.source == .image(ImageSource(location: .url("https://cloud.example.org/debian-12-genericcloud-amd64.qcow2"),
                                                    sha256: Self.digest)))
    }

    @Test("a volume from a local file with a size and another format keeps both")
    func fileWithConversion() throws {
        let result = load(pool("""
              - name: installer
                size: 4GiB
                format: raw
                image: {file: /var/lib/images/netinst.qcow2, sha256: \(Self.digest), format: qcow2}

            """))
        let desired = try #require(result.desired, "\(result.diagnostics)")
        let volume = try #require(desired.hosts.first?.volumes.first)
        #expect(volume.capacity == .gib(4))
        #expect(volume.source == .image(ImageSource(location: .file("/var/lib/images/netinst.qcow2"), sha256: Self.digest, format: .qcow2)))
    }

    @Test("image mistakes are reported with file, line and field, all at once")
    func mistakes() {
        let result = load(pool("""
              - name: a
                image: {url: ftp://example.org/a.qcow2, sha256: \(Self.digest)}
              - name: b
                image: {url: "https://user:pw@example.org/b.qcow2", sha256: \(Self.digest)}
              - name: c
                image: {url: https://example.org/c.qcow2, sha256: abc123}
              - name: d
                image: {url: https://example.org/d.qcow2, file: /srv/d.qcow2, sha256: \(Self.digest)}
              - name: e
                image: {sha256: \(Self.digest)}
              - name: f
                backing: images/a
                image: {url: https://example.org/f.qcow2, sha256: \(Self.digest)}
              - name: g
                image: {url: https://example.org/g.qcow2}
              - name: h
                image: {file: relative/h.qcow2, sha256: \(Self.digest)}
              - name: i
                image: {url: https://example.org/i.qcow2, sha256: \(Self.digest), format: vmdk}

            """))
        let text = result.diagnostics.description
        #expect(result.desired == nil)
        #expect(text.contains("pool.yaml:7:18: error: StoragePool[images].volumes[0].image.url: an image URL starts with https:// or http://"), "\(text)")
        #expect(text.contains("pool.yaml:9:18: error: StoragePool[images].volumes[1].image.url: the URL holds a user or password"), "\(text)")
        #expect(text.contains("pool.yaml:11:55: error: StoragePool[images].volumes[2].image.sha256: expected the image's SHA-256 as 64 hexadecimal digits"), "\(text)")
        #expect(text.contains("pool.yaml:13:47: error: StoragePool[images].volumes[3].image.file: 'url' and 'file' are mutually exclusive"), "\(text)")
        #expect(text.contains("pool.yaml:15:5: error: StoragePool[images].volumes[4].image: an image needs 'url' or 'file'"), "\(text)")
        #expect(text.contains("pool.yaml:17:5: error: StoragePool[images].volumes[5].backing: a volume made from an image cannot have 'backing'"), "\(text)")
        #expect(text.contains("StoragePool[images].volumes[6].image.sha256: missing required key 'sha256'"), "\(text)")
        #expect(text.contains("StoragePool[images].volumes[7].image.file:"), "\(text)")
        #expect(text.contains("StoragePool[images].volumes[8].image.format: invalid value 'vmdk'; expected one of qcow2, raw"), "\(text)")
    }

    @Test("a volume without an image still needs a size")
    func sizeStillRequired() {
        let result = load(pool("  - name: plain\n    format: qcow2\n"))
        #expect(result.diagnostics.description.contains("StoragePool[images].volumes[0].size: missing required key 'size'"), "\(result.diagnostics)")
    }
}
