/// Route 53 resource record sets (ChangeResourceRecordSets UPSERT/DELETE, ListResourceRecordSets): simple, latency
/// (`region`), weighted (`weight`), geolocation (`geo_location`) and alias records. AWS has no tags for them; their natural key is
/// zone + name + type + set identifier, which is also the id: `ZONE_NAME_TYPE` or `ZONE_NAME_TYPE_SETID`.

import Foundation
import ProviderKit

/// One record set as the API has it, kept whole so a DELETE can repeat exactly what Route 53 holds.
struct Route53RecordSet: Equatable {
    struct Alias: Equatable {
        var hostedZoneId: String
        var dnsName: String
        var evaluateTargetHealth: Bool
    }

    var name: String
    var type: String
    var setIdentifier: String?
    var weight: Int64?
    var region: String?
    var continent: String?
    var country: String?
    var subdivision: String?
    var failover: String?
    var multiValueAnswer: Bool?
    var ttl: Int64?
    var records: [String] = []
    var alias: Alias?
    var healthCheckId: String?

    init(name: String, type: String) {
        self.name = name
        self.type = type
    }

    init(config c: [String: AttributeValue]) {
        self.init(name: c["name"]?.text ?? "", type: c["type"]?.text ?? "")
        setIdentifier = c["set_identifier"]?.text
        region = c["region"]?.text
        weight = c["weight"]?.intValue_
        if let geo = c["geo_location"]?.mapValue {
            continent = geo["continent_code"]?.text
            country = geo["country_code"]?.text
            subdivision = geo["subdivision_code"]?.text
        }
        ttl = c["ttl"]?.intValue_
        records = c["resource_records"]?.stringList ?? []
        if let a = c["alias_target"]?.mapValue {
            alias = Alias(hostedZoneId: a["hosted_zone_id"]?.text ?? "", dnsName: a["dns_name"]?.text ?? "",
                          evaluateTargetHealth: a["evaluate_target_health"]?.boolValue_ ?? false)
        }
        healthCheckId = c["health_check_id"]?.text
    }

    init(xml n: XMLNode) {
        self.init(name: n.value("Name") ?? "", type: n.value("Type") ?? "")
        setIdentifier = n.value("SetIdentifier")
        weight = n.value("Weight").flatMap { Int64($0) }
        region = n.value("Region")
        continent = n.value("GeoLocation", "ContinentCode")
        country = n.value("GeoLocation", "CountryCode")
        subdivision = n.value("GeoLocation", "SubdivisionCode")
        failover = n.value("Failover")
        multiValueAnswer = n.value("MultiValueAnswer").map { $0 == "true" }
        ttl = n.value("TTL").flatMap { Int64($0) }
        records = n["ResourceRecords"]?.all("ResourceRecord").compactMap { $0.value("Value") } ?? []
        if let a = n["AliasTarget"] {
            alias = Alias(hostedZoneId: a.value("HostedZoneId") ?? "", dnsName: a.value("DNSName") ?? "",
                          evaluateTargetHealth: a.value("EvaluateTargetHealth") == "true")
        }
        healthCheckId = n.value("HealthCheckId")
    }

    /// The routing policy; Route 53 will not UPSERT a record set from one policy to another.
    var routing: String {
        if region != nil { return "latency" }
        if continent != nil || country != nil || subdivision != nil { return "geolocation" }
        if weight != nil { return "weighted" }
        if failover != nil { return "failover" }
        if multiValueAnswer != nil { return "multivalue" }
        return "simple"
    }

    /// `<ResourceRecordSet>`, elements in the order of Route 53's schema (it validates the order).
    var xml: String {
        typealias R = Route53
        var s = R.element("Name", name) + R.element("Type", type) + R.element("SetIdentifier", setIdentifier)
            + R.element("Weight", weight.map(String.init)) + R.element("Region", region)
        if continent != nil || country != nil || subdivision != nil {
            s += "<GeoLocation>" + R.element("ContinentCode", continent) + R.element("CountryCode", country)
                + R.element("SubdivisionCode", subdivision) + "</GeoLocation>"
        }
        s += R.element("Failover", failover) + R.element("MultiValueAnswer", multiValueAnswer.map { String($0) })
            + R.element("TTL", ttl.map(String.init))
        if !records.isEmpty { s += "<ResourceRecords>" + records.map { "<ResourceRecord>\(R.element("Value", $0))</ResourceRecord>" }.joined() + "</ResourceRecords>" }
        if let alias {
            s += "<AliasTarget>" + R.element("HostedZoneId", alias.hostedZoneId) + R.element("DNSName", alias.dnsName)
                + R.element("EvaluateTargetHealth", String(alias.evaluateTargetHealth)) + "</AliasTarget>"
        }
        return "<ResourceRecordSet>" + s + R.element("HealthCheckId", healthCheckId) + "</ResourceRecordSet>"
    }

    /// The schema's attributes; what is not set is null, so a setting removed out of band shows as drift.
    func attributes(zone: String) -> [String: AttributeValue] {
        var geo = AttributeValue.null
        if continent != nil || country != nil || subdivision != nil {
            var m: [String: AttributeValue] = [:]
            if let continent { m["continent_code"] = .string(continent) }
            if let country { m["country_code"] = .string(country) }
            if let subdivision { m["subdivision_code"] = .string(subdivision) }
            geo = .map(m)
        }
        let fqdn = Route53.normalize(name)
        return [
            "id": .string(Route53RecordResource.id(zone: zone, name: fqdn, type: type, setIdentifier: setIdentifier)),
            "hosted_zone_id": .string(zone), "name": .string(fqdn), "fqdn": .string(fqdn), "type": .string(type),
            "set_identifier": setIdentifier.map(AttributeValue.string) ?? .null, "region": region.map(AttributeValue.string) ?? .null,
            "geo_location": geo,
            "weight": weight.map(AttributeValue.int) ?? .null,
            "alias_target": alias.map { .map(["hosted_zone_id": .string($0.hostedZoneId), "dns_name": .string(Route53.normalize($0.dnsName)),
                                             "evaluate_target_health": .bool($0.evaluateTargetHealth)]) } ?? .null,
            "health_check_id": healthCheckId.map(AttributeValue.string) ?? .null,
            "ttl": ttl.map(AttributeValue.int) ?? .null,
            "resource_records": records.isEmpty && alias != nil ? .null : .list(records.map(AttributeValue.string)),
        ]
    }
}

extension Route53 {
    /// One ChangeResourceRecordSets batch (applied by Route 53 all or nothing); the answer carries its ChangeInfo.
    func change(_ zone: String, _ changes: [(String, Route53RecordSet)]) async throws -> XMLNode? {
        let inner = "<ChangeBatch><Changes>" + changes.map { "<Change>\(Self.element("Action", $0.0))\($0.1.xml)</Change>" }.joined()
            + "</Changes></ChangeBatch>"
        return try await call("ChangeResourceRecordSets", "POST", "hostedzone/\(zone)/rrset",
                              body: Self.document("ChangeResourceRecordSetsRequest", inner))
    }

    /// The record set with this name, type and set identifier, or nil (also when the zone is gone).
    func recordSet(zone: String, name: String, type: String, setIdentifier: String?) async throws -> Route53RecordSet? {
        let wanted = Self.normalize(name)
        var query = [("name", wanted), ("type", type)] + (setIdentifier.map { [("identifier", $0)] } ?? [])
        while true {
            let xml: XMLNode?
            do { xml = try await call("ListResourceRecordSets", "GET", "hostedzone/\(zone)/rrset", query: query) } catch let error as AWSError
                where error.code == "NoSuchHostedZone" { return nil }
            for node in xml?.find("ResourceRecordSets")?.all("ResourceRecordSet") ?? [] {
                let record = Route53RecordSet(xml: node)
                // The list starts at (name, type) and runs on in order: past them, there is no such record.
                guard Self.normalize(record.name) == wanted, record.type == type else { return nil }
                if record.setIdentifier == setIdentifier { return record }
            }
            guard xml?.value("IsTruncated") == "true", let next = xml?.value("NextRecordName"), Self.normalize(next) == wanted,
                  xml?.value("NextRecordType") == type else { return nil }
            query = [("name", next), ("type", type)] + (xml?.value("NextRecordIdentifier").map { [("identifier", $0)] } ?? [])
        }
    }
}

struct Route53RecordResource: AWSProvider.Resource {
    let route53: Route53

    static let types: Set<String> = ["A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV",
                                     "SSHFP", "SVCB", "TLSA", "TXT"]

    static func id(zone: String, name: String, type: String, setIdentifier: String?) -> String {
        [zone, Route53.normalize(name), type].joined(separator: "_") + (setIdentifier.map { "_\($0)" } ?? "")
    }

    /// Splits an id at the first `_TYPE` after the zone: names are kept in lower case, so an upper-case record type
    /// there cannot be a label of the name (which may itself hold underscores, as in `_dmarc`).
    static func parse(_ id: String) -> (zone: String, name: String, type: String, setIdentifier: String?)? {
        let parts = id.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3 else { return nil }
        for i in 2..<parts.count where types.contains(parts[i]) {
            let rest = parts[(i + 1)...].joined(separator: "_")
            return (parts[0], parts[1..<i].joined(separator: "_"), parts[i], i + 1 < parts.count ? rest : nil)
        }
        return nil
    }

    /// The configuration as read reports it: names in lower case without the trailing dot. `AWSProvider.plan` applies it
    /// to the desired attributes, so a name written `Example.COM.` plans no change against the `example.com` read back.
    static func normalized(_ config: [String: AttributeValue]) -> [String: AttributeValue] {
        var config = config
        if case .string(let name)? = config["name"] { config["name"] = .string(Route53.normalize(name)) }
        if case .map(var alias)? = config["alias_target"], case .string(let dns)? = alias["dns_name"] {
            alias["dns_name"] = .string(Route53.normalize(dns))
            config["alias_target"] = .map(alias)
        }
        return config
    }

    static func zone(_ config: [String: AttributeValue]) -> String { Route53.bareId(config["hosted_zone_id"]?.text ?? "") }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let zone = Self.zone(config)
        let record = Route53RecordSet(config: config)
        try await route53.waitForSync(try await route53.change(zone, [("UPSERT", record)]))
        let id = Self.id(zone: zone, name: record.name, type: record.type, setIdentifier: record.setIdentifier)
        return try await readOrFail(context, id)
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let key = Self.parse(id) else {
            throw ProviderError(address: context.address, call: "read", message: "\(id) is not a record id (ZONE_NAME_TYPE or ZONE_NAME_TYPE_SETID)")
        }
        guard let record = try await route53.recordSet(zone: key.zone, name: key.name, type: key.type, setIdentifier: key.setIdentifier) else {
            return nil
        }
        return ResourceState(id: id, attributes: record.attributes(zone: key.zone))
    }

    /// UPSERT, except across routing policies (geolocation to latency, say), which Route 53 refuses: then one batch
    /// deletes the old record set and creates the new one, atomically.
    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let zone = Self.zone(config)
        let wanted = Route53RecordSet(config: config)
        let current = try await route53.recordSet(zone: zone, name: wanted.name, type: wanted.type, setIdentifier: wanted.setIdentifier)
        let changes = current.map { $0.routing != wanted.routing ? [("DELETE", $0), ("CREATE", wanted)] : [("UPSERT", wanted)] }
            ?? [("UPSERT", wanted)]
        try await route53.waitForSync(try await route53.change(zone, changes))
        let id = Self.id(zone: zone, name: wanted.name, type: wanted.type, setIdentifier: wanted.setIdentifier)
        return try await readOrFail(context, id)
    }

    /// A DELETE must repeat the record set exactly, so it sends what Route 53 holds, not what the stack last wrote.
    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        guard let key = Self.parse(prior.id),
              let current = try await route53.recordSet(zone: key.zone, name: key.name, type: key.type, setIdentifier: key.setIdentifier) else { return }
        do {
            try await route53.waitForSync(try await route53.change(key.zone, [("DELETE", current)]))
        } catch let error as AWSError where error.code == "InvalidChangeBatch" && error.message.contains("not found") {}
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let name = config["name"]?.text, let type = config["type"]?.text else { return nil }
        return try await read(context, id: Self.id(zone: Self.zone(config), name: name, type: type, setIdentifier: config["set_identifier"]?.text))
    }
}
