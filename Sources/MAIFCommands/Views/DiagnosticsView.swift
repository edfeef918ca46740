/// Renders diagnostics for people (file:line:column, severity, message, hint) and for machines (JSON).

import Foundation
import StackModel

struct DiagnosticsView {
    var color: Bool

    func render(_ d: Diagnostic) -> String {
        let place = d.location.map { "\($0): " } ?? ""
        let severity = d.severity == .error ? paint("error", "31;1") : paint("warning", "33;1")
        var text = "\(place)\(severity): \(d.message) [\(d.code)]"
        if let hint = d.hint { text += "\n    " + paint("hint:", "36") + " \(hint)" }
        return text
    }

    private func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    static func json(_ diagnostics: [Diagnostic]) -> String {
        let items: [[String: Any]] = diagnostics.map { d in
            var item: [String: Any] = ["severity": d.severity.rawValue, "code": d.code, "message": d.message]
            item["file"] = d.location?.file ?? NSNull()
            item["line"] = d.location?.line ?? NSNull()
            item["column"] = d.location?.column ?? NSNull()
            item["hint"] = d.hint ?? NSNull()
            return item
        }
        let data = try! JSONSerialization.data(withJSONObject: items, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
