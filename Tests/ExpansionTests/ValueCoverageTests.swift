/// Every value a stack declares takes effect, or the plan says it cannot (issue 15). For every leaf value of the shipped
/// stacks and of the full-stack fixture, the value is changed to another valid one and the stack planned again on empty
/// state: a planned resource attribute must change (the MAIF node configuration, cluster.yaml, is inside those
/// attributes), or a new warning must name the key. Values under `clouds` are the providers' settings, read when a
/// provider is configured (their own tests cover them), and credential references name where a secret is read.

import Checks
import Engine
import Foundation
import Planning
import ProviderKit
import StackModel
import XCTest
import Yams

final class ValueCoverageTests: XCTestCase {
    static let stacks = ["stacks/local-demo.yaml", "stacks/production.yaml", "stacks/multi-region.yaml", "stacks/kubernetes.yaml",
                         "stacks/swarm.yaml", "stacks/multi-cloud.yaml", "stacks/hybrid.yaml",
                         "Tests/StackLoaderTests/Fixtures/valid/full-stack.yaml"]

    func testEveryDeclaredValueChangesThePlanOrIsNamedByAWarning() async throws {
        var jobs: [(file: String, text: String, leaf: Leaf, baseline: Outcome)] = []
        var settings = 0
        for file in Self.stacks {
            let text = try String(contentsOf: ShippedStackPlans.repoRoot.appendingPathComponent(file), encoding: .utf8)
            let baseline = Outcome.of(text, file: file)
            XCTAssertTrue(baseline.valid, "\(file) must expand")
            for leaf in try Leaf.all(in: text) {
                // clouds.* are the providers' settings, read when a provider is configured (their own tests and
                // SettingsReferenceDocTests cover them); a variable takes effect where it is used, walked in its own right.
                if leaf.path.hasPrefix("clouds.") { settings += 1; continue }
                if leaf.path.hasPrefix("stack.variables.") { continue }
                jobs.append((file, text, leaf, baseline))
            }
        }
        let verdicts = await withTaskGroup(of: (Int, Verdict).self) { group in
            for (i, job) in jobs.enumerated() {
                group.addTask { (i, Self.verdict(job.leaf, in: job.text, file: job.file, baseline: job.baseline)) }
            }
            var out = [Verdict](repeating: .inert, count: jobs.count)
            for await (i, v) in group { out[i] = v }
            return out
        }
        var counts: [String: Int] = ["provider setting": settings]
        var inert: [String] = [], unchangeable: [String] = []
        for (job, verdict) in zip(jobs, verdicts) {
            let place = "\(job.file):\(job.leaf.line):\(job.leaf.column) \(job.leaf.path) = \(job.leaf.value)"
            switch verdict {
            case .attribute: counts["resource attribute", default: 0] += 1
            case .finding: counts["warning or check finding", default: 0] += 1
            case .inert: inert.append(place)
            case .unchangeable: unchangeable.append(place)
            }
        }
        print("value coverage: \(counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")); "
              + "no effect: \(inert.count); no other valid value found: \(unchangeable.count)")
        for line in unchangeable { print("  (no other valid value) \(line)") }
        for line in inert { print("  (no effect) \(line)") }
        XCTAssertEqual(inert, [], "values that change neither the plan nor a finding")
    }

    enum Verdict { case attribute, finding, inert, unchangeable }

    static func verdict(_ leaf: Leaf, in text: String, file: String, baseline: Outcome) -> Verdict {
        // A value the plan already says has no effect (overridden, no cluster to apply to, not expressible here).
        if baseline.findings.contains(where: { $0.names(leaf) && $0.line == leaf.line }) { return .finding }
        var tried = false
        for candidate in Mutation.candidates(for: leaf) {
            let outcome = Outcome.of(candidate.apply(to: leaf, in: text), file: file)
            guard outcome.valid else { continue }
            tried = true
            if outcome.snapshot != baseline.snapshot { return .attribute }
            if outcome.findings.subtracting(baseline.findings).contains(where: { $0.names(leaf) }) { return .finding }
        }
        return tried ? .inert : .unchangeable
    }
}

/// One scalar of a stack file: its key path, where it is, and how it is written.
struct Leaf {
    var path: String
    var value: String
    var line: Int
    var column: Int
    var quoted: Bool

    /// The keys that hold this value, three levels deep or more (`multi_cloud.deployments.gcp` for
    /// `multi_cloud.deployments.gcp.region`): a warning that names one covers everything under it.
    var enclosingKeys: [String] {
        let parts = path.split(separator: ".").map(String.init)
        guard parts.count > 3 else { return [] }
        return (3..<parts.count).map { parts[0..<$0].joined(separator: ".") }
    }

    static func all(in text: String) throws -> [Leaf] {
        guard let root = try Yams.compose(yaml: text, .basic) else { return [] }
        var out: [Leaf] = []
        func walk(_ node: Yams.Node, _ path: String) {
            switch node {
            case .scalar(let s):
                guard let mark = node.mark else { return }
                out.append(Leaf(path: path, value: s.string, line: mark.line, column: mark.column,
                                quoted: s.style == .singleQuoted || s.style == .doubleQuoted))
            case .mapping(let m):
                for (k, v) in m { if case .scalar(let key) = k { walk(v, path.isEmpty ? key.string : "\(path).\(key.string)") } }
            case .sequence(let items):
                for (i, item) in items.enumerated() { walk(item, "\(path)[\(i)]") }
            case .alias:
                return
            }
        }
        walk(root, "")
        return out
    }

    /// The file with this scalar written as `replacement` (quoted when the original was).
    func replaced(by replacement: String, in text: String) -> String {
        var lines = text.components(separatedBy: "\n")
        let row = lines[line - 1]
        let characters = Array(row)
        let start = column - 1
        var end = start
        if quoted {
            let quote = characters[start]
            end = start + 1
            while end < characters.count && characters[end] != quote { end += (characters[end] == "\\" ? 2 : 1) }
            end += 1
        } else {
            end = start + value.count
        }
        let written = quoted ? "\"\(replacement)\"" : replacement
        lines[line - 1] = String(characters[..<start]) + written + String(characters[min(end, characters.count)...])
        return lines.joined(separator: "\n")
    }
}

/// What a stack expands to — the resources it wants, each with its configuration, which is what a plan on empty state
/// shows — and what loading, expanding and checking it say (warnings, and check errors, which block apply).
struct Outcome {
    var valid: Bool
    var snapshot: String
    var findings: Set<Finding>

    struct Finding: Hashable {
        var code: String
        var message: String
        var line: Int?
        var column: Int?

        /// Points at the value itself, or names its key.
        func names(_ leaf: Leaf) -> Bool {
            (line == leaf.line && column == leaf.column) || message.contains(leaf.path)
                || leaf.enclosingKeys.contains { message.contains($0) }
                || (line == leaf.line && message.contains(leaf.path.split(separator: ".").last.map { String($0.split(separator: "[")[0]) } ?? "\u{0}"))
        }
    }

    static func of(_ text: String, file: String) -> Outcome {
        let expanded = ShippedStackPlans.engine.expand(StackSource(texts: [(name: file, text: text)]))
        guard let value = expanded.value else { return Outcome(valid: false, snapshot: "", findings: []) }
        let diagnostics = expanded.diagnostics + Checker.run(value.stack)
        var items: [String: AttributeValue] = [:]
        for r in value.desired {
            items[r.address.description] = .map([
                "config": .map(r.config), "depends_on": .list(r.dependsOn.map { .string($0.address.description) }),
                "lifecycle": .map(["prevent_destroy": .bool(r.lifecycle.preventDestroy), "create_before_destroy": .bool(r.lifecycle.createBeforeDestroy),
                                   "ignore_changes": .list(r.lifecycle.ignoreChanges.map { .string($0) })]),
            ])
        }
        // Moves rename recorded resources: what they say is part of the plan, as the resources are.
        items["(moved)"] = .list(value.stack.moved.map { .string("\($0.from) -> \($0.to)") })
        return Outcome(valid: true, snapshot: AttributeValue.map(items).canonicalJSON(indent: nil),
                       findings: Set(diagnostics.map { Finding(code: $0.code, message: $0.message, line: $0.location?.line, column: $0.location?.column) }))
    }
}

/// Other valid values for a scalar, by what it looks like and which key holds it.
enum Mutation {
    static let alternatives: [String: [String]] = [
        "strategy": ["least_connections", "round_robin", "weighted", "latency_aware", "adaptive"],
        "primary": ["least_connections", "round_robin", "latency_aware", "closest_region", "least_loaded_region"],
        "fallback": ["round_robin", "least_connections", "least_loaded_region", "closest_region"],
        "role": ["secondary", "primary", "cache", "worker", "manager"],
        "consistency_level": ["one", "all", "quorum"],
        "severity": ["critical", "warning", "info"],
        "severities": ["critical", "warning", "info"],
        "action": ["scale_down", "scale_up"],
        "mode": ["asynchronous", "synchronous"],
        "minority_side": ["available", "read_only"],
        "backup_strategy": ["full", "incremental", "differential", "continuous"],
        "full_backup": ["weekly", "daily", "hourly"],
        "incremental_backup": ["daily", "hourly", "30m"],
        "transaction_log_backup": ["1m", "10m"],
        "backup_frequency": ["2h", "30m"],
        "platform": ["vm", "kubernetes", "swarm", "onprem", "local"],
        "cloud": ["aws", "gcp", "azure", "kubernetes", "swarm", "onprem", "local"],
        "type": ["s3", "gcs", "azure_blob", "onprem", "local"],
        "strategy_sync": ["eventual", "strong"],
        "conflict_resolution": ["last_write_wins", "vector_clock", "manual"],
        "consistency": ["eventual", "strong"],
        "encryption": ["AES-256", "none"],
        "authentication": ["token", "mutual_tls", "password"],
    ]

    /// A new value for the scalar alone, or for every whole-word occurrence of it (a name other keys refer to).
    enum Candidate {
        case here(String)
        case everywhere(String)

        func apply(to leaf: Leaf, in text: String) -> String {
            switch self {
            case .here(let value): return leaf.replaced(by: value, in: text)
            case .everywhere(let value):
                let escaped = NSRegularExpression.escapedPattern(for: leaf.value)
                let regex = try! NSRegularExpression(pattern: "(?<![\\w.-])\(escaped)(?![\\w-])")
                return regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text),
                                                      withTemplate: NSRegularExpression.escapedTemplate(for: value))
            }
        }
    }

    static func candidates(for leaf: Leaf) -> [Candidate] {
        var out = values(for: leaf).map(Candidate.here)
        if leaf.value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), leaf.value.count > 1 {
            out.append(.everywhere(leaf.value + "x"))
        }
        return out
    }

    static func values(for leaf: Leaf) -> [String] {
        let v = leaf.value
        let key = leaf.path.split(separator: ".").last.map { String($0.split(separator: "[").first ?? $0) } ?? ""
        var out: [String] = []
        if let listed = alternatives[key] { out += listed.filter { $0 != v } }
        switch v {
        case "true": out.append("false")
        case "false": out.append("true")
        default: break
        }
        if let i = Int(v) { out += [String(i + 1), String(max(0, i - 1)), String(i * 2)] }
        if let d = Double(v), Int(v) == nil { out += [String(d * 0.9), String(d * 1.1)] }
        if let m = v.wholeMatch(of: /(\d+)(ms|s|m|h|d|w)/) {
            let n = Int(m.1)!
            out += ["\(n * 2)\(m.2)", "\(max(1, n / 2))\(m.2)", "\(n + 1)\(m.2)"]
        }
        if let m = v.wholeMatch(of: /(\d+)(B|KB|MB|GB|TB|Ki|Mi|Gi|Ti)/) { out += ["\(Int(m.1)! * 2)\(m.2)"] }
        if let m = v.wholeMatch(of: /(\d+)%/) { out += ["\(max(1, Int(m.1)! - 5))%"] }
        if let m = v.wholeMatch(of: /(\d+)\.(\d+)\.(\d+)\.(\d+)/) {
            out += ["\(m.1).\(m.2).\(m.3).\((Int(m.4)! % 250) + 3)"]
        }
        if let m = v.wholeMatch(of: /(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)/) {
            out += ["\(m.1).\(m.2).\(m.3).\(m.4)/\(max(8, Int(m.5)! - 1))"]
        }
        if let m = v.wholeMatch(of: /(\w+) (>|>=|<|<=|==|!=) (\d+)/) { out += ["\(m.1) \(m.2) \(Int(m.3)! - 5)", "\(m.1) >= \(m.3)"] }
        if let m = v.wholeMatch(of: /(\w+) (==|!=) '(\w+)'/) { out += ["\(m.1) \(m.2) 'degraded'", "\(m.1) != '\(m.3)'"] }
        if v.contains("@") && v.contains(".") { out.append("other-" + v) }
        if v.hasPrefix("https://") { out.append(v + "/other") }
        if let colon = v.lastIndex(of: ":"), v.contains("/") { out.append(String(v[..<colon]) + ":other") }
        // Names and other text: a changed name is a changed value as long as nothing else refers to it.
        out += [v + "x", v + "-2"]
        var seen = Set<String>()
        return out.filter { $0 != v && seen.insert($0).inserted }
    }
}
