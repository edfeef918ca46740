/// Which cluster, as whom: resolved the way kubectl resolves it. `clouds.kubernetes.kubeconfig` (like kubectl's
/// `--kubeconfig`), else `KUBECONFIG` (several files, merged), else `~/.kube/config`, else the in-cluster service
/// account (`KUBERNETES_SERVICE_HOST`/`_PORT` and the mounted token). The context is `clouds.kubernetes.context` or the
/// kubeconfig's `current-context`; the default namespace `clouds.kubernetes.namespace`, the context's, or `default`.

import Foundation
import NIOSSL
import ProviderKit

public struct ClusterAccess: Sendable {
    /// How requests prove who they are.
    enum Credential: Sendable {
        case none
        /// A client certificate (already in the TLS configuration).
        case clientCertificate
        case token(String)
        /// A token file, re-read every minute (projected service account tokens rotate).
        case tokenFile(String)
        case exec(Kubeconfig.Exec)
    }

    /// `https://host:port` plus any path prefix, without a trailing slash.
    var server: String
    /// The context's name, or `in-cluster`.
    var context: String
    /// Where the cluster and credentials came from: `context admin of kubeconfig /x/kubeconfig`.
    var origin: String
    var namespace: String
    var credential: Credential
    /// What the credential is, for 401/403 messages: `client certificate /x/admin.crt`, never the secret itself.
    var credentialSource: String
    var tls: TLSConfiguration

    /// `server` split for requests.
    var baseURL: String { server }

    /// "context admin of kubeconfig /x/kubeconfig, credentials: client certificate /x/admin.crt".
    var identity: String { "\(origin); credentials: \(credentialSource)" }
}

/// The service account files a pod gets, and the variables kubelet sets.
struct InClusterFiles: Sendable {
    var directory = "/var/run/secrets/kubernetes.io/serviceaccount"
    var token: String { directory + "/token" }
    var ca: String { directory + "/ca.crt" }
    var namespace: String { directory + "/namespace" }
}

enum AccessResolver {
    /// Whether the stack or the environment names a kubeconfig, so that problems with it are reported when the provider
    /// is configured (before anything is created) rather than at the first call.
    static func isExplicit(settings: ProviderSettings, environment: [String: String]) -> Bool {
        settings.string("kubeconfig") != nil || !(environment["KUBECONFIG"] ?? "").isEmpty || settings.string("context") != nil
    }

    static func resolve(settings: ProviderSettings, environment: [String: String], workingDirectory: String,
                        inCluster: InClusterFiles = InClusterFiles()) throws -> ClusterAccess {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let files: [String], skipMissing: Bool, named: String
        if let path = settings.path("kubeconfig", environment: environment, workingDirectory: workingDirectory) {
            (files, skipMissing, named) = ([path], false, "clouds.kubernetes.kubeconfig")
        } else if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map { ProviderSettings.resolvePath(String($0), environment: environment, workingDirectory: workingDirectory) }
            (files, skipMissing, named) = (paths, true, "KUBECONFIG")
        } else if FileManager.default.fileExists(atPath: home + "/.kube/config") {
            (files, skipMissing, named) = ([home + "/.kube/config"], false, "~/.kube/config")
        } else if let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty, let port = environment["KUBERNETES_SERVICE_PORT"],
                  FileManager.default.fileExists(atPath: inCluster.token) {
            return try inClusterAccess(host: host, port: port, settings: settings, files: inCluster)
        } else {
            throw KubeconfigError(message: "no cluster to talk to: clouds.kubernetes.kubeconfig is not set, KUBECONFIG is not set, \(home)/.kube/config does not exist, and this is not a pod with a service account (KUBERNETES_SERVICE_HOST)")
        }
        let config = try Kubeconfig.load(files: files, skipMissing: skipMissing)
        if config.files.isEmpty {
            throw KubeconfigError(message: "\(named) names \(files.joined(separator: ":")), and none of these files exists")
        }
        return try access(config, settings: settings)
    }

    static func access(_ config: Kubeconfig, settings: ProviderSettings) throws -> ClusterAccess {
        let contextName: String
        if let name = settings.string("context"), !name.isEmpty {
            contextName = name
        } else if let current = config.currentContext {
            contextName = current
        } else {
            throw KubeconfigError(message: "\(config.whereFrom) has no current-context; set clouds.kubernetes.context to one of: \(config.contexts.keys.sorted().joined(separator: ", "))")
        }
        guard let context = config.contexts[contextName] else {
            let known = config.contexts.keys.sorted()
            throw KubeconfigError(message: "context '\(contextName)' is not in \(config.whereFrom)" + (known.isEmpty ? " (it has no contexts)" : "; its contexts: \(known.joined(separator: ", "))"))
        }
        guard let cluster = config.clusters[context.cluster] else {
            throw KubeconfigError(message: "context '\(contextName)' of \(config.whereFrom) names cluster '\(context.cluster)', which is not defined there")
        }
        guard !cluster.server.isEmpty else {
            throw KubeconfigError(message: "cluster '\(context.cluster)' of \(config.whereFrom) has no server")
        }
        let user: Kubeconfig.User
        if context.user.isEmpty {
            user = Kubeconfig.User()
        } else if let u = config.users[context.user] {
            user = u
        } else {
            throw KubeconfigError(message: "context '\(contextName)' of \(config.whereFrom) names user '\(context.user)', which is not defined there")
        }
        let origin = "context \(contextName) of \(config.whereFrom)"
        if cluster.proxyURL != nil {
            throw KubeconfigError(message: "cluster '\(context.cluster)' of \(config.whereFrom) sets proxy-url, which maifctl does not support; reach the API server directly")
        }
        if cluster.tlsServerName != nil {
            throw KubeconfigError(message: "cluster '\(context.cluster)' of \(config.whereFrom) sets tls-server-name, which maifctl does not support yet")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.applicationProtocols = ["http/1.1"]
        let what = "cluster '\(context.cluster)' of \(config.whereFrom)"
        if cluster.insecureSkipTLSVerify {
            tls.certificateVerification = .none
        } else if let ca = try pem(file: cluster.certificateAuthority, data: cluster.certificateAuthorityData,
                                   what: "the certificate authority of \(what)") {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            } catch {
                throw KubeconfigError(message: "the certificate authority of \(what) is not a PEM certificate")
            }
        }
        let userWhat = "user '\(context.user)' of \(config.whereFrom)"
        var credential = ClusterAccess.Credential.none
        var source = "no credentials (user '\(context.user)' has none)"
        let cert = try pem(file: user.clientCertificate, data: user.clientCertificateData, what: "the client certificate of \(userWhat)")
        let key = try pem(file: user.clientKey, data: user.clientKeyData, what: "the client key of \(userWhat)")
        if (cert == nil) != (key == nil) {
            throw KubeconfigError(message: "\(userWhat) has a client \(cert == nil ? "key" : "certificate") but no client \(cert == nil ? "certificate" : "key")")
        }
        if let cert, let key {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(cert).map { .certificate($0) }
            } catch {
                throw KubeconfigError(message: "the client certificate of \(userWhat) is not a PEM certificate")
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            } catch {
                throw KubeconfigError(message: "the client key of \(userWhat) is not a PEM private key")
            }
            credential = .clientCertificate
            source = "client certificate " + (user.clientCertificate ?? "(client-certificate-data of user '\(context.user)')")
        }
        if let token = user.token, !token.isEmpty {
            credential = .token(token)
            source = "bearer token of user '\(context.user)'"
        } else if let file = user.tokenFile {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw KubeconfigError(message: "the tokenFile \(file) of \(userWhat) cannot be read")
            }
            credential = .tokenFile(file)
            source = "bearer token from \(file)"
        } else if let exec = user.exec {
            guard ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"].contains(exec.apiVersion) else {
                throw KubeconfigError(message: "the exec plugin of \(userWhat) has apiVersion '\(exec.apiVersion)'; maifctl runs client.authentication.k8s.io/v1 and v1beta1 plugins")
            }
            credential = .exec(exec)
            source = "exec plugin \(exec.command) of user '\(context.user)'"
        } else if let provider = user.authProvider {
            throw KubeconfigError(message: "\(userWhat) uses the auth-provider '\(provider)', which Kubernetes removed in 1.26; use its exec credential plugin instead")
        } else if user.username != nil, case .none = credential {
            throw KubeconfigError(message: "\(userWhat) uses basic authentication, which Kubernetes removed in 1.19; use a token, a client certificate or an exec plugin")
        }
        let namespace = settings.string("namespace").flatMap { $0.isEmpty ? nil : $0 } ?? context.namespace ?? "default"
        return ClusterAccess(server: trimmedServer(cluster.server), context: contextName, origin: origin, namespace: namespace,
                             credential: credential, credentialSource: source, tls: tls)
    }

    static func inClusterAccess(host: String, port: String, settings: ProviderSettings, files: InClusterFiles) throws -> ClusterAccess {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.applicationProtocols = ["http/1.1"]
        guard let ca = FileManager.default.contents(atPath: files.ca) else {
            throw KubeconfigError(message: "in-cluster configuration: \(files.ca) cannot be read")
        }
        do {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca)))
        } catch {
            throw KubeconfigError(message: "in-cluster configuration: \(files.ca) is not a PEM certificate")
        }
        let namespaceFile = (try? String(contentsOfFile: files.namespace, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let namespace = settings.string("namespace").flatMap { $0.isEmpty ? nil : $0 } ?? namespaceFile.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let name = host.contains(":") ? "[\(host)]" : host
        return ClusterAccess(server: "https://\(name):\(port)", context: "in-cluster",
                             origin: "the in-cluster service account (KUBERNETES_SERVICE_HOST)", namespace: namespace,
                             credential: .tokenFile(files.token), credentialSource: "service account token \(files.token)", tls: tls)
    }

    /// A file's or a base64 field's bytes; nil when neither is set.
    static func pem(file: String?, data: String?, what: String) throws -> [UInt8]? {
        if let data, !data.isEmpty {
            guard let bytes = Data(base64Encoded: data.filter { !$0.isWhitespace }) else {
                throw KubeconfigError(message: "\(what) (the *-data field) is not base64")
            }
            return Array(bytes)
        }
        if let file {
            guard let bytes = FileManager.default.contents(atPath: file) else {
                throw KubeconfigError(message: "\(what), \(file), cannot be read")
            }
            return Array(bytes)
        }
        return nil
    }

    static func trimmedServer(_ server: String) -> String {
        var s = server
        while s.hasSuffix("/") { s.removeLast() }
        if !s.contains("://") { s = "https://" + s }
        return s
    }
}
