import Foundation

/// A real browser for the dashboard's tests: Debian's Chromium, headless. It loads a page, lets
/// its script run (fetches included) within a budget of virtual time, and gives back the DOM as
/// rendered and, when asked, a screenshot.
public enum Browser {
    /// The Chromium executable, when installed.
    public static var path: String? { try? Command.locate("chromium") }

    public static var available: Bool { path != nil }

    /// The command line that renders `url`: prints the DOM on stdout, and writes a PNG to
    /// `screenshot` when given. Run it directly, or inside a testbed host (`Testbed.exec`).
    /// - Parameters:
    ///   - profile: a directory of the test's own for the browser's profile.
    ///   - budget: virtual time the page's timers get, in milliseconds (the dashboard polls every 2 s).
    public static func arguments(url: String, profile: String, screenshot: String? = nil, width: Int = 1600, height: Int = 1000,
                                 budget: Int = 4000) throws -> [String] {
        guard let path else { throw FixtureError(command: ["chromium"], stderr: "chromium is not installed (scripts/install-deps.sh installs it)") }
        var arguments = [path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                         "--hide-scrollbars", "--user-data-dir=\(profile)", "--window-size=\(width),\(height)",
                         "--virtual-time-budget=\(budget)", "--run-all-compositor-stages-before-draw"]
        if let screenshot { arguments.append("--screenshot=\(screenshot)") }
        arguments += ["--dump-dom", url]
        return arguments
    }

    /// Renders `url` from this process's namespaces; the DOM as rendered.
    public static func render(url: String, profile: String, screenshot: String? = nil, width: Int = 1600, height: Int = 1000,
                              budget: Int = 4000) async throws -> String {
        let argv = try arguments(url: url, profile: profile, screenshot: screenshot, width: width, height: height, budget: budget)
        let result = try await Command.run(argv[0], Array(argv.dropFirst()), timeout: .seconds(60))
        guard result.status == 0 else { throw FixtureError(command: argv, status: result.status, stderr: String(result.stderr.suffix(2000))) }
        return result.stdout
    }

    /// Where tests leave what a person should look at (screenshots): `VIRTSYNC_TEST_ARTIFACTS`,
    /// else `.build/test-artifacts` of the package, in a folder per test.
    public static func artifacts(_ test: String) throws -> String {
        let base = ProcessInfo.processInfo.environment["VIRTSYNC_TEST_ARTIFACTS"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/test-artifacts").path
        let directory = base + "/" + test
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }
}

/// What a test reads from the dashboard's rendered DOM.
public struct DashboardPage {
    public let html: String

    public init(_ html: String) { self.html = html }

    /// The page rendered data (`<body data-state="ready">`).
    public var isReady: Bool { html.contains(#"data-state="ready""#) }

    /// The names of the VM cards in the column of `host` (`<section class="host" data-host=HOST>`).
    public func vms(onHost host: String) -> Set<String> {
        guard let column = section(class: "host", #"data-host="\#(host)""#) else { return [] }
        return Set(Self.values(of: "data-vm", in: column))
    }

    /// The text of a VM's card (`<article class="vm" data-vm=NAME>`).
    public func card(_ vm: String) -> String? {
        guard let open = html.range(of: #"data-vm="\#(vm)""#),
              let start = html[..<open.lowerBound].range(of: "<article", options: .backwards)?.lowerBound,
              let end = html.range(of: "</article>", range: open.upperBound..<html.endIndex) else { return nil }
        return Self.text(String(html[start..<end.upperBound]))
    }

    /// The host columns shown.
    public var hosts: [String] {
        Self.values(of: "data-host", in: html.components(separatedBy: #"<section id="plan""#).first ?? html)
            .filter { !$0.isEmpty }.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }

    /// The timeline's entries of a kind (`failover`, `migration`, ...), as text.
    public func events(kind: String) -> [String] {
        html.components(separatedBy: "<li ").dropFirst().filter { $0.contains(#"class="event""#) && $0.contains(#"data-kind="\#(kind)""#) }
            .map { Self.text($0.components(separatedBy: "</li>").first ?? $0) }
    }

    /// The rows of a table (`failovers`, `migrations`, `passes`), as text.
    public func rows(_ table: String) -> [String] {
        guard let start = html.range(of: #"id="\#(table)""#) else { return [] }
        let body = html[start.upperBound...].components(separatedBy: "</table>").first ?? ""
        guard let tbody = body.components(separatedBy: "<tbody").dropFirst().first else { return [] }
        return tbody.components(separatedBy: "<tr").dropFirst().map { Self.text($0) }
    }

    /// The banners shown, by kind, as text.
    public func banners(kind: String) -> [String] {
        html.components(separatedBy: "<div ").dropFirst().filter { $0.contains(#"class="banner"#) && $0.contains(#"data-kind="\#(kind)""#) }
            .map { Self.text($0) }
    }

    /// The `<section>` whose opening tag has the class and the attribute, up to its closing
    /// tag (nested sections counted).
    func section(class name: String, _ attribute: String) -> String? {
        var search = html.startIndex
        while let open = html.range(of: "<section", range: search..<html.endIndex) {
            search = open.upperBound
            guard let close = html.range(of: ">", range: open.upperBound..<html.endIndex) else { return nil }
            let tag = html[open.lowerBound..<close.upperBound]
            guard tag.contains(attribute), tag.contains(#"class="\#(name)"#) else { continue }
            var depth = 0
            var index = open.lowerBound
            while index < html.endIndex {
                let rest = html[index...]
                if rest.hasPrefix("<section") { depth += 1 }
                if rest.hasPrefix("</section>") {
                    depth -= 1
                    if depth == 0 { return String(html[open.lowerBound..<html.index(index, offsetBy: 10)]) }
                }
                index = html.index(after: index)
            }
            return String(html[open.lowerBound...])
        }
        return nil
    }

    static func values(of attribute: String, in text: String) -> [String] {
        text.components(separatedBy: "\(attribute)=\"").dropFirst().compactMap { $0.split(separator: "\"", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) }
    }

    /// Markup stripped, entities of the five XML characters decoded, spaces collapsed.
    static func text(_ markup: String) -> String {
        var out = ""
        var inTag = false
        for c in markup {
            if c == "<" { inTag = true; out.append(" "); continue }
            if c == ">" { inTag = false; continue }
            if !inTag { out.append(c) }
        }
        for (entity, c) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")] {
            out = out.replacingOccurrences(of: entity, with: c)
        }
        return out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
