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

    /// Fetches `origin` and compares the current branch with its remote counterpart.
    public func fetchOrigin() throws -> SyncStatus {
        guard hasOrigin else { return .noRemote }
        var remote: OpaquePointer?
        guard git_remote_lookup(&remote, repository, "origin") == 0 else { return .noRemote }
        defer { git_remote_free(remote) }
        var options = git_fetch_options()
        try check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "fetch options")
        try check(git_remote_fetch(remote, nil, &options, "maifctl: fetch state"), "fetch origin")
        let branch = try currentBranch()
        var upstream = git_oid()
        guard git_reference_name_to_id(&upstream, repository, "refs/remotes/origin/\(branch)") == 0 else {
            return .upToDate(ahead: try headCommitId() == nil ? 0 : 1)   // the remote has no state yet
        }
        guard var local = try headCommitId() else { return .behind(1) }
        var ahead = 0, behind = 0
        try check(git_graph_ahead_behind(&ahead, &behind, repository, &local, &upstream), "compare with origin/\(branch)")
        switch (ahead, behind) {
        case (_, 0): return .upToDate(ahead: ahead)
        case (0, let b): return .behind(b)
        default: return .diverged(ahead: ahead, behind: behind)
        }
    }

    /// Pushes the current branch to `origin`, fast-forward only. Throws `GitError` naming the rejection.
    public func pushToOrigin() throws {
        var remote: OpaquePointer?
        try check(git_remote_lookup(&remote, repository, "origin"), "find remote origin")
        defer { git_remote_free(remote) }
        let branch = try currentBranch()
        let refspec = "refs/heads/\(branch):refs/heads/\(branch)"   // no '+': never forced
        var options = git_push_options()
        try check(git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION)), "push options")
        let rejection = PushRejection()
        options.callbacks.payload = Unmanaged.passUnretained(rejection).toOpaque()
        options.callbacks.push_update_reference = { refname, status, payload in
            if let status, let payload {
                let box = Unmanaged<PushRejection>.fromOpaque(payload).takeUnretainedValue()
                box.message = "\(refname.map { String(cString: $0) } ?? "?"): \(String(cString: status))"
            }
            return 0
        }
        try refspec.withCString { spec in
            var strings: [UnsafeMutablePointer<CChar>?] = [UnsafeMutablePointer(mutating: spec)]
            try strings.withUnsafeMutableBufferPointer { buffer in
                var array = git_strarray(strings: buffer.baseAddress, count: 1)
                try check(git_remote_push(remote, &array, &options), "push \(branch) to origin")
            }
        }
        if let message = rejection.message {
            throw GitError.invalid("push \(branch) to origin", "rejected: \(message)")
        }
    }
}

private final class PushRejection {
    var message: String?
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
