/// Progress lines during apply, in the style of Terraform's.

import Execution
import Foundation
import Planning

enum ProgressView {
    static func print(_ event: ApplyEvent, quiet: Bool) {
        let line: String?
        switch event {
        case let .started(address, action):
            line = quiet ? nil : "\(address): \(gerund(action))..."
        case let .stillRunning(address, action, seconds):
            line = "\(address): Still \(gerund(action).lowercased())... [\(Int(seconds))s elapsed]"
        case let .finished(address, action, seconds, id):
            line = quiet ? nil : "\(address): \(noun(action)) complete after \(format(seconds))\(id.map { " [id=\($0)]" } ?? "")"
        case let .failed(address, action, message):
            // The message names the address already ("ADDRESS: CALL failed: …"): say it once.
            let prefix = "\(address): "
            line = "\(address): \(noun(action)) failed: \(message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message)"
        case let .skipped(address, _, because):
            line = "\(address): Skipped because \(because) failed"
        }
        if let line { Swift.print(line) }
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
