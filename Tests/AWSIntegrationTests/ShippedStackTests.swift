import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// The exact configurations expansion gives the shipped stacks (the golden plans in Tests/ExpansionTests/Snapshots),
/// applied to moto: the network, the nodes and the launch template, references resolved as the engine resolves them.
extension AWSIntegration {
    static let shippedKinds = ["vpc", "subnet", "security_group", "internet_gateway", "route_table", "route_table_association",
                               "launch_template", "instance"]
    /// The types this suite checks for a clean plan after apply.
    static let computeKinds: Set<String> = ["internet_gateway", "route_table", "route_table_association", "launch_template", "instance"]

    /// The plan's desired configurations of the given kinds: computed attributes (unknown before apply) left out.
    static func shippedConfigs(_ snapshot: String) throws -> [ResourceAddress: [String: AttributeValue]] {
        let url = URL(fileURLWithPath: Moto.repository).appendingPathComponent("Tests/ExpansionTests/Snapshots/\(snapshot).plan.json")
        let plan = try JSONDecoder().decode([String: [String: AttributeValue]].self, from: Data(contentsOf: url))
        var out: [ResourceAddress: [String: AttributeValue]] = [:]
        for (text, planned) in plan {
            guard let address = ResourceAddress(parsing: text), address.provider == "aws", shippedKinds.contains(address.kind) else { continue }
            out[address] = planned.filter { $0.value != .unknown }
        }
        return out
    }

    /// `${aws.kind.name.attribute}` references replaced by the created resources' values; nil while one is not created.
    static func resolve(_ value: AttributeValue, _ created: [String: ResourceState]) -> AttributeValue? {
        switch value {
        case .string(let s) where s.hasPrefix("${") && s.hasSuffix("}"):
            let reference = s.dropFirst(2).dropLast()
            guard let dot = reference.lastIndex(of: ".") else { return value }
            return created[String(reference[..<dot])]?.attributes[String(reference[reference.index(after: dot)...])]
        case .list(let items):
            var out: [AttributeValue] = []
            for item in items { guard let r = resolve(item, created) else { return nil }; out.append(r) }
            return .list(out)
        case .map(let m):
            var out: [String: AttributeValue] = [:]
            for (k, v) in m { guard let r = resolve(v, created) else { return nil }; out[k] = r }
            return .map(out)
        default:
            return value
        }
    }

    /// Creates every resource once what it refers to exists, checks the compute ones plan as no change, then
    /// deletes everything in reverse order and checks with the CLI that no instance is left running.
    func applyShipped(_ snapshot: String, stack: String) async throws {
        let (aws, endpoint) = try Moto.provider(stack: stack)
        let configs = try Self.shippedConfigs(snapshot)
        #expect(configs.keys.contains { $0.kind == "instance" } && configs.keys.contains { $0.kind == "launch_template" })
        var created: [String: ResourceState] = [:]
        var order: [ResourceAddress] = []
        var applied: [ResourceAddress: [String: AttributeValue]] = [:]
        while order.count < configs.count {
            var progressed = false
            for kind in Self.shippedKinds {
                for (address, config) in configs.sorted(by: { $0.key < $1.key }) where address.kind == kind && created[address.description] == nil {
                    guard case .map(let resolved)? = Self.resolve(.map(config), created) else { continue }
                    let ctx = ResourceContext(stack: stack, address: address)
                    created[address.description] = try await aws.create(ctx, resolved)
                    applied[address] = resolved
                    order.append(address)
                    progressed = true
                }
            }
            try #require(progressed, "unresolvable references among \(Set(configs.keys).subtracting(order))")
        }

        for address in order where Self.computeKinds.contains(address.kind) {
            try await ComputeFixture.expectNoChange(aws, ResourceContext(stack: stack, address: address), created[address.description]!,
                                                    applied[address]!)
        }
        for address in order where address.kind == "instance" {
            let state = created[address.description]!
            let region = state.attributes["region"]?.stringValue ?? "us-east-1"
            let instance = try ComputeFixture.instance(endpoint, state.id, region: region)
            #expect(instance["InstanceType"] as? String == "c5.4xlarge")
            #expect(instance["ImageId"] as? String == (try ComputeFixture.parameter(endpoint, ComputeFixture.amazonLinux, region: region)),
                    "\(address) launched from its region's AMI")
            #expect(instance["PublicIpAddress"] != nil)
        }

        for address in order.reversed() {
            try await aws.delete(ResourceContext(stack: stack, address: address), created[address.description]!)
        }
        for region in Set(order.compactMap { applied[$0]?["region"]?.stringValue }) {
            let out = try ComputeFixture.cli(endpoint, ["ec2", "describe-instances", "--filters", "Name=tag:maif:stack,Values=\(stack)",
                                                        "Name=instance-state-name,Values=pending,running,stopping,stopped"], region: region)
            #expect((out["Reservations"] as? [Any])?.isEmpty == true, "instances left in \(region)")
            let vpcs = try ComputeFixture.cli(endpoint, ["ec2", "describe-vpcs", "--filters", "Name=tag:maif:stack,Values=\(stack)"], region: region)
            #expect((vpcs["Vpcs"] as? [Any])?.isEmpty == true, "VPCs left in \(region)")
        }
    }

    @Test func productionStackAppliesAndPlansClean() async throws {
        try await applyShipped("production", stack: "production")
    }

    @Test func multiRegionStackAppliesAndPlansClean() async throws {
        try await applyShipped("multi-region", stack: "multi-region")
    }
}
