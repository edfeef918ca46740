import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// Route 53's representations: record ids, names as the API returns them, and the XML element order its schema checks.
@Suite struct Route53FormTests {
    @Test func recordIdsRoundTrip() throws {
        let id = Route53RecordResource.id(zone: "Z1", name: "Production.maif.internal.", type: "A", setIdentifier: "us-east-1")
        #expect(id == "Z1_production.maif.internal_A_us-east-1")
        let key = try #require(Route53RecordResource.parse(id))
        #expect(key.zone == "Z1" && key.name == "production.maif.internal" && key.type == "A" && key.setIdentifier == "us-east-1")
        let plain = try #require(Route53RecordResource.parse("Z1_www.example.com_CNAME"))
        #expect(plain.name == "www.example.com" && plain.type == "CNAME" && plain.setIdentifier == nil)
        // Underscores in the name and in the set identifier.
        let odd = try #require(Route53RecordResource.parse("Z1__dmarc.example.com_TXT_eu_west"))
        #expect(odd.name == "_dmarc.example.com" && odd.type == "TXT" && odd.setIdentifier == "eu_west")
        #expect(Route53RecordResource.parse("Z1_nothing") == nil)
    }

    @Test func namesAreNormalisedAsTheStackWritesThem() {
        #expect(Route53.normalize("production.maif.internal.") == "production.maif.internal")
        #expect(Route53.normalize("\\052.Example.COM.") == "*.example.com")
        #expect(Route53.normalize("lb-1.elb.us-east-1.amazonaws.com") == "lb-1.elb.us-east-1.amazonaws.com")
        let desired = AWSProvider.readForm("route53_record", [
            "name": "WWW.example.com.", "alias_target": .map(["dns_name": "LB-1.elb.amazonaws.com.", "hosted_zone_id": "Z2"]),
            "health_check_id": .unknown,
        ])
        #expect(desired["name"] == "www.example.com")
        #expect(desired["alias_target"]?.mapValue?["dns_name"] == "lb-1.elb.amazonaws.com")
        #expect(desired["health_check_id"] == .unknown)
    }

    @Test func recordSetXMLFollowsTheSchemaOrder() {
        let record = Route53RecordSet(config: [
            "name": "production.maif.internal", "type": "A", "set_identifier": "default", "geo_location": .map(["country_code": "*"]),
            "alias_target": .map(["hosted_zone_id": "Z26RNL4JYFTOTI", "dns_name": "lb.elb.amazonaws.com", "evaluate_target_health": true]),
            "health_check_id": "hc-1",
        ])
        #expect(record.xml == "<ResourceRecordSet><Name>production.maif.internal</Name><Type>A</Type><SetIdentifier>default</SetIdentifier>"
            + "<GeoLocation><CountryCode>*</CountryCode></GeoLocation><AliasTarget><HostedZoneId>Z26RNL4JYFTOTI</HostedZoneId>"
            + "<DNSName>lb.elb.amazonaws.com</DNSName><EvaluateTargetHealth>true</EvaluateTargetHealth></AliasTarget>"
            + "<HealthCheckId>hc-1</HealthCheckId></ResourceRecordSet>")
        #expect(record.routing == "geolocation")
        #expect(Route53RecordSet(config: ["name": "a", "type": "A", "region": "eu-west-1"]).routing == "latency")
    }
}
