/// Kubeconfig files as kubectl reads them: several files merged in order (the first file to name a cluster, user or
/// context wins it, and the first `current-context` wins), paths inside a file relative to that file's folder, and
/// certificates and keys given as files or as base64 `*-data`.

import Foundation
import ProviderKit
import Yams

/// What went wrong with the kubeconfig; names the file and the entry, never a credential.
struct KubeconfigError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

struct Kubeconfig: Sendable {
    struct Cluster: Sendable, Equatable {
        var server: String
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify = false
        var tlsServerName: String?
        var proxyURL: String?
    }

    /// An exec credential plugin (`client.authentication.k8s.io/v1` or `v1beta1`).
    struct Exec: Sendable, Equatable {
        var apiVersion: String
        var command: String
        var args: [String]
        var env: [(name: String, value: String)]
        var provideClusterInfo: Bool
        var installHint: String?
        /// The folder a relative command is resolved against (the kubeconfig's, as kubectl does).
        var directory: String

        static func == (a: Exec, b: Exec) -> Bool {
            a.apiVersion == b.apiVersion && a.command == b.command && a.args == b.args && a.provideClusterInfo == b.provideClusterInfo
                && a.env.map { "\($0.name)=\($0.value)" } == b.env.map { "\($0.name)=\($0.value)" }
        }
    }

    struct User: Sendable, Equatable {
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        var exec: Exec?
        var authProvider: String?
        var username: String?
    }

    struct Context: Sendable, Equatable {
        var cluster: String
        var user: String
        var namespace: String?
    }

    var clusters: [String: Cluster] = [:]
    var users: [String: User] = [:]
    var contexts: [String: Context] = [:]
    var currentContext: String?
    /// The files read, in order (for messages).
    var files: [String] = []

    /// Reads and merges `files` as kubectl merges KUBECONFIG. A file that does not exist is skipped when
    /// `skipMissing` (KUBECONFIG entries), and an error otherwise (a file the stack names).
    static func load(files: [String], skipMissing: Bool) throws -> Kubeconfig {
        var merged = Kubeconfig()
        for file in files where !file.isEmpty {
            guard FileManager.default.fileExists(atPath: file) else {
                if skipMissing { continue }
                throw KubeconfigError(message: "kubeconfig \(file) does not exist")
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw KubeconfigError(message: "kubeconfig \(file) cannot be read (check its permissions)")
            }
            let one = try parse(String(decoding: data, as: UTF8.self), file: file)
            merged.files.append(file)
            for (k, v) in one.clusters where merged.clusters[k] == nil { merged.clusters[k] = v }
            for (k, v) in one.users where merged.users[k] == nil { merged.users[k] = v }
            for (k, v) in one.contexts where merged.contexts[k] == nil { merged.contexts[k] = v }
            if merged.currentContext == nil, let c = one.currentContext, !c.isEmpty { merged.currentContext = c }
        }
        return merged
    }

    /// One file's content; relative paths are made absolute against the file's folder.
    static func parse(_ text: String, file: String) throws -> Kubeconfig {
        let root: AttributeValue
        do {
            root = YAMLValues.value(try Yams.load(yaml: text))
        } catch {
            throw KubeconfigError(message: "kubeconfig \(file) is not valid YAML: \(YAMLValues.describe(error))")
        }
        if root == .null { return Kubeconfig(files: [file]) }
        guard case .map(let top) = root else {
            throw KubeconfigError(message: "kubeconfig \(file) is not a kubeconfig (expected a mapping with clusters, users and contexts)")
        }
        let directory = (file as NSString).deletingLastPathComponent
        func path(_ value: AttributeValue?) -> String? {
            guard let p = value?.stringValue, !p.isEmpty else { return nil }
            if p.hasPrefix("/") { return p }
            if p == "~" || p.hasPrefix("~/") { return NSHomeDirectory() + p.dropFirst() }
            return URL(fileURLWithPath: p, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).standardizedFileURL.path
        }
        func named(_ key: String, _ body: String) throws -> [(String, [String: AttributeValue])] {
            guard let list = top[key], list != .null else { return [] }
            guard case .list(let items) = list else { throw KubeconfigError(message: "kubeconfig \(file): '\(key)' must be a list") }
            return try items.map { item in
                guard let m = item.mapValue, let name = m["name"]?.stringValue else {
                    throw KubeconfigError(message: "kubeconfig \(file): an entry of '\(key)' has no name")
                }
                return (name, m[body]?.mapValue ?? [:])
            }
        }
        var config = Kubeconfig(files: [file])
        for (name, c) in try named("clusters", "cluster") where config.clusters[name] == nil {
            config.clusters[name] = Cluster(server: c["server"]?.stringValue ?? "", certificateAuthority: path(c["certificate-authority"]),
                                            certificateAuthorityData: c["certificate-authority-data"]?.stringValue,
                                            insecureSkipTLSVerify: c["insecure-skip-tls-verify"]?.boolValue ?? false,
                                            tlsServerName: c["tls-server-name"]?.stringValue, proxyURL: c["proxy-url"]?.stringValue)
        }
        for (name, u) in try named("users", "user") where config.users[name] == nil {
            var user = User(token: u["token"]?.stringValue, tokenFile: path(u["tokenFile"]),
                            clientCertificate: path(u["client-certificate"]), clientCertificateData: u["client-certificate-data"]?.stringValue,
                            clientKey: path(u["client-key"]), clientKeyData: u["client-key-data"]?.stringValue,
                            authProvider: u["auth-provider"]?.mapValue?["name"]?.stringValue, username: u["username"]?.stringValue)
            if let e = u["exec"]?.mapValue {
                guard let command = e["command"]?.stringValue, !command.isEmpty else {
                    throw KubeconfigError(message: "kubeconfig \(file): user \(name) has an exec plugin without a command")
                }
                let env: [(name: String, value: String)] = (e["env"]?.listValue ?? []).compactMap { item in
                    guard let m = item.mapValue, let n = m["name"]?.stringValue else { return nil }
                    return (n, m["value"]?.stringValue ?? "")
                }
                user.exec = Exec(apiVersion: e["apiVersion"]?.stringValue ?? "", command: command,
                                 args: (e["args"]?.listValue ?? []).compactMap(\.stringValue), env: env,
                                 provideClusterInfo: e["provideClusterInfo"]?.boolValue ?? false,
                                 installHint: e["installHint"]?.stringValue, directory: directory)
            }
            config.users[name] = user
        }
        for (name, c) in try named("contexts", "context") where config.contexts[name] == nil {
            config.contexts[name] = Context(cluster: c["cluster"]?.stringValue ?? "", user: c["user"]?.stringValue ?? "",
                                            namespace: c["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 })
        }
        config.currentContext = top["current-context"]?.stringValue
        return config
    }

    var whereFrom: String {
        switch files.count {
        case 0: return "no kubeconfig"
        case 1: return "kubeconfig \(files[0])"
        default: return "kubeconfig \(files.joined(separator: ":"))"
        }
    }
}

/// YAML text (Yams' values) as attribute values.
enum YAMLValues {
    static func value(_ any: Any?) -> AttributeValue {
        switch any {
        case nil: return .null
        case is NSNull: return .null
        case let b as Bool: return .bool(b)
        case let i as Int: return .int(Int64(i))
        case let i as Int64: return .int(i)
        case let d as Double: return .double(d)
        case let s as String: return .string(s)
        case let d as Data: return .string(d.base64EncodedString())
        case let date as Date: return .string(ISO8601DateFormatter().string(from: date))
        case let list as [Any]: return .list(list.map(value))
        case let map as [AnyHashable: Any]:
            var out: [String: AttributeValue] = [:]
            for (k, v) in map { out["\(k.base)"] = value(v) }
            return .map(out)
        case let map as [String: Any]: return .map(map.mapValues(value))
        default: return .string("\(any!)")
        }
    }

    /// A YAML error's first line, without the input echoed back.
    static func describe(_ error: Error) -> String {
        String("\(error)".split(separator: "\n").first ?? "")
    }
}
