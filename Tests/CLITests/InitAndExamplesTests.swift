/// `maifctl init` writes a starter stack per platform that validates and checks without errors, next to a state
/// repository with its .gitignore; the example pipelines in examples/ci pass actionlint and the GitHub-workflow and
/// GitLab-CI schemas (check-jsonschema's built-in vendor schemas).

import Foundation
import XCTest

final class InitAndExamplesTests: CLITestCase {
    func testEveryPlatformsStarterStackValidatesAndChecksWithoutErrors() throws {
        for platform in ["local", "aws", "gcp", "azure", "kubernetes", "swarm", "onprem"] {
            let dir = "p-\(platform)"
            let run = try workdir.maifctl(["init", "--platform", platform, "--name", "shop-\(platform)", "--dir", dir])
            XCTAssertEqual(run.status, 0, "\(platform): \(run)")
            XCTAssertTrue(run.stdout.contains("Wrote \(dir)/shop-\(platform).yaml"), "\(platform): \(run.stdout)")
            XCTAssertTrue(run.stdout.contains("maifctl validate \(dir)/shop-\(platform).yaml"), "the next commands: \(run.stdout)")
            XCTAssertTrue(run.stdout.contains("maifctl apply    shop-\(platform).plan"), "\(run.stdout)")
            let file = "\(dir)/shop-\(platform).yaml"
            let validate = try workdir.maifctl(["validate", file])
            XCTAssertEqual(validate.status, 0, "\(platform): \(validate)")
            XCTAssertFalse(validate.stdout.contains("warning:"), "\(platform): a starter has nothing to warn about: \(validate.stdout)")
            let check = try workdir.maifctl(["check", file])
            XCTAssertEqual(check.status, 0, "\(platform): \(check)")
            XCTAssertFalse(check.stdout.contains("error:"), "\(platform): \(check.stdout)")
            let plan = try workdir.maifctl(["plan", file, "--refresh=false", "--state", "\(dir)/state"], environment: ShippedStacks.environment)
            XCTAssertEqual(plan.status, 0, "\(platform): the starter plans: \(plan)")

            let state = workdir.path + "/\(dir)/state"
            let log = try workdir.run(URL(fileURLWithPath: "/usr/bin/env"), ["git", "-C", state, "log", "--format=%s", "--name-only"], environment: [:])
            XCTAssertEqual(log.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "init: maifctl state repository\n\n.gitignore", "\(platform): \(log)")
            let ignore = try String(contentsOfFile: state + "/.gitignore", encoding: .utf8)
            XCTAssertTrue(ignore.contains("*/.lock") && ignore.contains("*/journal.jsonl"), ignore)
            let branch = try workdir.run(URL(fileURLWithPath: "/usr/bin/env"), ["git", "-C", state, "branch", "--show-current"], environment: [:])
            XCTAssertEqual(branch.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "main")
        }
    }

    func testInitAppliesOnTheLocalPlatformAndRefusesToOverwrite() throws {
        XCTAssertEqual(try workdir.maifctl(["init"]).status, 0)
        let again = try workdir.maifctl(["init"])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("maif.yaml already exists; pass --force"), "\(again)")
        XCTAssertEqual(try workdir.maifctl(["plan", "maif.yaml", "--out", "maif.plan"]).status, 0)
        let apply = try workdir.maifctl(["apply", "maif.plan"])
        XCTAssertEqual(apply.status, 0, "\(apply)")
        XCTAssertEqual(try workdir.git(["log", "--format=%s"]).split(separator: "\n").map(String.init),
                       ["apply maif: +\(apply.stdout.components(separatedBy: "Creation complete").count - 1) ~0 -0", "init: maifctl state repository"])
        let bad = try workdir.maifctl(["init", "--name", "Not A Name"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("is not a stack name"), "\(bad)")
    }

    func testTheGitHubWorkflowsPassActionlintAndTheWorkflowSchema() throws {
        let workflows = ["examples/ci/github/maifctl-plan.yml", "examples/ci/github/maifctl-apply.yml"].map(CITools.path)
        let lint = try workdir.run(try CITools.tool("actionlint"), ["-no-color"] + workflows, environment: [:])
        XCTAssertEqual(lint.status, 0, "actionlint: \(lint)")
        let schema = try workdir.run(try CITools.tool("check-jsonschema"), ["--builtin-schema", "vendor.github-workflows"] + workflows, environment: [:])
        XCTAssertEqual(schema.status, 0, "\(schema)")
        let plan = try String(contentsOfFile: workflows[0], encoding: .utf8), apply = try String(contentsOfFile: workflows[1], encoding: .utf8)
        XCTAssertTrue(plan.contains("pull_request:") && plan.contains("--format markdown") && plan.contains("updateComment"), "plan on review, comment edited")
        XCTAssertTrue(plan.contains("<!-- maifctl-plan: stack=${process.env.STACK} -->"), "finds its comment by maifctl's marker")
        XCTAssertTrue(apply.contains("branches: [main]") && apply.contains("group: maifctl-apply-${{ matrix.stack }}"), "one apply per stack")
        XCTAssertTrue(apply.contains("--lock-timeout") && apply.contains("maifctl apply \"$STACK.plan\""), "applies the saved plan")
    }

    func testTheGitLabPipelinePassesTheGitLabCISchema() throws {
        let file = CITools.path("examples/ci/gitlab/.gitlab-ci.yml")
        let schema = try workdir.run(try CITools.tool("check-jsonschema"), ["--builtin-schema", "vendor.gitlab-ci", file], environment: [:])
        XCTAssertEqual(schema.status, 0, "\(schema)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertTrue(text.contains("resource_group: maifctl-production") && text.contains("merge_requests/$CI_MERGE_REQUEST_IID/notes"), text)
        XCTAssertTrue(text.contains("--lock-timeout") && text.contains("<!-- maifctl-plan: stack=$STACK -->"))
    }

    func testTheApplyEventsSchemaIsAValidJSONSchema() throws {
        let run = try workdir.run(try CITools.tool("check-jsonschema"), ["--check-metaschema", CITools.path("docs/apply-events.schema.json")],
                                  environment: [:])
        XCTAssertEqual(run.status, 0, "\(run)")
    }
}
