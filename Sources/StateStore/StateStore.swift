/// State in git: `<dir>/<stack>/meta.json`, one canonical file per resource under
/// `<stack>/resources/<provider>/<kind>/<name>.json`, `<stack>/outputs.json`; one commit per apply.

import Foundation
import ProviderKit

public enum StateError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case io(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "state file \(path) cannot be read: \(reason)"
        case let .io(message): return message
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

    /// Work-tree-relative path of a resource's file.
    public func relativePath(of address: ResourceAddress) -> String {
        "\(stack)/resources/\(address.provider)/\(address.kind)/\(address.name).json"
    }

    /// Reads the state as it is in the work tree (which the last commit matches after a clean run).
    public func load() throws -> State {
        let revision = try repository.headCommit()
        let meta = try loadMeta()
        var resources: [ResourceAddress: ResourceRecord] = [:]
        let base = stackDirectory.appendingPathComponent("resources", isDirectory: true)
        let decoder = JSONDecoder()
        for path in Self.files(under: base.path) where path.hasSuffix(".json") {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            do {
                let record = try decoder.decode(ResourceRecord.self, from: data)
                resources[record.address] = record
            } catch {
                throw StateError.unreadable(path: path, reason: "\(error)")
            }
        }
        var outputs: [String: AttributeValue] = [:]
        if let data = FileManager.default.contents(atPath: stackDirectory.appendingPathComponent("outputs.json").path) {
            outputs = (try? decoder.decode([String: AttributeValue].self, from: data)) ?? [:]
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
            throw StateError.unreadable(path: url.path, reason: "\(error)")
        }
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

    /// A recorder for one apply: writes each finished resource at once, commits at the end.
    public func recorder(for state: State) -> StateRecorder {
        StateRecorder(store: self, state: state)
    }

    func write(_ text: String, relative: String) throws {
        let url = directory.appendingPathComponent(relative)
        let data = Data(text.utf8)
        if FileManager.default.contents(atPath: url.path) == data { return }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }

    func remove(relative: String) throws {
        let url = directory.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        try FileManager.default.removeItem(at: url)
        // Drop now-empty type/provider folders so `git status` and the tree stay tidy.
        var dir = url.deletingLastPathComponent()
        let stop = stackDirectory.path
        while dir.path.count > stop.count, let items = try? FileManager.default.contentsOfDirectory(atPath: dir.path), items.isEmpty {
            try? FileManager.default.removeItem(at: dir)
            dir = dir.deletingLastPathComponent()
        }
    }
}

/// Records the outcome of each action as it finishes (so a crash loses at most what was in flight),
/// and makes the one git commit of the run.
public actor StateRecorder {
    let store: StateStore
    public private(set) var state: State
    private var changedPaths: Set<String> = []
    private var counts = (create: 0, update: 0, delete: 0)

    init(store: StateStore, state: State) {
        self.store = store
        self.state = state
    }

    public enum Change: Sendable { case created, updated, deleted }

    public func record(_ record: ResourceRecord, change: Change) throws {
        let old = state.resources[record.address]
        state.resources[record.address] = record
        let path = store.relativePath(of: record.address)
        if old != record {
            try store.write(record.canonicalText, relative: path)
            changedPaths.insert(path)
        }
        switch change {
        case .created: counts.create += 1
        case .updated: counts.update += 1
        case .deleted: break
        }
    }

    public func remove(_ address: ResourceAddress) throws {
        guard state.resources.removeValue(forKey: address) != nil else { return }
        let path = store.relativePath(of: address)
        try store.remove(relative: path)
        changedPaths.insert(path)
        counts.delete += 1
    }

    public func setOutputs(_ outputs: [String: AttributeValue]) throws {
        guard outputs != state.outputs else { return }
        state.outputs = outputs
        let path = "\(store.stack)/outputs.json"
        try store.write(AttributeValue.map(outputs).canonicalJSON() + "\n", relative: path)
        changedPaths.insert(path)
    }

    public var hasChanges: Bool { !changedPaths.isEmpty }

    /// Commits what changed as `<verb> <stack>: +N ~N -N` with `Plan-Id:` and `Serial:` trailers.
    /// Nothing is committed when nothing changed; returns the new commit id.
    @discardableResult
    public func commit(verb: String, planID: String, trailers: [String: String] = [:]) throws -> String? {
        guard !changedPaths.isEmpty else { return nil }
        state.meta.serial += 1
        state.meta.engineVersion = StateStore.engineVersion
        let metaPath = "\(store.stack)/meta.json"
        try store.write(state.meta.canonicalText, relative: metaPath)
        changedPaths.insert(metaPath)
        let outputsPath = "\(store.stack)/outputs.json"
        if !FileManager.default.fileExists(atPath: store.directory.appendingPathComponent(outputsPath).path) {
            try store.write("{}\n", relative: outputsPath)
            changedPaths.insert(outputsPath)
        }
        var message = "\(verb) \(store.stack): +\(counts.create) ~\(counts.update) -\(counts.delete)\n\nPlan-Id: \(planID)\nSerial: \(state.meta.serial)\n"
        for key in trailers.keys.sorted() { message += "\(key): \(trailers[key]!)\n" }
        try store.ensureIgnoreFile()
        let commit = try store.repository.commit(paths: changedPaths.sorted() + [".gitignore"], message: message)
        changedPaths.removeAll()
        state.revision = commit ?? state.revision
        return commit
    }
}
