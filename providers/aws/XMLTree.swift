/// AWS responses as a small element tree, parsed with Foundation's XMLParser.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

public final class XMLElement_: @unchecked Sendable {
    public let name: String
    public fileprivate(set) var text = ""
    public fileprivate(set) var children: [XMLElement_] = []

    init(name: String) { self.name = name }

    /// The first child with this name.
    public subscript(_ name: String) -> XMLElement_? { children.first { $0.name == name } }
    public func all(_ name: String) -> [XMLElement_] { children.filter { $0.name == name } }
    /// The text of the child at this path, e.g. `value(["vpc", "vpcId"])`.
    public func value(_ path: String...) -> String? {
        var node: XMLElement_? = self
        for part in path { node = node?[part] }
        return node.map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }
    /// The first element with this name anywhere below (depth first).
    public func find(_ name: String) -> XMLElement_? {
        for child in children {
            if child.name == name { return child }
            if let hit = child.find(name) { return hit }
        }
        return nil
    }
    /// `<items><item>…</item></items>` lists: the `item` children of the named child.
    public func items(_ name: String) -> [XMLElement_] { self[name]?.all("item") ?? [] }
}

public typealias XMLNode = XMLElement_

enum XMLTree {
    static func parse(_ data: [UInt8]) -> XMLNode? {
        let delegate = Builder()
        let parser = XMLParser(data: Data(data))
        parser.delegate = delegate
        guard parser.parse() else { return nil }
        return delegate.root
    }

    /// Escapes text for an XML body.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [XMLNode] = []
        var root: XMLNode?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            let node = XMLNode(name: elementName)
            stack.last?.children.append(node)
            if root == nil { root = node }
            stack.append(node)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            _ = stack.popLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }
    }
}
