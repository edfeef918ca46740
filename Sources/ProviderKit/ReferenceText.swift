/// The `env:NAME` / `file:PATH` texts by which a stack names a value that is a credential (a webhook URL): providers
/// read them at plan (to fail before anything is created) and at create, and never store what they read.

import Foundation

public enum ReferenceText {
    /// Reads `env:NAME` or `file:PATH` (a leading `~/` is the home directory); nil when absent.
    public static func read(_ text: String, environment: [String: String]) -> String? {
        if text.hasPrefix("env:") { return environment[String(text.dropFirst(4))].flatMap { $0.isEmpty ? nil : $0 } }
        if text.hasPrefix("file:") {
            var path = String(text.dropFirst(5))
            if path.hasPrefix("~/"), let home = environment["HOME"] { path = home + path.dropFirst(1) }
            return (try? String(contentsOfFile: path, encoding: .utf8)).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        return nil
    }
}
