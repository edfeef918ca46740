/// Maps the merged YAML tree onto the typed `Stack`, section by section.

import ProviderKit
import StackModel

struct StackDecoder {
    let context: DecodeContext
    let files: [String]
    /// `clouds.<section>` → the provider's settings schema; nil leaves `clouds` unchecked.
    var settingsSchemas: [String: SettingsSchema]?

    static let sections = [
        "stack", "clouds", "clusters", "load_balancing", "geo_routing", "autoscaling", "high_availability",
        "disaster_recovery", "multi_cloud", "hybrid", "monitoring", "security", "resources", "moved",
    ]

    func decode(_ root: SourceNode) -> Stack? {
        guard let r = ObjectReader(root, "the stack file", context) else { return nil }
        let meta = r.object("stack", "stack") { decodeMeta($0) }
        if !r.has("stack") {
            r.missing("stack", example: "{name: my-stack}")
        } else if meta == nil, r.raw("stack") == nil {
            context.error("missing-key", "stack is missing required key 'name'", hint: "add `name: production` under stack",
                          at: r.keyLocation("stack"))
        }
        let clouds = r.object("clouds", "clouds") { decodeClouds($0) } ?? Clouds()
        let defaultCloud = meta?.cloud ?? .local
        let clusters = r.objects("clusters", "cluster") { decodeCluster($0, defaultCloud: defaultCloud) } ?? []
        var stack = Stack(meta: meta ?? StackMeta(name: "unnamed"), clouds: clouds, clusters: clusters, files: files)
        stack.loadBalancing = r.object("load_balancing", "load_balancing") { decodeLoadBalancing($0) }
        stack.geoRouting = r.object("geo_routing", "geo_routing") { decodeGeoRouting($0) }
        stack.autoscaling = r.object("autoscaling", "autoscaling") { decodeAutoscaling($0) }
        stack.highAvailability = r.object("high_availability", "high_availability") { decodeHighAvailability($0) }
        stack.disasterRecovery = r.object("disaster_recovery", "disaster_recovery") { decodeDisasterRecovery($0) }
        stack.multiCloud = r.object("multi_cloud", "multi_cloud") { decodeMultiCloud($0) }
        stack.hybrid = r.object("hybrid", "hybrid") { decodeHybrid($0) }
        stack.monitoring = r.object("monitoring", "monitoring") { decodeMonitoring($0) }
        stack.security = r.object("security", "security") { decodeSecurity($0) }
        stack.resources = r.objects("resources", "resource") { RawResourceDecoder(context: context).decode($0) } ?? []
        // A cluster's region: its own, else its cloud's multi_cloud deployment's, else the cloud's settings', else the stack's.
        for i in stack.clusters.indices where stack.clusters[i].region == nil {
            stack.clusters[i].region = Placement.region(of: stack.clusters[i], in: stack) ?? stack.meta.region
        }
        stack.moved = r.objects("moved", "move") { m in
            let from = m.requiredString("from", example: "local.null.old")
            let to = m.requiredString("to", example: "local.null.new")
            guard let from, let to else { return nil }
            return Move(from: from, to: to, location: m.location)
        } ?? []
        r.finish()
        stack.sourceMap = context.sourceMap
        return stack
    }

    // MARK: stack, clouds

    private func decodeMeta(_ r: ObjectReader) -> StackMeta? {
        let name = r.requiredString("name", example: "production")
        if let name, !isValidName(name) {
            context.error("invalid-name", "stack name '\(name)' may only contain letters, digits, '-' and '_'",
                          hint: "it names the state folder and every resource's tags", at: r.raw("name")?.location)
        }
        var meta = StackMeta(name: name ?? "unnamed", location: r.location)
        meta.description = r.string("description")
        meta.cloud = r.enumeration("cloud", CloudKind.self)
        meta.region = r.string("region")
        // Variables were resolved before decoding; read the section here only so its keys count as known.
        _ = r.raw("variables")
        meta.variables = context.variables
        return meta
    }

    private func decodeClouds(_ r: ObjectReader) -> Clouds {
        CloudsDecoder(context: context, schemas: settingsSchemas).decode(r)
    }

    // MARK: clusters

    private func decodeCluster(_ r: ObjectReader, defaultCloud: CloudKind) -> Cluster? {
        let name = r.requiredString("name", example: "production-cluster")
        if let name, !isValidName(name) {
            context.error("invalid-name", "cluster name '\(name)' may only contain letters, digits, '-' and '_'",
                          hint: "it becomes part of every resource address", at: r.raw("name")?.location)
        }
        let cloud = r.enumeration("cloud", CloudKind.self) ?? defaultCloud
        let platform = r.enumeration("platform", Platform.self) ?? cloud.defaultPlatform
        if !platform.runs(on: cloud) {
            let allowed = CloudKind.allCases.filter { platform.runs(on: $0) }.map(\.rawValue).joined(separator: ", ")
            context.error("platform-cloud-mismatch", "platform '\(platform.rawValue)' does not run on cloud '\(cloud.rawValue)'",
                          hint: "platform \(platform.rawValue) runs on: \(allowed)", at: r.raw("platform")?.location ?? r.location)
        }
        let nodes = r.objects("nodes", "node") { decodeNode($0, platform: platform) }
        if !r.has("nodes") { r.missing("nodes", example: "[{id: node-1, role: primary}]") }
        if case .sequence(let written)? = r.raw("nodes")?.kind, written.isEmpty {
            context.error("empty-cluster", "cluster '\(name ?? "?")' has no nodes", hint: "list at least one node", at: r.raw("nodes")?.location)
        }
        var cluster = Cluster(name: name ?? "unnamed", cloud: cloud, region: r.string("region"),
                              platform: platform, nodes: nodes ?? [], location: r.location)
        cluster.replicationFactor = r.int("replication_factor", in: 1...99) ?? 3
        cluster.consistencyLevel = r.enumeration("consistency_level", ConsistencyLevel.self) ?? .quorum
        cluster.image = r.string("image")
        cluster.instanceType = r.string("instance_type")
        cluster.machineType = r.string("machine_type")
        cluster.vmSize = r.string("vm_size")
        cluster.storageClass = r.string("storage_class")
        return name == nil ? nil : cluster
    }

    private func decodeNode(_ r: ObjectReader, platform: Platform) -> Node? {
        let id = r.requiredString("id", example: "node-1")
        if let id, !isValidName(id) {
            context.error("invalid-name", "node id '\(id)' may only contain letters, digits, '-' and '_'",
                          hint: "it becomes part of the node's resource address", at: r.raw("id")?.location)
        }
        let role = r.enumeration("role", NodeRole.self)
        if !r.has("role") { r.missing("role", example: platform.roles[0].rawValue) }
        if let role, !platform.roles.contains(role) {
            context.error("role-not-on-platform", "role '\(role.rawValue)' does not exist on platform '\(platform.rawValue)'",
                          hint: "roles on \(platform.rawValue): \(platform.roles.map(\.rawValue).joined(separator: ", "))",
                          at: r.raw("role")?.location)
        }
        var node = Node(id: id ?? "?", role: role ?? platform.roles[0], location: r.location)
        node.host = r.string("host")
        node.port = r.int("port", in: 1...65535) ?? 8080
        node.weight = r.double("weight", in: 0...1000) ?? 1.0
        node.zone = r.string("zone")
        node.resources = r.object("resources", "node resources") { res in
            NodeResources(cpu: res.double("cpu", in: 0.001...4096), memory: res.size("memory"), storage: res.size("storage"))
        } ?? NodeResources()
        return id == nil || role == nil ? nil : node
    }

    // MARK: load_balancing, geo_routing

    private func decodeLoadBalancing(_ r: ObjectReader) -> LoadBalancing {
        var lb = LoadBalancing()
        lb.location = r.location
        lb.strategy = r.enumeration("strategy", BalancingStrategy.self) ?? .roundRobin
        lb.healthCheckInterval = r.duration("health_check_interval") ?? lb.healthCheckInterval
        lb.healthCheckPath = r.string("health_check_path") ?? lb.healthCheckPath
        lb.failureThreshold = r.int("failure_threshold", in: 1...100) ?? lb.failureThreshold
        lb.recoveryThreshold = r.int("recovery_threshold", in: 1...100) ?? lb.recoveryThreshold
        lb.adaptive = r.object("adaptive", "load_balancing.adaptive") { a in
            var ad = AdaptiveBalancing()
            ad.primary = a.enumeration("primary", BalancingStrategy.self) ?? ad.primary
            ad.fallback = a.enumeration("fallback", BalancingStrategy.self) ?? ad.fallback
            ad.switchThreshold = a.duration("switch_threshold") ?? ad.switchThreshold
            return ad
        }
        for (id, weight) in r.entries("weights", "node weights", { e -> (String, Double)? in
            guard let t = r.text(e.value, expected: "a weight"), let w = Double(t), w >= 0 else {
                context.error("invalid-number", "expected a weight (a number ≥ 0) for node '\(e.key)'", at: e.value.location)
                return nil
            }
            lb.weightLocations[e.key] = e.keyLocation
            return (e.key, w)
        }) ?? [] {
            lb.weights[id] = weight
        }
        return lb
    }

    private func decodeGeoRouting(_ r: ObjectReader) -> GeoRouting {
        var geo = GeoRouting()
        geo.location = r.location
        geo.regions = r.entries("regions", "regions") { e -> GeoRegion? in
            guard let rr = ObjectReader(e.value, "region '\(e.key)'", context, path: "geo_routing.regions.\(e.key)") else { return nil }
            var region = GeoRegion(name: e.key)
            region.sourceLocation = e.keyLocation
            region.cluster = rr.string("cluster")
            region.nodes = rr.stringList("nodes") ?? []
            region.capacity = rr.int("capacity", in: 0...Int.max)
            region.location = rr.object("location", "location") { l in
                let lat = l.double("lat", in: -90...90), lon = l.double("lon", in: -180...180)
                if !l.has("lat") { l.missing("lat", example: "39.0458") }
                if !l.has("lon") { l.missing("lon", example: "-76.6413") }
                guard let lat, let lon else { return nil }
                return GeoLocation(latitude: lat, longitude: lon)
            }
            rr.finish()
            return region
        } ?? []
        _ = r.object("routing", "geo_routing.routing") { p -> Void in
            geo.primary = p.enumeration("primary", RegionSelection.self) ?? geo.primary
            geo.fallback = p.enumeration("fallback", RegionSelection.self) ?? geo.fallback
            geo.dataLocality = p.bool("data_locality") ?? geo.dataLocality
            geo.complianceAware = p.bool("compliance_aware") ?? geo.complianceAware
        }
        for (dataClass, regions) in r.entries("compliance", "data classes", { e -> (String, [String])? in
            guard let list = r.stringList(e.value) else { return nil }
            if case .sequence(let items) = e.value.kind { geo.complianceLocations[e.key] = items.map(\.location) }
            return (e.key, list)
        }) ?? [] {
            geo.compliance[dataClass] = regions
        }
        return geo
    }

    // MARK: autoscaling

    private func decodeAutoscaling(_ r: ObjectReader) -> Autoscaling {
        var a = Autoscaling()
        a.horizontal = r.object("horizontal", "autoscaling.horizontal") { h in
            var hs = HorizontalScaling()
            hs.location = h.location
            hs.minNodes = h.int("min_nodes", in: 0...100_000) ?? hs.minNodes
            hs.maxNodes = h.int("max_nodes", in: 1...100_000) ?? hs.maxNodes
            if hs.minNodes > hs.maxNodes {
                context.error("min-greater-than-max", "min_nodes (\(hs.minNodes)) is greater than max_nodes (\(hs.maxNodes))",
                              hint: "raise max_nodes or lower min_nodes", at: h.raw("min_nodes")?.location ?? h.location)
            }
            hs.targetCPUUtilization = h.percentage("target_cpu_utilization") ?? hs.targetCPUUtilization
            hs.targetMemoryUtilization = h.percentage("target_memory_utilization") ?? hs.targetMemoryUtilization
            hs.scaleUpCooldown = h.duration("scale_up_cooldown") ?? hs.scaleUpCooldown
            hs.scaleDownCooldown = h.duration("scale_down_cooldown") ?? hs.scaleDownCooldown
            hs.policies = h.objects("policies", "scaling policy") { p -> ScalingPolicy? in
                let name = p.requiredString("name", example: "cpu_scaling")
                let metric = p.requiredString("metric", example: "cpu_utilization")
                let threshold = p.double("threshold")
                if !p.has("threshold") { p.missing("threshold", example: "80") }
                let action = p.enumeration("action", ScalingAction.self)
                if !p.has("action") { p.missing("action", example: "scale_up") }
                let adjustment = p.int("adjustment", in: -1000...1000)
                if !p.has("adjustment") { p.missing("adjustment", example: "2") }
                let duration = p.duration("duration")
                guard let name, let metric, let threshold, let action, let adjustment else { return nil }
                if (action == .scaleUp && adjustment <= 0) || (action == .scaleDown && adjustment >= 0) {
                    context.error("invalid-adjustment",
                                  "a \(action.rawValue) policy needs a \(action == .scaleUp ? "positive" : "negative") adjustment, got \(adjustment)",
                                  hint: action == .scaleUp ? "e.g. adjustment: 2" : "e.g. adjustment: -1",
                                  at: p.raw("adjustment")?.location)
                }
                var policy = ScalingPolicy(name: name, metric: metric, threshold: threshold, action: action, adjustment: adjustment)
                policy.duration = duration
                policy.location = p.location
                return policy
            } ?? []
            return hs
        }
        a.vertical = r.object("vertical", "autoscaling.vertical") { v in
            var vs = VerticalScaling()
            vs.cpu = v.object("cpu", "vertical cpu") { decodeBounds($0, cpu: true) }
            vs.memory = v.object("memory", "vertical memory") { decodeBounds($0, cpu: false) }
            vs.storage = v.object("storage", "vertical storage") { decodeBounds($0, cpu: false) }
            vs.adjustmentInterval = v.duration("adjustment_interval") ?? vs.adjustmentInterval
            vs.safetyMargin = v.double("safety_margin", in: 0...1) ?? vs.safetyMargin
            return vs
        }
        return a
    }

    private func decodeBounds(_ r: ObjectReader, cpu: Bool) -> VerticalBounds? {
        let minText = r.requiredString("min", example: cpu ? "\"1\"" : "4Gi")
        let maxText = r.requiredString("max", example: cpu ? "\"16\"" : "64Gi")
        let target = r.percentage("target_utilization"), growth = r.percentage("growth_threshold")
        let factor = r.double("scaling_factor", in: 1...100)
        guard let minText, let maxText else { return nil }
        let parse: (String) -> Double? = { cpu ? Double($0) : ByteSize(parsing: $0).map { Double($0.bytes) } }
        let lo = parse(minText), hi = parse(maxText)
        if lo == nil { context.error(cpu ? "invalid-number" : "invalid-size", "expected \(cpu ? "a number of cpus" : "a size like 4Gi"), got \"\(minText)\"", at: r.raw("min")?.location) }
        if hi == nil { context.error(cpu ? "invalid-number" : "invalid-size", "expected \(cpu ? "a number of cpus" : "a size like 64Gi"), got \"\(maxText)\"", at: r.raw("max")?.location) }
        if let lo, let hi, lo > hi {
            context.error("min-greater-than-max", "min (\(minText)) is greater than max (\(maxText))", hint: "swap them?",
                          at: r.raw("min")?.location)
        }
        var b = VerticalBounds(min: minText, max: maxText)
        b.targetUtilization = target
        b.growthThreshold = growth
        b.scalingFactor = factor ?? b.scalingFactor
        return b
    }
}

func isValidName(_ s: String) -> Bool {
    !s.isEmpty && s.utf8.allSatisfy { c in
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 95
    }
}
