/// From kind to resource: the API server's discovery documents, read once per run and shared by every call. Aggregated
/// discovery (`/api` and `/apis` with the `apidiscovery.k8s.io/v2` Accept header, Kubernetes 1.27+) gives every
/// group, version and resource in two requests; an older server answers the legacy documents, and then each group
/// version's resource list is read when first needed. A CustomResourceDefinition this run applied adds its kinds as
/// soon as it is Established, without asking again; a kind nobody knows makes discovery ask again, at most once a second.

import Foundation
import ProviderKit

/// One API resource: what the paths are made of and whether it lives in a namespace.
public struct APIResource: Sendable, Equatable {
    public var group: String
    public var version: String
    public var kind: String
    public var plural: String
    public var namespaced: Bool

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// `statefulsets.apps`, `configmaps`.
    public var qualifiedName: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// `/apis/apps/v1/namespaces/NS/statefulsets` (or without the namespace).
    public func collectionPath(namespace: String?) -> String {
        let root = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace { return "\(root)/namespaces/\(namespace)/\(plural)" }
        return "\(root)/\(plural)"
    }

    public func path(name: String, namespace: String?) -> String { collectionPath(namespace: namespaced ? namespace : nil) + "/\(name)" }
}

/// `apps/v1` → ("apps", "v1"); `v1` → ("", "v1").
func splitAPIVersion(_ apiVersion: String) -> (group: String, version: String) {
    guard let slash = apiVersion.lastIndex(of: "/") else { return ("", apiVersion) }
    return (String(apiVersion[..<slash]), String(apiVersion[apiVersion.index(after: slash)...]))
}

actor Discovery {
    private let client: KubeClient?
    private var resources: [String: APIResource] = [:]
    /// Legacy servers: the group versions that exist, and those whose resource lists were read.
    private var legacyGroupVersions: Set<String> = []
    private var readGroupVersions: Set<String> = []
    private var aggregated = false
    private var loading: Task<Void, Error>?
    private var loaded = false
    private var lastRefresh = Date.distantPast
    /// Discovery requests made (tests check "fetched once per run").
    private(set) var fetches = 0

    /// Kinds that CRDs planned in this run will bring: their scope is known before they are served.
    private var pending: [String: APIResource] = [:]
    let isOffline: Bool

    /// `offline`: without a cluster (render, plans of the shipped stacks in tests): the built-in kinds and the CRDs
    /// the stack declares.
    init(client: KubeClient?, offline: Bool) {
        self.client = client
        isOffline = offline
        if offline {
            for r in BuiltinKinds.all { resources[Self.key(r.apiVersion, r.kind)] = r }
            loaded = true
        }
    }

    static func key(_ apiVersion: String, _ kind: String) -> String { "\(apiVersion)|\(kind)" }

    /// The resource serving `kind` in `apiVersion`, or nil when the cluster does not serve it (yet).
    func resource(apiVersion: String, kind: String) async throws -> APIResource? {
        try await load()
        if let r = resources[Self.key(apiVersion, kind)] { return r }
        if isOffline { return pending[Self.key(apiVersion, kind)] }
        guard let client else { return nil }
        let (group, version) = splitAPIVersion(apiVersion)
        let gv = group.isEmpty ? version : "\(group)/\(version)"
        if !aggregated, legacyGroupVersions.contains(gv), !readGroupVersions.contains(gv) {
            try await readLegacy(groupVersion: gv, client: client)
            return resources[Self.key(apiVersion, kind)]
        }
        return nil
    }

    /// Asks the server again (a CRD may have been established by someone else), at most once a second.
    func refresh() async throws {
        guard let client, Date().timeIntervalSince(lastRefresh) >= 1 else { return }
        lastRefresh = Date()
        try await fetch(client)
    }

    /// Adds what an Established CRD serves.
    func add(crd: AttributeValue) {
        for r in Self.served(by: crd) { resources[Self.key(r.apiVersion, r.kind)] = r }
    }

    /// Remembers what a CRD planned in this run will serve, so objects of its kinds plan with the right scope.
    func expect(crd: AttributeValue) {
        for r in Self.served(by: crd) { pending[Self.key(r.apiVersion, r.kind)] = r }
    }

    /// A kind a planned CRD brings (not served yet).
    func pending(apiVersion: String, kind: String) -> APIResource? { pending[Self.key(apiVersion, kind)] }

    static func served(by crd: AttributeValue) -> [APIResource] {
        guard let spec = crd.mapValue?["spec"]?.mapValue, let group = spec["group"]?.stringValue,
              let names = spec["names"]?.mapValue, let kind = names["kind"]?.stringValue, let plural = names["plural"]?.stringValue
        else { return [] }
        let namespaced = spec["scope"]?.stringValue != "Cluster"
        return (spec["versions"]?.listValue ?? []).compactMap { v in
            guard let m = v.mapValue, let name = m["name"]?.stringValue, m["served"]?.boolValue ?? true else { return nil }
            return APIResource(group: group, version: name, kind: kind, plural: plural, namespaced: namespaced)
        }
    }

    private func load() async throws {
        if loaded { return }
        guard let client else { return }
        if let loading { return try await loading.value }
        let task = Task { try await self.fetch(client) }
        loading = task
        do {
            try await task.value
            loaded = true
            lastRefresh = Date()
        } catch {
            // The failure is kept, so every resource of the run fails at once with the same message.
            throw error
        }
    }

    private func fetch(_ client: KubeClient) async throws {
        let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
        for root in ["/api", "/apis"] {
            fetches += 1
            let response = try await client.send("discovery (GET \(root))", .GET, root, accept: accept)
            let body = response.json
            if body.mapValue?["kind"]?.stringValue == "APIGroupDiscoveryList" {
                aggregated = true
                readAggregated(body)
            } else if root == "/api" {
                for v in body.mapValue?["versions"]?.listValue?.compactMap(\.stringValue) ?? [] { legacyGroupVersions.insert(v) }
            } else {
                for g in body.mapValue?["groups"]?.listValue ?? [] {
                    for v in g.mapValue?["versions"]?.listValue ?? [] {
                        if let gv = v.mapValue?["groupVersion"]?.stringValue { legacyGroupVersions.insert(gv) }
                    }
                }
            }
        }
    }

    private func readAggregated(_ body: AttributeValue) {
        for item in body.mapValue?["items"]?.listValue ?? [] {
            let group = item.mapValue?["metadata"]?.mapValue?["name"]?.stringValue ?? ""
            for v in item.mapValue?["versions"]?.listValue ?? [] {
                guard let version = v.mapValue?["version"]?.stringValue else { continue }
                for r in v.mapValue?["resources"]?.listValue ?? [] {
                    guard let m = r.mapValue, let plural = m["resource"]?.stringValue,
                          let kind = m["responseKind"]?.mapValue?["kind"]?.stringValue, !kind.isEmpty else { continue }
                    let resource = APIResource(group: group, version: version, kind: kind, plural: plural,
                                               namespaced: m["scope"]?.stringValue == "Namespaced")
                    resources[Self.key(resource.apiVersion, kind)] = resource
                }
            }
        }
    }

    private func readLegacy(groupVersion gv: String, client: KubeClient) async throws {
        readGroupVersions.insert(gv)
        let path = gv.contains("/") ? "/apis/\(gv)" : "/api/\(gv)"
        fetches += 1
        guard let list = try await client.get("discovery (GET \(path))", path) else { return }
        let (group, version) = splitAPIVersion(gv)
        for r in list.mapValue?["resources"]?.listValue ?? [] {
            guard let m = r.mapValue, let name = m["name"]?.stringValue, !name.contains("/"), let kind = m["kind"]?.stringValue else { continue }
            let resource = APIResource(group: group, version: version, kind: kind, plural: name, namespaced: m["namespaced"]?.boolValue ?? true)
            resources[Self.key(resource.apiVersion, kind)] = resource
        }
    }
}

/// The kinds every Kubernetes 1.30 cluster serves: what plans and renders use without a cluster.
enum BuiltinKinds {
    static let byKey: [String: APIResource] = Dictionary(uniqueKeysWithValues: all.map { (Discovery.key($0.apiVersion, $0.kind), $0) })
    static let groups: Set<String> = Set(all.map(\.group))

    static func find(apiVersion: String, kind: String) -> APIResource? { byKey[Discovery.key(apiVersion, kind)] }

    static let all: [APIResource] = {
        func r(_ apiVersion: String, _ kind: String, _ plural: String, namespaced: Bool = true) -> APIResource {
            let (g, v) = splitAPIVersion(apiVersion)
            return APIResource(group: g, version: v, kind: kind, plural: plural, namespaced: namespaced)
        }
        return [
            r("v1", "Namespace", "namespaces", namespaced: false), r("v1", "Node", "nodes", namespaced: false),
            r("v1", "PersistentVolume", "persistentvolumes", namespaced: false),
            r("v1", "ConfigMap", "configmaps"), r("v1", "Secret", "secrets"), r("v1", "Service", "services"),
            r("v1", "ServiceAccount", "serviceaccounts"), r("v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
            r("v1", "Pod", "pods"), r("v1", "Endpoints", "endpoints"), r("v1", "LimitRange", "limitranges"),
            r("v1", "ResourceQuota", "resourcequotas"),
            r("apps/v1", "StatefulSet", "statefulsets"), r("apps/v1", "Deployment", "deployments"),
            r("apps/v1", "DaemonSet", "daemonsets"), r("apps/v1", "ReplicaSet", "replicasets"),
            r("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
            r("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets"),
            r("batch/v1", "Job", "jobs"), r("batch/v1", "CronJob", "cronjobs"),
            r("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies"), r("networking.k8s.io/v1", "Ingress", "ingresses"),
            r("networking.k8s.io/v1", "IngressClass", "ingressclasses", namespaced: false),
            r("rbac.authorization.k8s.io/v1", "Role", "roles"), r("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
            r("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", namespaced: false),
            r("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", namespaced: false),
            r("storage.k8s.io/v1", "StorageClass", "storageclasses", namespaced: false),
            r("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", namespaced: false),
            r("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", namespaced: false),
            r("coordination.k8s.io/v1", "Lease", "leases"),
        ]
    }()
}
