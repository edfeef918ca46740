/// The `clusters` section: platforms, nodes with roles and resource units, replication and per-cloud sizes.

import StackLoader
import StackModel
import XCTest

final class ClustersSectionTests: XCTestCase {
    func testTheGuidesProductionClusterWithNodesAndResourceUnits() throws {
        let stack = try loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
        let cluster = try XCTUnwrap(stack.clusters.first)
        XCTAssertEqual(cluster.name, "production-cluster")
        XCTAssertEqual(cluster.cloud, .aws, "from stack.cloud")
        XCTAssertEqual(cluster.platform, .vm, "the default platform of aws")
        XCTAssertEqual(cluster.region, "us-east-1")
        XCTAssertEqual(cluster.instanceType, "m5.2xlarge")
        XCTAssertEqual(cluster.image, "maif/runtime:1.4.2", "interpolated from ${var.image_tag}")
        XCTAssertEqual(cluster.storageClass, "gp3")
        XCTAssertEqual(cluster.replicationFactor, 3)
        XCTAssertEqual(cluster.consistencyLevel, .quorum)
        XCTAssertEqual(cluster.nodes.map(\.id), ["node-1", "node-2", "node-3"])
        XCTAssertEqual(cluster.nodes.map(\.role), [.primary, .secondary, .cache])

        let n1 = cluster.nodes[0]
        XCTAssertEqual(n1.host, "10.0.1.10")
        XCTAssertEqual(n1.port, 8080)
        XCTAssertEqual(n1.zone, "us-east-1a")
        XCTAssertEqual(n1.resources.cpu, 8)
        XCTAssertEqual(n1.resources.memory?.bytes, 32_000_000_000, "GB is decimal")
        XCTAssertEqual(n1.resources.storage?.bytes, 1 << 40, "Ti is binary")
        XCTAssertEqual(n1.resources.memory?.text, "32GB", "the user's spelling is kept")
        XCTAssertEqual(n1.location, SourceLocation(file: "stack.yaml", line: 55, column: 9))

        let n2 = cluster.nodes[1]
        XCTAssertEqual(n2.weight, 2.5)
        XCTAssertEqual(n2.resources.cpu, 0.5)
        XCTAssertEqual(n2.resources.memory?.bytes, 8 << 30)
        XCTAssertEqual(n2.resources.storage?.bytes, 500_000_000_000)

        let edge = stack.clusters[1]
        XCTAssertEqual(edge.cloud, .swarm)
        XCTAssertEqual(edge.platform, .swarm)
        XCTAssertEqual(edge.nodes.map(\.role), [.manager, .worker])
        XCTAssertEqual(edge.consistencyLevel, .one)
    }

    func testNodeAndClusterDefaultsWhenOmitted() throws {
        let stack = try loadStack(minimalHeader + """
            clusters:
              - name: c1
                nodes: [{id: n1, role: primary}, {id: n2, role: secondary}, {id: n3, role: cache}]
            """)
        let c = stack.clusters[0]
        XCTAssertEqual(c.cloud, .local)
        XCTAssertEqual(c.platform, .local)
        XCTAssertEqual(c.replicationFactor, 3)
        XCTAssertEqual(c.consistencyLevel, .quorum)
        XCTAssertNil(c.region)
        XCTAssertNil(c.image)
        let n = c.nodes[0]
        XCTAssertEqual(n.port, 8080)
        XCTAssertEqual(n.weight, 1.0)
        XCTAssertNil(n.host)
        XCTAssertEqual(n.resources, NodeResources())
    }

    func testEachCloudGetsItsDefaultPlatform() throws {
        let stack = try loadStack(minimalHeader + """
            clouds: {aws: {}, gcp: {}, azure: {}, kubernetes: {}, swarm: {}, onprem: {}}
            clusters:
              - {name: a, cloud: aws, machine_type: x, replication_factor: 1, nodes: [{id: a1, role: primary}]}
              - {name: g, cloud: gcp, machine_type: n2-standard-8, replication_factor: 1, nodes: [{id: g1, role: primary}]}
              - {name: z, cloud: azure, vm_size: Standard_D8s_v3, replication_factor: 1, nodes: [{id: z1, role: primary}]}
              - {name: k, cloud: kubernetes, replication_factor: 1, nodes: [{id: k1, role: primary}]}
              - {name: s, cloud: swarm, replication_factor: 1, nodes: [{id: s1, role: manager}]}
              - {name: o, cloud: onprem, replication_factor: 1, nodes: [{id: o1, role: primary, host: 10.0.0.1}]}
            """)
        XCTAssertEqual(stack.clusters.map(\.platform), [.vm, .vm, .vm, .kubernetes, .swarm, .onprem])
        XCTAssertEqual(stack.clusters[1].machineType, "n2-standard-8")
        XCTAssertEqual(stack.clusters[2].vmSize, "Standard_D8s_v3")
        XCTAssertEqual(stack.allNodes.map(\.node.id), ["a1", "g1", "z1", "k1", "s1", "o1"])
    }

    func testSwarmRolesAreManagerAndWorkerOnly() {
        let result = load(minimalHeader + """
            clouds: {swarm: {}}
            clusters:
              - name: s
                cloud: swarm
                replication_factor: 1
                nodes: [{id: w1, role: cache}]
            """)
        assertSingleError(result, "role-not-on-platform", at: (7, 28), hintContains: "manager, worker")
    }

    func testAVMPlatformNeedsAPublicCloud() {
        assertSingleError(load(minimalHeader + """
            clusters:
              - {name: c, platform: vm, replication_factor: 1, nodes: [{id: n1, role: primary}]}
            """), "platform-cloud-mismatch", at: (3, 25), messageContains: "platform 'vm' does not run on cloud 'local'",
            hintContains: "aws, gcp, azure")
    }

    func testNodeWeightCPUAndPortRanges() {
        let prefix = minimalHeader + "clusters:\n  - name: c\n    replication_factor: 1\n    nodes:\n      - "
        assertSingleError(load(prefix + "{id: n1, role: primary, weight: -1}"), "out-of-range", at: (6, 41))
        assertSingleError(load(prefix + "{id: n1, role: primary, resources: {cpu: 0}}"), "out-of-range", at: (6, 50))
        assertSingleError(load(prefix + "{id: n1, role: primary, port: http}"), "invalid-integer", at: (6, 39))
        assertSingleError(load(prefix + "{id: n1, role: primary, resources: {storage: 1 T}}"), "invalid-size", at: (6, 54))
        assertSingleError(load(prefix + "{id: n1, role: primary, resources: {disk: 1TB}}"), "unknown-key",
                          messageContains: "in node resources")
    }

    func testNodeIdsMayOnlyUseAddressCharacters() {
        assertSingleError(load(minimalHeader + """
            clusters:
              - {name: c, replication_factor: 1, nodes: [{id: node/1, role: primary}]}
            """), "invalid-name", messageContains: "node id 'node/1'")
    }

    func testAReplicationFactorOutOfRangeIsReportedAtItsValue() {
        assertSingleError(load(minimalHeader + """
            clusters:
              - name: c
                replication_factor: 0
                nodes: [{id: n1, role: primary}]
            """), "out-of-range", at: (4, 25), messageContains: "replication_factor must be between 1 and 99")
    }
}
