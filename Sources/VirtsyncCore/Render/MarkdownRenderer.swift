/// Renders a plan as Markdown for a pull-request comment: a heading and what the plan was
/// computed from, a summary with anything destructive called out on top, the steps grouped by
/// host, then the notes; and a hidden marker by which a CI bot finds its own comments.
///
/// A plan too long for one comment is split with `renderParts` into numbered parts that are
/// each valid Markdown on their own.
public struct MarkdownRenderer: Sendable {
    /// GitHub's limit on a comment body (65,536 characters; `renderParts` counts UTF-8 bytes,
    /// never fewer than characters).
    public static let commentLimit = 65_536

    /// The smallest part size `renderParts` accepts: room for the heading, the commits line,
    /// the marker and a truncated step.
    public static let minimumPartLimit = 2_048

    public init() {}

    /// The whole plan as one Markdown text (part 1 of 1).
    public func render(_ plan: Plan) -> String {
        MarkdownDocument(plan).single()
    }

    /// The plan as one or more comment bodies of at most `limit` UTF-8 bytes each.
    ///
    /// When the whole text fits, the one part is exactly `render(plan)`. Otherwise each part
    /// starts with `### virtsync plan — part i of n` and the commits line; the summary is in
    /// part 1 only; a host's steps that run over a part end their code block and go on under
    /// `host … (continued)` in the next; a step is never split between parts, and a step (or a
    /// note) larger than a whole part is cut short with a visible `(truncated)`. Every part ends
    /// with a hidden `<!-- virtsync-plan part=i/n head=… -->` marker.
    ///
    /// - Precondition: `limit >= MarkdownRenderer.minimumPartLimit`.
    public func renderParts(_ plan: Plan, limit: Int = MarkdownRenderer.commentLimit) -> [String] {
        precondition(limit >= MarkdownRenderer.minimumPartLimit,
                     "renderParts needs a limit of at least \(MarkdownRenderer.minimumPartLimit) bytes, got \(limit)")
        let document = MarkdownDocument(plan)
        let whole = document.single()
        if whole.utf8.count <= limit { return [whole] }
        return document.split(limit: limit)
    }
}
