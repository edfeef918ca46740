/// `maifctl providers`: what each built-in provider is, whether it applies or only plans, its settings under
/// `clouds.<section>` and its resource types with their attributes.

import ArgumentParser
import BuiltinProviders
import Foundation
import ProviderKit

struct ProvidersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "providers",
        abstract: "List the providers: version, whether each applies or only plans, settings and resource types.",
        discussion: """
        Without a name, one block per provider. With a name, also every attribute of its resource types: \
        required, computed (known after apply), force-new (a change replaces the resource), sensitive \
        (stored only as a keyed hash). --json prints all of it for machines.
        """
    )

    @Argument(help: ArgumentHelp("Show only this provider, with its resource types' attributes (e.g. aws, k8s).", valueName: "name"))
    var name: String?

    @Flag(help: "Print as JSON.")
    var json = false

    func validate() throws {
        if let name, BuiltinProviders.registry.descriptor(name) == nil {
            throw ValidationError("no provider '\(name)'; providers: \(BuiltinProviders.registry.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        let descriptors = BuiltinProviders.registry.all.filter { name == nil || $0.name == name }
        if json {
            print(AttributeValue.list(descriptors.map(Self.json)).canonicalJSON())
            return
        }
        print(descriptors.map { Self.text($0, attributes: name != nil) }.joined(separator: "\n\n"))
    }

    static func text(_ d: ProviderDescriptor, attributes: Bool) -> String {
        var lines = ["\(d.name) \(d.version) — \(d.summary)",
                     "  \(d.applies ? "plans and applies" : "plans only (apply stops with an error naming the resource)")"]
        lines.append("  settings (clouds.\(d.section)):")
        for s in d.settings.settings {
            var notes = [s.type.description]
            if s.required { notes.append("required") }
            if let v = s.defaultValue { notes.append("default \(v.interpolationText)") }
            switch s.references {
            case .required: notes.append("by reference only: {env: NAME} or {file: PATH}")
            case .allowed: notes.append("a value or a reference")
            case .never: break
            }
            lines.append("    \(s.key.padding(26)) \(s.description) (\(notes.joined(separator: "; ")))")
        }
        lines.append("  resource types:")
        for type in d.schema.resources.keys.sorted() {
            let r = d.schema.resources[type]!
            lines.append("    \(type.padding(34)) \(r.description)")
            guard attributes else { continue }
            for (key, a) in r.attributes.sorted(by: { $0.key < $1.key }) {
                let flags = [a.required ? "required" : nil, a.computed ? "computed" : nil, a.forceNew ? "force-new" : nil,
                             a.sensitive ? "sensitive" : nil].compactMap { $0 }
                lines.append("      \(key.padding(30)) \(a.type.rawValue)\(flags.isEmpty ? "" : ", " + flags.joined(separator: ", "))"
                             + (a.description.isEmpty ? "" : " — \(a.description)"))
            }
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ d: ProviderDescriptor) -> AttributeValue {
        let settings: [AttributeValue] = d.settings.settings.map { s in
            .map(["key": .string(s.key), "type": .string(s.type.description), "required": .bool(s.required),
                  "default": s.defaultValue ?? .null, "references": .string(s.references.rawValue), "description": .string(s.description)])
        }
        let types: [String: AttributeValue] = d.schema.resources.mapValues { r in
            .map(["description": .string(r.description),
                  "attributes": .map(r.attributes.mapValues { a in
                      .map(["type": .string(a.type.rawValue), "required": .bool(a.required), "computed": .bool(a.computed),
                            "force_new": .bool(a.forceNew), "sensitive": .bool(a.sensitive), "description": .string(a.description)])
                  })])
        }
        return .map(["name": .string(d.name), "section": .string("clouds.\(d.section)"), "version": .string(d.version),
                     "summary": .string(d.summary), "applies": .bool(d.applies), "settings": .list(settings), "resource_types": .map(types)])
    }
}
