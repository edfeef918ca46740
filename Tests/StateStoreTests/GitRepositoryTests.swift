import Foundation
import StateStore
import XCTest

/// What a reviewer sees: every scenario is checked with the real `git` command line.
final class GitRepositoryTests: XCTestCase {
    private var scratch = ""

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "maifctl-git-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    func testOpenOrInitCreatesTheDirectoryAndARepositoryOnBranchMain() throws {
        let dir = scratch + "/state/nested"
        let repo = try GitRepository.openOrInit(at: dir)

        XCTAssertEqual(repo.path, dir)
        XCTAssertEqual(try git(["rev-parse", "--show-toplevel"], in: dir), resolved(dir))
        XCTAssertEqual(try git(["symbolic-ref", "HEAD"], in: dir), "refs/heads/main")
        XCTAssertNil(try repo.headCommit())
        XCTAssertEqual(try repo.log(pathPrefix: nil, limit: 10), [])

        let reopened = try GitRepository.openOrInit(at: dir)
        XCTAssertNil(try reopened.headCommit())
    }

    func testCommitOfNewFiles() throws {
        let dir = scratch + "/state"
        let repo = try GitRepository.openOrInit(at: dir)
        try write("{\"serial\":1}\n", to: dir + "/production/meta.json")
        try write("{}\n", to: dir + "/production/resources/local/file/motd.json")

        let id = try repo.commit(
            paths: ["production/meta.json", "production/resources/local/file/motd.json"],
            message: "apply production: +1 ~0 -0\n\nPlan-Id: p-1\nSerial: 1")

        XCTAssertEqual(id, try git(["rev-parse", "HEAD"], in: dir))
        XCTAssertEqual(try repo.headCommit(), id)
        XCTAssertEqual(try git(["log", "--format=%s"], in: dir), "apply production: +1 ~0 -0")
        XCTAssertEqual(try git(["log", "-1", "--format=%(trailers:key=Serial,valueonly)"], in: dir), "1")
        XCTAssertEqual(try git(["show", "--name-status", "--format=", "HEAD"], in: dir), """
            A\tproduction/meta.json
            A\tproduction/resources/local/file/motd.json
            """)
        XCTAssertEqual(try git(["show", "HEAD:production/meta.json"], in: dir), "{\"serial\":1}")
        XCTAssertEqual(try git(["status", "--porcelain"], in: dir), "")
        XCTAssertEqual(try git(["branch", "--show-current"], in: dir), "main")
    }

    func testManyChangedFilesGoIntoAPackThatGitReads() throws {
        let dir = scratch + "/state"
        let repo = try GitRepository.openOrInit(at: dir)
        let paths = (0..<300).map { "production/resources/local/file/r\($0).json" }
        for (number, path) in paths.enumerated() { try write("{\"name\":\"r\(number)\"}\n", to: dir + "/" + path) }
        let large = String(repeating: "0123456789abcdef", count: 10_000) + "\n"   // more than one 64 KiB deflate block
        try write(large, to: dir + "/production/large.json")
        try write("", to: dir + "/production/empty.json")

        XCTAssertNotNil(try repo.commit(paths: paths + ["production/large.json", "production/empty.json"], message: "bulk"))

        XCTAssertTrue(try git(["count-objects", "-v"], in: dir).contains("packs: 1"))
        XCTAssertEqual(try git(["fsck", "--strict", "--no-dangling"], in: dir), "")
        XCTAssertEqual(try git(["show", "HEAD:production/large.json"], in: dir), String(large.dropLast()))
        XCTAssertEqual(try git(["show", "HEAD:production/resources/local/file/r299.json"], in: dir), "{\"name\":\"r299\"}")
        XCTAssertEqual(try git(["ls-tree", "-r", "--name-only", "HEAD"], in: dir).split(separator: "\n").count, 302)
        XCTAssertEqual(try git(["status", "--porcelain"], in: dir), "")

        for (number, path) in paths.enumerated() { try write("{\"name\":\"r\(number)\",\"v\":2}\n", to: dir + "/" + path) }
        XCTAssertNotNil(try repo.commitAll(under: "production", message: "bulk update"))
        XCTAssertEqual(try git(["show", "--format=", "--shortstat", "HEAD"], in: dir), " 300 files changed, 300 insertions(+), 300 deletions(-)")
        XCTAssertEqual(try git(["fsck", "--strict", "--no-dangling"], in: dir), "")
        XCTAssertEqual(try git(["status", "--porcelain"], in: dir), "")
    }

    func testNoCommitWhenNothingChanged() throws {
        let dir = scratch + "/state"
        let repo = try GitRepository.openOrInit(at: dir)
        XCTAssertNil(try repo.commit(paths: [], message: "empty repository, nothing staged"))
        XCTAssertNil(try repo.commit(paths: ["missing.json"], message: "a file that never existed"))
        XCTAssertThrowsError(try git(["rev-parse", "--verify", "HEAD"], in: dir))

        try write("{}\n", to: dir + "/a.json")
        XCTAssertNotNil(try repo.commit(paths: ["a.json"], message: "first"))
        XCTAssertNil(try repo.commit(paths: ["a.json"], message: "same content"))
        XCTAssertNil(try repo.commitAll(under: "", message: "same content"))
        XCTAssertNil(try repo.commit(paths: [], message: "no paths"))

        XCTAssertEqual(try git(["log", "--format=%s"], in: dir), "first")
    }

    func testModificationAndDeletion() throws {
        let dir = scratch + "/state"
        let repo = try GitRepository.openOrInit(at: dir)
        try write("1\n", to: dir + "/a.json")
        try write("1\n", to: dir + "/b.json")
        XCTAssertNotNil(try repo.commit(paths: ["a.json", "b.json"], message: "create"))

        try write("2\n", to: dir + "/a.json")
        try FileManager.default.removeItem(atPath: dir + "/b.json")
        XCTAssertNotNil(try repo.commit(paths: ["a.json", "b.json"], message: "update a, delete b"))

        XCTAssertEqual(try git(["show", "--name-status", "--format=", "HEAD"], in: dir), "M\ta.json\nD\tb.json")
        XCTAssertEqual(try git(["log", "--format=%s"], in: dir), "update a, delete b\ncreate")
        XCTAssertEqual(try git(["status", "--porcelain"], in: dir), "")
    }

    func testSameSizeRewriteWithTheOldModificationTimeIsStillSeen() throws {
        let dir = scratch + "/state"
        let repo = try GitRepository.openOrInit(at: dir)
        try write("{\"serial\":1}\n", to: dir + "/a.json")
        XCTAssertNotNil(try repo.commit(paths: ["a.json"], message: "one"))
        let modified = try FileManager.default.attributesOfItem(atPath: dir + "/a.json")[.modificationDate]

        try write("{\"serial\":2}\n", to: dir + "/a.json")
        try FileManager.default.setAttributes([.modificationDate: modified as Any], ofItemAtPath: dir + "/a.json")
        XCTAssertNotNil(try repo.commit(paths: ["a.json"], message: "two"))

        XCTAssertEqual(try git(["show", "HEAD:a.json"], in: dir), "{\"serial\":2}")
        XCTAssertEqual(try git(["status", "--porcelain"], in: dir), "")
    }

    func testCommitStagesOnlyTheGivenPaths() throws {
        let dir = scratch + "/state"
        let repo = try GitRepository.openOrInit(at: dir)
        try write("a\n", to: dir + "/a.json")
        try write("c\n", to: dir + "/c.json")

        XCTAssertNotNil(try repo.commit(paths: ["./a.json"], message: "only a"))

        XCTAssertEqual(try git(["show", "--name-only", "--format=", "HEAD"], in: dir), "a.json")
        XCTAssertEqual(try git(["status", "--porcelain"], in: dir), "?? c.json")

        try write("x\n", to: dir + "/production/x.json")
        XCTAssertNotNil(try repo.commit(paths: ["production/x.json"], message: "x"))
        XCTAssertNotNil(try repo.commit(paths: ["production", "c.json"], message: "a directory path stages no files"))
        XCTAssertEqual(try git(["show", "--name-status", "--format=", "HEAD"], in: dir), "A\tc.json")
        XCTAssertEqual(try git(["ls-tree", "-r", "--name-only", "HEAD"], in: dir), "a.json\nc.json\nproduction/x.json")
    }

    func testCommitAllUnderAPrefix() throws {
        let dir = scratch + "/state"
        let repo = try GitRepository.openOrInit(at: dir)
        try write("1\n", to: dir + "/production/meta.json")
        try write("1\n", to: dir + "/production/resources/a.json")
        try write("1\n", to: dir + "/production/resources/b.json")
        try write("1\n", to: dir + "/staging/meta.json")
        try write("1\n", to: dir + "/production-old/meta.json")

        XCTAssertNotNil(try repo.commitAll(under: "production", message: "apply production: +3 ~0 -0"))
        XCTAssertEqual(try git(["show", "--name-only", "--format=", "HEAD"], in: dir), """
            production/meta.json
            production/resources/a.json
            production/resources/b.json
            """)
        XCTAssertEqual(try git(["status", "--porcelain"], in: dir), "?? production-old/\n?? staging/")

        try write("2\n", to: dir + "/production/meta.json")
        try FileManager.default.removeItem(atPath: dir + "/production/resources/a.json")
        try write("{\"new\": true}\n", to: dir + "/production/resources/c.json")
        try write("2\n", to: dir + "/staging/meta.json")
        XCTAssertNotNil(try repo.commitAll(under: "production/", message: "apply production: +1 ~1 -1"))
        XCTAssertEqual(try git(["show", "--name-status", "--format=", "HEAD"], in: dir), """
            M\tproduction/meta.json
            D\tproduction/resources/a.json
            A\tproduction/resources/c.json
            """)
        XCTAssertNil(try repo.commitAll(under: "production", message: "nothing changed"))

        try FileManager.default.removeItem(atPath: dir + "/production")
        XCTAssertNotNil(try repo.commitAll(under: "production", message: "destroy production"))
        XCTAssertEqual(try git(["ls-tree", "-r", "--name-only", "HEAD"], in: dir), "")
        XCTAssertEqual(try git(["status", "--porcelain"], in: dir), "?? production-old/\n?? staging/")
    }

    func testCommitAllLeavesOutUntrackedIgnoredFiles() throws {
        let dir = scratch + "/state"
        let repo = try GitRepository.openOrInit(at: dir)
        try write("*.lock\ncache/\n", to: dir + "/.gitignore")
        try write("{}\n", to: dir + "/production/meta.json")
        try write("pid 42\n", to: dir + "/production/apply.lock")
        try write("{}\n", to: dir + "/production/cache/x.json")
        try write("{}\n", to: dir + "/production/pinned.lock")
        _ = try git(["add", "-f", "production/pinned.lock"], in: dir)

        XCTAssertNotNil(try repo.commitAll(under: "production", message: "apply production"))

        XCTAssertEqual(try git(["show", "--name-only", "--format=", "HEAD"], in: dir), "production/meta.json\nproduction/pinned.lock")
        XCTAssertEqual(try git(["status", "--porcelain"], in: dir), "?? .gitignore")
    }

    func testLogNewestFirstWithAndWithoutPathPrefix() throws {
        let dir = scratch + "/state"
        let repo = try GitRepository.openOrInit(at: dir)
        for (stack, summary) in [("production", "apply production 1"), ("staging", "apply staging"), ("production", "apply production 2")] {
            try write(summary + "\n", to: dir + "/\(stack)/meta.json")
            XCTAssertNotNil(try repo.commitAll(under: stack, message: summary + "\n\nSerial: 1"))
        }

        let all = try repo.log(pathPrefix: nil, limit: 10)
        XCTAssertEqual(all.map(\.summary), ["apply production 2", "apply staging", "apply production 1"])
        XCTAssertEqual(all.map(\.id).joined(separator: "\n"), try git(["log", "--format=%H"], in: dir))
        XCTAssertEqual(all[0].message, "apply production 2\n\nSerial: 1\n")
        XCTAssertEqual("\(all[0].authorName) <\(all[0].authorEmail)>", try git(["log", "-1", "--format=%an <%ae>"], in: dir))
        XCTAssertLessThan(abs(all[0].time.timeIntervalSinceNow), 60)

        let production = try repo.log(pathPrefix: "production", limit: 10)
        XCTAssertEqual(production.map(\.summary), ["apply production 2", "apply production 1"])
        XCTAssertEqual(production.map(\.id).joined(separator: "\n"), try git(["log", "--format=%H", "--", "production"], in: dir))
        XCTAssertEqual(try repo.log(pathPrefix: "staging/meta.json", limit: 10).map(\.summary), ["apply staging"])
        XCTAssertEqual(try repo.log(pathPrefix: "production", limit: 1).map(\.summary), ["apply production 2"])
        XCTAssertEqual(try repo.log(pathPrefix: "nowhere", limit: 10), [])
    }

    func testFileContentsAtRevisions() throws {
        let dir = scratch + "/state"
        let repo = try GitRepository.openOrInit(at: dir)
        try write("{\"serial\":1}\n", to: dir + "/production/meta.json")
        let first = try XCTUnwrap(try repo.commit(paths: ["production/meta.json"], message: "one"))
        try write("{\"serial\":2}\n", to: dir + "/production/meta.json")
        XCTAssertNotNil(try repo.commit(paths: ["production/meta.json"], message: "two"))

        XCTAssertEqual(try text(repo.fileContents(at: "HEAD", path: "production/meta.json")), "{\"serial\":2}\n")
        XCTAssertEqual(try text(repo.fileContents(at: "HEAD~1", path: "production/meta.json")), "{\"serial\":1}\n")
        XCTAssertEqual(try text(repo.fileContents(at: first, path: "production/meta.json")), "{\"serial\":1}\n")
        XCTAssertEqual(try text(repo.fileContents(at: "main", path: "production/meta.json")), "{\"serial\":2}\n")
        XCTAssertNil(try repo.fileContents(at: "HEAD", path: "production/outputs.json"))
        XCTAssertNil(try repo.fileContents(at: "HEAD", path: "production"))

        XCTAssertThrowsError(try repo.fileContents(at: "HEAD~5", path: "production/meta.json")) { error in
            XCTAssertEqual((error as? GitError)?.code, -3)   // GIT_ENOTFOUND
        }
    }

    func testListFiles() throws {
        let dir = scratch + "/state"
        let repo = try GitRepository.openOrInit(at: dir)
        for file in ["production/meta.json", "production/resources/local/file/b.json", "production/resources/local/file/a.json",
                     "staging/meta.json"] {
            try write("{}\n", to: dir + "/" + file)
        }
        XCTAssertNotNil(try repo.commitAll(under: "", message: "all"))
        try FileManager.default.removeItem(atPath: dir + "/production/resources/local/file/b.json")
        XCTAssertNotNil(try repo.commitAll(under: "production", message: "delete b"))

        XCTAssertEqual(try repo.listFiles(at: "HEAD", under: "production"), [
            "production/meta.json", "production/resources/local/file/a.json",
        ])
        XCTAssertEqual(try repo.listFiles(at: "HEAD~1", under: "production/resources"), [
            "production/resources/local/file/a.json", "production/resources/local/file/b.json",
        ])
        XCTAssertEqual(try repo.listFiles(at: "HEAD", under: ""), [
            "production/meta.json", "production/resources/local/file/a.json", "staging/meta.json",
        ])
        XCTAssertEqual(try repo.listFiles(at: "HEAD", under: "preview"), [])
        XCTAssertEqual(try repo.listFiles(at: "HEAD", under: "staging/meta.json"), [])
    }

    func testStateDirectoryInsideAnExistingRepository() throws {
        let user = scratch + "/project"
        try FileManager.default.createDirectory(atPath: user, withIntermediateDirectories: true)
        _ = try git(["init", "-q", "-b", "trunk"], in: user)
        try write("# project\n", to: user + "/README.md")
        _ = try git(["add", "README.md"], in: user)
        _ = try git(["-c", "user.name=User", "-c", "user.email=user@example.com", "commit", "-q", "-m", "initial"], in: user)
        try write("work in progress\n", to: user + "/notes.txt")
        _ = try git(["add", "notes.txt"], in: user)

        let dir = user + "/infra/state"
        let repo = try GitRepository.openOrInit(at: dir)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/.git"))
        try write("{}\n", to: dir + "/production/meta.json")
        try write("{}\n", to: dir + "/production/outputs.json")
        XCTAssertNotNil(try repo.commit(paths: ["production/meta.json"], message: "apply production"))
        XCTAssertNotNil(try repo.commitAll(under: "production", message: "outputs"))

        XCTAssertEqual(try git(["log", "--format=%s"], in: user), "outputs\napply production\ninitial")
        XCTAssertEqual(try git(["show", "--name-only", "--format=", "HEAD~1"], in: user), "infra/state/production/meta.json")
        XCTAssertEqual(try git(["status", "--porcelain"], in: user), "A  notes.txt")   // the user's staged work stays theirs
        XCTAssertEqual(try repo.log(pathPrefix: nil, limit: 10).map(\.summary), ["outputs", "apply production"])
        XCTAssertEqual(try repo.log(pathPrefix: "production/outputs.json", limit: 10).map(\.summary), ["outputs"])
        XCTAssertEqual(try repo.listFiles(at: "HEAD", under: ""), ["production/meta.json", "production/outputs.json"])
        XCTAssertEqual(try text(repo.fileContents(at: "HEAD", path: "production/meta.json")), "{}\n")

        let fromInside = try GitRepository.openOrInit(at: dir + "/production")
        XCTAssertEqual(try fromInside.listFiles(at: "HEAD", under: ""), ["meta.json", "outputs.json"])
    }

    func testOpeningAFileFails() throws {
        let file = scratch + "/state.json"
        try write("{}\n", to: file)
        XCTAssertThrowsError(try GitRepository.openOrInit(at: file)) { error in
            XCTAssertTrue("\(error)".contains("not a directory"), "\(error)")
        }
        XCTAssertThrowsError(try GitRepository.openOrInit(at: file + "/state")) { error in
            XCTAssertTrue(error is GitError, "\(error)")
        }
    }

    func testPathsOutsideTheStateDirectoryAreRejected() throws {
        let repo = try GitRepository.openOrInit(at: scratch + "/state")
        XCTAssertThrowsError(try repo.commit(paths: ["../escape.json"], message: "no"))
        XCTAssertThrowsError(try repo.commit(paths: ["/etc/passwd"], message: "no"))
    }

    func testAuthorComesFromTheRepositoryConfiguration() throws {
        let dir = scratch + "/state"
        let repo = try GitRepository.openOrInit(at: dir)
        _ = try git(["config", "user.name", "Ada Lovelace"], in: dir)
        _ = try git(["config", "user.email", "ada@example.com"], in: dir)
        try write("{}\n", to: dir + "/a.json")
        XCTAssertNotNil(try repo.commit(paths: ["a.json"], message: "by Ada"))

        XCTAssertEqual(try git(["log", "--format=%an <%ae> / %cn <%ce>"], in: dir), "Ada Lovelace <ada@example.com> / Ada Lovelace <ada@example.com>")
    }

    /// Prints how long committing 10,000 new resource files takes; set MAIFCTL_GIT_BENCHMARK=1 to run it.
    func testCommitTenThousandFilesTiming() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["MAIFCTL_GIT_BENCHMARK"] != nil, "set MAIFCTL_GIT_BENCHMARK=1")
        let dir = scratch + "/state"
        let repo = try GitRepository.openOrInit(at: dir)
        let paths = (0..<10_000).map { "production/resources/local/file/r\($0).json" }
        try FileManager.default.createDirectory(atPath: dir + "/production/resources/local/file", withIntermediateDirectories: true)
        for (number, path) in paths.enumerated() {
            try Data("{\"name\":\"r\(number)\",\"serial\":1}\n".utf8).write(to: URL(fileURLWithPath: dir + "/" + path))
        }
        var start = Date()
        XCTAssertNotNil(try repo.commit(paths: paths, message: "create 10000"))
        print("commit(paths:) of 10,000 new files: \(Date().timeIntervalSince(start)) s")

        for (number, path) in paths.enumerated() {
            try Data("{\"name\":\"r\(number)\",\"serial\":2}\n".utf8).write(to: URL(fileURLWithPath: dir + "/" + path))
        }
        start = Date()
        XCTAssertNotNil(try repo.commit(paths: paths, message: "modify 10000"))
        print("commit(paths:) of 10,000 modified files: \(Date().timeIntervalSince(start)) s")

        start = Date()
        XCTAssertNil(try repo.commit(paths: paths, message: "unchanged"))
        print("commit(paths:) of 10,000 unchanged files: \(Date().timeIntervalSince(start)) s")

        XCTAssertEqual(try git(["status", "--porcelain"], in: dir), "")
        XCTAssertEqual(try repo.listFiles(at: "HEAD", under: "production").count, 10_000)
    }

    // MARK: - Helpers

    private func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    private func text(_ data: Data?) -> String? {
        data.map { String(decoding: $0, as: UTF8.self) }
    }

    private func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }

    /// Runs the `git` command line in `directory`; returns stdout without the trailing newline, throws on failure.
    private func git(_ arguments: [String], in directory: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GitCommandFailed(arguments: arguments, status: process.terminationStatus)
        }
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}

private struct GitCommandFailed: Error {
    var arguments: [String]
    var status: Int32
}
