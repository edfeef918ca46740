/// Secrets: a `local.secret` value taken from `${env.X}` is used (the file holds it) but never appears in the
/// state repository's full history, in state files, saved plans, or anything plan/apply/show/refresh print.
/// A changed secret is still detected, through its keyed hash, and shown as `(sensitive value changed)`.

import Foundation
import XCTest

final class SecretsTests: SandboxTestCase {
    static let stack = "secrets"
    let first = "first-s3cr3t-" + UUID().uuidString
    let second = "second-s3cr3t-" + UUID().uuidString

    func stackFile(secretDelay: Int = 0) -> String {
        """
        stack: {name: \(Self.stack)}
        clouds: {local: {root: deploy}}
        resources:
          - {type: local.secret, name: token, properties: {path: token.key, value: "${env.APP_TOKEN}", delay_ms: \(secretDelay)}}
          - {type: local.file, name: readme, properties: {path: readme.txt, content: "token at ${local.secret.token.id}"}}
        """
    }

    /// Runs maifctl with APP_TOKEN set and records everything it printed, to search for secrets afterwards.
    private var printed: [String] = []
    private func run(_ arguments: [String], token: String, exit status: Int32, file: StaticString = #filePath, line: UInt = #line) throws -> Output {
        let output = try sandbox.maifctl(arguments, environment: ["APP_TOKEN": token])
        expect(output, exit: status, arguments.joined(separator: " "), file: file, line: line)
        printed.append("$ maifctl \(arguments.joined(separator: " "))\n\(output.all)")
        return output
    }

    /// Attribute lines are padded to the longest name: `+ value    = (sensitive)`.
    private func line(in output: Output, _ start: String, endingWith end: String) -> Bool {
        output.stdout.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix(start + " ") && $0.hasSuffix(end) }
    }

    /// Nothing maifctl printed or wrote on its own (state work tree, full git history, saved plans) holds `secret`.
    private func assertNowhere(_ secrets: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let history = try sandbox.git(["log", "-p", "--all", "--format=fuller"], in: "st")
        XCTAssertEqual(history.status, 0, "\(history)")
        var places: [(String, String)] = [("git log -p --all", history.stdout)]
        for (path, text) in sandbox.files(under: "st") { places.append(("st/\(path)", text)) }
        for (path, text) in sandbox.files(under: "") where path.hasSuffix(".plan") { places.append((path, text)) }
        for (i, text) in printed.enumerated() { places.append(("output #\(i)", text)) }
        for secret in secrets {
            for (place, text) in places where text.contains(secret) {
                XCTFail("the secret appears in \(place):\n\(text)", file: file, line: line)
            }
        }
    }

    func testASecretNeverReachesTheStateHistoryPlansOrLogsButItsChangeIsDetected() throws {
        try sandbox.write("s.yaml", stackFile())
        let plan = try run(["plan", "s.yaml", "--state", "st"], token: first, exit: 0)
        XCTAssertTrue(line(in: plan, "+ value", endingWith: "= (sensitive)"), "\(plan)")
        _ = try run(["plan", "s.yaml", "--state", "st", "--json"], token: first, exit: 0)
        _ = try run(["plan", "s.yaml", "--state", "st", "--out", "first.plan"], token: first, exit: 0)
        _ = try run(["show", "first.plan"], token: first, exit: 0)
        _ = try run(["show", "first.plan", "--json"], token: first, exit: 0)
        _ = try run(["apply", "first.plan", "--state", "st"], token: first, exit: 0)
        XCTAssertEqual(sandbox.read("deploy/token.key"), first, "the secret was really used")
        let mode = try FileManager.default.attributesOfItem(atPath: sandbox.url("deploy/token.key").path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        let recorded = try run(["state", "show", "--address", "local.secret.token", "--stack", Self.stack, "--state", "st"], token: first, exit: 0)
        XCTAssertTrue(recorded.stdout.contains("value") && recorded.stdout.contains("(sensitive)"), "\(recorded)")
        let stored = try run(["state", "show", "--json", "--address", "local.secret.token", "--stack", Self.stack, "--state", "st"],
                             token: first, exit: 0)
        XCTAssertTrue(stored.stdout.contains("\"$sensitive\" : \"hmac-sha256:") || stored.stdout.contains("\"$sensitive\": \"hmac-sha256:"),
                      "stored as a keyed hash: \(stored)")
        _ = try run(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"], token: first, exit: 0)

        // A new secret: detected through the hash, never shown.
        let changed = try run(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"], token: second, exit: 2)
        XCTAssertTrue(changed.stdout.contains("# local.secret.token will be updated in place"), "\(changed)")
        XCTAssertTrue(line(in: changed, "~ value", endingWith: "= (sensitive value changed)"), "\(changed)")
        _ = try run(["plan", "s.yaml", "--state", "st", "--json"], token: second, exit: 0)
        _ = try run(["apply", "s.yaml", "--state", "st", "--auto-approve"], token: second, exit: 0)
        XCTAssertEqual(sandbox.read("deploy/token.key"), second)

        // Drift of a secret (a hand edit) is shown and repaired without printing either value.
        let byHand = "hand-edited-" + UUID().uuidString
        try sandbox.write("deploy/token.key", byHand)
        let drift = try run(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"], token: second, exit: 2)
        XCTAssertTrue(drift.stdout.contains("~ drifted: value was (sensitive), now (sensitive, changed)"), "\(drift)")
        _ = try run(["refresh", "s.yaml", "--state", "st", "--json"], token: second, exit: 0)
        _ = try run(["apply", "s.yaml", "--state", "st", "--auto-approve"], token: second, exit: 0)
        XCTAssertEqual(sandbox.read("deploy/token.key"), second)
        _ = try run(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"], token: second, exit: 0)
        _ = try run(["state", "log", "--stack", Self.stack, "--state", "st"], token: second, exit: 0)

        try assertNowhere([first, second, byHand])
    }

    /// A create announced in the journal and found again after a SIGKILL is adopted from what the provider reads
    /// back, which for a secret is the clear value: that must be hashed like everything else.
    func testASecretAdoptedAfterACrashIsNeverWrittenInClearText() throws {
        try sandbox.write("s.yaml", stackFile())
        _ = try run(["apply", "s.yaml", "--state", "st", "--auto-approve"], token: first, exit: 0)
        // Forget it, so the next apply creates it again while the file is already there, slowly enough to be killed.
        _ = try run(["state", "rm", "local.secret.token", "--stack", Self.stack, "--state", "st"], token: first, exit: 0)
        try sandbox.write("s.yaml", stackFile(secretDelay: 5_000))
        let apply = try sandbox.start(["apply", "s.yaml", "--state", "st", "--auto-approve"], environment: ["APP_TOKEN": first])
        let journal = "st/\(Self.stack)/journal.jsonl"
        XCTAssertTrue(sandbox.waitUntil(timeout: 30) { sandbox.read(journal)?.contains("local.secret.token") ?? false },
                      "the create of the secret was never announced")
        XCTAssertTrue(apply.kill(SIGKILL), "the apply ended before it could be killed")
        _ = apply.wait()

        let plan = try run(["plan", "s.yaml", "--state", "st"], token: first, exit: 0)
        XCTAssertTrue(plan.stderr.contains("adopted what it had created: local.secret.token"), "\(plan)")
        try assertNowhere([first])
    }
}
