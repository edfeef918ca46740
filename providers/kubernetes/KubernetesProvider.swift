/// The `k8s` provider: Kubernetes objects through server-side apply (`PATCH` with `application/apply-patch+yaml`,
/// `fieldManager=maifctl`), kinds mapped to resources by discovery (read once per run), drift read only on the fields
/// maifctl applied, bounded waits for rollouts, CRDs and deletions. Cluster access as kubectl resolves it
/// (ClusterAccess.swift); the HTTP calls in KubeClient.swift; what a resource records in ObjectModel.swift.

import Foundation
import ProviderKit

public struct KubernetesProvider: Provider {
    let stack: String
    let configuration: ProviderConfiguration
    /// The cluster, or why there is none (a kubeconfig problem found lazily: the implicit ~/.kube/config).
    let access: Result<ClusterAccess, ProviderError>?
    let client: KubeClient?
    let discovery: Discovery
    let live = LiveObjects()
    let options: Options

    /// Provider-wide defaults from `clouds.kubernetes`.
    struct Options: Sendable {
        var forceConflicts = false
        var wait = true
        var waitTimeout = 300.0
        var deleteTimeout = 120.0
        var callTimeout = 30.0
        var defaultNamespace = "default"
    }

    /// Connected to the cluster the settings (or the kubeconfig, or the pod's service account) name. Throws when the
    /// stack or KUBECONFIG names a kubeconfig that cannot be used, so a plan fails before anything is created.
    public init(configuration: ProviderConfiguration) throws {
        var settings = configuration.settings
        if settings.section.isEmpty { settings.section = "clouds.kubernetes" }
        var configuration = configuration
        configuration.settings = settings
        var options = Self.options(settings)
        let access: Result<ClusterAccess, ProviderError>
        do {
            access = .success(try AccessResolver.resolve(settings: settings, environment: configuration.environment,
                                                         workingDirectory: configuration.workingDirectory))
        } catch let error as KubeconfigError {
            if AccessResolver.isExplicit(settings: settings, environment: configuration.environment) {
                let key = error.message.hasPrefix("context") || error.message.contains("current-context") ? "context" : "kubeconfig"
                throw ProviderConfigurationError(key: settings.isSet(key) ? key : nil, error.message,
                                                 hint: "kubectl config get-contexts shows what the kubeconfig holds")
            }
            access = .failure(ProviderError(address: nil, call: "cluster access", message: error.message))
        }
        if case .success(let a) = access { options.defaultNamespace = a.namespace }
        self.init(configuration: configuration, access: access, options: options)
    }

    /// Without a cluster: plans from the built-in kinds and the CRDs in the stack, and refuses every call. What
    /// `maifctl render` uses, and tests that plan the shipped stacks.
    public init(offline configuration: ProviderConfiguration) {
        var options = Self.options(configuration.settings)
        options.defaultNamespace = configuration.settings.string("namespace") ?? "default"
        self.init(configuration: configuration, access: nil, options: options)
    }

    init(configuration: ProviderConfiguration, access: Result<ClusterAccess, ProviderError>?, options: Options) {
        stack = configuration.stack
        self.configuration = configuration
        self.access = access
        self.options = options
        if case .success(let a)? = access {
            client = KubeClient(access: a, callTimeout: options.callTimeout, environment: configuration.environment)
        } else {
            client = nil
        }
        discovery = Discovery(client: client, offline: access == nil)
    }

    static func options(_ settings: ProviderSettings) -> Options {
        var o = Options()
        o.forceConflicts = settings.bool("force_conflicts") ?? false
        o.wait = settings.bool("wait") ?? true
        if let s = settings.seconds("wait_timeout") { o.waitTimeout = max(0, s) }
        if let s = settings.seconds("delete_timeout") { o.deleteTimeout = max(0, s) }
        if let s = settings.seconds("call_timeout"), s > 0 { o.callTimeout = s }
        o.defaultNamespace = settings.string("namespace") ?? "default"
        return o
    }

    public static let settings = SettingsSchema([
        SettingSchema("kubeconfig", .path, description: "the kubeconfig file (like kubectl --kubeconfig); else KUBECONFIG (several files, merged), else ~/.kube/config, else the pod's service account"),
        SettingSchema("context", .string, description: "the kubeconfig context; else its current-context"),
        SettingSchema("namespace", .string, description: "the namespace the stack's objects live in; else the context's, else default"),
        SettingSchema("force_conflicts", .bool, default: false, description: "take over fields other field managers own, for every object (the plan says so)"),
        SettingSchema("wait", .bool, default: true, description: "wait for StatefulSet/Deployment rollouts and CRDs to be Established (a resource's wait overrides it)"),
        SettingSchema("wait_timeout", .duration, default: .double(300), description: "how long apply waits for an object to be ready (default 5m)"),
        SettingSchema("delete_timeout", .duration, default: .double(120), description: "how long destroy waits for an object and its finalizers to be gone (default 2m)"),
        SettingSchema("call_timeout", .duration, default: .double(30), description: "how long one API call may take (default 30s)"),
    ])

    public static let descriptorSummary = "Kubernetes API objects by server-side apply (kubeconfig, exec plugins, in-cluster)"

    public static func register(in registry: inout ProviderRegistry) {
        registry.register(ProviderDescriptor(name: "k8s", section: "kubernetes", version: "1.0.0", summary: descriptorSummary,
                                             settings: settings, schema: KubernetesProviderSchema.provider) {
            try KubernetesProvider(configuration: $0)
        })
    }

    /// The provider without a cluster (see `init(offline:)`), for embedders and tests that plan without one.
    public static func registerOffline(in registry: inout ProviderRegistry) {
        registry.register(ProviderDescriptor(name: "k8s", section: "kubernetes", version: "1.0.0", summary: descriptorSummary,
                                             settings: settings, schema: KubernetesProviderSchema.provider) {
            KubernetesProvider(offline: $0)
        })
    }

    public var schema: ProviderSchema { KubernetesProviderSchema.provider }

    public var usage: String? {
        guard let client, client.callCount > 0 else { return nil }
        return "\(client.callCount) API calls"
    }

    public func markOwner(_ config: [String: AttributeValue], _ context: ResourceContext) -> [String: AttributeValue] {
        ObjectModel.markOwner(config, stack: context.stack, address: context.address)
    }

    // MARK: helpers

    func connected() throws -> KubeClient {
        switch access {
        case .success?: return client!
        case .failure(let e)?: throw e
        case nil: throw ProviderError(address: nil, call: "cluster access", message: "this k8s provider was made without a cluster (offline)")
        }
    }

    /// Runs a call, naming the resource in whatever it throws.
    func named<T>(_ context: ResourceContext, _ body: () async throws -> T) async throws -> T {
        try await ProviderError.naming(context.address, translate: { error in
            if let e = error as? KubeAPIError { return e.providerError }
            if let e = error as? ManifestProblem { return ProviderError(address: nil, call: "manifest check", message: e.message) }
            if let e = error as? KubeconfigError { return ProviderError(address: nil, call: "cluster access", message: e.message) }
            return nil
        }, body)
    }

    /// The configuration's kind resolved by discovery; nil when the cluster does not serve it (yet).
    func resource(_ config: [String: AttributeValue]) async throws -> APIResource? {
        guard let apiVersion = ObjectModel.apiVersion(config), let kind = ObjectModel.kind(config) else { return nil }
        return try await discovery.resource(apiVersion: apiVersion, kind: kind)
    }

    func forceConflicts(_ config: [String: AttributeValue]) -> Bool {
        config["force_conflicts"]?.boolValue ?? options.forceConflicts
    }

    func described(_ config: [String: AttributeValue]) -> String {
        let (name, namespace) = ObjectModel.identity(config)
        return "\(ObjectModel.kind(config) ?? "object") \(namespace.map { "\($0)/" } ?? "")\(name ?? "?")"
    }

    // MARK: plan

    /// The configuration as apply will send it (name and namespace agreeing with the manifest, Secret values read),
    /// the uid and API path, and — for an object that exists and changes — a server-side dry run, so a conflict with
    /// another field manager fails the plan (or, with force_conflicts, shows what is taken over).
    public func plan(_ request: PlanRequest) async throws -> PlanResponse {
        try await named(request.context) {
            var desired = request.desired
            try ObjectModel.check(desired, type: request.context.address.type)
            guard ObjectModel.manifest(desired) != nil else {
                return PlanResponse(planned: desired.merging(["uid": .unknown, "path": .unknown]) { a, _ in a }, requiresReplace: [])
            }
            var resource: APIResource?
            var pendingPath: String?
            var scope: Bool?
            if let apiVersion = ObjectModel.apiVersion(desired), let kind = ObjectModel.kind(desired) {
                // Kinds every cluster serves plan without the cluster (so does a first plan, and `--refresh=false`);
                // any other kind is looked up in the cluster's discovery.
                if let builtin = BuiltinKinds.find(apiVersion: apiVersion, kind: kind) {
                    resource = builtin
                } else {
                    if !discovery.isOffline { _ = try connected() }
                    resource = try await self.resource(desired)
                }
                if resource == nil {
                    pendingPath = "(known after the CRD for \(ObjectModel.kind(desired)!) in \(ObjectModel.apiVersion(desired)!) is applied)"
                    scope = await discovery.pending(apiVersion: ObjectModel.apiVersion(desired)!, kind: ObjectModel.kind(desired)!)?.namespaced
                } else {
                    scope = resource?.namespaced
                }
            }
            desired = try ObjectModel.normalized(desired, namespaced: scope, defaultNamespace: options.defaultNamespace)
            if request.context.address.kind == "custom_resource_definition", let manifest = desired["manifest"], manifest.isKnown {
                await discovery.expect(crd: manifest)
            }
            var planned = desired
            var replace: [String] = []
            if let prior = request.prior {
                for key in ["name", "namespace"] where (prior.attributes[key] ?? .null) != (desired[key] ?? .null) {
                    if desired[key]?.isKnown != false { replace.append(key) }
                }
                let was = prior.attributes["manifest"]?.mapValue
                if let k = was?["kind"], let v = was?["apiVersion"]?.stringValue, let newV = ObjectModel.apiVersion(desired),
                   k != desired["manifest"]?.mapValue?["kind"] || splitAPIVersion(v).group != splitAPIVersion(newV).group {
                    replace.append("manifest")
                }
            }
            planned["uid"] = replace.isEmpty ? (request.prior?.attributes["uid"] ?? .unknown) : .unknown
            if let resource, let name = desired["name"]?.stringValue, desired["namespace"]?.isKnown != false {
                planned["path"] = .string(resource.path(name: name, namespace: desired["namespace"]?.stringValue))
            } else {
                planned["path"] = pendingPath.map { .string($0) } ?? .unknown
            }
            if forceConflicts(desired), desired["force_conflicts"] == nil { planned["force_conflicts"] = true }
            var dataFrom: [String: String] = [:]
            if desired["data_from"] != nil, desired["data_from"]?.isKnown == true {
                dataFrom = try ObjectModel.readDataFrom(desired, environment: configuration.environment,
                                                        workingDirectory: configuration.workingDirectory)
                planned["data_from_values"] = .map(dataFrom.mapValues { .string($0) })
            }
            // An object that exists and changes: a dry run finds conflicts now rather than halfway through apply.
            let sensitive = schema.resources[request.context.address.type]?.sensitiveAttributes ?? []
            if let prior = request.prior, replace.isEmpty, let resource, desired["manifest"]?.isKnown == true,
               !discovery.isOffline,
               planned.filter({ !sensitive.contains($0.key) }) != prior.attributes.filter({ !sensitive.contains($0.key) }) {
                let takes = try await dryRun(request.context, desired, prior: prior, resource: resource, dataFrom: dataFrom)
                if !takes.isEmpty { planned["takes_over"] = .list(takes.map { .string($0) }) }
            }
            return PlanResponse(planned: planned, requiresReplace: replace)
        }
    }

    /// A server-side apply with `dryRun=All`: nothing is written. Returns the fields apply will take from other
    /// managers (force_conflicts, or drift repair); throws the conflict error otherwise.
    func dryRun(_ context: ResourceContext, _ config: [String: AttributeValue], prior: ResourceState, resource: APIResource,
                dataFrom: [String: String]) async throws -> [String] {
        let client = try connected()
        var body = ObjectModel.body(config, dataFrom: dataFrom)
        if case .map(var m) = body, config["data"] != nil {
            // The plan sees a Secret's inline values only as a hash: the dry run sends the keys maifctl owns unchanged.
            m["data"] = nil
            body = .map(m)
        }
        let (name, namespace) = ObjectModel.identity(config)
        let path = resource.path(name: name ?? "", namespace: namespace)
        let call = "server-side apply (dry run) of \(described(config))"
        do {
            _ = try await client.send(call, .PATCH, path, query: applyQuery(force: false, dryRun: true),
                                      body: Array(body.canonicalJSON(indent: nil).utf8), contentType: "application/apply-patch+yaml")
            return []
        } catch let error as KubeAPIError where error.isConflict {
            let conflicts = try await conflictsWithOwners(error, context: context, client: client, path: path)
            if forceConflicts(config) {
                return conflicts.map { "\($0.field) from \($0.manager) (force_conflicts)" }
            }
            if Conflicts.mayTakeBack(conflicts, prior: prior.attributes["manifest"]) {
                return conflicts.map { "\($0.field) from \($0.manager) (changed outside maifctl)" }
            }
            throw Conflicts.error(error, conflicts, call: call)
        }
    }

    func applyQuery(force: Bool, dryRun: Bool = false) -> [(String, String)] {
        var q = [("fieldManager", ObjectModel.fieldManager)]
        if force { q.append(("force", "true")) }
        if dryRun { q.append(("dryRun", "All")) }
        return q
    }

    /// The conflicts of a 409, with the owning managers' entries from the live object (their operation tells an
    /// imperative edit from another applier).
    func conflictsWithOwners(_ error: KubeAPIError, context: ResourceContext, client: KubeClient, path: String) async throws -> [Conflicts.Field] {
        let object: AttributeValue?
        if let cached = await live.get(context.address) {
            object = cached
        } else {
            object = try await client.get("get \(path)", path)
        }
        return Conflicts.fields(error, entries: object.map(ManagedFieldsEntry.entries) ?? [])
    }

    // MARK: apply

    public func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await named(context) { try await applyObject(context, config, prior: nil) }
    }

    public func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await named(context) { try await applyObject(context, config, prior: prior) }
    }

    func applyObject(_ context: ResourceContext, _ config: [String: AttributeValue], prior: ResourceState?) async throws -> ResourceState {
        let client = try connected()
        try ObjectModel.check(config, type: context.address.type)
        let resource = try await served(config)
        let config = try ObjectModel.normalized(config, namespaced: resource.namespaced, defaultNamespace: options.defaultNamespace)
        let dataFrom = try ObjectModel.readDataFrom(config, environment: configuration.environment, workingDirectory: configuration.workingDirectory)
        let (name, namespace) = ObjectModel.identity(config)
        guard let name else { throw ManifestProblem(message: "the manifest has no metadata.name") }
        let path = resource.path(name: name, namespace: namespace)
        let body = Array(ObjectModel.body(config, dataFrom: dataFrom).canonicalJSON(indent: nil).utf8)
        let call = "server-side apply of \(described(config))"
        var object = try await serverSideApply(context, call: call, client: client, path: path, body: body, config: config, prior: prior)
        if object.mapValue?["metadata"]?.mapValue?["deletionTimestamp"] != nil {
            // The object is still being deleted (a destroy before, finalizers): wait until it is gone, then make it anew.
            try await waitGone(client, path: path, what: described(config), timeout: deleteTimeout(config))
            object = try await serverSideApply(context, call: call, client: client, path: path, body: body, config: config, prior: nil)
        }
        let kind = ObjectModel.kind(config) ?? ""
        if shouldWait(config, kind: kind) {
            object = try await waitReady(client, path: path, kind: kind, what: "\(namespace.map { "\($0)/" } ?? "")\(name)",
                                         first: object, timeout: waitTimeout(config))
        }
        if kind == "CustomResourceDefinition", Readiness.of(object, kind: kind) == .ready { await discovery.add(crd: object) }
        await live.set(context.address, object)
        return ObjectModel.recorded(config, live: object, path: path, dataFrom: dataFrom, forceConflicts: forceConflicts(config))
    }

    /// The PATCH, and what to do with a conflict: force it when the resource (or the provider) says so, or when every
    /// conflicting field is one maifctl applied before and someone changed imperatively (drift, put back).
    func serverSideApply(_ context: ResourceContext, call: String, client: KubeClient, path: String, body: [UInt8],
                         config: [String: AttributeValue], prior: ResourceState?) async throws -> AttributeValue {
        let force = forceConflicts(config)
        do {
            return try await client.send(call, .PATCH, path, query: applyQuery(force: force), body: body,
                                         contentType: "application/apply-patch+yaml").json
        } catch let error as KubeAPIError where error.isConflict && !force {
            let conflicts = try await conflictsWithOwners(error, context: context, client: client, path: path)
            guard Conflicts.mayTakeBack(conflicts, prior: prior?.attributes["manifest"]) else { throw Conflicts.error(error, conflicts, call: call) }
            return try await client.send(call, .PATCH, path, query: applyQuery(force: true), body: body,
                                         contentType: "application/apply-patch+yaml").json
        }
    }

    /// The resource for the configuration's kind. A kind nobody serves yet may be on its way (a CRD applied in this
    /// run, or by someone else): discovery is asked again for a while before giving up.
    func served(_ config: [String: AttributeValue]) async throws -> APIResource {
        guard let apiVersion = ObjectModel.apiVersion(config), let kind = ObjectModel.kind(config) else {
            throw ManifestProblem(message: "the manifest has no apiVersion or kind")
        }
        if let r = try await discovery.resource(apiVersion: apiVersion, kind: kind) { return r }
        if BuiltinKinds.groups.contains(splitAPIVersion(apiVersion).group) {
            // No CRD can bring a kind of a built-in group: there is nothing to wait for.
            throw ManifestProblem(message: "the API server \(client?.access.server ?? "") serves no kind \(kind) in \(apiVersion) (is the cluster older than this apiVersion?)")
        }
        let limit = min(60, waitTimeout(config))
        let found = try await Poll.until(timeout: limit, interval: 1) { () -> APIResource? in
            try await discovery.refresh()
            return try await discovery.resource(apiVersion: apiVersion, kind: kind)
        }
        guard let found else {
            throw ManifestProblem(message: "the API server \(client?.access.server ?? "") serves no kind \(kind) in \(apiVersion), and no CustomResourceDefinition for it became Established within \(Durations.text(limit)); declare the CRD (k8s.custom_resource_definition) and make this resource depend on it")
        }
        return found
    }

    func shouldWait(_ config: [String: AttributeValue], kind: String) -> Bool {
        guard Readiness.waitable(kind) else { return false }
        if let explicit = config["wait"]?.boolValue { return explicit }
        return Readiness.waitsByDefault(kind) && options.wait
    }

    func waitTimeout(_ config: [String: AttributeValue]) -> Double { Durations.seconds(config["timeout"]) ?? options.waitTimeout }
    func deleteTimeout(_ config: [String: AttributeValue]) -> Double { Durations.seconds(config["delete_timeout"]) ?? options.deleteTimeout }

    /// Polls the object until its status says it is ready; gives up after `timeout`, saying what it waited for and
    /// what the status said last.
    func waitReady(_ client: KubeClient, path: String, kind: String, what: String, first: AttributeValue, timeout: Double) async throws -> AttributeValue {
        var state = Readiness.of(first, kind: kind)
        if state == .ready { return first }
        let goal = Readiness.goal(kind: kind, name: what)
        let done = try await Poll.until(timeout: timeout, interval: 2) { () -> AttributeValue? in
            guard let now = try await client.get("get \(path)", path) else {
                throw ProviderError(address: nil, call: "wait", message: "\(kind) \(what) was deleted while waiting for it")
            }
            state = Readiness.of(now, kind: kind)
            if case .failed(let why) = state { throw ProviderError(address: nil, call: "wait", message: "\(goal): \(why)") }
            return state == .ready ? now : nil
        }
        if let done { return done }
        let detail: String
        if case .waiting(let why) = state { detail = "still waiting for \(why)" } else { detail = "\(state)" }
        throw ProviderError(address: nil, call: "wait", message: "gave up after \(Durations.text(timeout)) waiting for \(goal): \(detail) (set timeout on the resource, clouds.kubernetes.wait_timeout, or wait: false)")
    }

    // MARK: read

    public func read(_ context: ResourceContext, _ prior: ResourceState) async throws -> ResourceState? {
        try await named(context) {
            let client = try connected()
            let config = prior.attributes
            guard let resource = try await self.resource(config) else {
                // Its kind is no longer served (its CRD was deleted): the object is gone with it.
                return nil
            }
            let (name, namespace) = ObjectModel.identity(config)
            let path = resource.path(name: name ?? "", namespace: namespace)
            guard let object = try await client.get("get \(described(config))", path) else { return nil }
            if object.mapValue?["metadata"]?.mapValue?["deletionTimestamp"] != nil { return nil }
            await live.set(context.address, object)
            var state = ObjectModel.recorded(config, live: object, path: path, dataFrom: nil, forceConflicts: false)
            if let values = prior.attributes["data_from_values"] { state.attributes["data_from_values"] = values }
            if ObjectModel.kind(config) == "Secret" { Self.readSecret(object, prior: prior, into: &state) }
            return state
        }
    }

    /// A Secret's values as they are now, for the keys maifctl set (its managedFields entry names them): `data`
    /// decoded, `data_from_values` base64. The engine compares them only as keyed hashes.
    static func readSecret(_ object: AttributeValue, prior: ResourceState, into state: inout ResourceState) {
        let live = object.mapValue?["data"]?.mapValue ?? [:]
        let fromKeys = Set(prior.attributes["data_from"]?.mapValue?.keys.map { $0 } ?? [])
        if prior.attributes["data_from"] != nil {
            var values: [String: AttributeValue] = [:]
            for key in fromKeys { if let v = live[key] { values[key] = v } }
            state.attributes["data_from_values"] = .map(values)
        }
        if prior.attributes["data"] != nil {
            let owned = ManagedFieldsEntry.applied(by: ObjectModel.fieldManager, in: object)?.fields[field: "data"]
            let keys = owned.map { Set($0.children.keys.filter { $0.hasPrefix("f:") }.map { String($0.dropFirst(2)) }) } ?? Set(live.keys)
            var values: [String: AttributeValue] = [:]
            for key in keys.subtracting(fromKeys) {
                if let v = live[key]?.stringValue, let d = Data(base64Encoded: v) { values[key] = .string(String(decoding: d, as: UTF8.self)) }
            }
            state.attributes["data"] = .map(values)
        }
    }

    // MARK: delete

    public func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await named(context) {
            if prior.attributes["retain_on_destroy"]?.boolValue == true { return }
            let config = prior.attributes
            if ObjectModel.kind(config) == "Namespace", let name = ObjectModel.identity(config).name, ObjectModel.builtinNamespaces.contains(name) { return }
            let client = try connected()
            guard let resource = try await self.resource(config) else { return }
            let (name, namespace) = ObjectModel.identity(config)
            let path = resource.path(name: name ?? "", namespace: namespace)
            let deleteOptions: AttributeValue = .map(["kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"])
            do {
                _ = try await client.send("delete \(described(config))", .DELETE, path, body: Array(deleteOptions.canonicalJSON(indent: nil).utf8))
            } catch let error as KubeAPIError where error.isNotFound {
                return
            }
            try await waitGone(client, path: path, what: described(config), timeout: deleteTimeout(config))
        }
    }

    /// Polls until the object is gone (404): a foreground deletion waits for its dependents, finalizers for their owners.
    func waitGone(_ client: KubeClient, path: String, what: String, timeout: Double) async throws {
        var finalizers: [String] = []
        let gone = try await Poll.until(timeout: timeout, interval: 2) { () -> Bool? in
            guard let object = try await client.get("get \(path)", path) else { return true }
            finalizers = object.mapValue?["metadata"]?.mapValue?["finalizers"]?.listValue?.compactMap(\.stringValue) ?? []
            return nil
        }
        if gone == nil {
            throw ProviderError(address: nil, call: "delete", message: "gave up after \(Durations.text(timeout)) waiting for \(what) to be deleted"
                                + (finalizers.isEmpty ? "" : " (finalizers left: \(finalizers.joined(separator: ", ")))")
                                + " (set delete_timeout on the resource or clouds.kubernetes.delete_timeout)")
        }
    }

    // MARK: import and find

    public func importResource(_ context: ResourceContext, id: String) async throws -> ResourceState {
        try await named(context) {
            let client = try connected()
            guard let parts = ObjectModel.parse(id: id, type: context.address.type) else {
                throw ManifestProblem(message: "'\(id)' is not an object id: use APIVERSION/KIND/NAMESPACE/NAME (apps/v1/StatefulSet/default/maif), APIVERSION/KIND/NAME for a cluster-scoped kind, or NAMESPACE/NAME for \(context.address.type)")
            }
            guard let resource = try await discovery.resource(apiVersion: parts.apiVersion, kind: parts.kind) else {
                throw ManifestProblem(message: "the API server serves no kind \(parts.kind) in \(parts.apiVersion)")
            }
            let path = resource.path(name: parts.name, namespace: parts.namespace ?? (resource.namespaced ? options.defaultNamespace : nil))
            guard let object = try await client.get("get \(path)", path) else {
                throw ManifestProblem(message: "no \(parts.kind) \(parts.namespace.map { "\($0)/" } ?? "")\(parts.name) in the cluster (\(path))")
            }
            var config: [String: AttributeValue] = ["manifest": ObjectModel.importedManifest(object),
                                                    "name": .string(parts.name)]
            if resource.namespaced { config["namespace"] = object.mapValue?["metadata"]?.mapValue?["namespace"] ?? .string(options.defaultNamespace) }
            return ObjectModel.recorded(config, live: object, path: path, dataFrom: nil, forceConflicts: false)
        }
    }

    /// What an interrupted create left: the object at the configuration's name, if it carries this address's owner labels.
    public func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        try await named(context) {
            let client = try connected()
            guard let resource = try await self.resource(config) else { return nil }
            let config = try ObjectModel.normalized(config, namespaced: resource.namespaced, defaultNamespace: options.defaultNamespace)
            let (name, namespace) = ObjectModel.identity(config)
            guard let name else { return nil }
            let path = resource.path(name: name, namespace: namespace)
            guard let object = try await client.get("get \(path)", path), ObjectModel.isOwned(object, by: config) else { return nil }
            let dataFrom = try? ObjectModel.readDataFrom(config, environment: configuration.environment, workingDirectory: configuration.workingDirectory)
            return ObjectModel.recorded(config, live: object, path: path, dataFrom: dataFrom, forceConflicts: forceConflicts(config))
        }
    }
}

/// Live objects read during this run (refresh), so a conflict at plan or apply can name the owners without asking again.
actor LiveObjects {
    private var objects: [ResourceAddress: AttributeValue] = [:]
    func get(_ a: ResourceAddress) -> AttributeValue? { objects[a] }
    func set(_ a: ResourceAddress, _ v: AttributeValue) { objects[a] = v }
}

/// Conflicts with other field managers: who owns which field, whether maifctl may take them back, and the error.
enum Conflicts {
    struct Field: Equatable {
        var field: String
        /// As the API server names it: `"team-a"`, `"kubectl" with subresource "scale" using apps/v1`.
        var manager: String
        /// `Apply` (another declarative owner) or `Update` (an imperative edit: kubectl edit/scale/patch, a controller).
        var operation: String?
    }

    static func fields(_ error: KubeAPIError, entries: [ManagedFieldsEntry]) -> [Field] {
        error.causes.filter { $0.reason == "FieldManagerConflict" }.map { cause in
            var manager = cause.message
            if manager.hasPrefix("conflict with ") { manager = String(manager.dropFirst("conflict with ".count)) }
            // A real server appends " at <time>" to an Update manager; the entry is found without it.
            let bare = manager.range(of: " at ").map { String(manager[..<$0.lowerBound]) } ?? manager
            let entry = entries.first { $0.described == bare } ?? entries.first { "\"\($0.manager)\"" == bare }
            let operation = entry?.operation ?? (bare.contains(" using ") ? "Update" : "Apply")
            return Field(field: cause.field, manager: bare, operation: operation)
        }
    }

    /// Drift repair: every conflicting field is one the recorded manifest sets (maifctl applied it before) and its
    /// new owner wrote it imperatively. A field another applier owns, or one maifctl never set, is a real conflict.
    static func mayTakeBack(_ conflicts: [Field], prior: AttributeValue?) -> Bool {
        guard let prior, !conflicts.isEmpty else { return false }
        return conflicts.allSatisfy { $0.operation == "Update" && Projection.contains(prior, path: $0.field) }
    }

    static func error(_ error: KubeAPIError, _ conflicts: [Field], call: String) -> ProviderError {
        var byManager: [(String, [String])] = []
        for c in conflicts {
            if let i = byManager.firstIndex(where: { $0.0 == c.manager }) { byManager[i].1.append(c.field) } else { byManager.append((c.manager, [c.field])) }
        }
        let owners = byManager.map { "\($0.1.joined(separator: ", ")) \($0.1.count == 1 ? "is" : "are") owned by field manager \($0.0)" }
        let message = "Conflict (HTTP 409): \(owners.joined(separator: "; ")); set force_conflicts: true on the resource, or clouds.kubernetes.force_conflicts: true, to take \(conflicts.count == 1 ? "it" : "them") over"
        return ProviderError(address: nil, call: call, message: message)
    }
}
