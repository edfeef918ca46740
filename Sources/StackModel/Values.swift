/// Typed scalar values that the stack language parses once, at load time.

import Foundation

/// A length of time such as `30s`, `5m`, `1h`, `30d` or `100ms`.
public struct TimeSpan: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func seconds(_ s: Int64) -> TimeSpan { TimeSpan(milliseconds: s * 1000) }

    public var seconds: Double { Double(milliseconds) / 1000 }

    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.milliseconds < b.milliseconds }

    static let units: [(suffix: String, ms: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000),
    ]

    /// Parses `<number><unit>` with unit ms, s, m, h, d or w. A bare number is not accepted: the unit is the point.
    public init?(parsing text: String) {
        let t = text.trimmingWhitespace()
        for (suffix, ms) in Self.units.sorted(by: { $0.suffix.count > $1.suffix.count }) where t.hasSuffix(suffix) {
            let number = t.dropLast(suffix.count)
            guard !number.isEmpty, let value = Double(number), value >= 0, value.isFinite else { return nil }
            guard number.allSatisfy({ $0.isNumber || $0 == "." }) else { return nil }
            let total = (value * Double(ms)).rounded()
            guard total < 9.2e18 else { return nil }
            self.milliseconds = Int64(total)
            return
        }
        return nil
    }

    /// The shortest exact spelling: `90s` rather than `1.5m`.
    public var description: String {
        for (suffix, ms) in Self.units.reversed() where milliseconds != 0 && milliseconds % ms == 0 {
            return "\(milliseconds / ms)\(suffix)"
        }
        return milliseconds == 0 ? "0s" : "\(milliseconds)ms"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let span = TimeSpan(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a duration: \(text)")
        }
        self = span
    }
}

/// An amount of storage or memory such as `32GB` (decimal) or `1Ti` / `8GiB` (binary).
public struct ByteSize: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var bytes: UInt64
    /// The spelling the user wrote, kept so that generated configs read like the stack file.
    public var text: String

    public init(bytes: UInt64, text: String? = nil) {
        self.bytes = bytes
        self.text = text ?? "\(bytes)B"
    }

    public static func < (a: ByteSize, b: ByteSize) -> Bool { a.bytes < b.bytes }
    public static func == (a: ByteSize, b: ByteSize) -> Bool { a.bytes == b.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }

    static let units: [String: UInt64] = {
        var u: [String: UInt64] = ["B": 1]
        let names = ["K", "M", "G", "T", "P"]
        for (i, n) in names.enumerated() {
            let p = i + 1
            var dec: UInt64 = 1, bin: UInt64 = 1
            for _ in 0..<p { dec *= 1000; bin *= 1024 }
            u[n + "B"] = dec
            u[n + "i"] = bin
            u[n + "iB"] = bin
        }
        return u
    }()

    /// Accepts `<number><unit>` with unit B, KB…PB (powers of 1000) or Ki/KiB…Pi/PiB (powers of 1024).
    public init?(parsing raw: String) {
        let t = raw.trimmingWhitespace()
        guard let split = t.firstIndex(where: { !($0.isNumber || $0 == ".") }), split != t.startIndex else { return nil }
        let number = t[..<split], unit = t[split...].trimmingWhitespace()
        guard let value = Double(number), value >= 0, let factor = Self.units[unit] else { return nil }
        let bytes = value * Double(factor)
        guard bytes < Double(UInt64.max) else { return nil }
        self.bytes = UInt64(bytes.rounded())
        self.text = t.replacingOccurrences(of: " ", with: "")
    }

    public var description: String { text }

    public var gibibytes: Double { Double(bytes) / 1_073_741_824 }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let size = ByteSize(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a size: \(text)")
        }
        self = size
    }
}

/// A percentage 0…100, written `70` or `70%`.
public struct Percentage: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var value: Double
    public init(_ value: Double) { self.value = value }

    public init?(parsing raw: String) {
        var t = raw.trimmingWhitespace()
        if t.hasSuffix("%") { t.removeLast() }
        guard let v = Double(t), v >= 0, v <= 100 else { return nil }
        value = v
    }

    public static func < (a: Percentage, b: Percentage) -> Bool { a.value < b.value }
    public var description: String { value == value.rounded() ? "\(Int(value))%" : "\(value)%" }
}

/// A point on the globe, for geo routing.
public struct GeoLocation: Hashable, Sendable, Codable {
    public var latitude: Double
    public var longitude: Double
    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }
}

/// An alert or scaling condition such as `cpu_utilization > 90` or `node_status == 'down'`.
public struct Condition: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Comparison: String, Sendable, Codable, CaseIterable {
        case greaterOrEqual = ">=", lessOrEqual = "<=", equal = "==", notEqual = "!=", greater = ">", less = "<"
    }

    public enum Operand: Hashable, Sendable, Codable, CustomStringConvertible {
        case number(Double)
        case string(String)

        public var description: String {
            switch self {
            case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
            case .string(let s): return "'\(s)'"
            }
        }
    }

    public var metric: String
    public var comparison: Comparison
    public var threshold: Operand

    public init(metric: String, comparison: Comparison, threshold: Operand) {
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
    }

    /// Parses `<metric> <op> <number|'string'>`; the metric is an identifier (letters, digits, `_`, `.`).
    public init?(parsing raw: String) {
        let t = raw.trimmingWhitespace()
        // The operator is looked for only before any quote, so a quoted threshold may contain one.
        let head = t[..<(t.firstIndex(where: { $0 == "'" || $0 == "\"" }) ?? t.endIndex)]
        // Two-character operators first, so that `>=` is not read as `>`.
        for op in Comparison.allCases {
            guard let range = head.range(of: op.rawValue) else { continue }
            let lhs = t[..<range.lowerBound].trimmingWhitespace()
            let rhs = t[range.upperBound...].trimmingWhitespace()
            guard !lhs.isEmpty, lhs.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }),
                  lhs.first!.isLetter || lhs.first == "_" else { return nil }
            if let n = Double(rhs) {
                threshold = .number(n)
            } else if rhs.count >= 2, let q = rhs.first, q == "'" || q == "\"", rhs.last == q {
                threshold = .string(String(rhs.dropFirst().dropLast()))
            } else {
                return nil
            }
            metric = lhs
            comparison = op
            return
        }
        return nil
    }

    public var description: String { "\(metric) \(comparison.rawValue) \(threshold)" }
}

extension StringProtocol {
    public func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }

}
