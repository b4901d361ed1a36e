/// Fenced code blocks of the project's Markdown documents, for tests that load their examples.
public enum MarkdownBlocks {
    /// The contents of every fenced block opened with ```` ```yaml ````, each ending in a newline.
    public static func yaml(in text: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil {
                if line == "```yaml" { current = [] }
            } else if line == "```" {
                blocks.append((current ?? []).joined(separator: "\n") + "\n")
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }
}
