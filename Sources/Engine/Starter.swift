/// `maifctl init`: a starter stack for one platform, with the MAIF guide's values (three nodes, adaptive balancing,
/// autoscaling 3–20, a quorum of 2 of 3, incremental backups with a 15m RTO and 5m RPO, the production checklist's
/// security items), and the state repository it will be recorded in. Every starter passes `validate` and `check`
/// without errors (CLITests keep it so); credentials are only named, by reference.

import Foundation
import StateStore

public enum StarterPlatform: String, CaseIterable, Sendable {
    case local, aws, gcp, azure, kubernetes, swarm, onprem

    /// What `init --help` says of each.
    public var summary: String {
        switch self {
        case .local: return "three nodes on this machine (nothing to install, no account)"
        case .aws: return "three EC2 instances in us-east-1, backups in S3"
        case .gcp: return "three Compute Engine VMs in us-central1, backups in Cloud Storage"
        case .azure: return "three VMs in East US, backups in Blob Storage"
        case .kubernetes: return "a StatefulSet of three pods, backups in S3"
        case .swarm: return "a manager and two workers on Docker Swarm, backups in S3"
        case .onprem: return "three hosts reached over SSH, backups on a backup host"
        }
    }
}

public struct StarterReport: Sendable {
    public var stackFile: String
    public var stateDirectory: String
    /// True when this run created the state repository (false: it was there, or is a folder of the user's repository).
    public var createdRepository: Bool
    public var commit: String?
    /// Environment variables and files the stack reads credentials from: the user provides them.
    public var credentials: [String]
}

public enum StarterError: Error, CustomStringConvertible {
    case exists(String)
    case badName(String)
    case io(String)

    public var description: String {
        switch self {
        case .exists(let path): return "\(path) already exists; pass --force to overwrite it, or choose another --name"
        case .badName(let name): return "'\(name)' is not a stack name: use lowercase letters, digits and '-', starting with a letter"
        case .io(let message): return message
        }
    }
}

extension Engine {
    /// Writes `<directory>/<name>.yaml` and creates the state repository at `stateDirectory` (relative to `directory`)
    /// with a `.gitignore` for the run-time files, committed when maifctl owns the repository.
    public func initialize(platform: StarterPlatform, name: String, directory: String, stateDirectory: String,
                           force: Bool = false) throws -> StarterReport {
        guard name.first.map({ $0.isLetter && $0.isLowercase }) == true,
              name.allSatisfy({ ($0.isLetter && $0.isLowercase) || $0.isNumber || $0 == "-" }) else { throw StarterError.badName(name) }
        let base = URL(fileURLWithPath: directory, isDirectory: true, relativeTo: URL(fileURLWithPath: workingDirectory, isDirectory: true)).standardizedFileURL
        let file = base.appendingPathComponent("\(name).yaml")
        if FileManager.default.fileExists(atPath: file.path) && !force { throw StarterError.exists(file.path) }
        do {
            try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
            try Data(Starter.stack(platform, name: name).utf8).write(to: file)
        } catch {
            throw StarterError.io("cannot write \(file.path): \(error.localizedDescription)")
        }

        let state = URL(fileURLWithPath: stateDirectory, isDirectory: true, relativeTo: base).standardizedFileURL
        let existed = FileManager.default.fileExists(atPath: state.appendingPathComponent(".git").path)
        let repository = try GitRepository.openOrInit(at: state.path)
        var commit: String?
        if repository.ownsRepository {
            let ignore = state.appendingPathComponent(".gitignore")
            if FileManager.default.contents(atPath: ignore.path) == nil {
                try Data(Starter.stateIgnore.utf8).write(to: ignore)
            }
            commit = try repository.commit(paths: [".gitignore"], message: "init: maifctl state repository\n\nStack-File: \(name).yaml\n")
        }
        return StarterReport(stackFile: file.path, stateDirectory: state.path, createdRepository: !existed && repository.ownsRepository,
                             commit: commit, credentials: Starter.credentials(platform))
    }
}

enum Starter {
    /// The state repository's own `.gitignore`: what a run leaves in a stack's folder and never commits.
    static let stateIgnore = """
        # written by maifctl init: run-time files that are never state
        */.lock
        */journal.jsonl
        # saved plans (maifctl plan --out) belong to CI artifacts, not to the state
        *.plan

        """

    static func credentials(_ p: StarterPlatform) -> [String] {
        switch p {
        case .local: return []
        case .aws, .kubernetes, .swarm: return ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] + (p == .kubernetes ? ["~/.kube/config"] : [])
        case .gcp: return ["GOOGLE_APPLICATION_CREDENTIALS"]
        case .azure: return ["AZURE_CLIENT_SECRET"]
        case .onprem: return ["~/.ssh/maif_ed25519"]
        }
    }

    static func stack(_ p: StarterPlatform, name: String) -> String {
        header(p, name: name) + clusters(p, name: name) + policies(p, name: name)
    }

    private static func header(_ p: StarterPlatform, name: String) -> String {
        let intro = """
            # \(name) — a starter stack written by `maifctl init --platform \(p.rawValue)`: \(p.summary).
            # The values are the MAIF distributed-deployment guide's; edit them to fit. Reference: docs/stack-reference.md
            #
            #   maifctl validate \(name).yaml
            #   maifctl check    \(name).yaml
            #   maifctl plan     \(name).yaml --out \(name).plan
            #   maifctl apply    \(name).plan

            """
        let aws = """
              aws:
                region: us-east-1
                access_key_id: {env: AWS_ACCESS_KEY_ID}
                secret_access_key: {env: AWS_SECRET_ACCESS_KEY}

            """
        switch p {
        case .local:
            return intro + """

                stack:
                  name: \(name)
                  description: The guide's three-node cluster, on this machine
                  cloud: local

                clouds:
                  local:
                    root: .maif/local

                """
        case .aws:
            return intro + """

                stack:
                  name: \(name)
                  description: The guide's three-node cluster on AWS
                  cloud: aws
                  region: ${var.region}
                  variables:
                    region: {default: us-east-1, description: AWS region of the cluster and its backups}
                    maif_version: {default: latest, description: tag of the maif/maif-enterprise image}

                clouds:
                  aws:
                    region: ${var.region}
                    access_key_id: {env: AWS_ACCESS_KEY_ID}
                    secret_access_key: {env: AWS_SECRET_ACCESS_KEY}

                """
        case .gcp:
            return intro + """

                stack:
                  name: \(name)
                  description: The guide's three-node cluster on Google Cloud
                  cloud: gcp
                  region: us-central1
                  variables:
                    maif_version: {default: latest, description: tag of the maif/maif-enterprise image}

                clouds:
                  gcp:
                    project: \(name)            # your project id
                    region: us-central1
                    credentials: {env: GOOGLE_APPLICATION_CREDENTIALS}

                """
        case .azure:
            return intro + """

                stack:
                  name: \(name)
                  description: The guide's three-node cluster on Azure
                  cloud: azure
                  region: East US
                  variables:
                    maif_version: {default: latest, description: tag of the maif/maif-enterprise image}

                clouds:
                  azure:                  # ids are not secrets; replace the placeholders with yours
                    subscription: 00000000-0000-0000-0000-000000000000
                    tenant: 00000000-0000-0000-0000-000000000000
                    region: East US
                    client_id: 00000000-0000-0000-0000-000000000000
                    client_secret: {env: AZURE_CLIENT_SECRET}

                """
        case .kubernetes:
            return intro + """

                stack:
                  name: \(name)
                  description: The guide's three-node cluster as a Kubernetes StatefulSet
                  cloud: kubernetes
                  variables:
                    kube_context: {default: production, description: kubeconfig context to deploy into}
                    namespace: {default: default, description: namespace of the StatefulSet}
                    maif_version: {default: latest, description: tag of the maif/maif-enterprise image}

                clouds:
                  kubernetes:
                    kubeconfig: ~/.kube/config
                    context: ${var.kube_context}
                    namespace: ${var.namespace}
                  # the backups go to S3
                \(aws)
                """
        case .swarm:
            return intro + """

                stack:
                  name: \(name)
                  description: The guide's swarm cluster, a manager and two workers
                  cloud: swarm
                  variables:
                    maif_version: {default: latest, description: tag of the maif/maif-enterprise image}

                clouds:
                  swarm:
                    host: unix:///var/run/docker.sock   # or tcp://manager.example.com:2376 with cert_path; DOCKER_HOST overrides it
                    wait_for_running: 2m
                  # the backups go to S3
                \(aws)
                """
        case .onprem:
            return intro + """

                stack:
                  name: \(name)
                  description: The guide's three-node cluster on our own hosts
                  cloud: onprem
                  variables:
                    ssh_user: maif
                    maif_version: {default: latest, description: tag of the maif/maif-enterprise image}

                clouds:
                  onprem:
                    user: ${var.ssh_user}
                    key: {file: ~/.ssh/maif_ed25519}
                    port: 22
                    known_hosts: ~/.ssh/known_hosts
                    strict_host_key_checking: true

                """
        }
    }

    private static func clusters(_ p: StarterPlatform, name: String) -> String {
        let roles = ["primary", "secondary", "cache"]
        let comments = ["handles writes and coordination", "a replica, for high availability", "low-latency reads"]
        var nodes: [String] = []
        for i in 0..<3 {
            var fields: [String]
            switch p {
            case .local: fields = ["id: node-\(i + 1)", "role: \(roles[i])", "host: 127.0.0.1", "port: \(8080 + i)"]
            case .aws: fields = ["id: node-\(i + 1)", "role: \(roles[i])", "zone: us-east-1\(["a", "b", "c"][i])", "port: 8080"]
            case .gcp: fields = ["id: node-\(i + 1)", "role: \(roles[i])", "zone: us-central1-\(["a", "b", "c"][i])", "port: 8080"]
            case .azure: fields = ["id: node-\(i + 1)", "role: \(roles[i])", "port: 8080"]
            case .kubernetes: fields = ["id: maif-\(i)", "role: \(i == 0 ? "primary" : "secondary")", "port: 8080"]
            case .swarm: fields = i == 0 ? ["id: maif-manager", "role: manager", "port: 8080"] : ["id: maif-worker-\(i)", "role: worker"]
            case .onprem: fields = ["id: node-\(i + 1)", "role: \(roles[i])", "host: 10.0.1.\(10 + i)", "port: 8080"]
            }
            if p != .swarm {
                let big = p == .kubernetes ? "{cpu: 2, memory: 8Gi, storage: 1Ti}"
                    : i == 2 ? "{cpu: 4, memory: 64GB, storage: 500GB}" : "{cpu: 8, memory: 32GB, storage: 1TB}"
                fields.append("resources: \(big)")
            }
            let comment = p == .kubernetes || p == .swarm ? "" : "   # \(comments[i])"
            nodes.append("      - {\(fields.joined(separator: ", "))}\(comment)")
        }
        var cluster = ["  - name: \(name)-cluster"]
        switch p {
        case .local: cluster.append("    platform: local")
        case .aws: cluster += ["    platform: vm", "    instance_type: c5.4xlarge", "    image: maif/maif-enterprise:${var.maif_version}"]
        case .gcp: cluster += ["    platform: vm", "    machine_type: c2-standard-16", "    image: maif/maif-enterprise:${var.maif_version}"]
        case .azure: cluster += ["    platform: vm", "    vm_size: Standard_D16s_v3", "    image: maif/maif-enterprise:${var.maif_version}"]
        case .kubernetes: cluster += ["    platform: kubernetes", "    image: maif/maif-enterprise:${var.maif_version}", "    storage_class: standard"]
        case .swarm: cluster += ["    platform: swarm", "    image: maif/maif-enterprise:${var.maif_version}"]
        case .onprem: cluster += ["    platform: onprem", "    image: maif/maif-enterprise:${var.maif_version}"]
        }
        cluster += ["    replication_factor: 3        # every write lands on 3 nodes",
                    "    consistency_level: quorum    # a majority must acknowledge it",
                    "    nodes:"] + nodes
        return "\nclusters:\n" + cluster.joined(separator: "\n") + "\n"
    }

    private static func policies(_ p: StarterPlatform, name: String) -> String {
        let target: String
        switch p {
        case .local: target = "    - {name: local-backups, type: local, path: .maif/backups/\(name)}"
        case .aws, .kubernetes, .swarm: target = "    - {type: s3, bucket: \(name)-backups, region: us-east-1, encryption: true}"
        case .gcp: target = "    - {type: gcs, bucket: \(name)-backups, region: us-central1, encryption: true}"
        case .azure: target = "    - {type: azure_blob, container: \(name)-backups, region: East US, encryption: true}"
        case .onprem: target = "    - {name: backup-host, type: onprem, host: 10.0.1.20, path: /var/backups/maif, encryption: true}"
        }
        let admin = p == .local ? "127.0.0.0/8" : "10.0.0.0/16"
        return """

            # Adaptive balancing: latency-aware routing, falling back to least-connections.
            load_balancing:
              strategy: adaptive
              health_check_interval: 30s
              health_check_path: /health
              failure_threshold: 3           # 3 failed checks take a node out
              recovery_threshold: 2          # 2 good checks bring it back
              adaptive:
                primary: latency_aware
                fallback: least_connections
                switch_threshold: 100ms

            autoscaling:
              horizontal:
                min_nodes: 3
                max_nodes: 20
                target_cpu_utilization: 70
                target_memory_utilization: 80
                scale_up_cooldown: 300s
                scale_down_cooldown: 600s

            high_availability:
              replication_factor: 3
              quorum_size: 2                 # a majority of 3
              failure_detection_timeout: 30s
              automatic_failover: true
              failure_detection:
                heartbeat_interval: 10s
                failure_threshold: 3
                network_partition_detection: true
              recovery:
                auto_restart: true
                data_recovery: true
                split_brain_protection: true
              partition:
                minority_side: read_only     # the smaller side of a split stops taking writes

            disaster_recovery:
              backup_strategy: incremental
              rto: 15m                       # recovery time objective
              rpo: 5m                        # recovery point objective
              backup_targets:
            \(target)
              schedule:
                full_backup: daily
                incremental_backup: hourly
                transaction_log_backup: 5m   # matches the 5m RPO
              recovery_procedures:
                automated_failover: true
                data_validation: true
                rollback_capability: true

            monitoring:
              interval: 30s
              retention: 30d
              node_metrics: [cpu_utilization, memory_utilization, disk_usage, network_io, request_rate, response_time]
              cluster_metrics: [cluster_health, replication_lag, consensus_state, data_distribution, failover_status]
              alert_rules:
                - {name: high_cpu_usage, condition: cpu_utilization > 90, duration: 5m, severity: warning}
                - {name: node_down, condition: "node_status == 'down'", duration: 1m, severity: critical}

            # The security items of the guide's production checklist (maifctl check asks for them).
            security:
              tls: true
              authentication: mutual_tls
              audit_logging: true
              admin_cidrs: [\(admin)]

            """
    }
}
