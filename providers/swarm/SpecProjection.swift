/// What `read` reports of a live Docker object: only the parts the stack manages. Docker fills in defaults the stack
/// never wrote (`Isolation`, `ForceUpdate`, `MaxFailureRatio`, driver options); reporting them would be drift that
/// no apply can remove, so the live value is cut down to the shape of what was recorded.

import ProviderKit

public enum SpecProjection {
    /// Maps keep the keys `shape` has (a key Docker leaves out is absent, unless its recorded value is a zero value,
    /// which Docker's `omitempty` drops); lists keep their live length, each element cut to the recorded element at its
    /// place (or the last one), so an element added out of band still shows. Scalars are the live value.
    public static func project(_ live: AttributeValue, onto shape: AttributeValue) -> AttributeValue {
        switch (live, shape) {
        case let (.map(l), .map(s)):
            var out: [String: AttributeValue] = [:]
            for (key, recorded) in s {
                if let value = l[key] {
                    out[key] = project(value, onto: recorded)
                } else if isZero(recorded) {
                    out[key] = recorded
                }
            }
            return .map(out)
        case let (.list(l), .list(s)) where !s.isEmpty:
            return .list(l.enumerated().map { i, element in project(element, onto: s[min(i, s.count - 1)]) })
        case (.null, _) where isZero(shape):
            return shape
        default:
            return live
        }
    }

    static func isZero(_ v: AttributeValue) -> Bool {
        switch v {
        case .null, .bool(false), .int(0), .string(""): return true
        case .double(let d): return d == 0
        case .list(let l): return l.isEmpty
        case .map(let m): return m.isEmpty
        default: return false
        }
    }
}
