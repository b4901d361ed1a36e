import VirtsyncCore

extension DocumentDecoder {
    static let imageKeys = KeySet(["url", "file", "sha256", "format"])

    /// `image:` of a pool volume: exactly one of `url` (http or https) and `file` (an absolute
    /// path on the machine that runs virtsync), a required `sha256`, and the file's `format`
    /// when it is not the volume's.
    func readImage(_ map: MapReader) -> Located<ImageSource>? {
        guard let image = map.map("image", keys: Self.imageKeys) else { return nil }
        let url = image.string("url")
        let file = image.has("file") ? readAbsolutePath(image, "file") : nil
        var location: ImageSource.Location?
        switch (url, image.has("file")) {
        case (nil, false):
            reporter.error(map.keyLocation("image"), map.keyPath("image"), "an image needs 'url' or 'file'")
        case (.some, true):
            reporter.error(image.keyLocation("file"), image.keyPath("file"), "'url' and 'file' are mutually exclusive")
        case (let url?, false):
            if let problem = Formats.imageURLProblem(url.value) {
                reporter.error(url.location, image.keyPath("url"), problem)
            } else {
                location = .url(url.value)
            }
        case (nil, true):
            location = file.map { .file($0.value) }
        }
        var digest: String?
        if let sha = image.string("sha256", required: true) {
            let text = sha.value.lowercased()
            if text.count == 64, text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) {
                digest = text
            } else {
                reporter.error(sha.location, image.keyPath("sha256"),
                               "expected the image's SHA-256 as 64 hexadecimal digits (what sha256sum prints), got \(sha.value.count) characters")
            }
        }
        let format = image.choice("format", Self.volumeFormats)
        guard let location, let digest else { return nil }
        return Located(ImageSource(location: location, sha256: digest, format: format?.value), map.valueLocation("image"))
    }
}

extension Formats {
    /// Why `url` cannot be an image's URL: http or https with a host, no user or password (a
    /// credential in a spec is a secret in clear text), no spaces or control characters.
    package static func imageURLProblem(_ url: String) -> String? {
        let lower = url.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
            return "an image URL starts with https:// or http:// (a local file is 'file:')"
        }
        guard url.utf8.count <= 4096 else { return "the URL is longer than 4096 bytes" }
        if url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || $0.value > 0x7E }) {
            return "the URL holds a space, a control character or a non-ASCII character (percent-encode it)"
        }
        let rest = url.drop(while: { $0 != ":" }).dropFirst(3)
        let authority = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        if authority.contains("@") {
            return "the URL holds a user or password; an image URL must not carry credentials"
        }
        let host = authority.hasPrefix("[") ? authority : authority.prefix(while: { $0 != ":" })
        if host.isEmpty { return "the URL has no host" }
        return nil
    }
}
