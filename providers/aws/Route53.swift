/// Route 53 over REST-XML (API 2013-04-01) and the hosted zone resource. Route 53 is global: one endpoint, requests
/// signed for us-east-1 whatever region the stack is in.

import Crypto
import Foundation
import ProviderKit

struct Route53: Sendable {
    let client: AWSClient
    static let version = "2013-04-01"
    static let namespace = "https://route53.amazonaws.com/doc/2013-04-01/"

    init(client: AWSClient) {
        var global = client.inRegion("us-east-1")
        if global.settings.endpoint == nil { global.settings.endpoint = URL(string: "https://route53.amazonaws.com") }
        self.client = global
    }

    /// One call under `/2013-04-01/`; the XML answer (nil for an empty body).
    @discardableResult
    func call(_ call: String, _ method: String, _ path: String, query: [(String, String)] = [], body: String? = nil) async throws -> XMLNode? {
        let headers = body == nil ? [:] : ["Content-Type": "application/xml"]
        return try await client.send("route53", call: call, method: method, path: "/\(Self.version)/\(path)", query: query,
                                     headers: headers, body: Array((body ?? "").utf8)).xml
    }

    /// A request document: `<Root xmlns="…">inner</Root>`.
    static func document(_ root: String, _ inner: String) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><\(root) xmlns=\"\(namespace)\">\(inner)</\(root)>"
    }

    /// `<Name>value</Name>`, or nothing when there is no value.
    static func element(_ name: String, _ value: String?) -> String {
        value.map { "<\(name)>\(XMLTree.escape($0))</\(name)>" } ?? ""
    }

    /// Waits, bounded, for a change (in the answer's ChangeInfo) to reach every Route 53 server. Past the bound the change
    /// stands (the API already shows it); only DNS answers may lag, so that is not an error.
    func waitForSync(_ answer: XMLNode?, limit: TimeInterval = 300) async throws {
        guard let info = answer?.find("ChangeInfo"), var status = info.value("Status"), let id = info.value("Id") else { return }
        let changeId = id.replacingOccurrences(of: "/change/", with: "")
        let deadline = Date().addingTimeInterval(limit)
        var delay: UInt64 = 500_000_000
        while status != "INSYNC", Date() < deadline {
            try await Task.sleep(nanoseconds: delay)
            delay = min(delay * 2, 10_000_000_000)
            status = try await call("GetChange", "GET", "change/\(changeId)")?.find("ChangeInfo")?.value("Status") ?? "INSYNC"
        }
    }

    /// Names as Route 53 returns them (`Www.Example.com.`, `\052.example.com.`) in the form a stack writes them:
    /// lower case, no trailing dot, octal escapes decoded.
    static func normalize(_ name: String) -> String {
        var out = ""
        var chars = Array(name)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "\\", chars.count >= 3, let code = UInt8(String(chars.prefix(3)), radix: 8) {
                out.append(Character(UnicodeScalar(code)))
                chars = chars.dropFirst(3)
            } else {
                out.append(c)
            }
        }
        if out.hasSuffix("."), out.count > 1 { out.removeLast() }
        return out.lowercased()
    }

    /// A zone id without the `/hostedzone/` prefix some answers carry.
    static func bareId(_ id: String) -> String {
        id.replacingOccurrences(of: "/hostedzone/", with: "").replacingOccurrences(of: "/healthcheck/", with: "")
    }

    /// A fresh CallerReference whose prefix names the owner, so a zone or health check created just before a crash (and
    /// so never tagged) can still be found: `maif-<16 hex of stack+address>-<random>`, within the 64-character limit.
    static func callerReference(_ context: ResourceContext) -> String {
        ownerReference(context) + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    }

    static func ownerReference(_ context: ResourceContext) -> String {
        let digest = SHA256.hash(data: Data("\(context.stack)\u{0}\(context.address.description)".utf8))
        return "maif-" + digest.prefix(8).map { String(format: "%02x", $0) }.joined() + "-"
    }

    // MARK: Tags (hosted zones and health checks)

    func tags(_ type: String, _ id: String) async throws -> [String: String] {
        let xml = try await call("ListTagsForResource", "GET", "tags/\(type)/\(id)")
        return Self.tags(xml?.find("Tags"))
    }

    static func tags(_ node: XMLNode?) -> [String: String] {
        var out: [String: String] = [:]
        for tag in node?.all("Tag") ?? [] { if let k = tag.value("Key") { out[k] = tag.value("Value") ?? "" } }
        return out
    }

    /// Tags of many resources, ten ids a call (ListTagsForResources' limit).
    func tags(_ type: String, ids: [String]) async throws -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        for start in stride(from: 0, to: ids.count, by: 10) {
            let batch = ids[start..<min(start + 10, ids.count)]
            let body = Self.document("ListTagsForResourcesRequest", "<ResourceIds>" + batch.map { Self.element("ResourceId", $0) }.joined() + "</ResourceIds>")
            let xml = try await call("ListTagsForResources", "POST", "tags/\(type)", body: body)
            for set in xml?.find("ResourceTagSets")?.all("ResourceTagSet") ?? [] {
                if let id = set.value("ResourceId") { out[Self.bareId(id)] = Self.tags(set["Tags"]) }
            }
        }
        return out
    }

    /// ChangeTagsForResource from `current` to `wanted`, at most ten tags added or removed per call.
    func syncTags(_ type: String, _ id: String, from current: [String: String], to wanted: [String: String]) async throws {
        let add = wanted.keys.filter { current[$0] != wanted[$0] }.sorted()
        let remove = current.keys.filter { wanted[$0] == nil }.sorted()
        for start in stride(from: 0, to: max(add.count, remove.count), by: 10) {
            let adding = add.count > start ? Array(add[start..<min(start + 10, add.count)]) : []
            let removing = remove.count > start ? Array(remove[start..<min(start + 10, remove.count)]) : []
            var inner = ""
            if !adding.isEmpty {
                inner += "<AddTags>" + adding.map { "<Tag>\(Self.element("Key", $0))\(Self.element("Value", wanted[$0]))</Tag>" }.joined() + "</AddTags>"
            }
            if !removing.isEmpty { inner += "<RemoveTagKeys>" + removing.map { Self.element("Key", $0) }.joined() + "</RemoveTagKeys>" }
            try await call("ChangeTagsForResource", "POST", "tags/\(type)/\(id)", body: Self.document("ChangeTagsForResourceRequest", inner))
        }
    }

    /// nil when Route 53 answers 404 with one of the given codes.
    func optional(_ call: String, _ path: String, notFound: Set<String>) async throws -> XMLNode? {
        do { return try await self.call(call, "GET", path) } catch let error as AWSError where notFound.contains(error.code) {
            return nil
        }
    }
}

struct Route53ZoneResource: AWSProvider.Resource {
    let route53: Route53

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let name = config["name"]?.text ?? ""
        let reference = Route53.callerReference(context)
        var inner = Route53.element("Name", name) + Route53.element("CallerReference", reference)
        if let comment = config["comment"]?.text { inner += "<HostedZoneConfig>\(Route53.element("Comment", comment))</HostedZoneConfig>" }
        let answer: XMLNode?
        do {
            answer = try await route53.call("CreateHostedZone", "POST", "hostedzone", body: Route53.document("CreateHostedZoneRequest", inner))
        } catch let error as AWSError where error.code == "HostedZoneAlreadyExists" {
            // A retried request whose first attempt got through: the zone with this CallerReference is ours.
            guard let id = try await zones(named: name).first(where: { $0.reference == reference })?.id else { throw error }
            return try await finish(context, id: id, config)
        }
        guard let id = answer?.find("HostedZone")?.value("Id").map(Route53.bareId) else {
            throw ProviderError(address: context.address, call: "route53 CreateHostedZone", message: "the answer named no hosted zone")
        }
        try await route53.waitForSync(answer)
        return try await finish(context, id: id, config)
    }

    /// Tags a new zone and reads it back.
    func finish(_ context: ResourceContext, id: String, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await route53.syncTags("hostedzone", id, from: try await route53.tags("hostedzone", id), to: tagMap(config))
        // force_destroy lives only in the state (AWS has no such setting); recorded keeps it.
        return try await readOrFail(context, id)
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let xml = try await route53.optional("GetHostedZone", "hostedzone/\(id)", notFound: ["NoSuchHostedZone"]),
              let zone = xml.find("HostedZone") else { return nil }
        let servers = xml.find("NameServers")?.all("NameServer").map { AttributeValue.string($0.text.trimmingCharacters(in: .whitespaces)) } ?? []
        let comment = zone["Config"]?.value("Comment").flatMap { $0.isEmpty ? nil : AttributeValue.string($0) } ?? .null
        return ResourceState(id: id, attributes: [
            "id": .string(id), "name": .string(Route53.normalize(zone.value("Name") ?? "")), "comment": comment,
            "arn": .string("arn:aws:route53:::hostedzone/\(id)"), "name_servers": .list(servers),
            "tags": .map(try await route53.tags("hostedzone", id).mapValues(AttributeValue.string)),
        ])
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        guard let current = try await read(context, id: prior.id) else {
            throw ProviderError(address: context.address, call: "update", message: "hosted zone \(prior.id) no longer exists")
        }
        let comment = config["comment"] ?? .null
        if comment != current.attributes["comment"] {
            try await route53.call("UpdateHostedZoneComment", "POST", "hostedzone/\(prior.id)",
                                   body: Route53.document("UpdateHostedZoneCommentRequest", Route53.element("Comment", comment.text ?? "")))
        }
        try await route53.syncTags("hostedzone", prior.id, from: stringMap(current.attributes["tags"]), to: tagMap(config))
        return try await readOrFail(context, prior.id)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        if prior.attributes["force_destroy"]?.boolValue_ == true { try await deleteRecords(prior.id) }
        do {
            let answer = try await route53.call("DeleteHostedZone", "DELETE", "hostedzone/\(prior.id)")
            try await route53.waitForSync(answer)
        } catch let error as AWSError where error.code == "NoSuchHostedZone" {}
    }

    /// Deletes every record set but the zone's own SOA and NS, a hundred changes a batch.
    func deleteRecords(_ zone: String) async throws {
        guard let apex = try await route53.optional("GetHostedZone", "hostedzone/\(zone)", notFound: ["NoSuchHostedZone"])?
            .find("HostedZone")?.value("Name").map(Route53.normalize) else { return }
        // Listed again after each pass for records added meanwhile; bounded, so a record that will not go ends in
        // DeleteHostedZone's HostedZoneNotEmpty rather than a loop.
        for _ in 0..<3 {
            var doomed: [Route53RecordSet] = []
            var next: [(String, String)] = []
            repeat {
                let xml = try await route53.call("ListResourceRecordSets", "GET", "hostedzone/\(zone)/rrset", query: next)
                for node in xml?.find("ResourceRecordSets")?.all("ResourceRecordSet") ?? [] {
                    let record = Route53RecordSet(xml: node)
                    if Route53.normalize(record.name) == apex, record.type == "SOA" || record.type == "NS" { continue }
                    doomed.append(record)
                }
                next = []
                if xml?.value("IsTruncated") == "true", let name = xml?.value("NextRecordName") {
                    next = [("name", name)] + (xml?.value("NextRecordType").map { [("type", $0)] } ?? [])
                        + (xml?.value("NextRecordIdentifier").map { [("identifier", $0)] } ?? [])
                }
            } while !next.isEmpty
            if doomed.isEmpty { return }
            for start in stride(from: 0, to: doomed.count, by: 100) {
                let changes = doomed[start..<min(start + 100, doomed.count)].map { ("DELETE", $0) }
                try await route53.waitForSync(try await route53.change(zone, changes))
            }
        }
    }

    /// Zones with exactly this name, with their CallerReference (ListHostedZonesByName, paged).
    func zones(named name: String) async throws -> [(id: String, reference: String)] {
        let wanted = Route53.normalize(name)
        var out: [(id: String, reference: String)] = []
        var query = [("dnsname", wanted), ("maxitems", "100")]
        while true {
            let xml = try await route53.call("ListHostedZonesByName", "GET", "hostedzonesbyname", query: query)
            var past = false
            for zone in xml?.find("HostedZones")?.all("HostedZone") ?? [] {
                guard Route53.normalize(zone.value("Name") ?? "") == wanted else { past = true; break }
                if let id = zone.value("Id") { out.append((Route53.bareId(id), zone.value("CallerReference") ?? "")) }
            }
            guard !past, xml?.value("IsTruncated") == "true", let nextName = xml?.value("NextDNSName"),
                  Route53.normalize(nextName) == wanted, let nextId = xml?.value("NextHostedZoneId") else { return out }
            query = [("dnsname", nextName), ("hostedzoneid", nextId), ("maxitems", "100")]
        }
    }

    /// The zone of this name tagged for this address; failing that, an untagged one whose CallerReference names it.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let name = config["name"]?.text else { return nil }
        let candidates = try await zones(named: name)
        let tags = try await route53.tags("hostedzone", ids: candidates.map(\.id))
        let owned = candidates.first { tags[$0.id]?["maif:stack"] == context.stack && tags[$0.id]?["maif:address"] == context.address.description }
            ?? candidates.first { $0.reference.hasPrefix(Route53.ownerReference(context)) && tags[$0.id]?["maif:address"] == nil }
        guard let id = owned?.id else { return nil }
        return try await read(context, id: id)
    }
}
