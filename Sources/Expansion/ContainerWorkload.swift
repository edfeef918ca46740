/// What a containerised MAIF cluster needs on any orchestrator (Kubernetes, Swarm): its image and paths,
/// the name pattern that ties each pod or task to a node id of cluster.yaml, and backup credentials.

import ProviderKit
import StackModel

enum ContainerWorkload {
    static let defaultImage = "maif/maif-enterprise:latest"
    static let configDirectory = "/config"
    static let configPath = "/config/cluster.yaml"
    static let dataDirectory = "/data"

    static func image(_ cluster: Cluster) -> String { cluster.image ?? defaultImage }

    /// The port every node listens on; nodes of one workload cannot differ, so the first one's.
    static func port(_ nodes: [Node]) -> Int { nodes.first?.port ?? 8080 }

    /// `["maif-cluster-0", "maif-cluster-1"]` with `first: 0` → `maif-cluster`: the prefix an orchestrator
    /// gives replicas (StatefulSet pods count from 0, swarm task slots from 1). Nil when the ids do not follow it.
    static func ordinalPrefix(_ ids: [String], first: Int) -> String? {
        guard let sample = ids.first, let dash = sample.lastIndex(of: "-") else { return nil }
        let prefix = String(sample[..<dash])
        guard !prefix.isEmpty else { return nil }
        for (i, id) in ids.enumerated() where id != "\(prefix)-\(first + i)" { return nil }
        return prefix
    }

    /// The largest request among the nodes, so that every replica of a shared pod or task template fits.
    static func largest(_ nodes: [Node]) -> NodeResources {
        NodeResources(cpu: nodes.compactMap(\.resources.cpu).max(),
                      memory: nodes.compactMap(\.resources.memory).max(),
                      storage: nodes.compactMap(\.resources.storage).max())
    }

    /// Whether the nodes ask for different resources (one template cannot honour that).
    static func resourcesDiffer(_ nodes: [Node]) -> Bool {
        Set(nodes.map { [$0.resources.cpu.map { "\($0)" }, $0.resources.memory.map { "\($0.bytes)" }, $0.resources.storage.map { "\($0.bytes)" }] }).count > 1
    }

    /// Upper bounds from vertical autoscaling, which become limits.
    static func limits(_ stack: Stack) -> (cpu: Double?, memory: ByteSize?) {
        let v = stack.autoscaling?.vertical
        return (v?.cpu.flatMap { Double($0.max) }, v?.memory.flatMap { ByteSize(parsing: $0.max) })
    }

    /// Lower bounds from vertical autoscaling, used where a node says nothing.
    static func minimums(_ stack: Stack) -> NodeResources {
        let v = stack.autoscaling?.vertical
        return NodeResources(cpu: v?.cpu.flatMap { Double($0.min) }, memory: v?.memory.flatMap { ByteSize(parsing: $0.min) },
                             storage: v?.storage.flatMap { ByteSize(parsing: $0.min) })
    }

    /// A credential the nodes need at run time, by reference: the value is read by the provider at apply.
    struct Credential: Equatable {
        /// The environment variable the node reads, e.g. `AWS_ACCESS_KEY_ID`.
        var key: String
        var source: SecretReference
    }

    /// Credentials for the cloud backup targets the nodes write to, from the stack's `clouds` references.
    static func backupCredentials(_ stack: Stack) -> [Credential] {
        let kinds = Set((stack.disasterRecovery?.backupTargets ?? []).map(\.kind))
        var out: [Credential] = []
        func add(_ key: String, _ source: SecretReference?) {
            if let source { out.append(Credential(key: key, source: source)) }
        }
        if kinds.contains(.s3), let aws = stack.clouds["aws"] {
            add("AWS_ACCESS_KEY_ID", aws.reference("access_key_id"))
            add("AWS_SECRET_ACCESS_KEY", aws.reference("secret_access_key"))
            add("AWS_SESSION_TOKEN", aws.reference("session_token"))
        }
        if kinds.contains(.gcs), let gcp = stack.clouds["gcp"] {
            add("GOOGLE_CREDENTIALS_JSON", gcp.reference("credentials"))
        }
        if kinds.contains(.azureBlob), let azure = stack.clouds["azure"] {
            add("AZURE_CLIENT_SECRET", azure.reference("client_secret"))
        }
        return out
    }
}
