/// Renders a plan the way Terraform users read one: `+` create, `~` update, `-/+` replace, `-` destroy,
/// attribute-level old → new, `(known after apply)`, and a summary line.

import Planning
import ProviderKit

struct PlanView {
    var color: Bool

    private func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    /// "Objects have changed outside of maifctl:" and what changed in each; empty when nothing drifted.
    func renderDrift(_ changes: [PlannedChange]) -> [String] {
        let drifted = changes.filter { $0.drift.drifted }
        guard !drifted.isEmpty else { return [] }
        var out = [paint("Objects have changed outside of maifctl:", "1"), ""]
        for c in drifted {
            out.append("  # \(c.address) has changed")
            if c.drift.deleted { out.append("  " + paint("~ drifted:", "33") + " deleted out of band") }
            for key in c.drift.keys.sorted() {
                let d = c.drift[key]!
                for (path, was, now) in driftLines(key, d.recorded, d.actual) {
                    out.append("  " + paint("~ drifted:", "33") + " \(path) was \(was), now \(now)")
                }
            }
        }
        out.append("")
        return out
    }

    func render(_ plan: Plan) -> String {
        var out = renderDrift(plan.changes)
        for m in plan.moves { out.append("  # \(m.from) has moved to \(m.to)") }
        if !plan.moves.isEmpty { out.append("") }

        let actionable = plan.changes.filter { $0.action != .noop }
        if actionable.isEmpty {
            out.append(plan.moves.isEmpty ? paint("No changes.", "32;1") + " Your infrastructure matches the configuration."
                : "Only moves: state will record the new addresses.")
            return out.joined(separator: "\n")
        }
        out.append("maifctl will perform the following actions:")
        out.append("")
        for c in actionable.sorted(by: { ($0.action, $0.address) < ($1.action, $1.address) }) {
            out += render(c)
            out.append("")
        }
        out.append(summaryLine(plan.summary))
        return out.joined(separator: "\n")
    }

    func summaryLine(_ s: PlanSummary) -> String {
        paint("Plan:", "1") + " \(s.create + s.replace) to add, \(s.update) to change, \(s.delete + s.replace) to destroy."
    }

    private func render(_ c: PlannedChange) -> [String] {
        let (symbol, headline): (String, String)
        switch c.action {
        case .create: (symbol, headline) = (paint("+", "32"), "will be created")
        case .update: (symbol, headline) = (paint("~", "33"), "will be updated in place")
        case .replace: (symbol, headline) = (paint("-/+", "31"), "must be replaced" + (c.replaceBecause == ["--replace"] ? " (--replace)" : ""))
        case .delete: (symbol, headline) = (paint("-", "31"), "will be destroyed")
        case .noop: (symbol, headline) = (" ", "is unchanged")
        }
        var lines = ["  # \(c.address) \(headline)"]
        lines.append((c.action == .replace ? "" : "  ") + "\(symbol) resource \"\(c.address.type)\" \"\(c.address.name)\" {")
        let before = c.before?.attributes ?? [:]
        let after = c.after ?? [:]
        let keys = Set(before.keys).union(after.keys).sorted()
        let width = keys.map(\.count).max() ?? 0
        for key in keys {
            let pad = key.padding(width)
            let forces = c.replaceBecause.contains(key) ? paint(" # forces replacement", "31") : ""
            switch c.action {
            case .create:
                lines += attribute("+", pad, after[key]!, indent: 6)
            case .delete:
                lines += attribute("-", pad, before[key]!, indent: 6)
            case .update, .replace, .noop:
                let old = before[key], new = after[key]
                if old == new { continue }
                switch (old, new) {
                case (nil, let n?): lines += attribute("+", pad, n, indent: 6)
                case (let o?, nil): lines += attribute("-", pad, o, indent: 6)
                case (let o?, let n?):
                    lines += changed(pad, o, n, indent: 6, suffix: forces)
                default: break
                }
            }
        }
        lines.append("    }")
        return lines
    }

    private func attribute(_ sign: String, _ key: String, _ value: AttributeValue, indent: Int) -> [String] {
        let p = String(repeating: " ", count: indent)
        let mark = sign == "+" ? paint("+", "32") : paint("-", "31")
        let rendered = show(value, indent: indent)
        return ["\(p)\(mark) \(key) = \(rendered)"]
    }

    private func changed(_ key: String, _ old: AttributeValue, _ new: AttributeValue, indent: Int, suffix: String) -> [String] {
        let p = String(repeating: " ", count: indent)
        let mark = paint("~", "33")
        if Sensitive.isPlaceholder(old) || Sensitive.isPlaceholder(new) {
            return ["\(p)\(mark) \(key) = \(paint("(sensitive value changed)", "2"))\(suffix)"]
        }
        // Maps: only the entries that changed; multi-line strings: a line diff.
        if case .map(let o) = old, case .map(let n) = new {
            var lines = ["\(p)\(mark) \(key) = {\(suffix)"]
            let keys = Set(o.keys).union(n.keys).sorted()
            let w = keys.map { Self.quoteKey($0).count }.max() ?? 0
            for k in keys where o[k] != n[k] {
                let qk = Self.quoteKey(k).padding(w)
                switch (o[k], n[k]) {
                case (nil, let v?): lines += attribute("+", qk, v, indent: indent + 4)
                case (let v?, nil): lines += attribute("-", qk, v, indent: indent + 4)
                case (let a?, let b?): lines += changed(qk, a, b, indent: indent + 4, suffix: "")
                default: break
                }
            }
            lines.append("\(p)  }")
            return lines
        }
        if case .string(let a) = old, case .string(let b) = new, a.contains("\n") || b.contains("\n") {
            var lines = ["\(p)\(mark) \(key) = <<-EOT\(suffix)"]
            for (sign, line) in LineDiff.diff(a, b, context: 2) {
                let s = sign == "+" ? paint("+", "32") : sign == "-" ? paint("-", "31") : " "
                lines.append("\(p)    \(s) \(line)")
            }
            lines.append("\(p)  EOT")
            return lines
        }
        return ["\(p)\(mark) \(key) = \(show(old, indent: indent)) -> \(show(new, indent: indent))\(suffix)"]
    }

    static func quoteKey(_ k: String) -> String {
        k.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } ? k : "\"\(k)\""
    }

    private func show(_ v: AttributeValue, indent: Int) -> String {
        if Sensitive.isPlaceholder(v) { return paint("(sensitive)", "2") }
        switch v {
        case .unknown: return paint("(known after apply)", "2")
        case .string(let s) where s.contains("\n"):
            let p = String(repeating: " ", count: indent + 4)
            return "<<-EOT\n" + s.split(separator: "\n", omittingEmptySubsequences: false).map { p + $0 }.joined(separator: "\n") + "\n"
                + String(repeating: " ", count: indent + 2) + "EOT"
        case .map(let m) where m.values.contains(where: { $0.stringValue?.contains("\n") == true }):
            let p = String(repeating: " ", count: indent + 4)
            var lines = ["{"]
            for k in m.keys.sorted() { lines.append("\(p)\(Self.quoteKey(k)) = \(show(m[k]!, indent: indent + 4))") }
            lines.append(String(repeating: " ", count: indent + 2) + "}")
            return lines.joined(separator: "\n")
        case .map(let m) where m.values.contains(where: { !$0.isKnown }):
            let items = m.keys.sorted().map { "\(Self.quoteKey($0)) = \(show(m[$0]!, indent: indent))" }
            return "{ " + items.joined(separator: ", ") + " }"
        case .list(let l) where l.contains(where: { !$0.isKnown }):
            return "[" + l.map { show($0, indent: indent) }.joined(separator: ", ") + "]"
        default:
            return v.canonicalJSON(indent: nil)
        }
    }

    /// One line per changed leaf: maps are walked, multi-line text is summarised as a line count.
    private func driftLines(_ path: String, _ old: AttributeValue?, _ new: AttributeValue?) -> [(String, String, String)] {
        if old.map(Sensitive.isPlaceholder) == true || new.map(Sensitive.isPlaceholder) == true {
            return [(path, "(sensitive)", "(sensitive, changed)")]
        }
        if case .map(let a)? = old, case .map(let b)? = new {
            return Set(a.keys).union(b.keys).sorted().filter { a[$0] != b[$0] }.flatMap {
                driftLines("\(path)[\"\($0)\"]", a[$0], b[$0])
            }
        }
        if case .string(let a)? = old, case .string(let b)? = new, a.contains("\n") || b.contains("\n") {
            let changes = LineDiff.diff(a, b, context: 0).filter { $0.0 != " " }
            let added = changes.filter { $0.0 == "+" }.count, removed = changes.count - added
            return [(path, "\(a.split(separator: "\n").count) lines", "edited (+\(added) -\(removed) lines)")]
        }
        return [(path, short(old), short(new))]
    }

    private func short(_ v: AttributeValue?) -> String {
        guard let v else { return "(absent)" }
        let text = v.canonicalJSON(indent: nil)
        return text.count > 80 ? String(text.prefix(77)) + "…" : text
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}

/// A small line diff (longest common subsequence) for multi-line attribute values such as config files.
enum LineDiff {
    static func diff(_ a: String, _ b: String, context: Int) -> [(Character, String)] {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let y = b.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let n = x.count, m = y.count
        guard n * m <= 4_000_000 else { return x.map { ("-", $0) } + y.map { ("+", $0) } }
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                lcs[i][j] = x[i] == y[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var all: [(Character, String)] = []
        var i = 0, j = 0
        while i < n || j < m {
            if i < n, j < m, x[i] == y[j] { all.append((" ", x[i])); i += 1; j += 1 }
            else if i < n, j == m || lcs[i + 1][j] >= lcs[i][j + 1] { all.append(("-", x[i])); i += 1 }
            else { all.append(("+", y[j])); j += 1 }
        }
        // Keep changed lines and `context` lines around them.
        var keep = [Bool](repeating: false, count: all.count)
        for (k, e) in all.enumerated() where e.0 != " " {
            for c in max(0, k - context)...min(all.count - 1, k + context) { keep[c] = true }
        }
        var out: [(Character, String)] = []
        var skipping = false
        for (k, e) in all.enumerated() {
            if keep[k] { out.append(e); skipping = false }
            else if !skipping { out.append((" ", "…")); skipping = true }
        }
        return out
    }
}
