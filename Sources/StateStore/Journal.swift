/// The write-ahead journal of a run: `<state>/<stack>/journal.jsonl`, one JSON object per line.
///
/// An `intent` is made durable (fsync) before a create is sent, so a run killed at any moment leaves a
/// record of every resource that may exist. `done` and `deleted` lines follow each finished action.
/// Appends are group-committed by one flusher thread: many resources share one fsync. At the end of a
/// run the journal is folded into the per-resource files and the git commit, then removed; the next run
/// after a crash folds what it finds (see `StateStore.recover`).

import Foundation
import ProviderKit

public enum JournalEntry: Sendable, Equatable {
    case intent(address: ResourceAddress, action: String, config: [String: AttributeValue], dependencies: [ResourceAddress])
    case done(ResourceRecord)
    case deleted(ResourceAddress)

    var json: String {
        switch self {
        case let .intent(address, action, config, dependencies):
            return AttributeValue.map([
                "op": "intent", "address": .string(address.description), "action": .string(action), "config": .map(config),
                "dependencies": .list(dependencies.map { .string($0.description) }),
            ]).canonicalJSON(indent: nil)
        case let .done(record):
            return AttributeValue.map([
                "op": "done", "address": .string(record.address.description), "id": .string(record.id),
                "attributes": .map(record.attributes), "dependencies": .list(record.dependencies.map { .string($0.description) }),
            ]).canonicalJSON(indent: nil)
        case let .deleted(address):
            return AttributeValue.map(["op": "deleted", "address": .string(address.description)]).canonicalJSON(indent: nil)
        }
    }

    init?(line: Substring) {
        guard let object = try? JSONDecoder().decode([String: AttributeValue].self, from: Data(line.utf8)),
              let op = object["op"]?.stringValue, let address = object["address"]?.stringValue.flatMap(ResourceAddress.init(parsing:))
        else { return nil }
        let deps = (object["dependencies"]?.listValue ?? []).compactMap { $0.stringValue.flatMap(ResourceAddress.init(parsing:)) }
        switch op {
        case "intent":
            self = .intent(address: address, action: object["action"]?.stringValue ?? "create",
                           config: object["config"]?.mapValue ?? [:], dependencies: deps)
        case "done":
            guard let id = object["id"]?.stringValue else { return nil }
            self = .done(ResourceRecord(address: address, id: id, attributes: object["attributes"]?.mapValue ?? [:], dependencies: deps))
        case "deleted":
            self = .deleted(address)
        default:
            return nil
        }
    }

    /// Reads a journal; a torn last line (the crash hit mid-write) is ignored.
    static func read(_ url: URL) -> [JournalEntry] {
        guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap(JournalEntry.init(line:))
    }
}

/// Appends journal lines; `durable` appends return only once their line is on disk.
public final class Journal: @unchecked Sendable {
    private let fd: Int32
    private let condition = NSCondition()
    private var pending: [String] = []
    private var appended: UInt64 = 0
    private var flushed: UInt64 = 0
    private var waiters: [(UInt64, CheckedContinuation<Void, Never>)] = []
    private var closing = false
    private var thread: Thread?
    private var failure: String?

    init(url: URL) throws {
        fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw StateError.io("cannot open journal \(url.path): \(String(cString: strerror(errno)))") }
        // The thread keeps the journal alive until `close()` lets its loop end.
        let t = Thread { self.flushLoop() }
        t.name = "maifctl-journal"
        thread = t
        t.start()
    }

    public func append(_ entry: JournalEntry, durable: Bool) async {
        let sequence: UInt64 = condition.withLock {
            pending.append(entry.json)
            appended += 1
            condition.signal()
            return appended
        }
        guard durable else { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            condition.withLock {
                if flushed >= sequence { c.resume() } else { waiters.append((sequence, c)) }
            }
        }
    }

    /// Why a write to the journal failed, if one did.
    var failureMessage: String? { condition.withLock { failure } }

    /// Flushes everything and stops the flusher.
    func close() {
        condition.withLock {
            closing = true
            condition.signal()
            while flushed < appended && failure == nil { condition.wait() }
        }
        Glibc.close(fd)
    }

    private func flushLoop() {
        while true {
            condition.lock()
            while pending.isEmpty && !closing { condition.wait() }
            if pending.isEmpty && closing {
                condition.unlock()
                return
            }
            let lines = pending
            let upTo = appended
            pending.removeAll(keepingCapacity: true)
            condition.unlock()

            var data = Data(lines.joined(separator: "\n").utf8)
            data.append(10)
            let ok = data.withUnsafeBytes { buffer -> Bool in
                var offset = 0
                while offset < buffer.count {
                    let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if n < 0 { if errno == EINTR { continue }; return false }
                    offset += n
                }
                return fdatasync(fd) == 0
            }

            condition.lock()
            if !ok { failure = String(cString: strerror(errno)) }
            flushed = upTo
            let ready = waiters.filter { $0.0 <= upTo }
            waiters.removeAll { $0.0 <= upTo }
            condition.broadcast()
            condition.unlock()
            for (_, c) in ready { c.resume() }
        }
    }
}
