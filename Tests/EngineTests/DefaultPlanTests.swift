/// The schema-driven plan every provider starts from: what forces a replacement and what carries over.

import ProviderKit
import XCTest

final class DefaultPlanTests: XCTestCase {
    /// A VM whose private address the cloud picks unless the stack names one; changing it means a new VM.
    struct VMProvider: SchemaOnlyProvider {
        var schema: ProviderSchema {
            ProviderSchema(provider: "test", resources: [
                ResourceSchema(type: "test.vm", description: "a VM", attributes: [
                    "size": .init(.string, required: true),
                    "image": .init(.string, required: true, forceNew: true),
                    "private_ip": .init(.string, computed: true, forceNew: true),
                    "id": .init(.string, computed: true),
                ]),
            ])
        }
        var missingCapability: String { "nothing" }
    }

    let context = ResourceContext(stack: "s", address: ResourceAddress(provider: "test", kind: "vm", name: "a"))
    let prior = ResourceState(id: "vm-1", attributes: ["size": "small", "image": "img-1", "private_ip": "10.0.0.7", "id": "vm-1"])

    func testAnAddressTheCloudPickedIsNoChangeWhenTheStackLeavesItUnset() {
        let plan = VMProvider().defaultPlan(PlanRequest(context: context, prior: prior, desired: ["size": "small", "image": "img-1"]))
        XCTAssertEqual(plan.requiresReplace, [])
        XCTAssertEqual(plan.planned["private_ip"], "10.0.0.7")
    }

    func testNamingAnotherAddressOrImageReplaces() {
        let ip = VMProvider().defaultPlan(PlanRequest(context: context, prior: prior, desired: ["size": "small", "image": "img-1", "private_ip": "10.0.0.9"]))
        XCTAssertEqual(ip.requiresReplace, ["private_ip"])
        let image = VMProvider().defaultPlan(PlanRequest(context: context, prior: prior, desired: ["size": "small", "image": "img-2"]))
        XCTAssertEqual(image.requiresReplace, ["image"])
        XCTAssertEqual(image.planned["private_ip"], .unknown, "a new VM gets a new address")
    }

    func testAFailureNamesTheResourceOnce() {
        let address = context.address
        let error = ProviderError(address: address, call: "ec2 RunInstances", message: "InsufficientInstanceCapacity (HTTP 500)")
        XCTAssertEqual(ProviderError.describe(error, at: address, during: "create"),
                       "test.vm.a: ec2 RunInstances failed: InsufficientInstanceCapacity (HTTP 500)")
        struct Plain: Error {}
        XCTAssertEqual(ProviderError.describe(Plain(), at: address, during: "read"), "test.vm.a: read failed: Plain()")
    }
}
