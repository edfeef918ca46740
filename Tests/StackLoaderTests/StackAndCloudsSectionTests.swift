/// The `stack` and `clouds` sections: metadata, defaults, and credentials that may only be references.

import StackLoader
import StackModel
import XCTest

final class StackSectionTests: XCTestCase {
    func testNameDescriptionDefaultCloudAndRegion() throws {
        let stack = try loadStack("""
            stack:
              name: production
              description: MAIF production deployment
              cloud: gcp
              region: europe-west1
            clouds:
              gcp: {project: p}
            """)
        XCTAssertEqual(stack.meta.name, "production")
        XCTAssertEqual(stack.meta.description, "MAIF production deployment")
        XCTAssertEqual(stack.meta.cloud, .gcp)
        XCTAssertEqual(stack.meta.region, "europe-west1")
        XCTAssertEqual(stack.meta.location, SourceLocation(file: "stack.yaml", line: 2, column: 3))
        XCTAssertEqual(stack.files, ["stack.yaml"])
    }

    func testAMinimalStackHasNoSectionsAndTheLocalCloud() throws {
        let stack = try loadStack(minimalHeader)
        XCTAssertNil(stack.meta.cloud)
        XCTAssertEqual(stack.clusters, [])
        XCTAssertNil(stack.loadBalancing)
        XCTAssertNil(stack.geoRouting)
        XCTAssertNil(stack.autoscaling)
        XCTAssertNil(stack.highAvailability)
        XCTAssertNil(stack.disasterRecovery)
        XCTAssertNil(stack.multiCloud)
        XCTAssertNil(stack.hybrid)
        XCTAssertNil(stack.monitoring)
        XCTAssertNil(stack.security)
        XCTAssertEqual(stack.resources, [])
        XCTAssertEqual(stack.moved, [])
        XCTAssertTrue(stack.clouds.isConfigured(.local))
        XCTAssertFalse(stack.clouds.isConfigured(.aws))
    }

    func testClustersInheritTheStackDefaultCloudAndRegion() throws {
        let stack = try loadStack("""
            stack: {name: s, cloud: aws, region: us-west-2}
            clouds: {aws: {region: us-west-2}}
            clusters:
              - name: c1
                replication_factor: 1
                nodes: [{id: n1, role: primary}]
              - name: c2
                region: eu-west-1
                replication_factor: 1
                nodes: [{id: n2, role: primary}]
            """)
        XCTAssertEqual(stack.clusters.map(\.cloud), [.aws, .aws])
        XCTAssertEqual(stack.clusters.map(\.platform), [.vm, .vm])
        XCTAssertEqual(stack.clusters.map(\.region), ["us-west-2", "eu-west-1"])
    }

    func testStackNamesAreRestrictedToLettersDigitsDashAndUnderscore() {
        assertSingleError(load("stack: {name: my stack}"), "invalid-name", at: (1, 15), messageContains: "'my stack'")
    }

    func testAnUnknownDefaultCloudSuggestsTheClosestOne() {
        assertSingleError(load("stack: {name: s, cloud: asw}"), "invalid-value", at: (1, 25), hintContains: "did you mean 'aws'?")
    }

    func testTheFullGuideStackLoadsWithNoDiagnosticsButWhatItSetsTwice() throws {
        let text = try Fixtures.text("valid/full-stack.yaml")
        let result = load(text, file: "full-stack.yaml", environment: Fixtures.fullStackEnvironment)
        XCTAssertNotNil(result.stack)
        // The fixture sets every key, so some values are overridden by more specific ones: each is said at the value.
        XCTAssertEqual(result.diagnostics.map { "\($0.code) \($0.location!.line)" }, [
            "node-weight-overridden 64",
            "deployment-setting-overridden 177", "deployment-setting-overridden 177", "deployment-setting-overridden 177",
            "deployment-without-cluster 178", "deployment-without-cluster 179",
        ], result.diagnostics.map(\.description).joined(separator: "\n"))
        XCTAssertTrue(result.diagnostics.allSatisfy { $0.severity == .warning })
    }
}

final class CloudsSectionTests: XCTestCase {
    func testEveryCloudsSettingsAndCredentialReferences() throws {
        let stack = try loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
        let c = stack.clouds
        XCTAssertEqual(c["aws"]?.string("region"), "us-east-1")
        XCTAssertEqual(c["aws"]?.string("endpoint"), "http://127.0.0.1:4566")
        XCTAssertEqual(c["aws"]?.string("profile"), "maif")
        XCTAssertEqual(c["aws"]?.reference("access_key_id"), .env("AWS_ACCESS_KEY_ID"))
        XCTAssertEqual(c["aws"]?.reference("secret_access_key"), .file("/run/secrets/aws_secret"))
        XCTAssertEqual(c["aws"]?.reference("session_token"), .env("AWS_SESSION_TOKEN"), "${env.X} is kept as a reference, not resolved")
        XCTAssertEqual(c["gcp"]?.string("project"), "maif-prod")
        XCTAssertEqual(c["gcp"]?.reference("credentials"), .file("/etc/maif/gcp.json"))
        XCTAssertEqual(c["azure"]?.string("subscription"), "0000-1111")
        XCTAssertEqual(c["azure"]?.string("tenant"), "contoso")
        XCTAssertEqual(c["azure"]?.string("client_id"), "maif-app")
        XCTAssertEqual(c["azure"]?.reference("client_secret"), .env("AZURE_CLIENT_SECRET"))
        XCTAssertEqual(c["kubernetes"]?.string("kubeconfig"), "~/.kube/config")
        XCTAssertEqual(c["kubernetes"]?.string("context"), "kind-maif")
        XCTAssertEqual(c["kubernetes"]?.string("namespace"), "maif")
        XCTAssertEqual(c["swarm"]?.string("host"), "tcp://10.0.0.5:2376")
        XCTAssertEqual(c["swarm"]?.string("cert_path"), "/etc/docker/certs")
        XCTAssertEqual(c["onprem"]?.string("user"), "maif")
        XCTAssertEqual(c["onprem"]?.reference("key"), .file("~/.ssh/id_ed25519"))
        XCTAssertEqual(c["onprem"]?.int("port"), 2222)
        XCTAssertEqual(c["onprem"]?.string("jump_host"), "bastion.example.com")
        XCTAssertEqual(c["onprem"]?.string("known_hosts"), "~/.ssh/known_hosts")
        XCTAssertEqual(c["onprem"]?.bool("strict_host_key_checking"), false)
        XCTAssertNil(c["local"])
        for kind in CloudKind.allCases { XCTAssertTrue(c.isConfigured(kind), "\(kind)") }
    }

    func testDefaultsWhenCloudSettingsAreOmitted() throws {
        let stack = try loadStack(minimalHeader + "clouds: {onprem: {user: maif}, local: {}}")
        XCTAssertEqual(stack.clouds["onprem"]?.bool("strict_host_key_checking"), true)
        XCTAssertNil(stack.clouds["onprem"]?.int("port"))
        XCTAssertEqual(stack.clouds["local"]?.string("root"), ".maif/local")
    }

    func testAnEnvInterpolationAsCredentialIsAReferenceEvenWhenTheVariableIsUnset() throws {
        let stack = try loadStack(minimalHeader + "clouds: {azure: {client_secret: '${env.NOT_SET_ANYWHERE}'}}")
        XCTAssertEqual(stack.clouds["azure"]?.reference("client_secret"), .env("NOT_SET_ANYWHERE"))
    }

    func testAnInlineCredentialIsAnErrorWhicheverCloudHoldsIt() {
        let cases = [
            "clouds: {aws: {access_key_id: AKIAIOSFODNN7EXAMPLE}}",
            "clouds: {gcp: {credentials: '{\"type\": \"service_account\"}'}}",
            "clouds: {azure: {client_secret: s3cr3t}}",
            "clouds: {onprem: {key: /home/me/.ssh/id_rsa}}",
        ]
        for yaml in cases {
            assertSingleError(load(minimalHeader + yaml), "inline-secret", messageContains: "must not be written inline")
        }
    }

    func testACredentialReferenceNeedsExactlyOneOfEnvOrFile() {
        assertSingleError(load(minimalHeader + "clouds: {aws: {secret_access_key: {}}}"), "invalid-secret-reference",
                          at: (2, 35))
        let vault = load(minimalHeader + "clouds: {aws: {secret_access_key: {vault: x}}}")
        XCTAssertEqual(vault.diagnostics.map(\.code), ["invalid-secret-reference", "unknown-key"])
        XCTAssertEqual(vault.diagnostics.last?.message, "unknown key 'vault' in credential reference")
        XCTAssertEqual(vault.diagnostics.last?.location?.column, 36)
        assertSingleError(load(minimalHeader + "clouds: {aws: {secret_access_key: [a]}}"), "expected-mapping", at: (2, 35))
    }

    func testUnknownCloudsAndUnknownCloudKeysAreErrorsWithSuggestions() {
        assertSingleError(load(minimalHeader + "clouds: {gpc: {project: p}}"), "unknown-key", at: (2, 10),
                          hintContains: "did you mean 'gcp'?")
        assertSingleError(load(minimalHeader + "clouds: {aws: {regin: x}}"), "unknown-key", at: (2, 16),
                          messageContains: "in clouds.aws", hintContains: "did you mean 'region'?")
    }

    func testTheSSHPortMustBeAValidPort() {
        assertSingleError(load(minimalHeader + "clouds: {onprem: {port: 0}}"), "out-of-range", at: (2, 25),
                          messageContains: "between 1 and 65535")
    }

    func testAClusterOnACloudWithoutSettingsIsAWarningNotAnError() throws {
        let result = load(minimalHeader + """
            clusters:
              - {name: c1, cloud: kubernetes, replication_factor: 1, nodes: [{id: n1, role: primary}]}
            """)
        XCTAssertNotNil(result.stack)
        XCTAssertEqual(result.diagnostics.map(\.code), ["unconfigured-cloud"])
        XCTAssertEqual(result.diagnostics.first?.severity, .warning)
        XCTAssertEqual(result.diagnostics.first?.location?.line, 3)
    }
}
