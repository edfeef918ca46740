/// One lock per stack: `<state>/<stack>/.lock`, created exclusively, recording who holds it and why.
/// A lock left by a process of this host that no longer exists (a killed run) is broken with a warning;
/// any other lock needs `maifctl state force-unlock ID`.

import Foundation

public struct LockInfo: Sendable, Codable, Equatable, CustomStringConvertible {
    public var id: String
    public var operation: String
    public var who: String
    public var host: String
    public var pid: Int32
    public var created: String
    public var command: String
    /// The CI run that holds it, when one does (GitHub Actions, GitLab CI).
    public var runURL: String?
    /// On the remote: the lock commit pushed to `refs/maifctl/locks/<stack>` (set while a run holds it there).
    public var remoteCommit: String?
    /// Read from the remote (not this directory's lock file).
    public var remote: Bool?
    /// Older than `StateStore.staleAfter`: reported, never broken.
    public var stale: Bool?

    public init(id: String, operation: String, who: String, host: String, pid: Int32, created: String, command: String,
                runURL: String? = nil, remote: Bool? = nil) {
        self.id = id
        self.operation = operation
        self.who = who
        self.host = host
        self.pid = pid
        self.created = created
        self.command = command
        self.runURL = runURL
        self.remote = remote
    }

    public var description: String {
        var text = "lock \(id) held by \(who) (pid \(pid) on \(host)) since \(created) for `\(operation)`: \(command)"
        if let runURL { text += " (run \(runURL))" }
        if remote == true { text += " — on origin" }
        if stale == true { text += " — stale: older than \(Int(StateStore.staleAfter / 3600)) h; if that run is gone, remove it with force-unlock" }
        return text
    }

    /// The CI run this process belongs to, from the variables GitHub Actions and GitLab CI set.
    static func currentRunURL(_ environment: [String: String]) -> String? {
        if let server = environment["GITHUB_SERVER_URL"], let repo = environment["GITHUB_REPOSITORY"], let run = environment["GITHUB_RUN_ID"] {
            return "\(server)/\(repo)/actions/runs/\(run)"
        }
        return environment["CI_JOB_URL"]
    }
}

public enum LockError: Error, CustomStringConvertible, Equatable {
    case locked(by: LockInfo)
    case notLocked(stack: String)
    case wrongID(expected: String, held: LockInfo)

    public var description: String {
        switch self {
        case .locked(let holder):
            return "the state is locked: \(holder)\n    hint: wait for it to finish, pass --lock-timeout 60s to wait, or if that run is gone: maifctl state force-unlock \(holder.id)"
        case .notLocked(let stack):
            return "the state of \(stack) is not locked"
        case .wrongID(let expected, let held):
            return "no lock \(expected); the current one is \(held)"
        }
    }
}

extension StateStore {
    var lockURL: URL { stackDirectory.appendingPathComponent(".lock") }

    /// Takes the stack's lock, waiting up to `timeout` seconds. `warn` hears about broken stale locks.
    public func acquireLock(operation: String, timeout: Double = 0, warn: (String) -> Void = { _ in }) throws -> LockInfo {
        try FileManager.default.createDirectory(at: stackDirectory, withIntermediateDirectories: true)
        try ensureIgnoreFile()
        let environment = ProcessInfo.processInfo.environment
        var info = LockInfo(id: UUID().uuidString.lowercased().prefix(8).description, operation: operation,
                            who: "\(environment["USER"] ?? "user")@\(Self.hostName)",
                            host: Self.hostName, pid: getpid(), created: ISO8601DateFormatter().string(from: Date()),
                            command: CommandLine.arguments.joined(separator: " "), runURL: LockInfo.currentRunURL(environment))
        let deadline = Date().addingTimeInterval(timeout)
        var local = try acquireLocalLock(info, deadline: deadline, warn: warn)
        // With an origin, the lock that counts is the one on the remote, which every machine shares.
        guard repository.hasOrigin else { return local }
        do {
            info.remoteCommit = try acquireRemoteLock(info, timeout: max(0, deadline.timeIntervalSinceNow), note: warn)
        } catch {
            releaseLock(local)
            throw error
        }
        local.remoteCommit = info.remoteCommit
        try? writeLockFile(local)
        return local
    }

    private func writeLockFile(_ info: LockInfo) throws {
        try JSONEncoder().encode(info).write(to: lockURL)
    }

    /// `<state>/<stack>/.lock`, created exclusively: keeps two runs in one state directory apart.
    private func acquireLocalLock(_ info: LockInfo, deadline: Date, warn: (String) -> Void) throws -> LockInfo {
        let data = try JSONEncoder().encode(info)
        while true {
            let fd = open(lockURL.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if fd >= 0 {
                _ = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                fsync(fd)
                close(fd)
                return info
            }
            guard errno == EEXIST else { throw StateError.io("cannot create \(lockURL.path): \(String(cString: strerror(errno)))") }
            guard let holder = currentLock() else {
                // Released between our two calls, or a run was killed between creating the file and writing it.
                let age = (try? FileManager.default.attributesOfItem(atPath: lockURL.path)[.modificationDate] as? Date)
                    .map { Date().timeIntervalSince($0) } ?? 0
                // A live run fills its lock file within microseconds; one still empty after 2 s never will be.
                if FileManager.default.fileExists(atPath: lockURL.path) && age > 2 {
                    warn("breaking an unreadable lock file \(lockURL.path) left by a killed run")
                    try? FileManager.default.removeItem(at: lockURL)
                } else {
                    Thread.sleep(forTimeInterval: 0.05)
                }
                continue
            }
            if holder.host == Self.hostName, holder.pid != getpid(), kill(holder.pid, 0) != 0, errno == ESRCH {
                warn("breaking a stale lock: \(holder) — that process no longer exists")
                try? FileManager.default.removeItem(at: lockURL)
                continue
            }
            if Date() >= deadline { throw LockError.locked(by: holder) }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    public func currentLock() -> LockInfo? {
        guard let data = FileManager.default.contents(atPath: lockURL.path) else { return nil }
        return try? JSONDecoder().decode(LockInfo.self, from: data)
    }

    /// Releases the remote lock (only if it is still ours) and the lock file.
    public func releaseLock(_ lock: LockInfo) {
        if let commit = lock.remoteCommit { releaseRemoteLock(commit: commit) }
        if currentLock()?.id == lock.id { try? FileManager.default.removeItem(at: lockURL) }
    }

    /// Removes the lock with this id, whoever holds it: on the remote when the state has an origin and the lock is
    /// there, else this directory's lock file.
    public func forceUnlock(id: String) throws -> LockInfo {
        if repository.hasOrigin, let remote = try remoteLockHolder(), remote.info.id == id || remote.commit.hasPrefix(id) {
            let removed = try forceUnlockRemote(id: id)
            if currentLock()?.id == removed.id { try? FileManager.default.removeItem(at: lockURL) }
            return removed
        }
        guard let held = currentLock() else {
            // An unreadable lock file has no id to name; any id removes it.
            if FileManager.default.fileExists(atPath: lockURL.path) {
                try FileManager.default.removeItem(at: lockURL)
                return LockInfo(id: id, operation: "?", who: "unknown (unreadable lock file)", host: "?", pid: 0, created: "?", command: "?")
            }
            throw LockError.notLocked(stack: stack)
        }
        guard held.id == id else { throw LockError.wrongID(expected: id, held: held) }
        try FileManager.default.removeItem(at: lockURL)
        return held
    }

    /// Keeps locks and journals out of `git status` and out of commits; it lives in the stack's folder, so it
    /// is committed with the stack's first state.
    var ignoreFilePath: String { "\(stack)/.gitignore" }

    func ensureIgnoreFile() throws {
        let url = directory.appendingPathComponent(ignoreFilePath)
        let wanted = "# written by maifctl: run-time files that are never state\n.lock\njournal.jsonl\n"
        if FileManager.default.contents(atPath: url.path) == nil {
            try Data(wanted.utf8).write(to: url)
        }
    }

    static var hostName: String { ProcessInfo.processInfo.hostName }
}
