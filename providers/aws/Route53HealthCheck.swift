/// Route 53 health checks: CreateHealthCheck, UpdateHealthCheck for what AWS lets change in place (the schema makes
/// type, request_interval and measure_latency force a replacement), tags, and find by tags over ListHealthChecks.

import Foundation
import ProviderKit

struct Route53HealthCheckResource: AWSProvider.Resource {
    let route53: Route53

    /// `HealthCheckConfig` for CreateHealthCheck, elements in the order of Route 53's schema.
    static func config(_ c: [String: AttributeValue]) -> String {
        typealias R = Route53
        var s = R.element("IPAddress", c["ip_address"]?.text) + R.element("Port", c["port"]?.intValue_.map(String.init))
            + R.element("Type", c["type"]?.text) + R.element("ResourcePath", c["resource_path"]?.text)
            + R.element("FullyQualifiedDomainName", c["fully_qualified_domain_name"]?.text)
            + R.element("RequestInterval", c["request_interval"]?.intValue_.map(String.init))
            + R.element("FailureThreshold", c["failure_threshold"]?.intValue_.map(String.init))
            + R.element("MeasureLatency", c["measure_latency"]?.boolValue_.map { String($0) })
        if let regions = c["regions"]?.stringList, !regions.isEmpty { s += "<Regions>" + regions.map { R.element("Region", $0) }.joined() + "</Regions>" }
        return "<HealthCheckConfig>\(s)</HealthCheckConfig>"
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let inner = Route53.element("CallerReference", Route53.callerReference(context)) + Self.config(config)
        let answer = try await route53.call("CreateHealthCheck", "POST", "healthcheck", body: Route53.document("CreateHealthCheckRequest", inner))
        guard let id = answer?.find("HealthCheck")?.value("Id") else {
            throw ProviderError(address: context.address, call: "route53 CreateHealthCheck", message: "the answer named no health check")
        }
        try await route53.syncTags("healthcheck", id, from: [:], to: tagMap(config))
        return try await readOrFail(context, id)
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        try await fetch(id)?.state
    }

    /// The state, and the HealthCheckVersion that UpdateHealthCheck quotes so a concurrent change is refused rather than
    /// overwritten.
    func fetch(_ id: String) async throws -> (state: ResourceState, version: String?)? {
        guard let check = try await route53.optional("GetHealthCheck", "healthcheck/\(id)", notFound: ["NoSuchHealthCheck"])?.find("HealthCheck"),
              let c = check["HealthCheckConfig"] else { return nil }
        func string(_ key: String) -> AttributeValue { c.value(key).flatMap { $0.isEmpty ? nil : AttributeValue.string($0) } ?? .null }
        func int(_ key: String) -> AttributeValue { c.value(key).flatMap { Int64($0) }.map(AttributeValue.int) ?? .null }
        return (ResourceState(id: id, attributes: [
            "id": .string(id), "arn": .string("arn:aws:route53:::healthcheck/\(id)"),
            "type": string("Type"), "fully_qualified_domain_name": string("FullyQualifiedDomainName"), "ip_address": string("IPAddress"),
            "port": int("Port"), "resource_path": string("ResourcePath"), "request_interval": int("RequestInterval"),
            "failure_threshold": int("FailureThreshold"), "measure_latency": .bool(c.value("MeasureLatency") == "true"),
            "regions": .list(c["Regions"]?.all("Region").map { .string($0.text.trimmingCharacters(in: .whitespaces)) } ?? []),
            "tags": .map(try await route53.tags("healthcheck", id).mapValues(AttributeValue.string)),
        ]), check.value("HealthCheckVersion"))
    }

    /// UpdateHealthCheck with the settings that differ; one the stack cleared is named in ResetElements.
    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        guard let (current, version) = try await fetch(prior.id) else {
            throw ProviderError(address: context.address, call: "update", message: "health check \(prior.id) no longer exists")
        }
        typealias R = Route53
        let have = current.attributes
        func differs(_ key: String) -> Bool { config[key].map { $0 != have[key] } ?? false }
        func text(_ key: String) -> String? { differs(key) ? config[key]?.text : nil }
        var inner = R.element("HealthCheckVersion", version) + R.element("IPAddress", text("ip_address"))
            + R.element("Port", text("port")) + R.element("ResourcePath", text("resource_path"))
            + R.element("FullyQualifiedDomainName", text("fully_qualified_domain_name"))
            + R.element("FailureThreshold", text("failure_threshold"))
        if differs("regions"), let regions = config["regions"]?.stringList, !regions.isEmpty {
            inner += "<Regions>" + regions.map { R.element("Region", $0) }.joined() + "</Regions>"
        }
        let resets = [("resource_path", "ResourcePath"), ("fully_qualified_domain_name", "FullyQualifiedDomainName"), ("regions", "Regions")]
            .filter { differs($0.0) && (config[$0.0] == .null || config[$0.0]?.listValue?.isEmpty == true) }.map(\.1)
        if !resets.isEmpty { inner += "<ResetElements>" + resets.map { R.element("ResettableElementName", $0) }.joined() + "</ResetElements>" }
        if ["ip_address", "port", "resource_path", "fully_qualified_domain_name", "failure_threshold", "regions"].contains(where: differs) {
            try await route53.call("UpdateHealthCheck", "POST", "healthcheck/\(prior.id)", body: R.document("UpdateHealthCheckRequest", inner))
        }
        try await route53.syncTags("healthcheck", prior.id, from: stringMap(have["tags"]), to: tagMap(config))
        return try await readOrFail(context, prior.id)
    }

    /// A record set that used the check may still hold it for a moment after its own deletion (HealthCheckInUse).
    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        for attempt in 0..<6 {
            do {
                try await route53.call("DeleteHealthCheck", "DELETE", "healthcheck/\(prior.id)")
                return
            } catch let error as AWSError where error.code == "NoSuchHealthCheck" {
                return
            } catch let error as AWSError where error.code == "HealthCheckInUse" && attempt < 5 {
                try await Task.sleep(nanoseconds: UInt64(500_000_000 << attempt))
            }
        }
    }

    /// The health check tagged for this address; failing that, an untagged one whose CallerReference names it.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        var checks: [(id: String, reference: String)] = []
        var marker: String?
        repeat {
            let xml = try await route53.call("ListHealthChecks", "GET", "healthcheck", query: [("maxitems", "100")] + (marker.map { [("marker", $0)] } ?? []))
            for check in xml?.find("HealthChecks")?.all("HealthCheck") ?? [] {
                if let id = check.value("Id") { checks.append((id, check.value("CallerReference") ?? "")) }
            }
            marker = xml?.value("IsTruncated") == "true" ? xml?.value("NextMarker") : nil
        } while marker != nil
        let tags = try await route53.tags("healthcheck", ids: checks.map(\.id))
        let owned = checks.first { tags[$0.id]?["maif:stack"] == context.stack && tags[$0.id]?["maif:address"] == context.address.description }
            ?? checks.first { $0.reference.hasPrefix(Route53.ownerReference(context)) && tags[$0.id]?["maif:address"] == nil }
        guard let id = owned?.id else { return nil }
        return try await read(context, id: id)
    }
}
