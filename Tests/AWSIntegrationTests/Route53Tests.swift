import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// Route 53 as the production and multi-region stacks use it: a hosted zone, HTTPS health checks on the load balancers,
/// and alias A records under geolocation routing (a continent each, country `*` as the default) or latency routing.
extension AWSIntegration {
    static func hostedZones(_ endpoint: String) throws -> [[String: Any]] {
        (try Moto.cli(endpoint, ["route53", "list-hosted-zones"]) as? [String: Any])?["HostedZones"] as? [[String: Any]] ?? []
    }

    static func recordSets(_ endpoint: String, zone: String) throws -> [[String: Any]] {
        (try Moto.cli(endpoint, ["route53", "list-resource-record-sets", "--hosted-zone-id", zone]) as? [String: Any])?["ResourceRecordSets"]
            as? [[String: Any]] ?? []
    }

    static func route53Tags(_ endpoint: String, _ type: String, _ id: String) throws -> [String: String] {
        let out = try Moto.cli(endpoint, ["route53", "list-tags-for-resource", "--resource-type", type, "--resource-id", id]) as? [String: Any]
        return Moto.tagList((out?["ResourceTagSet"] as? [String: Any])?["Tags"])
    }

    /// A network load balancer made with the AWS CLI, as `aws.lb` would: its DNS name and canonical hosted zone.
    static func loadBalancer(_ endpoint: String, name: String = "production-cluster") throws -> (dns: String, zone: String) {
        let vpc = ((try Moto.cli(endpoint, ["ec2", "create-vpc", "--cidr-block", "10.9.0.0/16"]) as? [String: Any])?["Vpc"] as? [String: Any])?["VpcId"] as? String ?? ""
        var subnets: [String] = []
        for (i, az) in ["us-east-1a", "us-east-1b"].enumerated() {
            let out = try Moto.cli(endpoint, ["ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.9.\(i + 1).0/24", "--availability-zone", az])
            subnets.append(((out as? [String: Any])?["Subnet"] as? [String: Any])?["SubnetId"] as? String ?? "")
        }
        let out = try Moto.cli(endpoint, ["elbv2", "create-load-balancer", "--name", name, "--type", "network", "--subnets"] + subnets) as? [String: Any]
        let lb = (out?["LoadBalancers"] as? [[String: Any]])?.first
        return (lb?["DNSName"] as? String ?? "", lb?["CanonicalHostedZoneId"] as? String ?? "")
    }

    @Test func hostedZoneLifecycle() async throws {
        let (aws, endpoint) = try Moto.provider(stack: "production")
        let ctx = Moto.context("route53_zone", "production", stack: "production")
        var config: [String: AttributeValue] = [
            "name": "production.maif.internal", "comment": "MAIF geo routing of stack production, managed by maifctl", "tags": Moto.tags(ctx),
        ]
        let zone = try await aws.create(ctx, config)
        #expect(!zone.id.contains("/"))
        #expect(zone.attributes["name"] == "production.maif.internal")
        #expect(zone.attributes["arn"] == .string("arn:aws:route53:::hostedzone/\(zone.id)"))

        let got = try Moto.cli(endpoint, ["route53", "get-hosted-zone", "--id", zone.id]) as? [String: Any]
        let hosted = got?["HostedZone"] as? [String: Any]
        #expect(hosted?["Name"] as? String == "production.maif.internal.")
        #expect((hosted?["Config"] as? [String: Any])?["Comment"] as? String == "MAIF geo routing of stack production, managed by maifctl")
        let servers = (got?["DelegationSet"] as? [String: Any])?["NameServers"] as? [String]
        #expect(servers?.isEmpty == false)
        #expect(zone.attributes["name_servers"] == .list((servers ?? []).map(AttributeValue.string)))
        #expect(try Self.route53Tags(endpoint, "hostedzone", zone.id) == ["maif:stack": "production", "maif:address": "aws.route53_zone.production"])
        try await NoChange.expect(aws, ctx, zone, config)

        // Drift: the comment changed and an owner tag removed out of band; read shows both, update puts them back.
        _ = try Moto.cli(endpoint, ["route53", "update-hosted-zone-comment", "--id", zone.id, "--comment", "hand edit"])
        _ = try Moto.cli(endpoint, ["route53", "change-tags-for-resource", "--resource-type", "hostedzone", "--resource-id", zone.id,
                                    "--remove-tag-keys", "maif:address"])
        let drifted = try #require(try await aws.read(ctx, zone))
        #expect(drifted.attributes["comment"] == "hand edit")
        #expect(drifted.attributes["tags"]?.mapValue?["maif:address"] == nil)
        #expect(try await aws.find(ctx, config)?.id == zone.id) // its CallerReference still names this address
        let repaired = try await aws.update(ctx, drifted, config)
        #expect(repaired == zone)
        #expect(try Self.route53Tags(endpoint, "hostedzone", zone.id)["maif:address"] == "aws.route53_zone.production")

        #expect(try await aws.find(ctx, config)?.id == zone.id)
        #expect(try await aws.find(Moto.context("route53_zone", "other", stack: "production"), config) == nil)

        // A record left in the zone: delete refuses (naming the call and AWS's code) unless force_destroy is set.
        let batch = #"{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"txt.production.maif.internal","Type":"TXT","TTL":60,"ResourceRecords":[{"Value":"\"hi\""}]}}]}"#
        _ = try Moto.cli(endpoint, ["route53", "change-resource-record-sets", "--hosted-zone-id", zone.id, "--change-batch", batch])
        await #expect {
            try await aws.delete(ctx, repaired)
        } throws: { error in
            "\(error)".contains("route53 DeleteHostedZone") && "\(error)".contains("HostedZoneNotEmpty")
        }
        config["force_destroy"] = true
        let forced = try await aws.update(ctx, repaired, config)
        #expect(forced.attributes["force_destroy"] == true)
        try await NoChange.expect(aws, ctx, forced, config)
        try await aws.delete(ctx, forced)
        #expect(try await aws.read(ctx, forced) == nil)
        #expect(try Self.hostedZones(endpoint).isEmpty)
        try await aws.delete(ctx, forced) // already gone: not an error
    }

    @Test func aZoneCreatedJustBeforeACrashIsFoundByItsCallerReference() async throws {
        let (aws, endpoint) = try Moto.provider(stack: "production")
        let ctx = Moto.context("route53_zone", "production", stack: "production")
        // Created, then the process died before tagging it: only the CallerReference says whose it is.
        _ = try Moto.cli(endpoint, ["route53", "create-hosted-zone", "--name", "production.maif.internal",
                                    "--caller-reference", Route53.ownerReference(ctx) + "0123abcd"])
        _ = try Moto.cli(endpoint, ["route53", "create-hosted-zone", "--name", "production.maif.internal", "--caller-reference", "someone-else"])
        let config: [String: AttributeValue] = ["name": "production.maif.internal", "tags": Moto.tags(ctx)]
        let found = try #require(try await aws.find(ctx, config))
        let zones = try Self.hostedZones(endpoint)
        let ours = zones.first { ($0["CallerReference"] as? String)?.hasPrefix("maif-") == true }?["Id"] as? String
        #expect(ours?.hasSuffix(found.id) == true)
        #expect(try await aws.find(Moto.context("route53_zone", "production", stack: "staging"), config) == nil)
    }

    @Test func healthCheckLifecycle() async throws {
        let (aws, endpoint) = try Moto.provider(stack: "production")
        let ctx = Moto.context("route53_health_check", "production.us-east-1", stack: "production")
        let config: [String: AttributeValue] = [
            "type": "HTTPS", "fully_qualified_domain_name": "production-cluster-1.us-east-1.elb.amazonaws.com", "port": 8080,
            "request_interval": 30, "resource_path": "/health", "failure_threshold": 3,
            "tags": Moto.tags(ctx, ["maif:cluster": "production-cluster"]),
        ]
        let check = try await aws.create(ctx, config)
        #expect(check.attributes["arn"] == .string("arn:aws:route53:::healthcheck/\(check.id)"))
        func cliConfig() throws -> [String: Any]? {
            let out = try Moto.cli(endpoint, ["route53", "get-health-check", "--health-check-id", check.id]) as? [String: Any]
            return (out?["HealthCheck"] as? [String: Any])?["HealthCheckConfig"] as? [String: Any]
        }
        let made = try cliConfig()
        #expect(made?["Type"] as? String == "HTTPS")
        #expect(made?["FullyQualifiedDomainName"] as? String == "production-cluster-1.us-east-1.elb.amazonaws.com")
        #expect(made?["Port"] as? Int == 8080)
        #expect(made?["ResourcePath"] as? String == "/health")
        #expect(made?["RequestInterval"] as? Int == 30)
        #expect(made?["FailureThreshold"] as? Int == 3)
        #expect(try Self.route53Tags(endpoint, "healthcheck", check.id)
                == ["maif:stack": "production", "maif:address": "aws.route53_health_check.production.us-east-1", "maif:cluster": "production-cluster"])
        try await NoChange.expect(aws, ctx, check, config)

        // Drift: threshold and path changed, a tag added out of band.
        _ = try Moto.cli(endpoint, ["route53", "update-health-check", "--health-check-id", check.id, "--failure-threshold", "5",
                                    "--resource-path", "/other"])
        _ = try Moto.cli(endpoint, ["route53", "change-tags-for-resource", "--resource-type", "healthcheck", "--resource-id", check.id,
                                    "--add-tags", "Key=extra,Value=1"])
        let drifted = try #require(try await aws.read(ctx, check))
        #expect(drifted.attributes["failure_threshold"] == 5)
        #expect(drifted.attributes["resource_path"] == "/other")
        #expect(drifted.attributes["tags"]?.mapValue?["extra"] == "1")
        let repaired = try await aws.update(ctx, drifted, config)
        #expect(repaired == check)
        #expect(try cliConfig()?["FailureThreshold"] as? Int == 3)
        #expect(try cliConfig()?["ResourcePath"] as? String == "/health")
        #expect(try Self.route53Tags(endpoint, "healthcheck", check.id)["extra"] == nil)

        #expect(try await aws.find(ctx, config)?.id == check.id)
        #expect(try await aws.find(Moto.context("route53_health_check", "production.eu-west-1", stack: "production"), config) == nil)

        try await aws.delete(ctx, repaired)
        #expect(try await aws.read(ctx, repaired) == nil)
        let listed = try Moto.cli(endpoint, ["route53", "list-health-checks"]) as? [String: Any]
        #expect((listed?["HealthChecks"] as? [Any])?.isEmpty == true)
        try await aws.delete(ctx, repaired)
    }

    @Test func geolocationAndLatencyRecords() async throws {
        let (aws, endpoint) = try Moto.provider(stack: "production")
        let lb = try Self.loadBalancer(endpoint)
        let zoneCtx = Moto.context("route53_zone", "production", stack: "production")
        let zone = try await aws.create(zoneCtx, ["name": "production.maif.internal", "tags": Moto.tags(zoneCtx)])
        let checkCtx = Moto.context("route53_health_check", "production.us-east-1", stack: "production")
        let check = try await aws.create(checkCtx, ["type": "HTTPS", "fully_qualified_domain_name": .string(lb.dns), "port": 8080,
                                                    "request_interval": 30, "resource_path": "/health", "failure_threshold": 3,
                                                    "tags": Moto.tags(checkCtx)])

        // The geolocation pair the production stack makes: North America, and country * for everyone else.
        func geo(_ location: [String: AttributeValue], _ set: String) -> [String: AttributeValue] {
            ["hosted_zone_id": .string(zone.id), "name": "production.maif.internal", "type": "A", "set_identifier": .string(set),
             "geo_location": .map(location), "health_check_id": .string(check.id),
             "alias_target": .map(["dns_name": .string(lb.dns), "hosted_zone_id": .string(lb.zone), "evaluate_target_health": true])]
        }
        let usCtx = Moto.context("route53_record", "production.us-east-1", stack: "production")
        let defaultCtx = Moto.context("route53_record", "production.default", stack: "production")
        let usConfig = geo(["continent_code": "NA"], "us-east-1"), defaultConfig = geo(["country_code": "*"], "default")
        let us = try await aws.create(usCtx, usConfig)
        let fallback = try await aws.create(defaultCtx, defaultConfig)
        #expect(us.id == "\(zone.id)_production.maif.internal_A_us-east-1")
        #expect(us.attributes["fqdn"] == "production.maif.internal")
        #expect(fallback.attributes["geo_location"] == .map(["country_code": "*"]))
        try await NoChange.expect(aws, usCtx, us, usConfig)
        try await NoChange.expect(aws, defaultCtx, fallback, defaultConfig)

        var sets = try Self.recordSets(endpoint, zone: zone.id)
        func set(_ id: String) -> [String: Any]? { sets.first { $0["SetIdentifier"] as? String == id } }
        #expect((set("us-east-1")?["GeoLocation"] as? [String: Any])?["ContinentCode"] as? String == "NA")
        #expect((set("default")?["GeoLocation"] as? [String: Any])?["CountryCode"] as? String == "*")
        for id in ["us-east-1", "default"] {
            let alias = set(id)?["AliasTarget"] as? [String: Any]
            #expect(Route53.normalize(alias?["DNSName"] as? String ?? "") == lb.dns.lowercased())
            #expect(alias?["HostedZoneId"] as? String == lb.zone)
            #expect(alias?["EvaluateTargetHealth"] as? Bool == true)
            #expect(set(id)?["HealthCheckId"] as? String == check.id)
            #expect(set(id)?["Name"] as? String == "production.maif.internal.")
        }

        // Latency routing: one record per region, plain A records with a TTL.
        let euCtx = Moto.context("route53_record", "api.eu-west-1", stack: "production")
        let euConfig: [String: AttributeValue] = ["hosted_zone_id": .string(zone.id), "name": "api.production.maif.internal", "type": "A",
                                                  "set_identifier": "eu-west-1", "region": "eu-west-1", "ttl": 60,
                                                  "resource_records": .list(["10.1.0.10", "10.1.0.11"])]
        let eu = try await aws.create(euCtx, euConfig)
        try await NoChange.expect(aws, euCtx, eu, euConfig)
        sets = try Self.recordSets(endpoint, zone: zone.id)
        #expect(set("eu-west-1")?["Region"] as? String == "eu-west-1")
        #expect(set("eu-west-1")?["TTL"] as? Int == 60)
        #expect((set("eu-west-1")?["ResourceRecords"] as? [[String: Any]])?.compactMap { $0["Value"] as? String } == ["10.1.0.10", "10.1.0.11"])

        #expect(try await aws.find(defaultCtx, defaultConfig)?.id == fallback.id)
        #expect(try await aws.importResource(defaultCtx, id: fallback.id).attributes["set_identifier"] == "default")

        // Drift: the default record loses its health check and target-health evaluation out of band.
        let lbDNS = lb.dns, lbZone = lb.zone
        let batch = #"{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"production.maif.internal","Type":"A","SetIdentifier":"default","GeoLocation":{"CountryCode":"*"},"AliasTarget":{"HostedZoneId":"\#(lbZone)","DNSName":"\#(lbDNS)","EvaluateTargetHealth":false}}}]}"#
        _ = try Moto.cli(endpoint, ["route53", "change-resource-record-sets", "--hosted-zone-id", zone.id, "--change-batch", batch])
        let drifted = try #require(try await aws.read(defaultCtx, fallback))
        #expect(drifted.attributes["health_check_id"] == .null)
        #expect(drifted.attributes["alias_target"]?.mapValue?["evaluate_target_health"] == false)
        let repaired = try await aws.update(defaultCtx, drifted, defaultConfig)
        #expect(repaired == fallback)
        sets = try Self.recordSets(endpoint, zone: zone.id)
        #expect(set("default")?["HealthCheckId"] as? String == check.id)

        // Changed in place: the latency record's addresses and TTL.
        var euChanged = euConfig
        euChanged["ttl"] = 300
        euChanged["resource_records"] = .list(["10.1.0.12"])
        let euUpdated = try await aws.update(euCtx, eu, euChanged)
        #expect(euUpdated.attributes["resource_records"] == .list(["10.1.0.12"]))
        sets = try Self.recordSets(endpoint, zone: zone.id)
        #expect(set("eu-west-1")?["TTL"] as? Int == 300)

        // Deleted out of band: read says it is gone, so plan creates it again.
        let deleteBatch = #"{"Changes":[{"Action":"DELETE","ResourceRecordSet":{"Name":"api.production.maif.internal","Type":"A","SetIdentifier":"eu-west-1","Region":"eu-west-1","TTL":300,"ResourceRecords":[{"Value":"10.1.0.12"}]}}]}"#
        _ = try Moto.cli(endpoint, ["route53", "change-resource-record-sets", "--hosted-zone-id", zone.id, "--change-batch", deleteBatch])
        #expect(try await aws.read(euCtx, euUpdated) == nil)

        try await aws.delete(usCtx, us)
        try await aws.delete(defaultCtx, repaired)
        try await aws.delete(euCtx, euUpdated) // already gone: not an error
        #expect(try await aws.read(usCtx, us) == nil)
        #expect(Set(try Self.recordSets(endpoint, zone: zone.id).compactMap { $0["Type"] as? String }) == ["NS", "SOA"])
        try await aws.delete(checkCtx, check)
        try await aws.delete(zoneCtx, zone)
        #expect(try Self.hostedZones(endpoint).isEmpty)
    }

    /// `least_loaded_region`: weighted alias records, a weight per region from its capacity; a weight changed by hand is
    /// drift that update puts back.
    @Test func weightedRecords() async throws {
        let (aws, endpoint) = try Moto.provider(stack: "multi-region")
        let lb = try Self.loadBalancer(endpoint, name: "maif-weighted")
        let zoneCtx = Moto.context("route53_zone", "multi-region", stack: "multi-region")
        let zone = try await aws.create(zoneCtx, ["name": "multi-region.maif.internal", "tags": Moto.tags(zoneCtx)])
        func weighted(_ set: String, _ weight: Int64) -> [String: AttributeValue] {
            ["hosted_zone_id": .string(zone.id), "name": "multi-region.maif.internal", "type": "A", "set_identifier": .string(set),
             "weight": .int(weight),
             "alias_target": .map(["dns_name": .string(lb.dns), "hosted_zone_id": .string(lb.zone), "evaluate_target_health": true])]
        }
        let usCtx = Moto.context("route53_record", "multi-region.us-east-1", stack: "multi-region")
        let apCtx = Moto.context("route53_record", "multi-region.ap-southeast-1", stack: "multi-region")
        let us = try await aws.create(usCtx, weighted("us-east-1", 255))
        let ap = try await aws.create(apCtx, weighted("ap-southeast-1", 153))
        try await NoChange.expect(aws, usCtx, us, weighted("us-east-1", 255))
        try await NoChange.expect(aws, apCtx, ap, weighted("ap-southeast-1", 153))
        var sets = try Self.recordSets(endpoint, zone: zone.id)
        func set(_ id: String) -> [String: Any]? { sets.first { $0["SetIdentifier"] as? String == id } }
        #expect(set("us-east-1")?["Weight"] as? Int == 255)
        #expect(set("ap-southeast-1")?["Weight"] as? Int == 153)
        #expect(set("us-east-1")?["Region"] == nil && set("us-east-1")?["GeoLocation"] == nil)

        // Someone moved all traffic off ap-southeast-1 by hand: read shows it, update puts the weight back.
        let lbDNS = lb.dns, lbZone = lb.zone
        let batch = #"{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"multi-region.maif.internal","Type":"A","SetIdentifier":"ap-southeast-1","Weight":0,"AliasTarget":{"HostedZoneId":"\#(lbZone)","DNSName":"\#(lbDNS)","EvaluateTargetHealth":true}}}]}"#
        _ = try Moto.cli(endpoint, ["route53", "change-resource-record-sets", "--hosted-zone-id", zone.id, "--change-batch", batch])
        let drifted = try #require(try await aws.read(apCtx, ap))
        #expect(drifted.attributes["weight"] == .int(0))
        _ = try await aws.update(apCtx, drifted, weighted("ap-southeast-1", 153))
        sets = try Self.recordSets(endpoint, zone: zone.id)
        #expect(set("ap-southeast-1")?["Weight"] as? Int == 153)

        try await aws.delete(usCtx, us)
        try await aws.delete(apCtx, ap)
        try await aws.delete(zoneCtx, zone)
    }
}
