/// docs/stack-reference.md lists exactly the settings the providers accept under `clouds`: a provider that gains a
/// setting must document it, and the page never promises one that does not exist.

import BuiltinProviders
import Foundation
import XCTest

final class SettingsReferenceDocTests: XCTestCase {
    func testTheCloudsTableListsEverySettingOfEveryProvider() throws {
        let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/stack-reference.md")
        let text = try String(contentsOf: page, encoding: .utf8)
        let start = try XCTUnwrap(text.range(of: "## `clouds`\n"))
        let section = text[start.upperBound...].prefix { _ in true }.components(separatedBy: "\n## ").first ?? ""
        var documented = Set<String>()
        var current = ""
        for row in section.split(separator: "\n") where row.hasPrefix("| ") && !row.hasPrefix("| section") && !row.hasPrefix("|---") {
            let cells = row.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count > 3 else { continue }
            if !cells[1].isEmpty { current = cells[1].replacingOccurrences(of: "`", with: "") }
            for key in cells[2].components(separatedBy: ",") {
                documented.insert("\(current).\(key.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: ""))")
            }
        }
        var declared = Set<String>()
        for provider in BuiltinProviders.registry.all {
            for setting in provider.settings.settings { declared.insert("\(provider.section).\(setting.key)") }
        }
        XCTAssertEqual(declared.subtracting(documented).sorted(), [], "settings the page does not document")
        XCTAssertEqual(documented.subtracting(declared).sorted(), [], "settings the page documents that no provider accepts")
    }
}
