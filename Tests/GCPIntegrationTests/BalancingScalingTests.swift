/// Load balancing and horizontal scaling through the provider: health check, unmanaged instance group, backend service,
/// forwarding rule; instance template, regional managed instance group, regional autoscaler — created, read back with
/// no change, changed in place, and deleted in dependency order.

import Foundation
import ProviderKit
import Testing
@testable import GCPProvider

extension GCPIntegration {
    @Test func loadBalancerAndAutoscaledGroupLifecycle() async throws {
        let servers = try GCPServers.start()
        let gcp = try servers.provider()
        let net = try await makeNetwork(gcp, servers, name: "lb")
        let networkLink = net.network.attributes["self_link"]!, subnetLink = net.subnetwork.attributes["self_link"]!

        let i = servers.context("instance", "lb.node-1")
        let instance = try await gcp.create(i, servers.marked(gcp, i, [
            "name": "lb-node-1", "zone": "us-central1-a", "machine_type": "e2-standard-4",
            "disks": .list([.map(["boot": true, "auto_delete": true, "initialize_params": .map([
                "disk_type": "pd-ssd", "disk_size_gb": 20, "source_image": "projects/cos-cloud/global/images/family/cos-stable"])])]),
            "network_interfaces": .list([.map(["network": networkLink, "subnetwork": subnetLink])]),
        ]))

        let hc = servers.context("health_check", "lb")
        var hcConfig = servers.marked(gcp, hc, [
            "name": "lb", "region": "us-central1", "type": "HTTPS",
            "https_health_check": .map(["port": 8080, "request_path": "/health"]),
            "check_interval_sec": 30, "timeout_sec": 5, "healthy_threshold": 2, "unhealthy_threshold": 3,
        ])
        let check = try await gcp.create(hc, hcConfig)
        #expect(try await gcp.read(hc, check) == check)

        let g = servers.context("instance_group", "lb.us-central1-a")
        var groupConfig = servers.marked(gcp, g, ["name": "lb-a", "zone": "us-central1-a", "network": networkLink,
                                                   "instances": .list([instance.attributes["self_link"]!])])
        let group = try await gcp.create(g, groupConfig)
        #expect(group.attributes["instances"] == .list([instance.attributes["self_link"]!]))
        #expect(group.attributes["size"] == .int(1))

        // Scaling: template → regional MIG (auto-healing on the health check) → autoscaler.
        let t = servers.context("instance_template", "lb")
        let template = try await gcp.create(t, servers.marked(gcp, t, [
            "name": "lb-t1", "machine_type": "e2-standard-4",
            "disks": .list([.map(["boot": true, "auto_delete": true, "initialize_params": .map([
                "disk_type": "pd-ssd", "disk_size_gb": 20, "source_image": "projects/cos-cloud/global/images/family/cos-stable"])])]),
            "network_interfaces": .list([.map(["network": networkLink, "subnetwork": subnetLink])]),
            "metadata": .map(["startup-script": "#!/bin/bash\n"]), "network_tags": .list(["lb"]), "labels": .map(["maif-cluster": "lb"]),
        ]))
        #expect(template.attributes["machine_type"] == "e2-standard-4")
        #expect(try await gcp.read(t, template) == template)

        let m = servers.context("instance_group_manager", "lb")
        var migConfig = servers.marked(gcp, m, [
            "name": "lb", "region": "us-central1", "base_instance_name": "lb-scaled", "instance_template": template.attributes["self_link"]!,
            "target_size": 0,
            "auto_healing_policies": .list([.map(["health_check": check.attributes["self_link"]!, "initial_delay_sec": 300])]),
        ])
        let mig = try await gcp.create(m, migConfig)
        #expect(mig.attributes["instance_group"]?.stringValue?.hasSuffix("/regions/us-central1/instanceGroups/lb") == true)

        let a = servers.context("autoscaler", "lb")
        var scalerConfig = servers.marked(gcp, a, [
            "name": "lb", "region": "us-central1", "target": mig.attributes["self_link"]!,
            "autoscaling_policy": .map([
                "min_num_replicas": 0, "max_num_replicas": 17, "cool_down_period_sec": 300,
                "cpu_utilization": .map(["utilization_target": .double(0.7)]),
                "custom_metric_utilizations": .list([.map(["metric": "agent.googleapis.com/memory/percent_used", "utilization_target": 80,
                                                           "utilization_target_type": "GAUGE"])]),
                "scale_in_control": .map(["max_scaled_in_replicas": .map(["fixed": 1]), "time_window_sec": 600]),
                "mode": "ON",
            ]),
        ])
        let scaler = try await gcp.create(a, scalerConfig)
        #expect(try await gcp.read(a, scaler) == scaler, "GCP's defaults (predictive method, …) are not drift")
        #expect(try await gcp.read(m, mig) == mig, "the autoscaler attaching is not drift of the group")

        let b = servers.context("backend_service", "lb")
        var serviceConfig = servers.marked(gcp, b, [
            "name": "lb", "region": "us-central1", "load_balancing_scheme": "EXTERNAL", "protocol": "TCP",
            "health_checks": .list([check.attributes["self_link"]!]),
            "backends": .list([.map(["group": group.attributes["self_link"]!, "balancing_mode": "CONNECTION"]),
                               .map(["group": mig.attributes["instance_group"]!, "balancing_mode": "CONNECTION"])]),
        ])
        let service = try await gcp.create(b, serviceConfig)
        #expect(try await gcp.read(b, service) == service)

        let f = servers.context("forwarding_rule", "lb")
        var ruleConfig = servers.marked(gcp, f, [
            "name": "lb", "region": "us-central1", "ip_protocol": "TCP", "ports": .list(["8080"]),
            "backend_service": service.attributes["self_link"]!, "load_balancing_scheme": "EXTERNAL", "network_tier": "PREMIUM",
        ])
        let rule = try await gcp.create(f, ruleConfig)
        #expect(rule.attributes["ip_address"]?.stringValue?.isEmpty == false)
        #expect(try await gcp.read(f, rule) == rule)

        // Google's client sees the wiring.
        let region = ["project": servers.project, "region": "us-central1"]
        let seen = try servers.google([
            ["call", "compute", "v1", "regionBackendServices", "get", GCPServers.json(region.merging(["backendService": "lb"]) { $1 })],
            ["call", "compute", "v1", "regionAutoscalers", "get", GCPServers.json(region.merging(["autoscaler": "lb"]) { $1 })],
            ["call", "compute", "v1", "forwardingRules", "get", GCPServers.json(region.merging(["forwardingRule": "lb"]) { $1 })],
        ]).compactMap { $0 as? [String: Any] }
        #expect((seen[0]["backends"] as? [[String: Any]])?.count == 2)
        #expect((seen[1].at("autoscalingPolicy.maxNumReplicas") as? Int) == 17)
        #expect((seen[2]["labels"] as? [String: String])?["maif-address"] == "gcp_forwarding_rule_lb")

        // In place: health check thresholds (patch), autoscaler bounds (patch ?autoscaler=), group members, labels.
        hcConfig["unhealthy_threshold"] = 5
        let check2 = try await gcp.update(hc, check, hcConfig)
        #expect(check2.attributes["unhealthy_threshold"] == .int(5))
        var policy = scalerConfig["autoscaling_policy"]!.mapValue!
        policy["max_num_replicas"] = 10
        scalerConfig["autoscaling_policy"] = .map(policy)
        let scaler2 = try await gcp.update(a, scaler, scalerConfig)
        #expect(scaler2.attributes["autoscaling_policy"]?.mapValue?["max_num_replicas"] == .int(10))
        let i2 = servers.context("instance", "lb.node-2")
        let second = try await gcp.create(i2, servers.marked(gcp, i2, [
            "name": "lb-node-2", "zone": "us-central1-a", "machine_type": "e2-standard-4",
            "disks": .list([.map(["boot": true, "auto_delete": true, "initialize_params": .map([
                "disk_size_gb": 20, "source_image": "projects/cos-cloud/global/images/family/cos-stable"])])]),
            "network_interfaces": .list([.map(["subnetwork": subnetLink])]),
        ]))
        groupConfig["instances"] = .list([second.attributes["self_link"]!])
        let group2 = try await gcp.update(g, group, groupConfig)
        #expect(group2.attributes["instances"] == .list([second.attributes["self_link"]!]), "one added, one removed")
        ruleConfig["labels"] = .map((ruleConfig["labels"]?.mapValue ?? [:]).merging(["tier": "edge"]) { $1 })
        let rule2 = try await gcp.update(f, rule, ruleConfig)
        #expect(rule2.attributes["labels"]?.mapValue?["tier"] == "edge")
        // A new template rolls onto the group (setInstanceTemplate).
        let t2 = servers.context("instance_template", "lb2")
        let template2 = try await gcp.create(t2, servers.marked(gcp, t2, [
            "name": "lb-t2", "machine_type": "e2-standard-8",
            "disks": .list([.map(["boot": true, "auto_delete": true, "initialize_params": .map([
                "disk_type": "pd-ssd", "disk_size_gb": 20, "source_image": "projects/cos-cloud/global/images/family/cos-stable"])])]),
            "network_interfaces": .list([.map(["network": networkLink, "subnetwork": subnetLink])]),
        ]))
        migConfig["instance_template"] = template2.attributes["self_link"]!
        let mig2 = try await gcp.update(m, mig, migConfig)
        #expect(mig2.attributes["instance_template"] == template2.attributes["self_link"])
        serviceConfig["backends"] = .list([.map(["group": group.attributes["self_link"]!, "balancing_mode": "CONNECTION"])])
        let service2 = try await gcp.update(b, service, serviceConfig)
        #expect(service2.attributes["backends"]?.listValue?.count == 1)

        // A template in use cannot go: GCP says so by its reason.
        await #expect { try await gcp.delete(t2, template2) } throws: { "\($0)".contains("resourceInUseByAnotherResource") }

        for (context, state) in [(f, rule2), (b, service2), (a, scaler2), (m, mig2), (t, template), (t2, template2), (g, group2), (hc, check2),
                                 (i, instance), (i2, second)] {
            try await gcp.delete(context, state)
            #expect(try await gcp.read(context, state) == nil, "\(context.address)")
        }
        try servers.expectNoViolations()
    }
}
