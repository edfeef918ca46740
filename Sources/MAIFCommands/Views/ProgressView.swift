/// What a person sees while apply runs.
///
/// On a terminal: one line per finished, failed or skipped resource scrolls up, and a live status line stays at the
/// bottom, redrawn twice a second: `[3/10 done] 2 in flight: aws.instance.web-1 (12s), aws.lb.front (3s)`.
/// Without a terminal (CI logs): one line per finished resource with its time, "still creating…" lines for slow ones,
/// and for very large runs a count every 500 instead of a line each.

import Execution
import Foundation
import Planning
import ProviderKit

final class ProgressView: @unchecked Sendable {
    enum Mode { case live, lines, counts }

    private let mode: Mode
    private let total: Int
    private let lock = NSLock()
    private var inFlight: [ResourceAddress: (PlanAction, Date)] = [:]
    private var done = 0, failed = 0, skipped = 0
    private var statusShown = false
    private var timer: DispatchSourceTimer?
    private let started = Date()

    /// `total`: the steps the apply takes (`Executor.stepCount`).
    init(total: Int, terminal: Bool) {
        self.total = total
        mode = terminal ? .live : total > 1000 ? .counts : .lines
        if mode == .live {
            let t = DispatchSource.makeTimerSource(queue: .global())
            t.schedule(deadline: .now() + 0.5, repeating: 0.5)
            t.setEventHandler { [weak self] in self?.redraw() }
            t.resume()
            timer = t
        }
    }

    /// Clears the status line; call before printing the run's summary.
    func stop() {
        timer?.cancel()
        timer = nil
        lock.withLock {
            if statusShown { write("\r\u{1B}[K") }
            statusShown = false
        }
    }

    func handle(_ event: ApplyEvent) {
        lock.withLock {
            var line: String?
            switch event {
            case let .started(address, action):
                inFlight[address] = (action, Date())
            case let .stillRunning(address, action, seconds):
                // The status line shows it on a terminal.
                if mode != .live { line = "\(address): Still \(Self.gerund(action).lowercased())... [\(Int(seconds))s elapsed]" }
            case let .finished(address, action, seconds, id):
                inFlight[address] = nil
                done += 1
                if mode != .counts { line = "\(address): \(Self.noun(action)) complete after \(Self.format(seconds))\(id.map { " [id=\($0)]" } ?? "")" }
                else if done % 500 == 0 { line = "\(done)/\(total) done (\(Self.format(Date().timeIntervalSince(started))))" }
            case let .failed(address, action, seconds, message):
                inFlight[address] = nil
                failed += 1
                // The message names the address already ("ADDRESS: CALL failed: …"): say it once.
                let prefix = "\(address): "
                let text = message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
                line = "\(address): \(Self.noun(action)) failed after \(Self.format(seconds)): \(text)"
            case let .skipped(address, _, because):
                skipped += 1
                line = "\(address): Skipped because \(because) failed"
            }
            guard let line else { return }
            if mode == .live {
                write("\r\u{1B}[K" + line + "\n" + status())
                statusShown = true
            } else {
                write(line + "\n")
            }
        }
    }

    private func redraw() {
        lock.withLock {
            write("\r\u{1B}[K" + status())
            statusShown = true
        }
    }

    /// `[3/10 done] 2 in flight: a (12s), b (3s)`, cut to the terminal's width.
    private func status() -> String {
        let now = Date()
        var text = "[\(done)/\(total) done"
        if failed > 0 { text += ", \(failed) failed" }
        if skipped > 0 { text += ", \(skipped) skipped" }
        text += "] "
        let running = inFlight.sorted { $0.value.1 < $1.value.1 }
        if running.isEmpty {
            text += done + failed + skipped >= total ? "finishing" : "waiting"
        } else {
            text += "\(running.count) in flight: " + running.map { "\($0.key) (\(Int(now.timeIntervalSince($0.value.1)))s)" }.joined(separator: ", ")
        }
        text += " · \(Int(now.timeIntervalSince(started)))s"
        let width = Self.terminalWidth()
        if text.count > width - 1 { text = String(text.prefix(max(10, width - 2))) + "…" }
        return text
    }

    /// Through stdio, as `print` writes, so the plan printed before keeps its place.
    private func write(_ s: String) {
        Swift.print(s, terminator: "")
        fflush(nil)
    }

    private static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    static func gerund(_ a: PlanAction) -> String {
        switch a {
        case .create: return "Creating"
        case .update: return "Modifying"
        case .replace: return "Replacing"
        case .delete: return "Destroying"
        case .noop: return "Reading"
        }
    }

    static func noun(_ a: PlanAction) -> String {
        switch a {
        case .create: return "Creation"
        case .update: return "Modifications"
        case .replace: return "Replacement"
        case .delete: return "Destruction"
        case .noop: return "Read"
        }
    }

    static func format(_ s: Double) -> String { s < 10 ? String(format: "%.1fs", s) : "\(Int(s))s" }
}
