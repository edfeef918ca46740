/// Expansion onto the `gcp` provider's resource types: a VM cluster becomes a custom-mode network, a subnetwork in
/// its region, firewalls (the MAIF port from the cluster and its peers, SSH from `security.admin_cidrs`, the load
/// balancer's health checks and clients) and one Container-Optimized OS instance per node whose `user-data` is the
/// shared VMBootstrap cloud-config (cluster.yaml, TLS settings, the node's unit, the backup timers; GCPCluster.swift); a passthrough network load balancer
/// (GCPExpansion+Balancing.swift), an instance template, regional managed instance group and autoscaler for
/// `autoscaling.horizontal` (+Scaling), Cloud Monitoring alert policies for `monitoring.alert_rules` (+Monitoring) and,
/// stack-wide, a Cloud DNS zone with a geo-routed record set for `geo_routing` (+Routing); a `gcs` backup target becomes
/// a versioned bucket with a lifecycle from the retention period.
///
/// GCP labels allow only lowercase letters, digits, `_` and `-`, so resources carry `maif-stack` / `maif-address`
/// labels with sanitized values (`gcp.instance.c.n` → `gcp_instance_c_n`); the exact address is also in each
/// instance's metadata and in the description of networks, subnetworks and firewalls, which have no labels.

import ProviderKit
import StackModel

enum GCPExpansion {
    /// The guide's GCP size and disk.
    static let defaultMachineType = "c2-standard-16"
    static let defaultDiskType = "pd-ssd"
    static let diskTypes = ["pd-standard", "pd-balanced", "pd-ssd", "pd-extreme", "hyperdisk-balanced", "hyperdisk-extreme", "hyperdisk-throughput"]
    /// Container-Optimized OS: Docker is installed, and the `user-data` cloud-config is run at boot.
    static let image = "projects/cos-cloud/global/images/family/cos-stable"
    /// The guide's per-node volume (1Ti) when neither the node nor vertical scaling gives a size.
    static let defaultDiskGiB: Int64 = 1024

    static func cluster(_ cluster: Cluster, in stack: Stack) -> PlatformOutput {
        var out = PlatformOutput()
        guard let basics = VMClusterBasics.check(cluster, in: stack, cloud: .gcp, defaultDiskType: defaultDiskType, diskTypes: diskTypes,
                                                 diskTypeWhat: "a Compute Engine disk type", into: &out) else { return out }
        let c = GCPCluster(stack: stack, cluster: cluster, basics: basics)
        out.resources += c.network()
        out.resources += c.instances(&out.diagnostics)
        out += c.loadBalancer()
        out += c.autoScaling()
        out += c.alertPolicies()
        return out
    }

    static func backupTarget(_ target: BackupTarget, in stack: Stack) -> PlatformOutput {
        var out = PlatformOutput()
        guard let bucket = target.bucket else { return out }  // the loader already reported it
        if !isBucketName(bucket) {
            out.diagnostics.append(.error("invalid-bucket-name", "'\(bucket)' is not a valid Cloud Storage bucket name",
                                          hint: "3-63 lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
                                          at: target.location))
        }
        guard let region = target.region ?? stack.clouds["gcp"]?.string("region") else {
            out.diagnostics.append(.error("missing-region", "backup target '\(target.name)' (gcs) has no region",
                                          hint: "set region on the target or under clouds.gcp", at: target.location))
            return out
        }
        if !target.encryption {
            out.diagnostics.append(.warning("encryption-always-on", "Cloud Storage encrypts every object at rest; encryption: false on '\(target.name)' has no effect",
                                            at: target.location))
        }
        let address = ResourceAddress(provider: "gcp", kind: "bucket", name: addressName(target.name))
        let days = Int64(retentionDays(stack))
        var config: [String: AttributeValue] = [
            "name": .string(bucket),
            "location": .string(region.uppercased()),
            "storage_class": "STANDARD",
            "versioning": .map(["enabled": true]),
            // Backups older than the retention period go; an overwritten or deleted one stays recoverable as long.
            "lifecycle": .map(["rule": .list([
                .map(["action": .map(["type": "Delete"]), "condition": .map(["age": .int(days), "is_live": true])]),
                .map(["action": .map(["type": "Delete"]), "condition": .map(["days_since_noncurrent_time": .int(days)])]),
            ])]),
            "iam_configuration": .map([
                "uniform_bucket_level_access": .map(["enabled": true]),
                "public_access_prevention": "enforced",
            ]),
            "labels": labels(stack, address),
        ]
        if let project = stack.clouds["gcp"]?.string("project") { config["project"] = .string(project) }
        if let key = stack.clouds["gcp"]?.string("backup_kms_key") { config["encryption"] = .map(["default_kms_key_name": .string(key)]) }
        out.resources.append(DesiredResource(address: address, config: config, origin: target.location))
        return out
    }

    // MARK: Sizing

    /// The cluster's `machine_type`, else multi_cloud's, else the smallest N2 type that fits the node's resources,
    /// else the guide's c2-standard-16.
    static func machineType(for node: Node, cluster: Cluster, deployment: CloudDeployment?, stack: Stack) -> (String, String?) {
        SizeCatalogue(sizes: n2Types, family: "N2 machine type")
            .size(for: node, configured: cluster.machineType ?? deployment?.size, fallback: defaultMachineType)
    }

    static let n2Types: [(name: String, vcpus: Double, memoryGiB: Double)] = {
        var out: [(String, Double, Double)] = []
        for v in [2, 4, 8, 16, 32, 48, 64, 80, 96, 128] {
            out.append(("n2-standard-\(v)", Double(v), Double(v * 4)))
            out.append(("n2-highmem-\(v)", Double(v), Double(v * 8)))
            if v <= 96 { out.append(("n2-highcpu-\(v)", Double(v), Double(v))) }
        }
        return out
    }()

    /// The node's storage, else vertical scaling's minimum, else 1Ti; in GiB, rounded up.
    static func diskGiB(_ node: Node, _ stack: Stack) -> Int64 {
        let size = node.resources.storage ?? stack.autoscaling?.vertical?.storage.flatMap { ByteSize(parsing: $0.min) }
        guard let size else { return defaultDiskGiB }
        return max(10, Int64(size.gibibytes.rounded(.up)))
    }

    static func retentionDays(_ stack: Stack) -> Int {
        let seconds = (stack.highAvailability?.retentionPeriod ?? .seconds(30 * 86_400)).seconds
        return max(1, Int((seconds / 86_400).rounded(.up)))
    }

    // MARK: Zones and hosts

    /// Nodes are spread over three zones of the region; most regions have a, b and c.
    static func zones(in region: String) -> [String] {
        let letters = ["us-east1": ["b", "c", "d"], "europe-west1": ["b", "c", "d"]][region] ?? ["a", "b", "c"]
        return letters.map { "\(region)-\($0)" }
    }

    static func zone(of node: Node, index: Int, zones: [String], region: String) -> String {
        if let z = node.zone, z.hasPrefix(region + "-") { return z }
        return zones[index % zones.count]
    }

    /// The cluster with each node's host filled in: an IPv4 host stays (it becomes the instance's network_ip),
    /// otherwise the instance's internal DNS name, so every node's cluster.yaml names its peers.
    static func withHosts(_ cluster: Cluster, base: String, zones: [String], region: String, project: String?) -> Cluster {
        var c = cluster
        for (i, node) in c.nodes.enumerated() where node.host == nil {
            let name = resourceName(base, node.id)
            c.nodes[i].host = project.map { "\(name).\(zone(of: node, index: i, zones: zones, region: region)).c.\($0).internal" } ?? name
        }
        return c
    }

    // MARK: Names and owner labels

    /// A Compute Engine name: lowercase letters, digits and '-', starting with a letter, at most 63 characters
    /// (longer names keep a hash of the whole so they stay unique).
    static func resourceName(_ parts: String...) -> String {
        var s = String(parts.joined(separator: "-").lowercased().map { c -> Character in
            (c.isASCII && (c.isLetter || c.isNumber)) ? c : "-"
        })
        if let f = s.first, !f.isLetter { s = "m-" + s }
        s = fitted(s, limit: 63)
        while s.hasSuffix("-") { s.removeLast() }
        return s
    }

    /// A label value: lowercase letters, digits, '_' and '-', at most 63 characters; the dots of an address become '_'.
    static func labelValue(_ text: String) -> String {
        let s = String(text.lowercased().map { c -> Character in
            if c == "." { return "_" }
            return (c.isASCII && (c.isLetter || c.isNumber)) || c == "_" || c == "-" ? c : "-"
        })
        return fitted(s, limit: 63)
    }

    static func fitted(_ s: String, limit: Int) -> String {
        guard s.count > limit else { return s }
        let hash = String(Networks.stableHash(s), radix: 16)
        let padded = String(repeating: "0", count: 8 - hash.count) + hash
        return String(s.prefix(limit - 9)) + "-" + padded
    }

    static func labels(_ stack: Stack, _ address: ResourceAddress) -> AttributeValue {
        .map(["maif-stack": .string(labelValue(stack.meta.name)), "maif-address": .string(labelValue(address.description))])
    }

    static func ownerDescription(_ stack: Stack, _ address: ResourceAddress) -> String {
        "Managed by maifctl: maif:stack=\(stack.meta.name) maif:address=\(address)"
    }

    /// A resource address part from a free-form name: letters, digits, '-' and '_'.
    static func addressName(_ name: String) -> String {
        String(name.map { c -> Character in (c.isASCII && (c.isLetter || c.isNumber)) || c == "-" || c == "_" ? c : "-" })
    }

    static func isBucketName(_ name: String) -> Bool {
        guard (3...63).contains(name.count), let f = name.first, let l = name.last,
              f.isASCII && (f.isLowercase || f.isNumber), l.isASCII && (l.isLowercase || l.isNumber) else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "-_.".contains($0)) }
    }
}

extension GCPExpansion: PlatformExpansion {
    static func expands(_ cluster: Cluster) -> Bool { cluster.platform == .vm && cluster.cloud == .gcp }
    static var backupKinds: Set<BackupTargetKind> { [.gcs] }
    static func stackWide(_ stack: Stack) -> PlatformOutput {
        var out = GCPGeoRouting(stack: stack).expand()
        out += notificationChannels(stack)
        return out
    }
}
