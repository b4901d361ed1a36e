import Testing
import VirtsyncCore

@Suite("Sizes with units")
struct ByteSizeTests {
    @Test("binary and decimal suffixes have one meaning each")
    func suffixes() throws {
        #expect(try ByteSize.parse("4GiB").bytes == 4 << 30)
        #expect(try ByteSize.parse("4G").bytes == 4 << 30)
        #expect(try ByteSize.parse("4GB").bytes == 4_000_000_000)
        #expect(try ByteSize.parse("512MiB").bytes == 512 << 20)
        #expect(try ByteSize.parse("512 MiB").bytes == 512 << 20)
        #expect(try ByteSize.parse("1.5GiB").bytes == 3 << 29)
        #expect(try ByteSize.parse("10B").bytes == 10)
    }

    @Test("a bare number is refused with a hint")
    func bareNumber() {
        #expect(throws: ByteSize.ParseError.missingUnit("4096")) { try ByteSize.parse("4096") }
        #expect(throws: ByteSize.ParseError.unknownUnit("4 gigs")) { try ByteSize.parse("4 gigs") }
        #expect(throws: ByteSize.ParseError.notANumber("GiB")) { try ByteSize.parse("GiB") }
        #expect(throws: ByteSize.ParseError.overflow("99999999999TiB")) { try ByteSize.parse("99999999999TiB") }
    }

    @Test("sizes print in the largest exact binary unit")
    func printing() {
        #expect(ByteSize.gib(4).description == "4GiB")
        #expect(ByteSize.mib(1536).description == "1536MiB")
        #expect(ByteSize(bytes: 1000).description == "1000B")
    }

    @Test("SHA-256 matches the FIPS test vectors")
    func sha256() {
        #expect(Digest.sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.sha256Hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
