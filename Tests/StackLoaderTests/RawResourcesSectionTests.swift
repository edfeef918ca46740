/// The `resources:` escape hatch (typed properties, depends_on, lifecycle) and the `moved:` list.

import StackLoader
import StackModel
import XCTest

final class RawResourcesSectionTests: XCTestCase {
    func testPropertiesKeepTheirYAMLTypes() throws {
        let stack = try loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
        let r0 = try XCTUnwrap(stack.resources.first)
        XCTAssertEqual(r0.address, "local.null.r0")
        XCTAssertEqual(r0.type, "local.null")
        XCTAssertEqual(r0.name, "r0")
        XCTAssertEqual(r0.properties["greeting"], .string("hello"))
        XCTAssertEqual(r0.properties["count"], .int(3))
        XCTAssertEqual(r0.properties["ratio"], .double(0.25))
        XCTAssertEqual(r0.properties["enabled"], .bool(true))
        XCTAssertEqual(r0.properties["quoted_number"], .string("42"), "a quoted scalar is always a string")
        XCTAssertEqual(r0.properties["nested"], .map(["list": .list([.int(1), .string("two")]), "empty": .null]))
        XCTAssertEqual(r0.properties["api_token"], .string("t0ken"), "a secret by ${env.X} reference is allowed")
        XCTAssertEqual(r0.location?.line, 226)
        XCTAssertEqual(r0.propertyLocations["count"], SourceLocation(file: "stack.yaml", line: 230, column: 14))
        XCTAssertEqual(r0.lifecycle, Lifecycle())
        XCTAssertEqual(r0.dependsOn.count, 0)
    }

    func testReferencesStayVerbatimEscapesAreLiteralAndVariablesAreInterpolated() throws {
        let stack = try loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
        let config = stack.resources[1]
        XCTAssertEqual(config.properties["content"], .string("node id ${local.null.r0.id}"))
        XCTAssertEqual(config.properties["literal"], .string("${not.interpolated}"))
        XCTAssertEqual(config.properties["bucket"], .string("backups-eu1"))
    }

    func testDependsOnAndLifecycle() throws {
        let stack = try loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
        let config = stack.resources[1]
        XCTAssertEqual(config.dependsOn.map(\.address), ["local.null.r0"])
        XCTAssertEqual(config.dependsOn.first?.location?.line, 242)
        XCTAssertTrue(config.lifecycle.preventDestroy)
        XCTAssertTrue(config.lifecycle.createBeforeDestroy)
        XCTAssertEqual(config.lifecycle.ignoreChanges, ["content", "tags"])
    }

    func testDependsOnAcceptsExpandedAddressesWithDottedNames() throws {
        let stack = try loadStack(minimalHeader + """
            resources:
              - {type: local.null, name: a, depends_on: [aws.instance.production-cluster.node-1]}
            """)
        XCTAssertEqual(stack.resources[0].dependsOn.map(\.address), ["aws.instance.production-cluster.node-1"])
    }

    func testATypeAndANameAreRequired() {
        let result = load(minimalHeader + "resources:\n  - {properties: {}}")
        XCTAssertNil(result.stack)
        XCTAssertEqual(result.diagnostics.map(\.code), ["missing-key", "missing-key"])
        XCTAssertEqual(result.diagnostics.map { $0.location?.line }, [3, 3])
    }

    func testTypeNameAndDependsOnShapesAreChecked() {
        assertSingleError(load(minimalHeader + "resources:\n  - {type: local.null.extra, name: a}"), "invalid-resource-type",
                          at: (3, 12))
        assertSingleError(load(minimalHeader + "resources:\n  - {type: local.null, name: a.b}"), "invalid-name", at: (3, 30))
        assertSingleError(load(minimalHeader + "resources:\n  - {type: local.null, name: a, depends_on: local.null.b}"),
                          "expected-list", at: (3, 45))
        assertSingleError(load(minimalHeader + "resources:\n  - {type: local.null, name: a, properties: [1]}"),
                          "expected-mapping", at: (3, 45))
    }

    func testTwoResourcesWithOneAddressAreReportedAtTheSecond() {
        assertSingleError(load(minimalHeader + "resources:\n  - {type: local.null, name: a}\n  - {type: local.null, name: a}"),
                          "duplicate-address", at: (4, 5), messageContains: "'local.null.a'")
    }

    func testSecretShapedPropertiesAreRejectedAndNeverKept() {
        let values = ["password: hunter2", "db_password: x", "token: abc", "private_key: k", "api_key: k", "credential: c",
                      "note: AKIAIOSFODNN7EXAMPLE", "pem: \"-----BEGIN RSA PRIVATE KEY-----\\nMII\""]
        for property in values {
            let result = load(minimalHeader + "resources:\n  - type: local.file\n    name: f\n    properties: {\(property)}")
            let valueColumn = "    properties: {".count + property.distance(of: ": ") + 3
            assertSingleError(result, "inline-secret", at: (5, valueColumn))
            XCTAssertFalse(result.diagnostics.contains { $0.message.contains("hunter2") }, "the secret is not echoed back")
        }
    }

    func testNearMissesOfTheSecretShapesAreKept() throws {
        // A public key, a key-shaped prefix of the wrong length, words that only resemble the secret ones.
        let stack = try loadStack(minimalHeader + """
            resources:
              - {type: local.file, name: f, properties: {pem: "-----BEGIN PUBLIC KEY-----", note: AKIAIOSFODNN7, passage: p, tok: t, PRIVATE: KEY}}
            """)
        XCTAssertEqual(stack.resources[0].properties["pem"], .string("-----BEGIN PUBLIC KEY-----"))
        XCTAssertEqual(stack.resources[0].properties["note"], .string("AKIAIOSFODNN7"))
        XCTAssertEqual(stack.resources[0].properties.count, 5)
    }

    func testSecretNamedPropertiesMayReferenceVariablesOrTheEnvironment() throws {
        let stack = try loadStack("""
            stack: {name: s, variables: {db_pass: {default: x}}}
            resources:
              - {type: local.file, name: f, properties: {password: "${var.db_pass}", token: "${env.TOKEN}", secret_ref: ""}}
            """, environment: ["TOKEN": "t"])
        XCTAssertEqual(stack.resources[0].properties["password"], .string("x"))
        XCTAssertEqual(stack.resources[0].properties["token"], .string("t"))
    }

    func testLifecycleDefaultsAndUnknownLifecycleKeys() throws {
        let stack = try loadStack(minimalHeader + "resources:\n  - {type: local.null, name: a, lifecycle: {}}")
        XCTAssertEqual(stack.resources[0].lifecycle, Lifecycle())
        assertSingleError(load(minimalHeader + "resources:\n  - {type: local.null, name: a, lifecycle: {prevent_destory: true}}"),
                          "unknown-key", at: (3, 45), hintContains: "did you mean 'prevent_destroy'?")
    }
}

final class MovedSectionTests: XCTestCase {
    func testMovesKeepFromToAndWhereTheyWereWritten() throws {
        let stack = try loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
        XCTAssertEqual(stack.moved.map(\.from), ["local.null.old_name"])
        XCTAssertEqual(stack.moved.map(\.to), ["local.null.r0"])
        XCTAssertEqual(stack.moved.first?.location?.line, 249)
    }

    func testAMoveNeedsBothEnds() {
        assertSingleError(load(minimalHeader + "moved:\n  - {from: local.null.a}"), "missing-key", at: (3, 5),
                          messageContains: "move is missing required key 'to'")
    }
}

private extension String {
    /// Characters before the first occurrence of `needle`.
    func distance(of needle: String) -> Int { distance(from: startIndex, to: range(of: needle)!.lowerBound) }
}
