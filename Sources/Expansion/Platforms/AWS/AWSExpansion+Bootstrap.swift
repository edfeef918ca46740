/// What makes an AWS instance a MAIF node: its private address (the stack's `host` when it lies in the node's
/// subnet), the #cloud-config user data of VMBootstrap (cluster.yaml, TLS settings, the node's unit running the stack's
/// image, the backup timers, the CloudWatch agent), and an instance profile whose role may reach exactly the cluster's
/// backup buckets and publish the agent's metrics.

import ProviderKit
import StackModel

extension AWSClusterExpansion {
    // MARK: Addresses

    /// Node id → its private address; EC2 keeps the first four and the last address of every subnet.
    var nodeAddresses: [String: VMBootstrap.NodeAddress] {
        VMBootstrap.addresses(of: cluster.nodes, subnet: { subnetCIDR(zoneOfNode[$0.id]!) })
    }

    func addressDiagnostics() -> [Diagnostic] {
        let addresses = nodeAddresses
        return cluster.nodes.compactMap { node in
            guard let address = addresses[node.id], let zone = zoneOfNode[node.id] else { return nil }
            return VMBootstrap.movedWarning(node, address: address, subnet: subnetCIDR(zone), place: "zone \(zone)", cluster: cluster, in: stack)
        }
    }

    /// The guide's cluster.yaml with the addresses the nodes really get.
    var clusterYAML: String {
        ClusterConfig.render(stack: stack, cluster: cluster, hosts: nodeAddresses.mapValues(\.address))
    }

    /// A node's #cloud-config.
    func userData(_ node: Node, managedBy: ResourceAddress) -> String {
        withAgent(VMBootstrap.NodeConfig(stack: stack, cluster: cluster, node: node, clusterYAML: clusterYAML, managedBy: managedBy.description)).cloudConfig()
    }

    /// What the Auto Scaling group launches: a node whose id is its host name (systemd's `%H`, unique per instance),
    /// with the named nodes' cluster.yaml.
    func scaledUserData() -> String {
        let node = VMBootstrap.scaledNode(of: cluster, port: ports[0])
        return withAgent(VMBootstrap.NodeConfig(stack: stack, cluster: cluster, node: node, clusterYAML: clusterYAML,
                                                managedBy: launchTemplate.description)).cloudConfig()
    }

    /// EC2 takes at most 16 KiB of user data.
    func userDataDiagnostics() -> [Diagnostic] {
        cluster.nodes.compactMap { node in
            let size = userData(node, managedBy: instance(node)).utf8.count
            guard size > 16_384 else { return nil }
            return .error("aws-user-data-too-large", "the cloud-config of node '\(node.id)' is \(size) bytes; EC2 takes at most 16384",
                          hint: "fewer backup targets or a shorter cluster.yaml (monitoring metrics, comments)", at: node.location)
        }
    }

    // MARK: Backup access

    var nodesRole: ResourceAddress { address("iam_role", "nodes") }
    var nodesPolicy: ResourceAddress { address("iam_role_policy", "backups") }
    var nodesProfile: ResourceAddress { address("iam_instance_profile", "nodes") }

    /// The S3 targets the nodes write to, and those they may only read (the replicas S3 fills, for restores).
    var s3Access: (write: [BackupTarget], read: [BackupTarget]) {
        let write = Backups.targets(of: cluster, in: stack).filter { $0.kind == .s3 }
        let names = Set(write.map(\.name))
        let read = Backups.replication(in: stack).filter { names.contains($0.source.name) }.flatMap(\.destinations)
            .filter { !names.contains($0.name) }
        var seen = Set<String>()
        return (write, read.filter { seen.insert($0.name).inserted })
    }

    /// The role the nodes run as, its policies (exactly the backup buckets, under this cluster's prefix, and the KMS
    /// keys that encrypt them; the CloudWatch agent's metrics) and the instance profile that carries it; nothing when
    /// the nodes reach no S3 bucket and run no agent.
    func backupAccess() -> [DesiredResource] {
        let (write, read) = s3Access
        guard hasInstanceRole else { return [] }
        let backups = !write.isEmpty || !read.isEmpty
        let origin = backups ? stack.disasterRecovery?.location ?? cluster.location : agentMetricUses.first?.at ?? cluster.location
        let roleName = AWSExpansion.iamName("maif-\(stack.meta.name)-\(cluster.name)")
        func bucketARN(_ t: BackupTarget) -> String { "arn:aws:s3:::\(t.bucket ?? t.name)" }
        func objects(_ t: BackupTarget) -> String { "\(bucketARN(t))/\(stack.meta.name)/\(cluster.name)/*" }
        var statements: [AttributeValue] = []
        if !write.isEmpty {
            statements.append(AWSExpansion.statement("WriteBackups", ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"], write.map(objects)))
        }
        if !read.isEmpty {
            statements.append(AWSExpansion.statement("ReadReplicas", ["s3:GetObject"], read.map(objects)))
        }
        statements.append(AWSExpansion.statement("ListBackupBuckets", ["s3:ListBucket", "s3:GetBucketLocation"], (write + read).map(bucketARN)))
        let keys = Set((write + read).filter(\.encryption).compactMap { Placement.site(of: $0, in: stack).region }).sorted()
        if !keys.isEmpty {
            statements.append(AWSExpansion.statement("BackupKeys", ["kms:GenerateDataKey", "kms:Decrypt"],
                                                     keys.map { "${\(AWSExpansion.backupKey($0)).arn}" }))
        }
        let purposes = (backups ? ["backups"] : []) + (usesAgentMetrics ? ["CloudWatch agent metrics"] : [])
        var out = [
            DesiredResource(address: nodesRole, config: [
                "name": .string(roleName),
                "description": .string("MAIF nodes of cluster \(cluster.name), stack \(stack.meta.name): \(purposes.joined(separator: ", "))"),
                "assume_role_policy": .string(AWSExpansion.policy([.map([
                    "Effect": "Allow", "Principal": .map(["Service": "ec2.amazonaws.com"]), "Action": "sts:AssumeRole",
                ])])),
                "tags": AWSExpansion.tags(["maif:cluster": cluster.name]),
            ], origin: origin),
        ]
        if backups {
            out.append(DesiredResource(address: nodesPolicy, config: [
                "role": ref(nodesRole, "name"),
                "name": "maif-backups",
                "policy": .string(AWSExpansion.policy(statements)),
            ], origin: origin))
        }
        out += agentPolicy(origin: agentMetricUses.first?.at ?? origin)
        out.append(DesiredResource(address: nodesProfile, config: [
            "name": .string(roleName),
            "role": ref(nodesRole, "name"),
            "tags": AWSExpansion.tags(["maif:cluster": cluster.name]),
        ], origin: origin))
        return out
    }

    var hasBackupAccess: Bool { !s3Access.write.isEmpty || !s3Access.read.isEmpty }
    /// Whether the nodes run as a role: for their backups, or for the CloudWatch agent.
    var hasInstanceRole: Bool { hasBackupAccess || usesAgentMetrics }
}

extension AWSExpansion {
    /// IAM names: at most 64 of letters, digits and `+=,.@_-`; longer names keep a stable hash suffix.
    static func iamName(_ name: String) -> String {
        let cleaned = String(name.map { $0.isLetter || $0.isNumber || "+=,.@_-".contains($0) ? $0 : "-" })
        guard cleaned.count > 64 else { return cleaned }
        let hex = String(Networks.stableHash(name), radix: 16)
        return String(cleaned.prefix(55)) + "-" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    static func statement(_ sid: String, _ actions: [String], _ resources: [String]) -> AttributeValue {
        .map(["Sid": .string(sid), "Effect": "Allow", "Action": .list(actions.map { .string($0) }), "Resource": .list(resources.map { .string($0) })])
    }

    /// A policy document as IAM takes it (compact JSON, keys sorted).
    static func policy(_ statements: [AttributeValue]) -> String {
        AttributeValue.map(["Version": "2012-10-17", "Statement": .list(statements)]).canonicalJSON(indent: nil)
    }
}
