import CGit2
import Foundation

/// Remote state: when the state repository has an `origin`, runs that change state start from the
/// remote's latest commit and publish with a fast-forward-only push, so two runners can never both win.
extension GitRepository {
    public enum SyncStatus: Sendable, Equatable {
        /// No `origin` remote: nothing to synchronise.
        case noRemote
        /// Local and remote agree (or the remote has no state yet); `ahead` local commits are unpublished.
        case upToDate(ahead: Int)
        case behind(Int)
        case diverged(ahead: Int, behind: Int)
    }

    /// True when the state directory is the root of its own repository (not a folder in the user's repository).
    public var ownsRepository: Bool {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path == workTree
    }

    /// An `origin` remote of a repository that holds only state. A state folder inside the user's own
    /// repository is published by the user, with the rest of their work: maifctl never pushes their branch.
    public var hasOrigin: Bool {
        guard ownsRepository else { return false }
        var remote: OpaquePointer?
        defer { git_remote_free(remote) }
        return git_remote_lookup(&remote, repository, "origin") == 0
    }

    /// The branch HEAD points at (`main`), also before the first commit.
    public func currentBranch() throws -> String {
        var head: OpaquePointer?
        defer { git_reference_free(head) }
        try check(git_reference_lookup(&head, repository, "HEAD"), "read HEAD")
        guard let target = git_reference_symbolic_target(head) else { return "main" }
        let name = String(cString: target)
        return name.hasPrefix("refs/heads/") ? String(name.dropFirst("refs/heads/".count)) : name
    }

    /// Fetches `origin`'s branch and compares the current branch with it.
    public func fetchOrigin() throws -> SyncStatus {
        guard hasOrigin else { return .noRemote }
        let branch = try currentBranch()
        let fetched = try gitResult(["fetch", "--quiet", "--no-tags", "origin", "+refs/heads/\(branch):refs/remotes/origin/\(branch)"])
        if fetched.status != 0 {
            // A remote without the branch yet (a new bare repository) is not an error: it has no state.
            guard fetched.stderr.contains("couldn't find remote ref") else {
                throw GitCommandError(arguments: ["fetch", "origin", branch], status: fetched.status, output: fetched.stderr)
            }
        }
        var upstream = git_oid()
        guard git_reference_name_to_id(&upstream, repository, "refs/remotes/origin/\(branch)") == 0 else {
            return .upToDate(ahead: try headCommitId() == nil ? 0 : 1)   // the remote has no state yet
        }
        guard var local = try headCommitId() else {
            // A clone that never had a commit is behind by all of origin's.
            return .behind(Int((try? git(["rev-list", "--count", "refs/remotes/origin/\(branch)"])) ?? "1") ?? 1)
        }
        var ahead = 0, behind = 0
        try check(git_graph_ahead_behind(&ahead, &behind, repository, &local, &upstream), "compare with origin/\(branch)")
        switch (ahead, behind) {
        case (_, 0): return .upToDate(ahead: ahead)
        case (0, let b): return .behind(b)
        default: return .diverged(ahead: ahead, behind: behind)
        }
    }

    /// The commit `origin`'s branch was at when last fetched; nil when it has none.
    public func originCommit() throws -> String? {
        let branch = try currentBranch()
        var oid = git_oid()
        guard git_reference_name_to_id(&oid, repository, "refs/remotes/origin/\(branch)") == 0 else { return nil }
        return oid.hex
    }

    /// Moves the current branch, index and work tree to `origin`'s branch. Only ever a fast-forward: the caller checked
    /// that nothing local is unpublished or uncommitted (a reset, because a clone that never had a commit cannot merge,
    /// and maifctl's own untracked `.gitignore` would stop a merge that brings the same file).
    public func fastForwardToOrigin() throws {
        let branch = try currentBranch()
        try git(["reset", "--quiet", "--hard", "refs/remotes/origin/\(branch)"])
    }

    /// Pushes the current branch to `origin`, fast-forward only. Throws `GitError` naming a rejection, and
    /// `GitCommandError` when the remote could not be reached.
    public func pushToOrigin() throws {
        let branch = try currentBranch()
        let pushed = try gitResult(["push", "--porcelain", "origin", "refs/heads/\(branch):refs/heads/\(branch)"])   // no '+': never forced
        guard pushed.status != 0 else { return }
        if let line = pushed.stdout.split(separator: "\n").first(where: { $0.hasPrefix("!") }) {
            throw GitError.invalid("push \(branch) to origin", "rejected: \(line.split(separator: "\t").dropFirst().joined(separator: " "))")
        }
        throw GitCommandError(arguments: ["push", "origin", branch], status: pushed.status, output: pushed.stderr)
    }
}


extension GitRepository {
    /// git's own lock files (`index.lock`, `HEAD.lock`, the branch's `.lock`) that a killed run left behind.
    /// Only for a repository that holds nothing but state, and only by a run that holds the stack's lock:
    /// then no live process can be writing it. Returns the files removed.
    public func removeLocksOfKilledRun() throws -> [String] {
        guard ownsRepository else { return [] }
        let gitDir = String(cString: git_repository_path(repository))
        let branch = (try? currentBranch()) ?? "main"
        var removed: [String] = []
        for name in ["index.lock", "HEAD.lock", "refs/heads/\(branch).lock"] {
            let path = gitDir + name
            if FileManager.default.fileExists(atPath: path) {
                try FileManager.default.removeItem(atPath: path)
                removed.append(path)
            }
        }
        return removed
    }
}
