/// State in git: `<dir>/<stack>/meta.json`, one canonical file per resource under
/// `<stack>/resources/<provider>/<kind>/<name>.json`, `<stack>/outputs.json`; one commit per apply.

import Foundation
import ProviderKit

public enum StateError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case io(String)
    case behindRemote(directory: String, behind: Int, ahead: Int)
    case publishRejected(directory: String, commit: String, reason: String)
    /// The remote could not be reached to publish a commit; the next run publishes it before anything else.
    case publishFailed(directory: String, commit: String, reason: String)
    /// An earlier run's commit is still unpublished and still cannot be pushed: nothing starts until it is.
    case unpublished(directory: String, commit: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "state file \(path) cannot be read: \(reason)"
        case let .io(message): return message
        case let .behindRemote(directory, behind, ahead):
            let how = ahead == 0 ? "is \(behind) commit(s) behind origin" : "has diverged from origin (\(ahead) local, \(behind) remote commit(s))"
            return "the state in \(directory) \(how): another run published state since.\n    hint: update it first (git -C \(directory) pull --ff-only), then plan again"
        case let .publishRejected(directory, commit, reason):
            return "could not publish the state: another run pushed first (\(reason)). Your results are committed locally in \(directory) as \(commit.prefix(12)); nothing is lost.\n    hint: git -C \(directory) pull --rebase, then run plan again to see what is left to do"
        case let .publishFailed(directory, commit, reason):
            return "the state is committed in \(directory) as \(commit.prefix(12)) but could not be pushed to origin after several tries (\(reason)).\n    hint: push it: git -C \(directory) push origin HEAD; the next run in this directory publishes it first and starts nothing until it can"
        case let .unpublished(directory, commit, reason):
            return "an earlier run's state commit \(commit.prefix(12)) in \(directory) is not on origin yet and cannot be pushed (\(reason)); nothing was started.\n    hint: push it: git -C \(directory) push origin HEAD, then run again"
        }
    }
}

public final class StateStore: @unchecked Sendable {
    public static let engineVersion = "0.1.0"

    public let directory: URL
    public let stack: String
    public let repository: GitRepository

    /// Opens the state directory, creating it and initialising a git repository when missing.
    public init(directory: String, stack: String) throws {
        self.directory = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        self.stack = stack
        repository = try GitRepository.openOrInit(at: self.directory.path)
    }

    public var stackDirectory: URL { directory.appendingPathComponent(stack, isDirectory: true) }

    var journalURL: URL { stackDirectory.appendingPathComponent("journal.jsonl") }

    /// True when a run left a journal with something in it behind (it crashed, or it is still running).
    /// An empty one (a run that stopped before its first action) is simply removed.
    public var hasJournal: Bool {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: journalURL.path))?[.size] as? Int else { return false }
        if size == 0, currentLock() == nil { try? FileManager.default.removeItem(at: journalURL) }
        return size > 0
    }

    /// Work-tree-relative path of a resource's file.
    public func relativePath(of address: ResourceAddress) -> String {
        "\(stack)/resources/\(address.provider)/\(address.kind)/\(address.name).json"
    }

    /// With an `origin` remote, holding the stack's lock: fetches it, so a state-changing run always starts from the
    /// latest published state. A clone that is only behind (another run published since) is fast-forwarded; one with
    /// commits an earlier run could not push publishes them first and starts nothing until it can; a diverged one stops.
    public func checkRemote(notice: (String) -> Void = { _ in }) throws {
        switch try repository.fetchOrigin() {
        case .noRemote, .upToDate(ahead: 0): return
        case .upToDate:
            guard let head = try repository.headCommit() else { return }
            do {
                try publish(head)
            } catch let error as StateError {
                if case let .publishFailed(_, commit, reason) = error {
                    throw StateError.unpublished(directory: directory.path, commit: commit, reason: reason)
                }
                throw error
            }
            notice("published the earlier run's state commit \(head.prefix(12)) to origin")
        case .behind(let n):
            // Safe only with nothing local beyond what origin has: no journal of an interrupted run, no uncommitted state.
            guard !hasJournal, (try? repository.git(["status", "--porcelain", "--untracked-files=no"]))?.isEmpty == true else {
                throw StateError.behindRemote(directory: directory.path, behind: n, ahead: 0)
            }
            try repository.fastForwardToOrigin()
            notice("updated the state in \(directory.path) from origin (\(n) commit(s) another run published)")
        case let .diverged(ahead, behind): throw StateError.behindRemote(directory: directory.path, behind: behind, ahead: ahead)
        }
    }

    /// With an `origin` remote: pushes the new commit, fast-forward only. Under the remote lock a push can only fail
    /// for transport reasons, so those are retried with backoff before giving up with where the commit is.
    func publish(_ commit: String) throws {
        guard repository.hasOrigin else { return }
        var delay = 0.5
        for attempt in 1...4 {
            do {
                try repository.pushToOrigin()
                return
            } catch let error as GitCommandError {
                if attempt == 4 { throw StateError.publishFailed(directory: directory.path, commit: commit, reason: error.description) }
                Thread.sleep(forTimeInterval: delay + Double.random(in: 0...delay / 2))
                delay *= 2
            } catch {
                throw StateError.publishRejected(directory: directory.path, commit: commit, reason: "\(error)")
            }
        }
    }

    /// Reads the state as it is in the work tree (which the last commit matches after a clean run).
    public func load() throws -> State {
        let revision = try repository.headCommit()
        let meta = try loadMeta()
        var resources: [ResourceAddress: ResourceRecord] = [:]
        let base = stackDirectory.appendingPathComponent("resources", isDirectory: true)
        let paths = Self.resourceFiles(under: base.path)
        // Decoding is most of a no-op plan's cost at 10,000 resources: spread it over the cores.
        let slots = ResultSlots<ResourceRecord>(count: paths.count)
        DispatchQueue.concurrentPerform(iterations: paths.isEmpty ? 0 : min(8, paths.count)) { chunk in
            let decoder = JSONDecoder()
            for i in stride(from: chunk, to: paths.count, by: min(8, paths.count)) {
                guard let data = FileManager.default.contents(atPath: paths[i]) else { continue }
                slots.set(i, Result { try decoder.decode(ResourceRecord.self, from: data) })
            }
        }
        let interrupted = hasJournal
        for (i, result) in slots.values.enumerated() {
            switch result {
            case .success(let record)?: resources[record.address] = record
            case .failure(let error)?:
                // A run killed while writing its state files leaves a torn one; its journal rewrites it,
                // and until then the last committed version stands.
                guard interrupted else { throw StateError.unreadable(path: paths[i], reason: "\(error)") }
                let relative = String(paths[i].dropFirst(directory.path.count + 1))
                if let data = try? repository.fileContents(at: "HEAD", path: relative),
                   let record = try? JSONDecoder().decode(ResourceRecord.self, from: data) {
                    resources[record.address] = record
                }
            case nil: continue
            }
        }
        var outputs: [String: AttributeValue] = [:]
        if let data = FileManager.default.contents(atPath: stackDirectory.appendingPathComponent("outputs.json").path) {
            outputs = (try? JSONDecoder().decode([String: AttributeValue].self, from: data)) ?? [:]
        }
        return State(stack: stack, meta: meta, resources: resources, outputs: outputs, revision: revision)
    }

    private func loadMeta() throws -> StateMeta {
        let url = stackDirectory.appendingPathComponent("meta.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            return StateMeta(lineage: UUID().uuidString.lowercased(), engineVersion: Self.engineVersion)
        }
        do {
            return try JSONDecoder().decode(StateMeta.self, from: data)
        } catch {
            // Torn by a killed run: the committed version stands until the journal is folded.
            if hasJournal, let committed = try? repository.fileContents(at: "HEAD", path: "\(stack)/meta.json"),
               let meta = try? JSONDecoder().decode(StateMeta.self, from: committed) {
                return meta
            }
            throw StateError.unreadable(path: url.path, reason: "\(error)")
        }
    }

    /// `<provider>/<kind>/<name>.json` below `resources/`, listed level by level (no stat per file).
    static func resourceFiles(under base: String) -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        for provider in (try? fm.contentsOfDirectory(atPath: base)) ?? [] {
            for kind in (try? fm.contentsOfDirectory(atPath: base + "/" + provider)) ?? [] {
                let dir = base + "/" + provider + "/" + kind
                for name in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where name.hasSuffix(".json") {
                    out.append(dir + "/" + name)
                }
            }
        }
        return out
    }

    /// Every regular file below a directory (recursively), as absolute paths.
    static func files(under path: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return [] }
        var out: [String] = []
        while let item = enumerator.nextObject() as? String {
            if let type = enumerator.fileAttributes?[.type] as? FileAttributeType, type != .typeRegular { continue }
            out.append(path + "/" + item)
        }
        return out
    }

    /// What a crashed run left in flight: creates that were announced but never reported done.
    public struct PendingIntent: Sendable {
        public var address: ResourceAddress
        public var config: [String: AttributeValue]
        public var dependencies: [ResourceAddress]
    }

    /// Replays a journal left by an interrupted run into `recorder`: finished actions are recorded,
    /// and creates that were announced but never reported are returned for the provider to look up.
    public func replayJournal(into recorder: StateRecorder) async throws -> [PendingIntent] {
        var pending: [ResourceAddress: PendingIntent] = [:]
        let known = await recorder.state.resources
        for entry in JournalEntry.read(journalURL) {
            switch entry {
            case let .intent(address, _, config, dependencies):
                pending[address] = PendingIntent(address: address, config: config, dependencies: dependencies)
            case let .done(record):
                pending[record.address] = nil
                try await recorder.record(record, change: known[record.address] == nil ? .created : .updated)
            case let .deleted(address):
                pending[address] = nil
                try await recorder.remove(address)
            }
        }
        return pending.values.sorted { $0.address < $1.address }
    }

    /// A recorder for one apply: writes each finished resource at once, commits at the end.
    public func recorder(for state: State) -> StateRecorder {
        StateRecorder(store: self, state: state)
    }

    func write(_ text: String, relative: String) throws {
        let url = directory.appendingPathComponent(relative)
        let data = Data(text.utf8)
        if FileManager.default.contents(atPath: url.path) == data { return }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        // In place, no temporary file and no fsync (Foundation's Data.write syncs every file, which cost
        // seconds per 10,000): until the commit lands, the journal can rewrite a torn file.
        try Self.writeWithoutSync(data, to: url.path)
    }

    static func writeWithoutSync(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw StateError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StateError.io("cannot write \(path): \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
    }

    func remove(relative: String) throws {
        let url = directory.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        try FileManager.default.removeItem(at: url)
        // Drop now-empty type/provider folders; rmdir refuses a folder that still has files, which is the
        // cheap answer (listing a folder of 10,000 files after every delete made destroy quadratic).
        var dir = url.deletingLastPathComponent()
        let stop = stackDirectory.path
        while dir.path.count > stop.count, rmdir(dir.path) == 0 {
            dir = dir.deletingLastPathComponent()
        }
    }
}

/// Records the outcome of each action as it finishes — in the journal at once, in the per-resource
/// files and one git commit at the end — so a crash loses nothing the journal cannot give back.
public actor StateRecorder {
    let store: StateStore
    public private(set) var state: State
    private var changedAddresses: Set<ResourceAddress> = []
    private var extraPaths: Set<String> = []
    private var counts = (create: 0, update: 0, delete: 0, moved: 0)
    private var journal: Journal?
    private var journalError: String?
    /// Creates a crashed run announced that no provider could look up yet: kept in the journal for the next
    /// run that has the stack's providers.
    private var carriedIntents: [StateStore.PendingIntent] = []
    /// Commit every state file that differs from HEAD, not only what this run changed (after a crash, the
    /// work tree may hold files a killed run wrote but never committed).
    private var sweep = false

    init(store: StateStore, state: State) {
        self.store = store
        self.state = state
        do {
            try FileManager.default.createDirectory(at: store.stackDirectory, withIntermediateDirectories: true)
            try store.ensureIgnoreFile()
            journal = try Journal(url: store.journalURL)
        } catch {
            journalError = "\(error)"
        }
    }

    public enum Change: Sendable { case created, updated, deleted }

    /// Written and fsynced before a create is sent: after a crash, this is how the resource is found again.
    public func intent(_ address: ResourceAddress, action: String, config: [String: AttributeValue], dependencies: [ResourceAddress]) async throws {
        guard let journal else { throw StateError.io("the journal cannot be written: \(journalError ?? "?")") }
        await journal.append(.intent(address: address, action: action, config: config, dependencies: dependencies), durable: true)
        if let failure = journal.failureMessage { throw StateError.io("writing the journal failed: \(failure)") }
    }

    public func record(_ record: ResourceRecord, change: Change) async throws {
        let old = state.resources[record.address]
        state.resources[record.address] = record
        if old != record { changedAddresses.insert(record.address) }
        await journal?.append(.done(record), durable: false)
        switch change {
        case .created: counts.create += 1
        case .updated: counts.update += 1
        case .deleted: break
        }
    }

    public func remove(_ address: ResourceAddress) async throws {
        guard state.resources.removeValue(forKey: address) != nil else { return }
        changedAddresses.insert(address)
        await journal?.append(.deleted(address), durable: false)
        counts.delete += 1
    }

    /// A rename (`moved:` or `state mv`): the record changes address; nothing was created or destroyed.
    public func move(from: ResourceAddress, to: ResourceAddress) async throws {
        guard var record = state.resources.removeValue(forKey: from) else { return }
        record.address = to
        state.resources[to] = record
        changedAddresses.insert(from)
        changedAddresses.insert(to)
        await journal?.append(.deleted(from), durable: false)
        await journal?.append(.done(record), durable: false)
        counts.moved += 1
    }

    public func carry(_ intents: [StateStore.PendingIntent]) { carriedIntents = intents }

    /// Recovery commits whatever a killed run left in the work tree, too.
    public func sweepWorkTree() { sweep = true }

    public func setOutputs(_ outputs: [String: AttributeValue]) throws {
        guard outputs != state.outputs else { return }
        state.outputs = outputs
        let path = "\(store.stack)/outputs.json"
        try store.write(AttributeValue.map(outputs).canonicalJSON() + "\n", relative: path)
        extraPaths.insert(path)
    }

    public var hasChanges: Bool { !changedAddresses.isEmpty || !extraPaths.isEmpty }

    private func rewriteWorkTree() throws {
        try store.write(state.meta.canonicalText, relative: "\(store.stack)/meta.json")
        for (address, record) in state.resources { try store.write(record.canonicalText, relative: store.relativePath(of: address)) }
    }

    /// Removes the journal, or rewrites it with only the intents carried over.
    private func finishJournal() throws {
        guard !carriedIntents.isEmpty else {
            try? FileManager.default.removeItem(at: store.journalURL)
            return
        }
        let lines = carriedIntents.map {
            JournalEntry.intent(address: $0.address, action: "create", config: $0.config, dependencies: $0.dependencies).json
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: store.journalURL, options: .atomic)
    }

    /// Folds the run into the per-resource files and commits them as `<verb> <stack>: +N ~N -N` with
    /// `Plan-Id:` and `Serial:` trailers, then removes the journal. Nothing is committed when nothing
    /// changed; returns the new commit id.
    @discardableResult
    public func commit(verb: String, planID: String, trailers: [String: String] = [:], summary: String? = nil) throws -> String? {
        journal?.close()
        journal = nil
        // A killed run can leave a torn file in the work tree (meta.json, a resource's file): the sweep below commits the
        // work tree whole, so what is in memory — read with the committed version standing in for a torn one — is
        // written back first. Only files that differ are written.
        if sweep { try rewriteWorkTree() }
        guard hasChanges else {
            // After a crash the work tree may still hold state files a killed run wrote but never committed.
            let swept = sweep ? try store.repository.commitAll(under: store.stack, message: "\(verb) \(store.stack): commit what an interrupted run wrote\n") : nil
            try finishJournal()
            state.revision = swept ?? state.revision
            return swept
        }
        var paths = extraPaths
        for address in changedAddresses.sorted() {
            let path = store.relativePath(of: address)
            if let record = state.resources[address] {
                try store.write(record.canonicalText, relative: path)
            } else {
                try store.remove(relative: path)
            }
            paths.insert(path)
        }
        state.meta.serial += 1
        state.meta.engineVersion = StateStore.engineVersion
        let metaPath = "\(store.stack)/meta.json"
        try store.write(state.meta.canonicalText, relative: metaPath)
        paths.insert(metaPath)
        let outputsPath = "\(store.stack)/outputs.json"
        if !FileManager.default.fileExists(atPath: store.directory.appendingPathComponent(outputsPath).path) {
            try store.write("{}\n", relative: outputsPath)
            paths.insert(outputsPath)
        }
        let moved = counts.moved > 0 ? ", \(counts.moved) moved" : ""
        let title = summary ?? "\(verb) \(store.stack): +\(counts.create) ~\(counts.update) -\(counts.delete)\(moved)"
        var message = "\(title)\n\nPlan-Id: \(planID)\nSerial: \(state.meta.serial)\n"
        for key in trailers.keys.sorted() { message += "\(key): \(trailers[key]!)\n" }
        try store.ensureIgnoreFile()
        let commit = sweep
            ? try store.repository.commitAll(under: store.stack, message: message)
            : try store.repository.commit(paths: paths.sorted() + [store.ignoreFilePath], message: message)
        // Only once git has the state may the journal go: until then it is how a crash is recovered.
        try finishJournal()
        changedAddresses.removeAll()
        extraPaths.removeAll()
        state.revision = commit ?? state.revision
        if let commit { try store.publish(commit) }
        return commit
    }
}

/// Fixed slots filled from several threads at once, each index by exactly one of them.
final class ResultSlots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<T, Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: Result<T, Error>) { lock.withLock { values[i] = value } }
}
