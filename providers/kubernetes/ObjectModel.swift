/// The object a resource stands for, as plan, apply, read and render all see it: one normalised configuration (name
/// and namespace agreeing with the manifest, the owner labels), one body that apply sends (a Secret's values added
/// as base64 `data`), one recorded form (the manifest maifctl applied, the uid, the API path) — so a plan right
/// after apply is empty, and `render` writes exactly what apply sends.

import Foundation
import ProviderKit

/// A configuration that cannot become an object; the message names what to fix.
struct ManifestProblem: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

enum ObjectModel {
    static let fieldManager = "maifctl"
    static let stackLabel = "maif/stack"
    static let addressLabel = "maif/address"
    /// Kubernetes refuses to delete these.
    static let builtinNamespaces: Set<String> = ["default", "kube-system", "kube-public", "kube-node-lease"]

    static func manifest(_ config: [String: AttributeValue]) -> [String: AttributeValue]? { config["manifest"]?.mapValue }

    static func apiVersion(_ config: [String: AttributeValue]) -> String? { manifest(config)?["apiVersion"]?.stringValue }
    static func kind(_ config: [String: AttributeValue]) -> String? { manifest(config)?["kind"]?.stringValue }

    /// The object's name and namespace (nil when not known yet, or cluster-scoped).
    static func identity(_ config: [String: AttributeValue]) -> (name: String?, namespace: String?) {
        let metadata = manifest(config)?["metadata"]?.mapValue
        return (metadata?["name"]?.stringValue ?? config["name"]?.stringValue,
                metadata?["namespace"]?.stringValue ?? config["namespace"]?.stringValue)
    }

    /// Checks what can be checked without the cluster: a manifest with apiVersion, kind and name; the kind a typed
    /// resource must have; no Secret values in a manifest (they would be stored in clear text).
    static func check(_ config: [String: AttributeValue], type: String) throws {
        guard let manifest = manifest(config) else {
            if config["manifest"]?.isKnown == false { return }
            throw ManifestProblem(message: "manifest must be a mapping with apiVersion, kind and metadata")
        }
        let apiVersion = manifest["apiVersion"], kind = manifest["kind"]
        if apiVersion?.isKnown != false, apiVersion?.stringValue?.isEmpty ?? true {
            throw ManifestProblem(message: "the manifest has no apiVersion")
        }
        if kind?.isKnown != false, kind?.stringValue?.isEmpty ?? true { throw ManifestProblem(message: "the manifest has no kind") }
        if let expected = KubernetesProviderSchema.kinds[type], let k = kind?.stringValue, let v = apiVersion?.stringValue {
            if k != expected.kind || splitAPIVersion(v).group != splitAPIVersion(expected.apiVersion).group {
                throw ManifestProblem(message: "\(type) manages a \(expected.kind) (\(expected.apiVersion)), but the manifest is a \(k) (\(v)); use k8s.manifest for other kinds")
            }
        }
        let metadata = manifest["metadata"]?.mapValue
        if manifest["metadata"] != nil, metadata == nil, manifest["metadata"]?.isKnown != false {
            throw ManifestProblem(message: "the manifest's metadata must be a mapping")
        }
        if metadata?["name"] == nil, config["name"] == nil { throw ManifestProblem(message: "the manifest has no metadata.name") }
        if let n = metadata?["name"]?.stringValue, let c = config["name"]?.stringValue, n != c {
            throw ManifestProblem(message: "name '\(c)' differs from the manifest's metadata.name '\(n)'")
        }
        for key in ["managedFields", "resourceVersion", "uid", "creationTimestamp"] where metadata?[key] != nil {
            throw ManifestProblem(message: "metadata.\(key) is set by the API server; leave it out of the manifest")
        }
        if manifest["status"] != nil { throw ManifestProblem(message: "status is written by controllers; leave it out of the manifest") }
        if kind?.stringValue == "Secret", manifest["data"] != nil || manifest["stringData"] != nil {
            throw ManifestProblem(message: "a Secret's values in its manifest would be stored in the state in clear text; use k8s.secret with data (by reference) or data_from")
        }
    }

    /// The configuration with name and namespace agreeing with the manifest: a namespaced object gets the resource's
    /// namespace, else `defaultNamespace`; a cluster-scoped one has none. `namespaced` nil: the scope is not known
    /// yet (a kind a CRD of this apply brings), and the namespace is left as written.
    static func normalized(_ config: [String: AttributeValue], namespaced: Bool?, defaultNamespace: String) throws -> [String: AttributeValue] {
        guard var manifest = manifest(config) else { return config }
        var out = config
        var metadata = manifest["metadata"]?.mapValue ?? [:]
        if metadata["name"] == nil, let name = config["name"] { metadata["name"] = name }
        out["name"] = metadata["name"]
        switch namespaced {
        case true?:
            let namespace = metadata["namespace"] ?? config["namespace"] ?? .string(defaultNamespace)
            if let a = metadata["namespace"]?.stringValue, let b = config["namespace"]?.stringValue, a != b {
                throw ManifestProblem(message: "namespace '\(b)' differs from the manifest's metadata.namespace '\(a)'")
            }
            metadata["namespace"] = namespace
            out["namespace"] = namespace
        case false?:
            if let ns = metadata["namespace"]?.stringValue ?? config["namespace"]?.stringValue {
                throw ManifestProblem(message: "\(kind(config) ?? "this kind") is cluster-scoped; it has no namespace (remove namespace '\(ns)')")
            }
            out["namespace"] = nil
        case nil:
            if let ns = metadata["namespace"] ?? config["namespace"] {
                metadata["namespace"] = ns
                out["namespace"] = ns
            }
        }
        manifest["metadata"] = .map(metadata)
        out["manifest"] = .map(manifest)
        return out
    }

    /// The owner labels (`maif/stack`, `maif/address`) on the manifest, unless it already has them; the full address
    /// goes into an annotation when it is not a valid label value.
    static func markOwner(_ config: [String: AttributeValue], stack: String, address: ResourceAddress) -> [String: AttributeValue] {
        guard var manifest = manifest(config) else { return config }
        var metadata = manifest["metadata"]?.mapValue ?? [:]
        if let labelsValue = metadata["labels"], labelsValue.mapValue == nil { return config }
        var labels = metadata["labels"]?.mapValue ?? [:]
        if labels[stackLabel] == nil { labels[stackLabel] = .string(LabelValues.value(stack)) }
        if labels[addressLabel] == nil {
            labels[addressLabel] = .string(LabelValues.value(address.description))
            if !LabelValues.isValid(address.description) {
                var annotations = metadata["annotations"]?.mapValue ?? [:]
                if annotations[addressLabel] == nil { annotations[addressLabel] = .string(address.description) }
                metadata["annotations"] = .map(annotations)
            }
        }
        metadata["labels"] = .map(labels)
        manifest["metadata"] = .map(metadata)
        var out = config
        out["manifest"] = .map(manifest)
        return out
    }

    /// Whether a live object carries this configuration's owner marks (what `find` adopts).
    static func isOwned(_ live: AttributeValue, by config: [String: AttributeValue]) -> Bool {
        let want = manifest(config)?["metadata"]?.mapValue?["labels"]?.mapValue ?? [:]
        let have = live.mapValue?["metadata"]?.mapValue?["labels"]?.mapValue ?? [:]
        guard let stack = want[stackLabel], let address = want[addressLabel] else { return false }
        return have[stackLabel] == stack && have[addressLabel] == address
    }

    /// A Secret's values, base64: `data` (plain text) and what `data_from` read.
    static func secretData(_ config: [String: AttributeValue], dataFrom: [String: String]) -> [String: AttributeValue] {
        var data: [String: AttributeValue] = [:]
        for (k, v) in config["data"]?.mapValue ?? [:] { data[k] = .string(Data(v.interpolationText.utf8).base64EncodedString()) }
        for (k, v) in dataFrom { data[k] = .string(v) }
        return data
    }

    /// What apply sends: the manifest, with a Secret's values.
    static func body(_ config: [String: AttributeValue], dataFrom: [String: String]) -> AttributeValue {
        guard var manifest = manifest(config) else { return .null }
        if kind(config) == "Secret", config["data"] != nil || config["data_from"] != nil {
            let data = secretData(config, dataFrom: dataFrom)
            if !data.isEmpty { manifest["data"] = .map(data) }
        }
        return .map(manifest)
    }

    /// `data_from`'s values read now, base64: `env:NAME` from the environment, `file:PATH` relative to the working directory.
    static func readDataFrom(_ config: [String: AttributeValue], environment: [String: String], workingDirectory: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for (key, source) in config["data_from"]?.mapValue ?? [:] {
            guard let text = source.stringValue else { throw ManifestProblem(message: "data_from.\(key) must be env:NAME or file:PATH") }
            if text.hasPrefix("env:") {
                let name = String(text.dropFirst(4))
                guard let value = environment[name], !value.isEmpty else {
                    throw ManifestProblem(message: "data_from.\(key) names environment variable \(name), which is not set")
                }
                out[key] = Data(value.utf8).base64EncodedString()
            } else if text.hasPrefix("file:") {
                let path = ProviderSettings.resolvePath(String(text.dropFirst(5)), environment: environment, workingDirectory: workingDirectory)
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ManifestProblem(message: "data_from.\(key) names file \(path), which cannot be read")
                }
                out[key] = data.base64EncodedString()
            } else {
                throw ManifestProblem(message: "data_from.\(key) must be env:NAME or file:PATH, not '\(text)'")
            }
        }
        return out
    }

    /// The id in state: `apps/v1/StatefulSet/NAMESPACE/NAME`, `v1/Namespace/NAME`.
    static func id(apiVersion: String, kind: String, namespace: String?, name: String) -> String {
        [apiVersion, kind, namespace, name].compactMap { $0 }.joined(separator: "/")
    }

    /// An id back into its parts; `NAMESPACE/NAME` or `NAME` alone take the kind of the resource type.
    static func parse(id: String, type: String) -> (apiVersion: String, kind: String, namespace: String?, name: String)? {
        let parts = id.split(separator: "/").map(String.init)
        if let k = parts.firstIndex(where: { $0.first?.isUppercase == true }), k > 0 {
            let rest = Array(parts[(k + 1)...])
            guard rest.count == 1 || rest.count == 2 else { return nil }
            return (parts[..<k].joined(separator: "/"), parts[k], rest.count == 2 ? rest[0] : nil, rest.last!)
        }
        guard let typed = KubernetesProviderSchema.kinds[type], parts.count == 1 || parts.count == 2 else { return nil }
        return (typed.apiVersion, typed.kind, parts.count == 2 ? parts[0] : nil, parts.last!)
    }

    /// What state records for an object: the configuration, with the manifest as maifctl's fields read back from
    /// `live` (or as configured when there is no live object), the uid and the API path.
    static func recorded(_ config: [String: AttributeValue], live: AttributeValue?, path: String?,
                         dataFrom: [String: String]?, forceConflicts: Bool) -> ResourceState {
        var attributes = config
        if let live, let manifest = config["manifest"] {
            let owned = ManagedFieldsEntry.applied(by: fieldManager, in: live)?.fields
            attributes["manifest"] = Projection.project(strippedForProjection(live), like: manifest, owned: owned)
            attributes["uid"] = live.mapValue?["metadata"]?.mapValue?["uid"] ?? .null
        }
        if let path { attributes["path"] = .string(path) }
        if let dataFrom, config["data_from"] != nil { attributes["data_from_values"] = .map(dataFrom.mapValues { .string($0) }) }
        if forceConflicts, config["force_conflicts"] == nil { attributes["force_conflicts"] = true }
        let (name, namespace) = identity(attributes)
        let id = self.id(apiVersion: apiVersion(config) ?? "", kind: kind(config) ?? "", namespace: namespace, name: name ?? "")
        return ResourceState(id: id, attributes: attributes)
    }

    /// A live object without what the server keeps for itself, for projection (a manifest never names these).
    static func strippedForProjection(_ live: AttributeValue) -> AttributeValue {
        guard var m = live.mapValue else { return live }
        m["status"] = nil
        if var metadata = m["metadata"]?.mapValue {
            for key in ["managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"] { metadata[key] = nil }
            m["metadata"] = .map(metadata)
        }
        return .map(m)
    }

    /// An object someone else made, as a manifest: without status and server-set metadata.
    static func importedManifest(_ live: AttributeValue) -> AttributeValue {
        if let entry = ManagedFieldsEntry.applied(by: fieldManager, in: live), var m = Projection.extract(live, entry.fields)?.mapValue {
            m["apiVersion"] = live.mapValue?["apiVersion"]
            m["kind"] = live.mapValue?["kind"]
            var metadata = m["metadata"]?.mapValue ?? [:]
            metadata["name"] = live.mapValue?["metadata"]?.mapValue?["name"]
            if let ns = live.mapValue?["metadata"]?.mapValue?["namespace"] { metadata["namespace"] = ns }
            m["metadata"] = .map(metadata)
            return .map(m)
        }
        guard var m = strippedForProjection(live).mapValue else { return live }
        if var metadata = m["metadata"]?.mapValue {
            for key in ["deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences", "finalizers"] { metadata[key] = nil }
            m["metadata"] = .map(metadata)
        }
        return .map(m)
    }
}

/// Label values (`maif/stack`, `maif/address`): at most 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends.
/// Text that is not one keeps a readable head and gains a digest of the whole — the same rule the expansion uses, so
/// the provider's marks on raw resources and the expansion's agree.
enum LabelValues {
    static func value(_ text: String) -> String {
        if isValid(text) { return text }
        var cleaned = String(text.map { c -> Character in
            c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || c == ".") ? c : "-"
        })
        cleaned = String(cleaned.prefix(54))
        while let l = cleaned.last, !(l.isASCII && (l.isLetter || l.isNumber)) { cleaned.removeLast() }
        while let f = cleaned.first, !(f.isASCII && (f.isLetter || f.isNumber)) { cleaned.removeFirst() }
        let digest = String(Digest.sha256(text).prefix(8))
        return cleaned.isEmpty ? digest : cleaned + "-" + digest
    }

    static func isValid(_ s: String) -> Bool {
        guard !s.isEmpty else { return true }
        guard s.count <= 63, let f = s.first, let l = s.last else { return false }
        let alnum: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber) }
        return alnum(f) && alnum(l) && s.allSatisfy { alnum($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }
}
