/// Secrets a service refers to by name alone (`SecretName` without `SecretID`): ones the stack does not create,
/// such as the TLS certificate material an operator puts in the swarm with `docker secret create`. The Engine API
/// wants the id in a service spec (the docker CLI looks it up the same way), so create and update find it first;
/// read projects the live spec onto the recorded one, where the id is absent, so it is never drift.

import ProviderKit

extension ServiceResource {
    func resolvingSecretNames(_ spec: [String: AttributeValue], _ context: ResourceContext, call: String) async throws -> [String: AttributeValue] {
        guard case .map(var template)? = spec["TaskTemplate"], case .map(var container)? = template["ContainerSpec"],
              case .list(let secrets)? = container["Secrets"],
              secrets.contains(where: { $0.mapValue?["SecretID"] == nil && $0.mapValue?["SecretName"]?.stringValue != nil })
        else { return spec }
        var resolved: [AttributeValue] = []
        for secret in secrets {
            guard case .map(var m) = secret, m["SecretID"] == nil, let name = m["SecretName"]?.stringValue else {
                resolved.append(secret)
                continue
            }
            // The name filter matches prefixes too: only the secret of exactly this name counts.
            let filter = AttributeValue.map(["name": .list([.string(name)])]).canonicalJSON(indent: nil)
            let list = try await docker.call("SecretList", .GET, "/secrets", query: [("filters", filter)]).json.listValue ?? []
            guard let id = list.compactMap(\.mapValue).first(where: { $0["Spec"]?.mapValue?["Name"]?.stringValue == name })?["ID"]?.stringValue else {
                throw ProviderError(address: context.address, call: call,
                                    message: "the swarm has no secret named \(name), which the service mounts; create it first (docker secret create \(name) FILE)")
            }
            m["SecretID"] = .string(id)
            resolved.append(.map(m))
        }
        container["Secrets"] = .list(resolved)
        template["ContainerSpec"] = .map(container)
        var out = spec
        out["TaskTemplate"] = .map(template)
        return out
    }
}
