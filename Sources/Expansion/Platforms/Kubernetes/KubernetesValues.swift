/// How stack values are spelled in Kubernetes objects: label values, quantities, probe periods, object names.

import ProviderKit
import StackModel

enum KubernetesValues {
    /// A valid label value (≤ 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends). Text that is not
    /// one keeps a readable head and gains a digest of the whole, so distinct inputs stay distinct.
    static func labelValue(_ text: String) -> String {
        if isLabelValue(text) { return text }
        var cleaned = String(text.map { c -> Character in
            c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || c == ".") ? c : "-"
        })
        cleaned = String(cleaned.prefix(54))
        while let l = cleaned.last, !(l.isASCII && (l.isLetter || l.isNumber)) { cleaned.removeLast() }
        while let f = cleaned.first, !(f.isASCII && (f.isLetter || f.isNumber)) { cleaned.removeFirst() }
        let digest = String(Digest.sha256(text).prefix(8))
        return cleaned.isEmpty ? digest : cleaned + "-" + digest
    }

    static func isLabelValue(_ s: String) -> Bool {
        guard !s.isEmpty else { return true }
        guard s.count <= 63, let f = s.first, let l = s.last else { return false }
        let alnum: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber) }
        return alnum(f) && alnum(l) && s.allSatisfy { alnum($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    /// An RFC 1123 label: what Namespace, Service and StatefulSet names must be.
    static func isDNSLabel(_ s: String, maxLength: Int = 63) -> Bool {
        guard !s.isEmpty, s.count <= maxLength, let f = s.first, let l = s.last else { return false }
        let lowerAlnum: (Character) -> Bool = { $0.isASCII && ($0.isLowercase || $0.isNumber) }
        return lowerAlnum(f) && lowerAlnum(l) && s.allSatisfy { lowerAlnum($0) || $0 == "-" }
    }

    /// CPU as a quantity: whole cores as `"2"`, fractions in millicores (`"500m"`).
    static func cpu(_ cores: Double) -> String {
        if cores == cores.rounded() { return String(Int64(cores)) }
        return "\(Int64((cores * 1000).rounded()))m"
    }

    /// A size as a quantity, keeping the stack's spelling: `8Gi` stays, `32GB` becomes `32G`, `1TB` → `1T`.
    static func quantity(_ size: ByteSize) -> String {
        let text = size.text
        guard let split = text.firstIndex(where: { !($0.isNumber || $0 == ".") }) else { return text }
        let number = text[..<split], unit = String(text[split...])
        let suffixes = ["B": "", "KB": "k", "MB": "M", "GB": "G", "TB": "T", "PB": "P",
                        "Ki": "Ki", "Mi": "Mi", "Gi": "Gi", "Ti": "Ti", "Pi": "Pi",
                        "KiB": "Ki", "MiB": "Mi", "GiB": "Gi", "TiB": "Ti", "PiB": "Pi"]
        guard let suffix = suffixes[unit] else { return String(size.bytes) }
        return number + suffix
    }

    /// Probe and window periods are whole seconds, at least one.
    static func seconds(_ span: TimeSpan) -> Int64 {
        max(1, (span.milliseconds + 999) / 1000)
    }
}
