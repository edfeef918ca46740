/// `swarm.service`: the Engine API ServiceSpec as the stack writes it. Updates carry the service's version index
/// (a stale one is refused, and retried once with a fresh one); read reports only the parts of the live spec the
/// stack manages; create and update can wait, bounded, for the tasks to run and say why they do not.

import Foundation
import ProviderKit

struct ServiceResource: SwarmProvider.Resource {
    let docker: DockerClient

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let spec = try await resolvingSecretNames(Self.spec(config, context), context, call: "create")
        let name = spec["Name"]?.stringValue ?? ""
        var id: String
        do {
            id = try await docker.call("ServiceCreate", .POST, "/services/create", body: .map(spec)).json.mapValue?["ID"]?.stringValue ?? ""
        } catch let error as DockerError where error.isConflict {
            // Ours from an interrupted run: bring it to the spec instead.
            id = try await adopt(context, name: name, kind: "service") { try await docker.optional("ServiceInspect", "/services/\(name)") }
            _ = try await send(id: id, spec: spec)
        }
        do {
            try await TaskWatch(docker: docker, timeout: docker.settings.waitForRunning).waitUntilRunning(service: id, name: name)
        } catch let failure as TaskWatch.Failure {
            // A create that never ran leaves nothing behind, so the next apply starts it afresh instead of finding drift.
            _ = try? await docker.call("ServiceDelete", .DELETE, "/services/\(id)")
            throw ProviderError(address: context.address, call: "create", message: failure.description + "; the service was removed again")
        }
        return try await readBack(context, id: id, shape: config)
    }

    func read(_ context: ResourceContext, id: String, prior: [String: AttributeValue]?) async throws -> ResourceState? {
        guard let service = try await docker.optional("ServiceInspect", "/services/\(id)")?.mapValue else { return nil }
        let live = service["Spec"] ?? .map([:])
        var a: [String: AttributeValue] = [
            "id": service["ID"] ?? .string(id),
            "name": live.mapValue?["Name"] ?? .null,
            "version": service["Version"]?.mapValue?["Index"] ?? .null,
        ]
        a["spec"] = prior?["spec"].map { SpecProjection.project(live, onto: $0) } ?? live
        if let endpoint = prior?["endpoint"] { a["endpoint"] = endpoint }
        return ResourceState(id: a["id"]?.stringValue ?? id, attributes: a)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let spec = try await resolvingSecretNames(Self.spec(config, context), context, call: "update")
        try await send(id: prior.id, spec: spec)
        do {
            try await TaskWatch(docker: docker, timeout: docker.settings.waitForRunning)
                .waitUntilRunning(service: prior.id, name: spec["Name"]?.stringValue ?? prior.id)
        } catch let failure as TaskWatch.Failure {
            throw ProviderError(address: context.address, call: "update", message: failure.description)
        }
        return try await readBack(context, id: prior.id, shape: config)
    }

    /// POST /services/{id}/update with the current version index; once more with a fresh index when another writer
    /// (`docker service scale`, swarm's own rollback) got in between.
    @discardableResult
    func send(id: String, spec: [String: AttributeValue]) async throws -> DockerResponse {
        var retried = false
        while true {
            guard let current = try await docker.optional("ServiceInspect", "/services/\(id)")?.mapValue,
                  let version = current["Version"]?.mapValue?["Index"]?.intValue else {
                throw DockerError(call: "ServiceUpdate", status: 404, message: "service \(id) no longer exists")
            }
            do {
                return try await docker.call("ServiceUpdate", .POST, "/services/\(id)/update", query: [("version", String(version))],
                                             body: .map(spec))
            } catch let error as DockerError where error.isOutOfSequence && !retried {
                retried = true
            }
        }
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        do {
            _ = try await docker.call("ServiceDelete", .DELETE, "/services/\(prior.id)")
        } catch let error as DockerError where error.isNotFound {
            return
        }
        try await waitForTasksToStop(service: prior.id)
    }

    /// The service is gone from the API before its tasks are: a task still starting would create its volume again
    /// after the volume's delete. So a delete returns once no task of the service is alive (bounded; after that the
    /// deletes of the network and volume wait for them too).
    func waitForTasksToStop(service id: String) async throws {
        let deadline = Date().addingTimeInterval(inUseGrace)
        while Date() < deadline {
            // A filter naming a deleted service is refused (404), so every task is listed and picked here.
            let tasks = try await docker.call("TaskList", .GET, "/tasks").json.listValue ?? []
            let alive = tasks.compactMap(\.mapValue).filter { task in
                task["ServiceID"]?.stringValue == id
                    && !Self.stoppedStates.contains(task["Status"]?.mapValue?["State"]?.stringValue ?? "")
            }
            if alive.isEmpty { return }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
    }

    static let stoppedStates: Set<String> = ["complete", "shutdown", "failed", "rejected", "remove", "orphaned"]

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        let list = try await docker.call("ServiceList", .GET, "/services", query: DockerClient.labelFilter(owner(context))).json
        guard let id = list.listValue?.first?.mapValue?["ID"]?.stringValue else { return nil }
        return try await read(context, id: id, prior: config)
    }

    private func readBack(_ context: ResourceContext, id: String, shape: [String: AttributeValue]) async throws -> ResourceState {
        var shape = shape
        shape["spec"] = .map(Self.spec(shape, context))
        guard let state = try await read(context, id: id, prior: shape) else {
            throw ProviderError(address: context.address, call: "read", message: "service \(id) is not there after the call")
        }
        return state
    }

    /// The spec to send: the configured one, named after the resource's `name`, with the owner labels.
    static func spec(_ config: [String: AttributeValue], _ context: ResourceContext) -> [String: AttributeValue] {
        var spec = config["spec"]?.mapValue ?? [:]
        if let name = config["name"], spec["Name"] == nil { spec["Name"] = name }
        var labels = spec["Labels"]?.mapValue ?? [:]
        for (k, v) in owner(context) { labels[k] = .string(v) }
        spec["Labels"] = .map(labels)
        return spec
    }
}
