/// Property: whatever text it is given, the loader returns — a stack with no errors, or no stack and at least one
/// error — and every position it reports lies inside the text. Inputs come from a fixed-seed generator so that a
/// failure names the document index that reproduces it.

import Foundation
import StackLoader
import StackModel
import TestSupport
import XCTest

/// Random documents that look enough like stack files to get past the YAML parser some of the time.
struct StackTextGenerator {
    static let keys = [
        "stack", "name", "description", "cloud", "region", "variables", "default", "clouds", "aws", "gcp", "azure", "onprem",
        "kubernetes", "swarm", "local", "clusters", "nodes", "id", "role", "host", "port", "resources", "cpu", "memory",
        "storage", "weight", "replication_factor", "consistency_level", "platform", "load_balancing", "strategy",
        "health_check_interval", "adaptive", "weights", "geo_routing", "regions", "location", "lat", "lon", "routing",
        "compliance", "autoscaling", "horizontal", "vertical", "min_nodes", "max_nodes", "policies", "threshold", "action",
        "adjustment", "min", "max", "high_availability", "quorum_size", "replication", "mode", "partition", "minority_side",
        "disaster_recovery", "backup_targets", "type", "bucket", "path", "schedule", "full_backup", "rto", "rpo",
        "cross_region_replication", "primary_region", "multi_cloud", "deployments", "hybrid", "data_placement", "monitoring",
        "alert_rules", "condition", "severity", "security", "tls", "properties", "depends_on", "lifecycle", "moved", "from",
        "to", "secret_access_key", "key", "env", "file", "password", "nmae", "rol", "<<",
    ]
    static let scalars = [
        "demo", "c1", "n1", "node-1", "primary", "secondary", "cache", "manager", "worker", "aws", "local", "swarm", "vm",
        "round_robin", "adaptive", "quorum", "one", "s3", "gcs", "azure_blob", "onprem", "scale_up", "scale_down", "daily",
        "hourly", "true", "false", "yes", "null", "~", "0", "1", "3", "-1", "150", "70%", "12.5", "30s", "5m", "1h", "30d",
        "100ms", "32GB", "1Ti", "8Gi", "thirty", "99999999999999999999d", "1e308", "99999999PB", "-0", ".5", "cpu_utilization > 90", "'x == ''y'''", "\"quoted\"", "'single'",
        "${var.x}", "${env.HOME}", "${local.null.r0.id}", "$${literal}", "${", "${var.", "local.null.r0", "local.null",
        "AKIAIOSFODNN7EXAMPLE", "hunter2", "[]", "{}", "[a, b]", "{env: X}", "{file: /x}", "&anchor v", "*anchor", "!tag v",
        "|", ">", "é✓", "\u{0}", "", "  ", "#comment", "- x", ": :", "@", "`", "%YAML", "---", "...",
    ]
    static let noise: [Character] = ["\t", ":", "\"", "'", "{", "}", "[", "]", "-", "#", "&", "*", "!", "|", ">", "%", "@",
                                     "`", ",", "?", "$", " ", "\n", "\r", "\\", "é", "✓", "\u{FEFF}", "0", "9", "."]

    var rng: SplitMix64

    mutating func randomDocument() -> String {
        var lines: [String] = []
        for _ in 0..<(1 + rng.below(30)) {
            let indent = String(repeating: " ", count: rng.below(5) * 2 + (rng.chance(10) ? 1 : 0))
            var line = indent + (rng.chance(5) ? "\t" : "")
            switch rng.below(6) {
            case 0: line += "\(rng.pick(Self.keys)):"
            case 1, 2: line += "\(rng.pick(Self.keys)): \(rng.pick(Self.scalars))"
            case 3: line += "- \(rng.pick(Self.keys)): \(rng.pick(Self.scalars))"
            case 4: line += "- \(rng.pick(Self.scalars))"
            default:
                let pairs = (0..<rng.below(4)).map { _ in "\(rng.pick(Self.keys)): \(rng.pick(Self.scalars))" }
                line += "\(rng.pick(Self.keys)): {\(pairs.joined(separator: ", "))}"
            }
            if rng.chance(10) { line.insert(rng.pick(Self.noise), at: line.index(line.startIndex, offsetBy: rng.below(line.count + 1))) }
            lines.append(line)
        }
        if rng.chance(50) { lines.insert("stack: {name: demo}", at: 0) }
        return lines.joined(separator: rng.chance(5) ? "\r\n" : "\n")
    }

    /// 1–4 edits of a valid stack: delete, duplicate or swap lines, re-indent, inject characters, replace a value, truncate.
    mutating func mutate(_ text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for _ in 0..<(1 + rng.below(4)) where !lines.isEmpty {
            let i = rng.below(lines.count)
            switch rng.below(8) {
            case 0: lines.remove(at: i)
            case 1: lines.insert(lines[i], at: i)
            case 2: lines.swapAt(i, rng.below(lines.count))
            case 3:
                let shift = rng.below(5) - 2
                lines[i] = shift >= 0 ? String(repeating: " ", count: shift) + lines[i]
                    : String(lines[i].dropFirst(min(-shift, lines[i].prefix { $0 == " " }.count)))
            case 4:
                var line = lines[i]
                for _ in 0..<(1 + rng.below(3)) {
                    line.insert(rng.pick(Self.noise), at: line.index(line.startIndex, offsetBy: rng.below(line.count + 1)))
                }
                lines[i] = line
            case 5:
                if let colon = lines[i].firstIndex(of: ":") {
                    lines[i] = String(lines[i][...colon]) + " " + rng.pick(Self.scalars)
                }
            case 6: lines[i] = lines[i].replacingOccurrences(of: "  ", with: "\t")
            default:
                let joined = lines.joined(separator: "\n")
                let cut = joined.index(joined.startIndex, offsetBy: rng.below(joined.count + 1))
                lines = joined[..<cut].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// Results of loads running on several threads, kept per document index.
private final class FuzzOutcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var problems: [Int: [String]] = [:]
    private(set) var loaded = 0

    func record(_ index: Int, loaded: Bool, problems found: [String]) {
        lock.lock()
        defer { lock.unlock() }
        if !found.isEmpty { problems[index] = found } else if loaded { self.loaded += 1 }
    }

    var failures: [(Int, [String])] {
        lock.lock()
        defer { lock.unlock() }
        return problems.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

final class LoaderFuzzTests: XCTestCase {
    static let randomDocuments = 4_000
    static let mutatedDocuments = 6_000

    func testTheLoaderNeverCrashesAndAlwaysAnswersWithAStackOrAnError() throws {
        let valid = [try Fixtures.text("valid/full-stack.yaml"), try Fixtures.text("valid/compact-stack.yaml")]
        var generator = StackTextGenerator(rng: SplitMix64(seed: 0x6D61_6966_6374_6C21))
        // Generated up front, in order, so that document #i is the same however the loads are scheduled.
        let documents = (0..<(Self.randomDocuments + Self.mutatedDocuments)).map { index in
            index < Self.randomDocuments ? generator.randomDocument() : generator.mutate(valid[index % 10 == 0 ? 0 : 1])
        }
        let environment = Fixtures.fullStackEnvironment.merging(["HOME": "/root", "X": "x"]) { a, _ in a }
        let outcomes = FuzzOutcomes()
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: documents.count) { index in
            let result = StackLoader.load(sources: [(name: "fuzz.yaml", text: documents[index])],
                                          options: LoadOptions.builtin(variables: [:], environment: environment))
            outcomes.record(index, loaded: result.stack != nil, problems: Self.violations(result, text: documents[index]))
        }
        let seconds = Date().timeIntervalSince(start)
        let failures = outcomes.failures
        for (index, problems) in failures.prefix(5) {
            XCTFail("document #\(index): \(problems.joined(separator: "; "))\n--- text ---\n\(documents[index])\n---")
        }
        print("fuzzed \(documents.count) documents in \(String(format: "%.1f", seconds)) s: \(outcomes.loaded) loaded, "
              + "\(documents.count - outcomes.loaded - failures.count) rejected with errors, \(failures.count) broke a property")
        XCTAssertEqual(failures.count, 0)
        XCTAssertGreaterThan(outcomes.loaded, 100, "the mutations should leave some stacks valid")
        XCTAssertGreaterThan(documents.count - outcomes.loaded, 1_000)
    }

    private static func violations(_ result: LoadResult, text: String) -> [String] {
        var out: [String] = []
        let errors = result.diagnostics.filter { $0.severity == .error }
        if result.stack != nil, !errors.isEmpty { out.append("a stack came back with errors: \(errors)") }
        if result.stack == nil, errors.isEmpty { out.append("no stack and no error: \(result.diagnostics)") }
        let lineCount = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).count
        for d in result.diagnostics {
            guard let loc = d.location else { continue }
            if loc.line < 1 || loc.column < 1 || loc.line > lineCount + 1 { out.append("position outside the text: \(d)") }
            if loc.file != "fuzz.yaml" { out.append("wrong file: \(d)") }
        }
        if result.diagnostics != result.diagnostics.sortedByPosition() { out.append("diagnostics not sorted by position") }
        return out
    }

    func testTheGeneratorIsDeterministic() {
        var a = StackTextGenerator(rng: SplitMix64(seed: 42)), b = StackTextGenerator(rng: SplitMix64(seed: 42))
        for _ in 0..<20 { XCTAssertEqual(a.randomDocument(), b.randomDocument()) }
        var reference = SplitMix64(seed: 0)
        XCTAssertEqual(reference.next(), 0xE220_A839_7B1D_CDAF, "the published SplitMix64 reference value")
    }
}
