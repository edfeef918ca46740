/// The lock on the remote. When the state repository has an `origin`, a state-changing run takes the stack's lock
/// *there*, before it reads the state: it pushes a small commit recording who holds it to
/// `refs/maifctl/locks/<stack>`, with a lease that the ref must not exist. The git server that every runner shares
/// performs that compare-and-swap, so of two machines exactly one gets the lock; the other waits up to its
/// `--lock-timeout`, saying who holds it, and then gives up having changed nothing. Release deletes the ref with a lease
/// on our own commit, so a lock someone else took over is never removed. A lock is never broken automatically: one
/// older than `staleAfter` is reported as stale, and `maifctl state force-unlock ID` removes it.

import Foundation

extension StateStore {
    /// Where the stack's lock lives on the remote.
    public var remoteLockRef: String { "refs/maifctl/locks/\(stack)" }
    /// Where the last lock seen on the remote is fetched to, to read who holds it.
    var fetchedLockRef: String { "refs/maifctl/remote-locks/\(stack)" }

    /// How old a remote lock must be before it is reported as stale (never broken): two hours.
    public static let staleAfter: TimeInterval = 2 * 60 * 60

    /// Takes the remote lock, waiting up to `timeout` seconds; `note` hears who holds it while waiting.
    /// Returns the lock commit (needed to release it). Throws `LockError.locked` when the wait ran out.
    func acquireRemoteLock(_ info: LockInfo, timeout: Double, note: (String) -> Void) throws -> String {
        let commit = try lockCommit(info)
        let deadline = Date().addingTimeInterval(timeout)
        var lastHolder: String?
        while true {
            let pushed = try repository.gitResult(["push", "--porcelain", "--force-with-lease=\(remoteLockRef):", "origin",
                                                   "\(commit):\(remoteLockRef)"])
            if pushed.status == 0 { return commit }
            // `!` in --porcelain output: the server refused the update (the ref exists); anything else is the transport's.
            guard pushed.stdout.split(separator: "\n").contains(where: { $0.hasPrefix("!") }) else {
                throw StateError.io("cannot take the lock on origin (\(remoteLockRef)): \(pushed.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            guard let holder = try remoteLockHolder() else { continue }   // released between our push and our look
            if Date() >= deadline { throw LockError.locked(by: holder.info) }
            if lastHolder != holder.info.id {
                note("waiting for the lock on origin (\(remoteLockRef)): \(holder.info)")
                lastHolder = holder.info.id
            }
            Thread.sleep(forTimeInterval: 0.2 + Double.random(in: 0...0.3))
        }
    }

    /// Deletes the remote lock if it is still `commit` (a lease on it: a lock someone else took is left alone).
    /// Returns false when it was not ours any more.
    @discardableResult
    func releaseRemoteLock(commit: String) -> Bool {
        let deleted = try? repository.gitResult(["push", "--porcelain", "--force-with-lease=\(remoteLockRef):\(commit)", "origin",
                                                 ":\(remoteLockRef)"])
        return deleted?.status == 0
    }

    /// Who holds the lock on the remote, and its commit; nil when nobody does.
    public func remoteLockHolder() throws -> (info: LockInfo, commit: String)? {
        let listed = try repository.git(["ls-remote", "origin", remoteLockRef])
        guard let commit = listed.split(separator: "\t").first.map(String.init), !commit.isEmpty else { return nil }
        let fetched = try repository.gitResult(["fetch", "--quiet", "--no-tags", "origin", "+\(remoteLockRef):\(fetchedLockRef)"])
        guard fetched.status == 0 else { return nil }   // deleted in between
        let text = (try? repository.git(["show", "\(commit):lock.json"])) ?? ""
        guard var info = try? JSONDecoder().decode(LockInfo.self, from: Data(text.utf8)) else {
            return (LockInfo(id: String(commit.prefix(8)), operation: "?", who: "unknown (unreadable lock commit \(commit.prefix(12)))",
                             host: "?", pid: 0, created: "?", command: "?", remote: true), commit)
        }
        info.remote = true
        if let created = ISO8601DateFormatter().date(from: info.created), Date().timeIntervalSince(created) > Self.staleAfter {
            info.stale = true
        }
        return (info, commit)
    }

    /// Removes the remote lock with this id, whoever holds it (with a lease on the commit read, so a lock taken in the
    /// meantime is not removed).
    public func forceUnlockRemote(id: String) throws -> LockInfo {
        guard let holder = try remoteLockHolder() else { throw LockError.notLocked(stack: stack) }
        guard holder.info.id == id || holder.commit.hasPrefix(id) else { throw LockError.wrongID(expected: id, held: holder.info) }
        guard releaseRemoteLock(commit: holder.commit) else {
            throw StateError.io("the lock on origin changed while it was being removed; look again with `maifctl state force-unlock`")
        }
        return holder.info
    }

    /// A root commit (on no branch) whose tree is `lock.json`.
    private func lockCommit(_ info: LockInfo) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let json = String(decoding: try encoder.encode(info), as: UTF8.self) + "\n"
        let blob = try repository.git(["hash-object", "-w", "--stdin"], input: json)
        let tree = try repository.git(["mktree"], input: "100644 blob \(blob)\tlock.json\n")
        return try repository.git(["-c", "user.name=maifctl", "-c", "user.email=maifctl@\(Self.hostName)", "commit-tree", tree,
                                   "-m", "lock \(stack): \(info.operation) by \(info.who)"])
    }
}
