/// Stack variables: defaults, `--var` overrides, `${env.X}`, the `$${` escape and references kept for the planner.

import StackLoader
import StackModel
import XCTest

final class VariableTests: XCTestCase {
    let declared = """
        stack:
          name: demo
          description: ${var.owner} runs ${var.count} nodes
          variables:
            owner: platform-team
            count: {default: 3, description: how many nodes}
        """

    func testDefaultsAreInterpolated() throws {
        let stack = try loadStack(declared)
        XCTAssertEqual(stack.meta.description, "platform-team runs 3 nodes")
        XCTAssertEqual(stack.meta.variables, ["owner": "platform-team", "count": "3"])
    }

    func testVarOverridesWinOverDefaults() throws {
        let stack = try loadStack(declared, variables: ["count": "7"])
        XCTAssertEqual(stack.meta.description, "platform-team runs 7 nodes")
        XCTAssertEqual(stack.meta.variables["count"], "7")
    }

    func testAVariableWithoutADefaultTakesItsValueFromVar() throws {
        let text = "stack:\n  name: demo\n  region: ${var.region}\n  variables:\n    region: {description: where}"
        XCTAssertEqual(try loadStack(text, variables: ["region": "eu-west-1"]).meta.region, "eu-west-1")
        assertSingleError(load(text), "missing-variable", at: (5, 5), messageContains: "variable 'region' has no default and no value",
                          hintContains: "pass --var region=VALUE")
        assertSingleError(load("stack:\n  name: demo\n  variables:\n    region:"), "missing-variable", at: (4, 5))
    }

    func testAnUnknownVarIsAnErrorWithoutALocationThatSuggestsTheDeclaredName() {
        let d = assertSingleError(load(declared, variables: ["cuont": "4"]), "unknown-variable",
                                  messageContains: "--var cuont sets a variable the stack does not declare",
                                  hintContains: "did you mean 'count'?")
        XCTAssertNil(d?.location)
    }

    func testEnvironmentValuesComeFromTheLoadOptionsNotTheProcess() throws {
        let text = "stack: {name: demo, region: \"${env.MAIF_REGION}\"}"
        XCTAssertEqual(try loadStack(text, environment: ["MAIF_REGION": "ap-south-1"]).meta.region, "ap-south-1")
        assertSingleError(load(text, environment: ["PATH": "/bin"]), "undefined-env", at: (1, 29),
                          messageContains: "environment variable 'MAIF_REGION' is not set")
    }

    func testAVariableDefaultMayReadTheEnvironment() throws {
        let text = "stack:\n  name: demo\n  region: ${var.region}\n  variables:\n    region: ${env.REGION}"
        XCTAssertEqual(try loadStack(text, environment: ["REGION": "us-west-1"]).meta.region, "us-west-1")
        assertSingleError(load(text), "undefined-env", at: (5, 13))
        XCTAssertEqual(try loadStack(text, variables: ["region": "x"], environment: ["REGION": "y"]).meta.region, "x")
    }

    func testAnUndeclaredVariableSuggestsTheClosestDeclaredOne() {
        let text = declared + "\n  region: ${var.ownr}"
        assertSingleError(load(text), "undefined-variable", at: (7, 11), hintContains: "did you mean 'owner'?")
        assertSingleError(load("stack: {name: demo, region: '${var.nothing}'}"), "undefined-variable",
                          hintContains: "declare it under stack.variables")
    }

    func testDollarDollarBraceWritesALiteralDollarBrace() throws {
        let stack = try loadStack("stack: {name: demo, description: 'cost $${var.owner} at $${env.HOME} and ${env.HOME}'}",
                                  environment: ["HOME": "/root"])
        XCTAssertEqual(stack.meta.description, "cost ${var.owner} at ${env.HOME} and /root")
    }

    func testResourceReferencesAreKeptVerbatimForThePlanner() throws {
        let stack = try loadStack(minimalHeader + """
            resources:
              - type: local.file
                name: f
                properties:
                  content: "id=${local.null.r0.id} ip=${aws.instance.c1.node-1.private_ip}"
            """)
        XCTAssertEqual(stack.resources[0].properties["content"],
                       .string("id=${local.null.r0.id} ip=${aws.instance.c1.node-1.private_ip}"))
    }

    func testAnInterpolationThatIsNeitherVarEnvNorAReferenceIsAnError() {
        assertSingleError(load("stack: {name: demo, region: '${region}'}"), "invalid-interpolation", at: (1, 29),
                          hintContains: "${local.null.r0.id}")
        assertSingleError(load("stack: {name: demo, region: 'x-${var.a'}"), "invalid-interpolation",
                          messageContains: "unterminated '${'")
    }

    func testVariablesAreInterpolatedInEverySection() throws {
        let stack = try loadStack("""
            stack:
              name: demo
              variables: {nodes: 2, interval: 15s, mem: 8Gi, strategy: weighted}
            clusters:
              - name: c1
                replication_factor: ${var.nodes}
                nodes:
                  - {id: n1, role: primary, resources: {memory: "${var.mem}"}}
                  - {id: n2, role: secondary}
            load_balancing: {strategy: "${var.strategy}", health_check_interval: "${var.interval}"}
            """)
        XCTAssertEqual(stack.clusters[0].replicationFactor, 2)
        XCTAssertEqual(stack.clusters[0].nodes[0].resources.memory?.bytes, 8 << 30)
        XCTAssertEqual(stack.loadBalancing?.strategy, .weighted)
        XCTAssertEqual(stack.loadBalancing?.healthCheckInterval, .seconds(15))
    }

    func testAnInterpolatedValueIsCheckedAfterInterpolation() {
        assertSingleError(load("""
            stack: {name: demo, variables: {interval: soon}}
            load_balancing: {health_check_interval: "${var.interval}"}
            """), "invalid-duration", at: (2, 41), messageContains: "got \"soon\"")
    }

    func testVariablesMustBeAMappingOfScalars() {
        assertSingleError(load("stack: {name: demo, variables: [a, b]}"), "expected-mapping", at: (1, 32))
        let list = load("stack: {name: demo, variables: {a: [1]}}")
        XCTAssertNil(list.stack)
        XCTAssertEqual(list.diagnostics.map(\.code), ["missing-variable", "expected-scalar"])
        XCTAssertEqual(list.diagnostics.last?.location?.column, 36)
        assertSingleError(load("stack: {name: demo, variables: {a: {default: 1, type: int}}}"), "unknown-key", at: (1, 49))
    }
}
