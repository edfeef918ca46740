/// Providers own their settings: `clouds.<section>` is checked against each provider's settings schema (typos with
/// suggestions, at their position), every credential reference is read before anything is created, and
/// `maifctl providers` says what each provider takes.

import Foundation
import XCTest

final class ProviderSettingsCommandTests: CLITestCase {
    /// A local resource beside an S3 bucket whose credentials come from a variable that is not set.
    let unsetCredentialStack = """
        stack: {name: creds}
        clouds:
          aws:
            region: us-east-1
            access_key_id: {env: MAIFCTL_TEST_NEVER_SET_KEY}
            secret_access_key: {env: MAIFCTL_TEST_NEVER_SET_SECRET}
        resources:
          - {type: local.file, name: motd, properties: {path: deploy/motd.txt, content: hello}}
          - {type: aws.s3_bucket, name: logs, properties: {bucket: maifctl-creds-test}}
        """

    func testAMissingCredentialVariableFailsThePlanAtItsKeyAndNothingIsCreated() throws {
        try workdir.write("stack.yaml", unsetCredentialStack)
        for verb in [["plan"], ["apply", "--auto-approve"]] {
            let run = try workdir.maifctl(verb + ["stack.yaml"])
            XCTAssertEqual(run.status, 1, "\(run)")
            XCTAssertTrue(run.stderr.contains("stack.yaml:5:20: error: provider 'aws' cannot be configured: clouds.aws.access_key_id names environment variable MAIFCTL_TEST_NEVER_SET_KEY, which is not set [provider-configuration]"),
                          "the error names the stack key, its line and the variable: \(run)")
            XCTAssertFalse(run.stdout.contains("Apply complete"), "\(run)")
        }
        XCTAssertFalse(workdir.exists(".maif/local/deploy/motd.txt"), "nothing is created, not even what needs no credentials")
        XCTAssertEqual(try workdir.git(["log", "--format=%s"]), "", "no state commit")
    }

    func testATargetThatDoesNotNeedTheProviderGoesAhead() throws {
        try workdir.write("stack.yaml", unsetCredentialStack)
        let run = try workdir.maifctl(["apply", "stack.yaml", "--auto-approve", "--target", "local.file.motd"])
        XCTAssertEqual(run.status, 0, "\(run)")
        XCTAssertTrue(workdir.exists(".maif/local/deploy/motd.txt"), "\(run)")
    }

    func testTyposUnderEveryCloudAreErrorsWithSuggestionsAtTheirPosition() throws {
        let cases: [(String, String, String, String)] = [
            ("gcp", "projekt: p", "'projekt' in clouds.gcp", "did you mean 'project'?"),
            ("azure", "subscripton: s", "'subscripton' in clouds.azure", "did you mean 'subscription'?"),
            ("kubernetes", "namspace: maif", "'namspace' in clouds.kubernetes", "did you mean 'namespace'?"),
            ("swarm", "wait_for_runing: 2m", "'wait_for_runing' in clouds.swarm", "did you mean 'wait_for_running'?"),
        ]
        for (section, line, message, hint) in cases {
            try workdir.write("stack.yaml", "stack: {name: typo}\nclouds:\n  \(section):\n    \(line)\n")
            let run = try workdir.maifctl(["validate", "stack.yaml"])
            XCTAssertEqual(run.status, 1, "\(run)")
            XCTAssertTrue(run.stdout.contains("stack.yaml:4:5: error: unknown key \(message) [unknown-key]"), "\(section): \(run)")
            XCTAssertTrue(run.stdout.contains("hint: \(hint)"), "\(section): \(run)")
        }
    }

    func testAWrongTypeAndAnInlineCredentialAreCaughtByValidate() throws {
        try workdir.write("stack.yaml", "stack: {name: types}\nclouds:\n  swarm: {tls_verify: sometimes}\n  gcp: {credentials: '{\"type\": \"service_account\"}'}\n")
        let run = try workdir.maifctl(["validate", "stack.yaml"])
        XCTAssertEqual(run.status, 1, "\(run)")
        XCTAssertTrue(run.stdout.contains("stack.yaml:3:23: error: expected true or false, got \"sometimes\" [invalid-bool]"), "\(run)")
        XCTAssertTrue(run.stdout.contains("stack.yaml:4:22: error: credentials must not be written inline in a stack file [inline-secret]"), "\(run)")
        XCTAssertFalse(run.stdout.contains("service_account"), "the inline value is never echoed: \(run)")
    }

    func testProvidersListsEveryProviderWithItsSettingsAndTypes() throws {
        let run = try workdir.maifctl(["providers"])
        XCTAssertEqual(run.status, 0, "\(run)")
        for name in ["aws", "azure", "gcp", "k8s", "local", "onprem", "swarm"] {
            XCTAssertTrue(run.stdout.contains("\n\(name) ") || run.stdout.hasPrefix("\(name) "), "\(name) is listed: \(run)")
        }
        XCTAssertTrue(run.stdout.contains("settings (clouds.kubernetes):"), "k8s reads clouds.kubernetes: \(run)")
        XCTAssertTrue(run.stdout.contains("access_key_id") && run.stdout.contains("by reference only"), "\(run)")

        let one = try workdir.maifctl(["providers", "local", "--json"])
        XCTAssertEqual(one.status, 0, "\(one)")
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(parsed.map { $0["name"] as? String }, ["local"])
        XCTAssertEqual(parsed.first?["applies"] as? Bool, true)
        let settings = try XCTUnwrap(parsed.first?["settings"] as? [[String: Any]])
        XCTAssertEqual(settings.first?["key"] as? String, "root")
        XCTAssertEqual(settings.first?["default"] as? String, ".maif/local")
        let types = try XCTUnwrap(parsed.first?["resource_types"] as? [String: Any])
        XCTAssertNotNil(types["local.file"], "\(types.keys)")

        let unknown = try workdir.maifctl(["providers", "digitalocean"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("no provider 'digitalocean'"), "\(unknown)")
    }
}
