/// A plan sized for a pull-request comment (GitHub-flavoured Markdown): the summary line first, the destroys and
/// replaces in a table above everything else, then the notes (refresh skipped, drift, check findings), a Mermaid graph
/// of the changed resources coloured by action, one collapsed `<details>` per changed resource with its attribute diff,
/// and a marker line CI finds its earlier comment by. Sensitive values show as "(sensitive)", values only apply can tell
/// as "(known after apply)". Past `maxBytes`, details are dropped largest first and a note says where the full plan is.

import Execution
import Foundation
import Planning
import ProviderKit
import StackModel

struct PlanMarkdown {
    /// GitHub refuses comments over 65,536 characters; counted here in UTF-8 bytes, so never more characters.
    static let defaultMaxBytes = 65_000
    /// A graph of more nodes than this is left out: it would not be readable, and Mermaid refuses very large ones.
    static let graphLimit = 100

    var maxBytes = PlanMarkdown.defaultMaxBytes
    /// Where the whole plan can be read when details had to be left out: a URL or a command.
    var fullPlan: String?
    /// The check findings (`maifctl check`), shown with their rule ids.
    var findings: [Diagnostic] = []
    /// Said under the summary line, e.g. "saved plan made 2026-01-01T12:00:00Z from prod.yaml".
    var origin: String?

    /// The line CI searches its earlier comment for; one per stack.
    static func marker(stack: String) -> String { "<!-- maifctl-plan: stack=\(stack) -->" }

    /// `+3 ~1 -/+1 -2`: create, update, replace, delete.
    static func counts(_ s: PlanSummary) -> String { "+\(s.create) ~\(s.update) -/+\(s.replace) -\(s.delete)" }

    func render(_ plan: Plan) -> String {
        let actionable = plan.changes.filter { $0.action != .noop }.sorted { ($0.action, $0.address) < ($1.action, $1.address) }
        var parts = Parts()
        parts.head = head(plan, actionable: actionable)
        parts.tableRows = actionable.filter { $0.action == .delete || $0.action == .replace }.map { row($0, plan: plan) }
        if plan.refreshed == false {
            parts.notes.append("> [!NOTE]\n> Refresh was skipped (`--refresh=false`): this plan trusts the recorded state as it is, so changes made "
                               + "outside maifctl (drift) are not shown and apply may meet objects that differ.")
        }
        let drift = PlanView(color: false).renderDrift(plan.changes)
        if !drift.isEmpty { parts.drift = Array(drift.dropFirst(2)).filter { !$0.isEmpty } }
        parts.moves = plan.moves.map { "- `\($0.from)` has moved to `\($0.to)`" }
        parts.checks = findings.map(finding)
        if !actionable.isEmpty && actionable.count <= Self.graphLimit { parts.graph = graph(actionable) }
        if actionable.count > Self.graphLimit { parts.graphNote = "_The graph is left out: \(actionable.count) changed resources are more than \(Self.graphLimit)._" }
        parts.details = actionable.map(details)
        parts.marker = Self.marker(stack: plan.stack)
        return fit(parts, total: actionable.count)
    }

    // MARK: size

    struct Parts {
        var head = ""
        var tableRows: [String] = []
        var tableOmitted = 0
        var notes: [String] = []
        var drift: [String] = []
        var driftOmitted = 0
        var moves: [String] = []
        var checks: [String] = []
        var checksOmitted = 0
        var graph: String?
        var graphNote: String?
        var details: [String?] = []
        var marker = ""
        var cut: String?

        func text() -> String {
            var blocks = [head]
            if !tableRows.isEmpty {
                var table = "| action | resource | why |\n|---|---|---|\n" + tableRows.joined(separator: "\n")
                if tableOmitted > 0 { table += "\n\n…and \(tableOmitted) more destroyed or replaced resource(s), in the full plan." }
                blocks.append("#### Destroyed or replaced\n\n" + table)
            }
            if let cut { blocks.append(cut) }
            blocks += notes
            if !drift.isEmpty {
                let more = driftOmitted > 0 ? "\n…and \(driftOmitted) more line(s) in the full plan." : ""
                blocks.append("#### Changed outside maifctl (drift)\n\nRefresh found these objects changed since the last apply; the plan below repairs them.\n\n"
                              + fenced(drift.joined(separator: "\n") + more, info: "text"))
            }
            if !moves.isEmpty { blocks.append("#### Moved in state\n\n" + moves.joined(separator: "\n")) }
            if !checks.isEmpty {
                blocks.append("#### Check findings\n\n" + checks.joined(separator: "\n")
                              + (checksOmitted > 0 ? "\n- …and \(checksOmitted) more (`maifctl check`)" : ""))
            }
            if let graph { blocks.append("#### Graph of the changes\n\n" + graph) }
            if let graphNote { blocks.append(graphNote) }
            let shown = details.compactMap { $0 }
            if !shown.isEmpty { blocks.append("#### Changes\n\n" + shown.joined(separator: "\n\n")) }
            blocks.append(marker)
            return blocks.joined(separator: "\n\n") + "\n"
        }
    }

    /// Drops details largest first, then the graph, then cuts the drift, the findings and the table, until the text fits.
    private func fit(_ full: Parts, total: Int) -> String {
        var parts = full
        var text = parts.text()
        if text.utf8.count <= maxBytes { return text }
        let sizes = parts.details.map { ($0?.utf8.count ?? 0) + 2 }
        let where_ = fullPlan ?? "the output of `maifctl plan` in the CI job's log"
        func note(_ dropped: Int) -> String {
            "> [!WARNING]\n> This plan is cut to stay under \(maxBytes) bytes: the details of \(dropped) of \(total) changed resource(s) are left "
                + "out (the largest first). The full plan: \(where_)."
        }
        parts.cut = note(total)
        // The size without any details, then add back the smallest ones while they fit.
        var without = parts
        without.details = parts.details.map { _ in nil }
        var budget = maxBytes - without.text().utf8.count - "#### Changes\n\n".utf8.count - 2
        let bySize = sizes.indices.sorted { (sizes[$0], $0) < (sizes[$1], $1) }
        var keep = Set<Int>()
        for i in bySize where sizes[i] <= budget {
            keep.insert(i)
            budget -= sizes[i]
        }
        parts.details = parts.details.enumerated().map { keep.contains($0.offset) ? $0.element : nil }
        parts.cut = note(total - keep.count)
        text = parts.text()
        if text.utf8.count <= maxBytes { return text }
        parts.graph = nil
        parts.graphNote = nil
        // Cut the lists in halves: the drift, the findings, then the table rows.
        for _ in 0..<40 {
            text = parts.text()
            if text.utf8.count <= maxBytes { return text }
            if parts.drift.count > 1 {
                let cut = parts.drift.count / 2
                parts.driftOmitted += parts.drift.count - cut
                parts.drift = Array(parts.drift.prefix(cut))
            } else if parts.checks.count > 1 {
                let cut = parts.checks.count / 2
                parts.checksOmitted += parts.checks.count - cut
                parts.checks = Array(parts.checks.prefix(cut))
            } else if parts.tableRows.count > 1 {
                let cut = parts.tableRows.count / 2
                parts.tableOmitted += parts.tableRows.count - cut
                parts.tableRows = Array(parts.tableRows.prefix(cut))
            } else {
                break
            }
        }
        // Still too long (a limit below a few hundred bytes): the summary, the note and the marker are all that is left.
        var bare = Parts()
        bare.head = parts.head
        bare.cut = parts.cut
        bare.marker = parts.marker
        return bare.text()
    }

    // MARK: pieces

    private func head(_ plan: Plan, actionable: [PlannedChange]) -> String {
        let s = plan.summary
        var line = "**Plan:** `\(Self.counts(s))` for stack `\(plan.stack)`"
        if actionable.isEmpty {
            line += plan.moves.isEmpty ? ": no changes. The infrastructure matches the configuration." : ": only moves in state."
        } else {
            line += ": \(s.create + s.replace) to add, \(s.update) to change, \(s.delete + s.replace) to destroy."
        }
        var about = ["state `\(plan.stateRevision.map { String($0.prefix(12)) } ?? "(empty)")`", "plan `\(plan.id.prefix(12))`"]
        if plan.isDestroy { about.insert("**destroy** plan", at: 0) }
        if let origin { about.append(origin) }
        line += "\n\n<sub>" + about.joined(separator: " · ") + "</sub>"
        if !actionable.contains(where: { $0.action == .delete || $0.action == .replace }) && !actionable.isEmpty {
            line += "\n\nNothing is destroyed or replaced."
        }
        return line
    }

    private func row(_ c: PlannedChange, plan: Plan) -> String {
        let why: String
        if c.action == .replace {
            why = c.replaceBecause == ["--replace"] ? "asked for with `--replace`"
                : c.replaceBecause.isEmpty ? "the provider must recreate it"
                : c.replaceBecause.map { "`\($0)`" }.joined(separator: ", ") + " cannot change in place"
        } else if plan.isDestroy {
            why = "destroy plan"
        } else if c.address.deposedOf != nil {
            why = "the old object of an earlier create-before-destroy replacement"
        } else if c.drift.deleted {
            why = "already deleted outside maifctl"
        } else {
            why = "no longer in the stack"
        }
        return "| \(c.action == .replace ? "**replace** `-/+`" : "**destroy** `-`") | `\(c.address)` | \(cell(why)) |"
    }

    private func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }

    private func finding(_ d: Diagnostic) -> String {
        let place = d.location.map { " (`\($0)`)" } ?? ""
        let hint = d.hint.map { " — \(inline($0))" } ?? ""
        return "- **\(d.severity.rawValue)** `\(d.code)`: \(inline(d.message))\(place)\(hint)"
    }

    /// Text inside a Markdown paragraph: no HTML, no line breaks.
    private func inline(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\n", with: " ")
    }

    static func symbol(_ a: PlanAction) -> String {
        switch a {
        case .create: return "+"
        case .update: return "~"
        case .replace: return "-/+"
        case .delete: return "-"
        case .noop: return " "
        }
    }

    private func headline(_ c: PlannedChange) -> String {
        switch c.action {
        case .create: return "will be created"
        case .update: return "will be updated in place"
        case .replace: return "must be replaced"
        case .delete: return "will be destroyed"
        case .noop: return "is unchanged"
        }
    }

    private func details(_ c: PlannedChange) -> String {
        let summary = "<code>\(Self.symbol(c.action))</code> <code>\(html(c.address.description))</code> \(headline(c))"
        return "<details><summary>\(summary)</summary>\n\n" + fenced(diff(c).joined(separator: "\n"), info: "diff") + "\n\n</details>"
    }

    private func html(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    // MARK: attribute diff

    /// `+ key = value` / `- key = value` lines (a diff block colours them); a changed value is a `-` and a `+` line.
    func diff(_ c: PlannedChange) -> [String] {
        let before = c.before?.attributes ?? [:]
        let after = c.after ?? [:]
        let keys = Set(before.keys).union(after.keys).sorted()
        let width = keys.map { PlanView.quoteKey($0).count }.max() ?? 0
        var lines: [String] = []
        for key in keys {
            let name = PlanView.quoteKey(key).padding(width)
            let forces = c.replaceBecause.contains(key) ? "   # forces replacement" : ""
            switch c.action {
            case .create: lines += value("+", name, after[key]!)
            case .delete: lines += value("-", name, before[key]!)
            case .update, .replace, .noop:
                let old = before[key], new = after[key]
                if old == new { continue }
                lines += changed(name, old, new, forces: forces)
            }
        }
        if c.action == .replace && c.replaceBecause == ["--replace"] { lines.append("# replaced because of --replace") }
        if lines.isEmpty { lines.append("# no attribute changes") }
        return lines
    }

    private func changed(_ name: String, _ old: AttributeValue?, _ new: AttributeValue?, forces: String) -> [String] {
        guard let old else { return value("+", name, new!, suffix: forces) }
        guard let new else { return value("-", name, old, suffix: forces) }
        if Sensitive.isPlaceholder(old) || Sensitive.isPlaceholder(new) {
            return ["! \(name) = (sensitive value changed)\(forces)"]
        }
        if case .map(let o) = old, case .map(let n) = new {
            var lines: [String] = []
            for k in Set(o.keys).union(n.keys).sorted() where o[k] != n[k] {
                lines += changed("\(name.trimmingCharacters(in: .whitespaces))[\"\(k)\"]", o[k], n[k], forces: forces)
            }
            return lines
        }
        if case .string(let a) = old, case .string(let b) = new, a.contains("\n") || b.contains("\n") {
            var lines = ["! \(name) = <<EOT (text changed)\(forces)"]
            for (sign, line) in LineDiff.diff(a, b, context: 2) { lines.append("\(sign)     \(line)") }
            lines.append("  EOT")
            return lines
        }
        return value("-", name, old) + value("+", name, new, suffix: forces)
    }

    private func value(_ sign: String, _ name: String, _ v: AttributeValue, suffix: String = "") -> [String] {
        if case .string(let s) = v, s.contains("\n"), !Sensitive.isPlaceholder(v) {
            return ["\(sign) \(name) = <<EOT"] + s.split(separator: "\n", omittingEmptySubsequences: false).map { "\(sign)     \($0)" }
                + ["\(sign) EOT\(suffix)"]
        }
        return ["\(sign) \(name) = \(show(v))\(suffix)"]
    }

    private func show(_ v: AttributeValue) -> String {
        if Sensitive.isPlaceholder(v) { return "(sensitive)" }
        switch v {
        case .unknown: return "(known after apply)"
        case .map(let m): return "{" + m.keys.sorted().map { "\(PlanView.quoteKey($0)) = \(show(m[$0]!))" }.joined(separator: ", ") + "}"
        case .list(let l): return "[" + l.map(show).joined(separator: ", ") + "]"
        default: return v.canonicalJSON(indent: nil)
        }
    }

    // MARK: graph

    private func graph(_ changes: [PlannedChange]) -> String {
        let index = Dictionary(uniqueKeysWithValues: changes.enumerated().map { ($0.element.address, $0.offset) })
        var lines = ["```mermaid", "flowchart LR"]
        for (i, c) in changes.enumerated() {
            let label = "\(Self.symbol(c.action)) \(c.address)".replacingOccurrences(of: "\"", with: "#quot;")
            lines.append("  n\(i)[\"\(label)\"]:::\(c.action == .noop ? "noop" : c.action.rawValue)")
        }
        for (i, c) in changes.enumerated() {
            for d in c.dependencies.sorted() { if let j = index[d] { lines.append("  n\(j) --> n\(i)") } }
        }
        lines += [
            "  classDef create fill:#d1f5d3,stroke:#1a7f37,color:#0b3d1a",
            "  classDef update fill:#fff3c4,stroke:#9a6700,color:#3d2a00",
            "  classDef replace fill:#ffe0c2,stroke:#bc4c00,color:#3d1a00",
            "  classDef delete fill:#ffd7d5,stroke:#cf222e,color:#4a0a0e",
            "```",
        ]
        return lines.joined(separator: "\n")
    }
}

/// A fenced code block whose fence is longer than any run of backticks in the text.
func fenced(_ text: String, info: String) -> String {
    var longest = 0, run = 0
    for ch in text { if ch == "`" { run += 1; longest = max(longest, run) } else { run = 0 } }
    let fence = String(repeating: "`", count: max(3, longest + 1))
    return "\(fence)\(info)\n\(text)\n\(fence)"
}
