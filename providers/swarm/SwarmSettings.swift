/// Where the swarm provider finds its Docker daemon, in the docker CLI's order: `DOCKER_HOST` (with `DOCKER_TLS_VERIFY`,
/// `DOCKER_CERT_PATH`) from the environment first, as it overrides a docker context, then the stack's `clouds.swarm`
/// settings, then the local socket. The swarm id recorded with every object keeps a different daemon's missing objects
/// from being taken for deletions (see `SwarmProvider.checkSwarm`).

import Foundation
import ProviderKit

/// How to reach the Docker Engine API.
public enum DockerEndpoint: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String)
    /// `tcp://host:port`; with TLS when a certificate directory is given (ca.pem, cert.pem, key.pem).
    case tcp(host: String, port: Int, tls: DockerTLS?)

    public var description: String {
        switch self {
        case .unix(let path): return "unix://\(path)"
        case let .tcp(host, port, tls): return "tcp://\(host):\(port)\(tls == nil ? "" : " (TLS)")"
        }
    }
}

public struct DockerTLS: Sendable, Equatable {
    /// ca.pem, cert.pem and key.pem, as the docker CLI expects them.
    public var certPath: String
    /// Check the daemon's certificate against ca.pem (DOCKER_TLS_VERIFY); the docker CLI's default with a cert path.
    public var verify: Bool

    public var caFile: String { certPath + "/ca.pem" }
    public var certFile: String { certPath + "/cert.pem" }
    public var keyFile: String { certPath + "/key.pem" }
}

public struct SwarmSettings: Sendable {
    public var endpoint: DockerEndpoint
    /// Where the endpoint came from, for error messages (`DOCKER_HOST`, `clouds.swarm.host`, the default).
    public var source: String
    /// How long one API call may take.
    public var callTimeout: Double
    /// How long create and update wait for a service's tasks to run; 0 does not wait (as `docker stack deploy`).
    public var waitForRunning: Double

    public static let defaultHost = "unix:///var/run/docker.sock"

    public init(endpoint: DockerEndpoint, source: String, callTimeout: Double = 30, waitForRunning: Double = 0) {
        self.endpoint = endpoint
        self.source = source
        self.callTimeout = callTimeout
        self.waitForRunning = waitForRunning
    }

    /// Settings keys: `host`, `cert_path`, `tls_verify`, `wait_for_running` and `call_timeout` (seconds).
    /// The host and its TLS settings come from one place: with `DOCKER_HOST` set, the environment decides as it does
    /// for the docker CLI (`DOCKER_TLS_VERIFY` or `DOCKER_TLS` turn TLS on, certificates from `DOCKER_CERT_PATH` or
    /// ~/.docker); otherwise `clouds.swarm.host`, with TLS when `cert_path` is set (verified unless `tls_verify: false`).
    public static func resolve(settings: ProviderSettings, environment: [String: String],
                               workingDirectory: String) -> Result<SwarmSettings, ProviderError> {
        let home = environment["HOME"] ?? NSHomeDirectory()
        func path(_ text: String) -> String {
            var text = text
            if text == "~" || text.hasPrefix("~/") { text = home + text.dropFirst() }
            return text.hasPrefix("/") ? text : URL(fileURLWithPath: text, relativeTo: URL(fileURLWithPath: workingDirectory, isDirectory: true)).path
        }
        let host: String, source: String, tls: DockerTLS?
        if let value = nonEmpty(environment["DOCKER_HOST"]) {
            (host, source) = (value, "DOCKER_HOST")
            let verify = nonEmpty(environment["DOCKER_TLS_VERIFY"]) != nil
            let certPath = nonEmpty(environment["DOCKER_CERT_PATH"]) ?? "~/.docker"
            tls = verify || nonEmpty(environment["DOCKER_TLS"]) != nil ? DockerTLS(certPath: path(certPath), verify: verify) : nil
        } else if let value = settings["host"]?.stringValue {
            (host, source) = (value, "clouds.swarm.host")
            tls = settings["cert_path"]?.stringValue.map { DockerTLS(certPath: path($0), verify: settings["tls_verify"]?.boolValue ?? true) }
        } else {
            (host, source, tls) = (defaultHost, "the default host", nil)
        }
        let endpoint: DockerEndpoint
        switch parse(host: host, tls: tls) {
        case .success(let e): endpoint = e
        case .failure(let problem):
            return .failure(ProviderError(address: nil, call: "swarm settings", message: "\(source) '\(host)': \(problem.message)"))
        }
        var resolved = SwarmSettings(endpoint: endpoint, source: source)
        if let seconds = settings["wait_for_running"].flatMap(seconds) { resolved.waitForRunning = max(0, seconds) }
        if let seconds = settings["call_timeout"].flatMap(seconds), seconds > 0 { resolved.callTimeout = seconds }
        return .success(resolved)
    }

    struct HostProblem: Error { var message: String }

    /// `unix:///path`, `tcp://host:port` (port 2376 with TLS, 2375 without, when left out).
    static func parse(host: String, tls: DockerTLS?) -> Result<DockerEndpoint, HostProblem> {
        if host.hasPrefix("unix://") {
            let path = String(host.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { return .failure(HostProblem(message: "a unix socket needs an absolute path, e.g. unix:///var/run/docker.sock")) }
            return .success(.unix(path: path))
        }
        if host.hasPrefix("tcp://") {
            var rest = String(host.dropFirst("tcp://".count))
            if let slash = rest.firstIndex(of: "/") { rest = String(rest[..<slash]) }
            var name = rest, port = tls == nil ? 2375 : 2376
            if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
                guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
                    return .failure(HostProblem(message: "the port must be a number from 1 to 65535"))
                }
                name = String(rest[..<colon])
                port = p
            }
            guard !name.isEmpty else { return .failure(HostProblem(message: "no host name")) }
            return .success(.tcp(host: name, port: port, tls: tls))
        }
        if host.hasPrefix("ssh://") || host.hasPrefix("npipe://") || host.hasPrefix("fd://") {
            return .failure(HostProblem(message: "maifctl speaks to Docker over unix:// or tcp:// only; forward the socket (ssh -L) and use unix:// or tcp://"))
        }
        return .failure(HostProblem(message: "expected unix:///path/to/docker.sock or tcp://host:port"))
    }

    private static func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }

    private static func seconds(_ v: AttributeValue) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string(let s): return Double(s)
        default: return nil
        }
    }
}
