/// The one implementation of every Compute Engine resource type: insert with a `requestId` (a retried insert cannot
/// create twice), wait for the operation, read back by self link; in-place changes by the type's own calls (patch,
/// setLabels with the label fingerprint, …); delete and wait; `find` by name, adopted only when the owner marks say so.
/// What differs between types is in `ComputeSpec` (ComputeKinds.swift).

import Foundation
import NIOHTTP1
import ProviderKit

/// Where a Compute resource lives.
enum ComputeScope: Sendable {
    case global, region, zone

    /// The attribute naming the location (`region`, `zone`), nil for global resources.
    var attribute: String? {
        switch self {
        case .global: return nil
        case .region: return "region"
        case .zone: return "zone"
        }
    }
}

/// The project and location of one resource.
struct ComputePlace: Sendable {
    var project: String
    var location: String?
    var scopePath: String

    init(project: String, scope: ComputeScope, location: String?) {
        self.project = project
        self.location = location
        switch scope {
        case .global: scopePath = "global"
        case .region: scopePath = "regions/\(location ?? "")"
        case .zone: scopePath = "zones/\(location ?? "")"
        }
    }
}

/// The object as GCP answered it, and where it is.
struct ComputeObject: Sendable {
    var json: [String: AttributeValue]
    var place: ComputePlace
    var path: String
    var selfLink: String { json["selfLink"]?.stringValue ?? ComputeURL.base + path }
}

struct ComputeSpec: Sendable {
    var kind: String
    /// The URL collection (`networks`, `instanceGroupManagers`).
    var collection: String
    var scope: ComputeScope
    /// The discovery resource whose methods are called (`networks`, `regionInstanceGroupManagers`).
    var method: String
    /// Has `labels` with a `labelFingerprint`, changed by `setLabels`.
    var labelled: Bool = false
    /// The attributes an insert sends, by their attribute names (converted with APIForm).
    var fields: [String]
    /// Extra work on the insert body (nested forms, full URLs).
    var body: @Sendable (_ config: [String: AttributeValue], _ place: ComputePlace) -> [String: AttributeValue] = { _, _ in [:] }
    /// The attributes of an answer beyond the generic conversion (computed values, nested forms back).
    var attributes: @Sendable (_ json: [String: AttributeValue], _ generic: [String: AttributeValue], _ resource: ComputeResource,
                               _ place: ComputePlace) async throws -> [String: AttributeValue] = { _, generic, _, _ in generic }
    /// In-place changes, apart from labels (which the generic code sets): called with the current object and the
    /// desired configuration; calls what it needs and waits.
    var change: @Sendable (_ resource: ComputeResource, _ context: ResourceContext, _ current: ComputeObject,
                           _ currentAttributes: [String: AttributeValue], _ config: [String: AttributeValue]) async throws -> Void
        = { _, _, _, _, _ in }
    /// Computed attributes → the API field they come from, when not the camel form of their name.
    var computed: [String: String] = [:]
    /// Part of the configuration is set by the type's own calls after the insert (an instance group's members).
    var settleAfterInsert = false
}

struct ComputeResource: GCPProvider.Resource {
    let client: GCPClient
    let spec: ComputeSpec

    var timeout: Double { OperationTimeouts.seconds(for: spec.kind, settings: client.settings) }

    func place(_ config: [String: AttributeValue]) throws -> ComputePlace {
        let location = spec.scope.attribute.flatMap { config[$0]?.stringValue }
        if spec.scope != .global, location == nil || location!.isEmpty {
            throw ProviderError(address: nil, call: "compute.\(spec.method)", message: "no \(spec.scope.attribute!) set")
        }
        return ComputePlace(project: try client.project(config["project"]), scope: spec.scope, location: location)
    }

    func collectionPath(_ place: ComputePlace) -> String { "projects/\(place.project)/\(place.scopePath)/\(spec.collection)" }

    /// `projects/P/…/NAME` from a state id (a self link) or an import id (a self link or a path).
    func path(ofId id: String) -> String {
        if let range = id.range(of: "/compute/v1/") { return String(id[range.upperBound...]) }
        return id.hasPrefix("/") ? String(id.dropFirst()) : id
    }

    func place(ofPath path: String) -> ComputePlace {
        let parts = path.split(separator: "/").map(String.init)
        let project = parts.count > 1 ? parts[1] : (client.settings.project ?? "")
        let location = parts.count > 3 && (parts[2] == "zones" || parts[2] == "regions") ? parts[3] : nil
        return ComputePlace(project: project, scope: spec.scope, location: location)
    }

    /// A mutation's operation, waited for.
    @discardableResult
    func mutate(_ method: HTTPMethod, _ path: String, verb: String, query: [(String, String)] = [], body: [String: AttributeValue]? = nil,
                place: ComputePlace, what: String) async throws -> [String: AttributeValue] {
        let op = try await client.call(.compute, method, path, query: query + [("requestId", UUID().uuidString.lowercased())], body: body,
                                       name: "compute.\(spec.method).\(verb)")
        return try await client.wait(op, project: place.project, timeout: timeout, what: what)
    }

    func get(_ path: String) async throws -> ComputeObject? {
        guard let json = try await client.optional(.compute, path, name: "compute.\(spec.method).get") else { return nil }
        return ComputeObject(json: json, place: place(ofPath: path), path: path)
    }

    func state(_ object: ComputeObject) async throws -> ResourceState {
        var generic = APIForm.attributes(object.json)
        generic["id"] = object.json["id"].map { .string($0.interpolationText) } ?? .null
        generic["self_link"] = .string(object.selfLink)
        generic["project"] = .string(object.place.project)
        if let attribute = spec.scope.attribute, let location = object.place.location { generic[attribute] = .string(location) }
        for (attribute, field) in spec.computed { generic[attribute] = object.json[field] ?? .null }
        if spec.labelled, generic["labels"] == nil { generic["labels"] = .map([:]) }
        generic["label_fingerprint"] = nil
        let attributes = try await spec.attributes(object.json, generic, self, object.place)
        return ResourceState(id: object.selfLink, attributes: attributes)
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let place = try place(config)
        var body = APIForm.body(config, spec.fields)
        body.merge(spec.body(config, place)) { _, special in special }
        let name = config["name"]?.stringValue ?? ""
        do {
            try await mutate(.POST, collectionPath(place), verb: "insert", body: body, place: place, what: name)
        } catch let error as GCPError where error.isAlreadyExists {
            // Made by an earlier, interrupted apply of this address: adopt it and bring it to the configuration.
            guard let found = try await find(context, config) else { throw error }
            return try await update(context, found, config)
        }
        guard var object = try await get("\(collectionPath(place))/\(name)") else {
            throw ProviderError(address: context.address, call: "compute.\(spec.method).get", message: "\(name) was created but is not there")
        }
        if spec.settleAfterInsert {
            // A new object holds only what its insert said (an instance group no members): no need to list them.
            try await spec.change(self, context, object, APIForm.attributes(object.json), config)
            object = try await get(object.path) ?? object
        }
        return try await state(object)
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let object = try await get(path(ofId: id)) else { return nil }
        return try await state(object)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let path = path(ofId: prior.id)
        guard let current = try await get(path) else {
            throw ProviderError(address: context.address, call: "compute.\(spec.method).get", message: "\(prior.id) no longer exists")
        }
        let currentAttributes = try await state(current).attributes
        if spec.labelled, case .map(let wanted)? = config["labels"], currentAttributes["labels"]?.mapValue ?? [:] != wanted {
            try await mutate(.POST, "\(path)/setLabels", verb: "setLabels",
                             body: ["labels": .map(wanted), "labelFingerprint": current.json["labelFingerprint"] ?? .null],
                             place: current.place, what: current.json["name"]?.stringValue ?? path)
        }
        try await spec.change(self, context, current, currentAttributes, config)
        guard let now = try await get(path) else {
            throw ProviderError(address: context.address, call: "compute.\(spec.method).get", message: "\(prior.id) is gone after the update")
        }
        return try await state(now)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        let path = path(ofId: prior.id)
        do {
            try await mutate(.DELETE, path, verb: "delete", place: place(ofPath: path), what: ComputeURL.name(path))
        } catch let error as GCPError where error.isNotFound {}
    }

    /// By name (fixed by the stack), adopted only when its owner marks are this address's; an unfinished operation on it
    /// (an apply killed while GCP was still creating it) is waited for first.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let name = config["name"]?.stringValue else { return nil }
        let place = try place(config)
        let path = "\(collectionPath(place))/\(name)"
        guard let object = try await get(path) else { return nil }
        guard Owner.owns(APIForm.attributes(object.json), context) else { return nil }
        for op in try await client.pendingOperations(project: place.project, scope: place.scopePath, targetLink: object.selfLink) {
            try await client.wait(op, project: place.project, timeout: timeout, what: name)
        }
        guard let settled = try await get(path) else { return nil }
        return try await state(settled)
    }
}

extension ComputeResource {
    /// A PATCH of the fields (attribute names) that differ, with the fields the method requires besides.
    func patchChanged(_ current: ComputeObject, _ currentAttributes: [String: AttributeValue], _ config: [String: AttributeValue],
                      fields: [String], always: [String: AttributeValue] = [:], query: [(String, String)] = [],
                      path: String? = nil, verb: String = "patch") async throws {
        let changed = fields.filter { config[$0] != nil && config[$0]!.isKnown && StateForm.shaped(currentAttributes[$0] ?? .null, like: config[$0]!) != config[$0]! }
        guard !changed.isEmpty else { return }
        var body = APIForm.body(config, changed)
        body.merge(always) { _, required in required }
        try await mutate(.PATCH, path ?? current.path, verb: verb, query: query, body: body, place: current.place,
                         what: current.json["name"]?.stringValue ?? current.path)
    }

    /// Whether an attribute differs from the configuration (in the shape the configuration has).
    static func differs(_ key: String, _ currentAttributes: [String: AttributeValue], _ config: [String: AttributeValue]) -> Bool {
        guard let wanted = config[key], wanted.isKnown else { return false }
        return StateForm.shaped(currentAttributes[key] ?? .null, like: wanted, key: key) != wanted
    }
}
