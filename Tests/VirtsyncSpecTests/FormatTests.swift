import Testing
@testable import VirtsyncSpec

@Suite("formats and helpers")
struct FormatTests {
    @Test("suggestions catch swapped letters and case, and ignore far-off words")
    func suggestions() {
        #expect(Suggest.closest(to: "memroy", among: ["memory", "maxMemory"]) == "memory")
        #expect(Suggest.closest(to: "maxvcpus", among: ["vcpus", "maxVcpus"]) == "maxVcpus")
        #expect(Suggest.closest(to: "frobnicate", among: ["memory", "disks"]) == nil)
    }

    @Test("disk targets count like libvirt: a...z, then aa")
    func letters() {
        #expect(DiskTargets.letters(0) == "a")
        #expect(DiskTargets.letters(25) == "z")
        #expect(DiskTargets.letters(26) == "aa")
        #expect(DiskTargets.letters(27) == "ab")
        #expect(DiskTargets.letters(52) == "ba")
    }

    @Test("MACs, UUIDs and IPv4 addresses are parsed strictly")
    func identities() {
        #expect(Formats.normalizedMAC("52:54:00:AB:cd:01") == "52:54:00:ab:cd:01")
        #expect(Formats.normalizedMAC("01:00:5e:00:00:01") == nil)
        #expect(Formats.normalizedMAC("00:00:00:00:00:00") == nil)
        #expect(Formats.normalizedMAC("52-54-00-ab-cd-01") == nil)
        #expect(Formats.normalizedUUID("4F6B0C56-2A1E-4E1A-9F51-2D7C3B1E8A90") == "4f6b0c56-2a1e-4e1a-9f51-2d7c3b1e8a90")
        #expect(Formats.normalizedUUID("4f6b0c562a1e4e1a9f512d7c3b1e8a90") == nil)
        #expect(Formats.parseIPv4("192.168.100.1") == 0xC0A8_6401)
        #expect(Formats.parseIPv4("192.168.100.01") == nil)
        #expect(Formats.parseIPv4("192.168.256.1") == nil)
        #expect(Formats.formatIPv4(0xC0A8_6401) == "192.168.100.1")
    }

    @Test("names reject what is unsafe for libvirt and the file system")
    func names() {
        #expect(Formats.nameProblem("web-1.example_2") == nil)
        #expect(Formats.nameProblem("../etc") != nil)
        #expect(Formats.nameProblem("a/b") != nil)
        #expect(Formats.nameProblem("a\u{7}b") != nil)
        #expect(Formats.nameProblem(String(repeating: "a", count: 64)) == nil)
        #expect(Formats.nameProblem(String(repeating: "a", count: 65)) != nil)
        #expect(Formats.bridgeProblem("virbr-lab-12345") == nil)
        #expect(Formats.bridgeProblem("virbr-lab-123456") != nil)
    }

    @Test("relative paths of cloud-init files stay inside the spec directory")
    func relativePaths() {
        #expect(DocumentDecoder.relativePath("./cloud//user-data") == "cloud/user-data")
        #expect(DocumentDecoder.relativePath("../secrets") == nil)
        #expect(DocumentDecoder.relativePath("/etc/passwd") == nil)
    }
}
