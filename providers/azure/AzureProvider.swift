/// The `azure` provider: Azure Resource Manager over HTTPS. Every resource is a PUT (create-or-update, idempotent)
/// followed to the end of its long-running operation, read back with a GET, and deleted with a DELETE of its own — a
/// resource group only once nothing is left in it. What it makes carries `maif-stack` / `maif-address` tags (metadata
/// for a blob container), so `find` can adopt what an interrupted create left, and a create never takes over an object
/// of the same name that is not this stack's.

import Foundation
import NIOHTTP1
import ProviderKit

public struct AzureProvider: Provider {
    let client: ARMClient
    let stack: String

    /// Throws when something the stack names (a referenced secret, the certificate file, the CA file) cannot be read, so
    /// a plan fails before anything is created.
    public init(configuration: ProviderConfiguration) throws {
        var configuration = configuration
        if configuration.settings.section.isEmpty { configuration.settings.section = "clouds.azure" }
        let settings = try AzureSettings.resolve(configuration)
        client = try ARMClient(settings: settings, stack: configuration.stack)
        stack = configuration.stack
    }

    public var schema: ProviderSchema { AzureProviderSchema.provider }

    public static let settings = AzureSettings.schema

    public static func register(in registry: inout ProviderRegistry) {
        registry.register(ProviderDescriptor(name: "azure", version: "1.0.0",
                                             summary: "Microsoft Azure Resource Manager: networks, VMs, scale sets, load balancers, storage, Traffic Manager, alerts",
                                             settings: settings, schema: AzureProviderSchema.provider) { try AzureProvider(configuration: $0) })
    }

    public var usage: String? {
        let c = client.counter
        guard c.total > 0 else { return nil }
        return "\(c.total) API calls (\(c[.arm]) ARM requests, \(c[.poll]) operation polls, \(c[.token]) token request\(c[.token] == 1 ? "" : "s"))"
    }

    // MARK: Owner marks

    public func markOwner(_ config: [String: AttributeValue], _ context: ResourceContext) -> [String: AttributeValue] {
        if context.address.kind == "blob_container" {
            guard config["metadata"] == nil || config["metadata"]?.mapValue != nil else { return config }
            var config = config
            var metadata = config["metadata"]?.mapValue ?? [:]
            metadata["maif_stack"] = .string(context.stack)
            metadata["maif_address"] = .string(context.address.description)
            config["metadata"] = .map(metadata)
            return config
        }
        return OwnerTags.add(to: config, context, schema: schema, stackKey: "maif-stack", addressKey: "maif-address")
    }

    func owns(_ document: [String: AttributeValue], _ type: ARMType, _ context: ResourceContext) -> Bool {
        let marks: [String: AttributeValue]?
        switch type.owner {
        case .parent: return true
        case .tags: marks = document["tags"]?.mapValue.map { ["stack": $0["maif-stack"] ?? .null, "address": $0["maif-address"] ?? .null] }
        case .metadata:
            let m = document["properties"]?.mapValue?["metadata"]?.mapValue
            marks = m.map { ["stack": $0["maif_stack"] ?? .null, "address": $0["maif_address"] ?? .null] }
        }
        return marks?["stack"]?.stringValue == context.stack && marks?["address"]?.stringValue == context.address.description
    }

    // MARK: Plan

    /// The schema's default plan, with the admin SSH key of `clouds.azure.admin_ssh_public_key` in VMs and scale sets
    /// that turn password login off and name no key of their own (Azure refuses a Linux VM with neither).
    public func plan(_ request: PlanRequest) async throws -> PlanResponse {
        var request = request
        request.desired = prepared(request.context, request.desired)
        return defaultPlan(request)
    }

    /// The configuration as planned: the admin key added where `plan` adds it (the engine hands create and update the
    /// stack's configuration, not the planned values).
    func prepared(_ context: ResourceContext, _ config: [String: AttributeValue]) -> [String: AttributeValue] {
        switch context.address.kind {
        case "vm": return withAdminKey(config, at: "os_profile")
        case "vm_scale_set": return withAdminKey(config, at: "virtual_machine_profile.os_profile")
        default: return config
        }
    }

    func withAdminKey(_ config: [String: AttributeValue], at path: String) -> [String: AttributeValue] {
        guard let key = client.settings.adminSSHPublicKey, case .map(var os)? = ARMShape.value(at: path, in: config),
              case .map(var linux)? = os["linux_configuration"], linux["disable_password_authentication"]?.boolValue == true,
              linux["ssh"]?.mapValue?["public_keys"]?.listValue?.isEmpty ?? true,
              let user = os["admin_username"]?.stringValue else { return config }
        var ssh = linux["ssh"]?.mapValue ?? [:]
        ssh["public_keys"] = .list([.map(["path": .string("/home/\(user)/.ssh/authorized_keys"), "key_data": .string(key)])])
        linux["ssh"] = .map(ssh)
        os["linux_configuration"] = .map(linux)
        return ARMShape.setting(.map(os), at: path, in: config)
    }

    // MARK: The verbs

    func type(_ context: ResourceContext) throws -> ARMType {
        guard let type = ARMType.all[context.address.kind] else {
            throw ProviderError(address: context.address, call: "apply", message: "the azure provider does not manage \(context.address.type)")
        }
        return type
    }

    /// Runs a call, naming the resource in whatever it throws.
    func named<T>(_ context: ResourceContext, _ body: () async throws -> T) async throws -> T {
        try await ProviderError.naming(context.address, translate: { ($0 as? ARMError)?.providerError }, body)
    }

    var deadline: Date { Date().addingTimeInterval(client.settings.operationTimeout) }

    public func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let config = prepared(context, config)
        return try await named(context) {
            let type = try type(context)
            let path = try type.path(subscription: try client.subscription, config)
            let deadline = deadline
            let body = try await self.body(type, path, config, existing: nil)
            if let resumed = try await resume(context, type, path, like: config, digest: Digest.sha256(body.canonicalJSON(indent: nil)), deadline: deadline) {
                return resumed
            }
            let existing = try await client.get(path, api: type.api, call: ARMClient.callName("GET", path))
            if let existing, !owns(existing, type, context) {
                throw ProviderError(address: context.address, call: "create", message:
                    "\(ARMPath.type(of: path)) \(config["name"]?.stringValue ?? path) already exists and its owner marks do not name \(context.address) of stack \(context.stack); "
                    + "adopt it with `maifctl import \(context.address) \(existing["id"]?.stringValue ?? path)` or choose another name")
            }
            return try await write(context, type, path, config, existing: existing, prior: nil, deadline: deadline)
        }
    }

    public func read(_ context: ResourceContext, _ prior: ResourceState) async throws -> ResourceState? {
        try await named(context) {
            let type = try type(context)
            return try await readState(type, prior.id, like: prior.attributes)
        }
    }

    public func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let config = prepared(context, config)
        return try await named(context) {
            let type = try type(context)
            let path = try type.path(subscription: try client.subscription, config)
            let deadline = deadline
            _ = try await resume(context, type, path, like: config, digest: nil, deadline: deadline)
            let existing = try await client.get(path, api: type.api, call: ARMClient.callName("GET", path))
            return try await write(context, type, path, config, existing: existing, prior: prior, deadline: deadline)
        }
    }

    public func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await named(context) {
            let type = try type(context)
            let deadline = deadline
            _ = try await resume(context, type, prior.id, like: prior.attributes, digest: nil, deadline: deadline)
            if type.kind == "resource_group" { try await checkEmpty(prior.id) }
            _ = try await client.write(.DELETE, prior.id, api: type.api, call: ARMClient.callName("DELETE", prior.id),
                                       address: context.address, deadline: deadline)
        }
    }

    public func importResource(_ context: ResourceContext, id: String) async throws -> ResourceState {
        try await named(context) {
            let type = try type(context)
            guard let names = type.pathAttributes(of: id) else {
                throw ProviderError(address: context.address, call: "import", message: "\(id) is not the id of a \(context.address.type) (\(type.template))")
            }
            guard let document = try await client.get(id, api: type.api, call: ARMClient.callName("GET", id)) else {
                throw ProviderError(address: context.address, call: "import", message: "no \(context.address.type) with id \(id)")
            }
            // Everything the schema knows, as ARM has it: the next plan shows what the stack would change.
            let known = schema.resources[context.address.type]?.attributes ?? [:]
            var attributes = flatten(type, document).filter { known[$0.key] != nil }
            attributes.merge(names) { _, b in b }
            let children = try await childAttributes(type, id, wanted: ["blob_properties": .map([:]), "management_policy": .map([:])])
            for (k, v) in children { attributes[k] = v }
            return ResourceState(id: document["id"]?.stringValue ?? id, attributes: withComputed(type, document, attributes))
        }
    }

    public func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        let config = prepared(context, config)
        return try await named(context) {
            let type = try type(context)
            let path = try type.path(subscription: try client.subscription, config)
            if let resumed = try await resume(context, type, path, like: config, digest: nil, deadline: deadline) { return resumed }
            guard let document = try await client.get(path, api: type.api, call: ARMClient.callName("GET", path)),
                  owns(document, type, context) else { return nil }
            return try await state(type, path, like: config, from: document)
        }
    }

    // MARK: Resuming

    /// Polls an operation a previous run started for this address and did not see end. Returns the resource's state
    /// when that operation was this very write (same body) and succeeded, else nil after it ended (a failed one too:
    /// the caller writes again).
    func resume(_ context: ResourceContext, _ type: ARMType, _ path: String, like config: [String: AttributeValue], digest: String?,
                deadline: Date) async throws -> ResourceState? {
        guard let pending = client.ledger.pending(context.address) else { return nil }
        let call = ARMClient.callName(pending.method, pending.resource)
        do {
            let document = try await client.follow(pending, call: call, deadline: deadline, firstWait: 0)
            client.ledger.remove(context.address)
            guard pending.method == "PUT", digest == nil || digest == pending.digest, let document,
                  pending.resource.caseInsensitiveCompare(path) == .orderedSame else { return nil }
            guard owns(document, type, context) else { return nil }
            return try await state(type, path, like: config, from: document)
        } catch is ARMError {
            // It ended badly: the write is made again from the stack's configuration.
            client.ledger.remove(context.address)
            return nil
        }
    }

    // MARK: Writing

    /// PUT (or, for a VM's changes, PATCH) the resource and what belongs to it, and return what ARM then says.
    func write(_ context: ResourceContext, _ type: ARMType, _ path: String, _ config: [String: AttributeValue],
               existing: [String: AttributeValue]?, prior: ResourceState?, deadline: Date) async throws -> ResourceState {
        let body = try await self.body(type, path, config, existing: existing)
        let put = ARMClient.callName("PUT", path)
        var document: [String: AttributeValue]?
        switch type.kind {
        case "vm" where existing != nil:
            document = try await updateVM(context, path, config, body: body, existing: existing!, deadline: deadline)
        default:
            document = try await client.write(.PUT, path, api: type.api, body: body, call: put, address: context.address, deadline: deadline)
        }
        guard var document else {
            throw ProviderError(address: context.address, call: put, message: "ARM returned no resource")
        }
        if type.kind == "storage_account" {
            try await writeStorageChildren(context, path, config, prior: prior?.attributes, deadline: deadline)
        }
        if document["id"] == nil { document["id"] = .string(path) }
        return try await state(type, path, like: config, from: document)
    }

    /// The request body: the attributes in ARM's form, and what each type adds.
    func body(_ type: ARMType, _ path: String, _ config: [String: AttributeValue], existing: [String: AttributeValue]?) async throws -> AttributeValue {
        let computed = schema.resources["azure.\(type.kind)"]?.computedAttributes ?? []
        var attributes = config.filter { !computed.contains($0.key) && !type.pathAttributes.contains($0.key) && $0.value != .null
            && !ARMType.recordedOnly.contains($0.key) }
        switch type.kind {
        case "vm":
            attributes = Self.preparedOS(attributes, at: "os_profile")
        case "vm_scale_set":
            attributes = Self.preparedOS(attributes, at: "virtual_machine_profile.os_profile")
            // The autoscale setting owns the capacity of a scale set that exists.
            if let capacity = existing?["sku"]?.mapValue?["capacity"], case .map(var sku)? = attributes["sku"] {
                sku["capacity"] = capacity
                attributes["sku"] = .map(sku)
            }
        case "load_balancer":
            attributes["load_balancing_rules"] = LoadBalancerParts.toIDs(attributes["load_balancing_rules"], balancer: path)
        case "storage_account":
            attributes["blob_properties"] = nil
            attributes["management_policy"] = nil
        default:
            break
        }
        var body = ARMShape.body(attributes, layout: type.layout)
        if type.kind == "virtual_network", let subnets = existing?["properties"]?.mapValue?["subnets"] {
            // A virtual network's PUT replaces its subnets: the ones there (resources of their own) are sent back as they are.
            var properties = body["properties"]?.mapValue ?? [:]
            properties["subnets"] = subnets
            body["properties"] = .map(properties)
        }
        return .map(body)
    }

    /// `admin_password` into the OS profile, custom data base64-encoded, as ARM takes them.
    static func preparedOS(_ attributes: [String: AttributeValue], at path: String) -> [String: AttributeValue] {
        var out = attributes
        guard case .map(var os)? = ARMShape.value(at: path, in: out) else { return out }
        if let data = os["custom_data"]?.stringValue { os["custom_data"] = .string(Data(data.utf8).base64EncodedString()) }
        if let password = out.removeValue(forKey: "admin_password"), password.stringValue != nil { os["admin_password"] = password }
        out = ARMShape.setting(.map(os), at: path, in: out)
        return out
    }

    /// A VM's size and tags change with a PATCH. ARM refuses a size outside the running hardware's family (409
    /// OperationNotAllowed): then the VM is deallocated, changed, and started again.
    func updateVM(_ context: ResourceContext, _ path: String, _ config: [String: AttributeValue], body: AttributeValue,
                  existing: [String: AttributeValue], deadline: Date) async throws -> [String: AttributeValue]? {
        var patch: [String: AttributeValue] = [:]
        if let tags = body.mapValue?["tags"] { patch["tags"] = tags }
        if let hardware = body.mapValue?["properties"]?.mapValue?["hardwareProfile"] { patch["properties"] = .map(["hardwareProfile": hardware]) }
        let call = ARMClient.callName("PATCH", path)
        do {
            return try await client.write(.PATCH, path, api: ARMType.compute, body: .map(patch), call: call, address: context.address, deadline: deadline)
        } catch let error as ARMError where error.status == 409 && error.code == "OperationNotAllowed" {
            _ = try await client.write(.POST, path + "/deallocate", api: ARMType.compute, call: ARMClient.callName("POST", path) + "/deallocate",
                                       address: context.address, deadline: deadline)
            let document = try await client.write(.PATCH, path, api: ARMType.compute, body: .map(patch), call: call, address: context.address, deadline: deadline)
            _ = try await client.write(.POST, path + "/start", api: ARMType.compute, call: ARMClient.callName("POST", path) + "/start",
                                       address: context.address, deadline: deadline)
            return document
        }
    }

    /// A storage account's blob service (versioning, soft delete) and lifecycle policy, each written when it changed.
    func writeStorageChildren(_ context: ResourceContext, _ path: String, _ config: [String: AttributeValue], prior: [String: AttributeValue]?,
                              deadline: Date) async throws {
        let layout = ARMShape.Layout(topLevel: [])
        if let blob = config["blob_properties"], blob.mapValue != nil, prior?["blob_properties"] != blob {
            let body = AttributeValue.map(["properties": ARMShape.toARM(blob, path: "blob_properties", layout: layout)])
            let child = path + "/blobServices/default"
            _ = try await client.write(.PUT, child, api: ARMType.storage, body: body, call: ARMClient.callName("PUT", child),
                                       address: context.address, deadline: deadline)
        }
        if let policy = config["management_policy"], policy.mapValue != nil, prior?["management_policy"] != policy {
            let body = AttributeValue.map(["properties": .map(["policy": ARMShape.toARM(policy, path: "management_policy", layout: layout)])])
            let child = path + "/managementPolicies/default"
            _ = try await client.write(.PUT, child, api: ARMType.storage, body: body, call: ARMClient.callName("PUT", child),
                                       address: context.address, deadline: deadline)
        }
    }

    /// Deleting a resource group deletes everything in it: maifctl does so only once the group is empty, having deleted
    /// what it made one by one.
    func checkEmpty(_ group: String) async throws {
        let list = group + "/resources"
        let exchange = try await client.send(.GET, list, api: ARMType.resources, call: ARMClient.callName("GET", list), accept: [404])
        guard exchange.status != 404 else { return }
        let items = exchange.json.mapValue?["value"]?.listValue ?? []
        guard !items.isEmpty else { return }
        let names = items.prefix(5).compactMap { item -> String? in
            guard let m = item.mapValue, let name = m["name"]?.stringValue else { return nil }
            return "\(m["type"]?.stringValue ?? "?") \(name)"
        }
        throw ProviderError(address: nil, call: "DELETE Microsoft.Resources/resourceGroups", message:
            "the resource group still holds \(items.count) resource\(items.count == 1 ? "" : "s") maifctl did not delete (\(names.joined(separator: ", "))\(items.count > 5 ? ", …" : "")); "
            + "maifctl deletes only what it made, one resource at a time, never a group with something else in it")
    }

    // MARK: Reading

    /// The resource's state in the shape of `wanted` (the configuration, or the prior state), from a GET; nil when ARM
    /// says it is gone.
    func readState(_ type: ARMType, _ path: String, like wanted: [String: AttributeValue]) async throws -> ResourceState? {
        guard let document = try await client.get(path, api: type.api, call: ARMClient.callName("GET", path)) else { return nil }
        return try await state(type, path, like: wanted, from: document)
    }

    /// The state from a document the caller has (what a write returned), with the parts that live beside it.
    func state(_ type: ARMType, _ path: String, like wanted: [String: AttributeValue], from document: [String: AttributeValue]) async throws -> ResourceState {
        var flat = flatten(type, document)
        for (k, v) in try await childAttributes(type, path, wanted: wanted) { flat[k] = v }
        var attributes = shape(type, flat, like: wanted)
        if type.kind == "vm_scale_set", let capacity = ARMShape.value(at: "sku.capacity", in: wanted) {
            attributes = ARMShape.setting(capacity, at: "sku.capacity", in: attributes)
        }
        return ResourceState(id: document["id"]?.stringValue ?? path, attributes: withComputed(type, document, attributes))
    }

    /// The document as flat attributes, with each type's own forms applied.
    func flatten(_ type: ARMType, _ document: [String: AttributeValue]) -> [String: AttributeValue] {
        var flat = ARMShape.attributes(document, layout: type.layout)
        if type.kind == "load_balancer", let id = document["id"]?.stringValue {
            flat["load_balancing_rules"] = LoadBalancerParts.toNames(flat["load_balancing_rules"], balancer: id)
        }
        return flat
    }

    /// The storage account's blob service and lifecycle policy, when the stack manages them.
    func childAttributes(_ type: ARMType, _ path: String, wanted: [String: AttributeValue]) async throws -> [String: AttributeValue] {
        guard type.kind == "storage_account" else { return [:] }
        var out: [String: AttributeValue] = [:]
        if wanted["blob_properties"] != nil {
            let child = path + "/blobServices/default"
            if let doc = try await client.get(child, api: ARMType.storage, call: ARMClient.callName("GET", child)) {
                out["blob_properties"] = ARMShape.fromARM(doc["properties"] ?? .map([:]), path: "blob_properties", layout: .init(topLevel: []))
            }
        }
        if wanted["management_policy"] != nil {
            let child = path + "/managementPolicies/default"
            if let doc = try await client.get(child, api: ARMType.storage, call: ARMClient.callName("GET", child)) {
                out["management_policy"] = ARMShape.fromARM(doc["properties"]?.mapValue?["policy"] ?? .map([:]), path: "management_policy",
                                                            layout: .init(topLevel: []))
            }
        }
        return out
    }

    /// What the stack manages, as ARM has it: only the attributes (and, inside them, the keys) `wanted` has; the
    /// attributes that name the resource and those ARM never gives back, as wanted.
    func shape(_ type: ARMType, _ flat: [String: AttributeValue], like wanted: [String: AttributeValue]) -> [String: AttributeValue] {
        let computed = schema.resources["azure.\(type.kind)"]?.computedAttributes ?? []
        var out: [String: AttributeValue] = [:]
        for (key, want) in wanted where !computed.contains(key) && want != .null {
            if type.pathAttributes.contains(key) { out[key] = want; continue }
            guard let have = flat[key] else {
                // ARM leaves out what is empty.
                if want == .list([]) || want == .map([:]) { out[key] = want }
                continue
            }
            if key == "location", let h = have.stringValue, let w = want.stringValue,
               ARMShape.normalizedLocation(h) == ARMShape.normalizedLocation(w) {
                out[key] = want
                continue
            }
            out[key] = ARMShape.shaped(have, like: want, opaque: type.layout.opaque.contains(key))
        }
        for path in type.writeOnly {
            if let value = ARMShape.value(at: path, in: wanted) { out = ARMShape.setting(value, at: path, in: out) }
        }
        return out
    }

    /// `id` and the type's computed attributes, null where ARM has none.
    func withComputed(_ type: ARMType, _ document: [String: AttributeValue], _ attributes: [String: AttributeValue]) -> [String: AttributeValue] {
        var out = attributes
        let values = type.computed(document)
        for name in schema.resources["azure.\(type.kind)"]?.computedAttributes ?? [] {
            out[name] = name == "id" ? (document["id"] ?? .null) : (values[name] ?? .null)
        }
        return out
    }
}

/// A load balancer's rules name its own frontends, pools and probes; ARM refers to them by id.
enum LoadBalancerParts {
    static let parts: [(name: String, reference: String, collection: String)] = [
        ("frontend_ip_configuration_name", "frontend_ip_configuration", "frontendIPConfigurations"),
        ("backend_address_pool_name", "backend_address_pool", "backendAddressPools"),
        ("probe_name", "probe", "probes"),
    ]

    static func toIDs(_ rules: AttributeValue?, balancer: String) -> AttributeValue? {
        guard case .list(let items)? = rules else { return rules }
        return .list(items.map { item in
            guard var m = item.mapValue else { return item }
            for p in parts {
                if let name = m.removeValue(forKey: p.name)?.stringValue {
                    m[p.reference] = .map(["id": .string("\(balancer)/\(p.collection)/\(ARMPath.escape(name))")])
                }
            }
            return .map(m)
        })
    }

    static func toNames(_ rules: AttributeValue?, balancer: String) -> AttributeValue? {
        guard case .list(let items)? = rules else { return rules }
        return .list(items.map { item in
            guard var m = item.mapValue else { return item }
            for p in parts {
                guard let id = m[p.reference]?.mapValue?["id"]?.stringValue else { continue }
                let prefix = "\(balancer)/\(p.collection)/"
                if id.count > prefix.count, id.prefix(prefix.count).caseInsensitiveCompare(prefix) == .orderedSame {
                    m[p.reference] = nil
                    m[p.name] = .string(String(id.dropFirst(prefix.count)).removingPercentEncoding ?? String(id.dropFirst(prefix.count)))
                }
            }
            return .map(m)
        })
    }
}
