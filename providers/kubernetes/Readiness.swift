/// When an applied object is ready, read from its status the way `kubectl rollout status` and `kubectl wait` read it:
/// StatefulSets and Deployments (and DaemonSets) rolled out, CustomResourceDefinitions Established, volume claims
/// Bound. Each answer says what is still missing, so a wait that gives up names what it waited for.

import Foundation
import ProviderKit

enum Readiness: Equatable {
    case ready
    case waiting(String)
    /// The rollout cannot finish by itself (a Deployment past its progress deadline, a CRD whose names conflict).
    case failed(String)

    static func of(_ object: AttributeValue, kind: String) -> Readiness {
        let m = object.mapValue ?? [:]
        let spec = m["spec"]?.mapValue ?? [:], status = m["status"]?.mapValue ?? [:]
        let generation = m["metadata"]?.mapValue?["generation"]?.intValue ?? 0
        let observed = status["observedGeneration"]?.intValue ?? 0
        func int(_ key: String) -> Int64 { status[key]?.intValue ?? 0 }
        switch kind {
        case "StatefulSet":
            if observed < generation { return .waiting("the controller to observe generation \(generation) (observed \(observed))") }
            let strategy = spec["updateStrategy"]?.mapValue
            if strategy?["type"]?.stringValue == "OnDelete" { return .ready }
            let replicas = spec["replicas"]?.intValue ?? 1
            if int("readyReplicas") < replicas { return .waiting("\(int("readyReplicas")) of \(replicas) replicas ready") }
            if let partition = strategy?["rollingUpdate"]?.mapValue?["partition"]?.intValue, partition > 0 {
                let wanted = replicas - partition
                if int("updatedReplicas") < wanted { return .waiting("\(int("updatedReplicas")) of \(wanted) replicas updated (partition \(partition))") }
                return .ready
            }
            let update = status["updateRevision"]?.stringValue ?? "", current = status["currentRevision"]?.stringValue ?? ""
            if update != current {
                return .waiting("the rolling update to finish (updateRevision \(update.isEmpty ? "unset" : update) ≠ currentRevision \(current.isEmpty ? "unset" : current), \(int("updatedReplicas")) of \(replicas) updated)")
            }
            return .ready
        case "Deployment":
            if observed < generation { return .waiting("the controller to observe generation \(generation) (observed \(observed))") }
            for c in status["conditions"]?.listValue ?? [] where c.mapValue?["type"]?.stringValue == "Progressing" {
                if c.mapValue?["reason"]?.stringValue == "ProgressDeadlineExceeded" {
                    return .failed("the rollout exceeded its progress deadline: \(c.mapValue?["message"]?.stringValue ?? "")")
                }
            }
            let replicas = spec["replicas"]?.intValue ?? 1
            if int("updatedReplicas") < replicas { return .waiting("\(int("updatedReplicas")) of \(replicas) replicas updated") }
            if int("replicas") > int("updatedReplicas") {
                return .waiting("\(int("replicas") - int("updatedReplicas")) old replicas to terminate")
            }
            if int("availableReplicas") < int("updatedReplicas") {
                return .waiting("\(int("availableReplicas")) of \(int("updatedReplicas")) updated replicas available")
            }
            return .ready
        case "DaemonSet":
            if observed < generation { return .waiting("the controller to observe generation \(generation) (observed \(observed))") }
            if spec["updateStrategy"]?.mapValue?["type"]?.stringValue == "OnDelete" { return .ready }
            let desired = int("desiredNumberScheduled")
            if int("updatedNumberScheduled") < desired { return .waiting("\(int("updatedNumberScheduled")) of \(desired) pods updated") }
            if int("numberAvailable") < desired { return .waiting("\(int("numberAvailable")) of \(desired) pods available") }
            return .ready
        case "CustomResourceDefinition":
            for c in status["conditions"]?.listValue ?? [] {
                guard let cm = c.mapValue else { continue }
                if cm["type"]?.stringValue == "NamesAccepted", cm["status"]?.stringValue == "False" {
                    return .failed("its names are not accepted: \(cm["message"]?.stringValue ?? "")")
                }
                if cm["type"]?.stringValue == "Established", cm["status"]?.stringValue == "True" { return .ready }
            }
            return .waiting("the Established condition")
        case "PersistentVolumeClaim":
            let phase = status["phase"]?.stringValue ?? "Pending"
            if phase == "Bound" { return .ready }
            if phase == "Lost" { return .failed("the claim lost its volume") }
            return .waiting("the claim to be Bound (phase \(phase))")
        default:
            return .ready
        }
    }

    /// The kinds apply waits for unless told not to (`wait: false`); a PersistentVolumeClaim waits only with `wait: true`,
    /// since a claim of a WaitForFirstConsumer storage class stays Pending until a pod uses it.
    static func waitsByDefault(_ kind: String) -> Bool {
        ["StatefulSet", "Deployment", "DaemonSet", "CustomResourceDefinition"].contains(kind)
    }

    static func waitable(_ kind: String) -> Bool { waitsByDefault(kind) || kind == "PersistentVolumeClaim" }

    /// What the wait is for, in messages: `StatefulSet maif/maif-cluster to roll out`.
    static func goal(kind: String, name: String) -> String {
        switch kind {
        case "StatefulSet", "Deployment", "DaemonSet": return "\(kind) \(name) to roll out"
        case "CustomResourceDefinition": return "CustomResourceDefinition \(name) to be Established"
        case "PersistentVolumeClaim": return "PersistentVolumeClaim \(name) to be Bound"
        default: return "\(kind) \(name)"
        }
    }
}

/// Bounded polling: short waits first, growing to `interval`.
enum Poll {
    static func until<T>(timeout: Double, interval: Double = 2, _ check: () async throws -> T?) async throws -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        var delay = 0.1
        while true {
            if let value = try await check() { return value }
            guard Date() < deadline else { return nil }
            try await Task.sleep(nanoseconds: UInt64(min(delay, max(0.01, deadline.timeIntervalSinceNow)) * 1e9))
            delay = min(interval, delay * 1.6)
        }
    }
}

/// A duration attribute: seconds as a number, or text like `90s`, `5m`, `1h`.
enum Durations {
    static func seconds(_ value: AttributeValue?) -> Double? {
        switch value {
        case .int(let i)?: return Double(i)
        case .double(let d)?: return d
        case .string(let s)?:
            let t = s.trimmingCharacters(in: .whitespaces)
            if let d = Double(t) { return d }
            var total = 0.0, number = ""
            for c in t {
                if c.isNumber || c == "." { number.append(c); continue }
                guard let n = Double(number) else { return nil }
                switch c {
                case "s": total += n
                case "m": total += n * 60
                case "h": total += n * 3600
                case "d": total += n * 86400
                default: return nil
                }
                number = ""
            }
            return number.isEmpty ? total : nil
        default: return nil
        }
    }

    static func text(_ seconds: Double) -> String {
        if seconds < 60 || seconds.truncatingRemainder(dividingBy: 60) != 0 { return "\(Int(seconds.rounded())) s" }
        return "\(Int(seconds / 60)) min"
    }
}
