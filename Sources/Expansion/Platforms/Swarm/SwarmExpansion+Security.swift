/// `security` and `autoscaling.vertical` on Docker Swarm.
///
/// - `tls`: the node's TLS settings file (the tls.yaml on-prem nodes get) is the swarm config `maif-tls-config`,
///   passed to both services as `--tls-config`; the certificate, key and CA are the swarm secrets `maif-tls-cert`,
///   `maif-tls-key` and `maif-tls-ca`, referred to by name (`docker secret create maif-tls-cert node.crt`; the
///   provider finds their ids at apply) and never carried by maifctl.
/// - `authentication`: the file's `client_authentication`.
/// - `admin_cidrs`: the routing mesh publishes the MAIF port to every source; Swarm cannot restrict it by source
///   address, so this is a warning (the hosts' firewall, Docker's DOCKER-USER chain, is where to do it).
/// - `autoscaling.vertical`: Swarm has no vertical autoscaler: a warning (the maximums are the tasks' limits, the
///   rest stays MAIF's runtime settings in cluster.yaml).

import ProviderKit
import StackModel

extension SwarmCluster {
    static let tlsConfigName = "maif-tls-config"
    static let tlsConfigPath = "/config/tls.yaml"
    static let tlsSecretNames = (cert: "maif-tls-cert", key: "maif-tls-key", ca: "maif-tls-ca")

    var tlsConfig: ResourceAddress { address("config", "tls") }

    var tlsYAML: String? {
        guard let security = stack.security, security.tls else { return nil }
        let n = Self.tlsSecretNames
        return TLSConfig.render(stack: stack, security: security, certFile: "/run/secrets/\(n.cert)", keyFile: "/run/secrets/\(n.key)",
                                caFile: "/run/secrets/\(n.ca)", deliveredBy: "the swarm secrets \(n.cert), \(n.key) and \(n.ca)")
    }

    /// The swarm config with tls.yaml (versioned by digest, replaced create-before-destroy as cluster.yaml is).
    func tlsConfigResource() -> DesiredResource? {
        guard let tlsYAML else { return nil }
        return DesiredResource(address: tlsConfig, config: [
            "name": .string(Self.tlsConfigName), "data": .string(tlsYAML), "labels": labels(tlsConfig),
        ], lifecycle: Self.createBeforeDestroy, origin: stack.location(of: "security.tls") ?? stack.security?.location ?? cluster.location)
    }

    /// `--tls-config` after a service's own arguments when TLS is on.
    var tlsArgs: [String] { tlsYAML == nil ? [] : ["--tls-config", Self.tlsConfigPath] }

    var tlsConfigMounts: [AttributeValue] {
        guard tlsYAML != nil else { return [] }
        return [.map([
            "ConfigID": ref(tlsConfig, "id"), "ConfigName": ref(tlsConfig, "versioned_name"),
            "File": .map(["Name": .string(Self.tlsConfigPath), "UID": "0", "GID": "0", "Mode": .int(0o444)]),
        ])]
    }

    /// The certificate material by name only: the provider looks the ids up when it creates or updates the service.
    var tlsSecretMounts: [AttributeValue] {
        guard tlsYAML != nil else { return [] }
        let n = Self.tlsSecretNames
        return [n.cert, n.key, n.ca].map { name in
            .map(["SecretName": .string(name), "File": .map(["Name": .string(name), "UID": "0", "GID": "0", "Mode": .int(0o444)])])
        }
    }

    /// What Swarm cannot express of `security` and `autoscaling.vertical`.
    func securityAndScalingWarnings() -> [Diagnostic] {
        var out: [Diagnostic] = []
        let n = Self.tlsSecretNames
        if let warning = TLSConfig.mutualTLSWithoutTLS(stack, cluster: cluster, platform: "swarm",
                                                        delivery: "the swarm secrets \(n.cert), \(n.key), \(n.ca)") {
            out.append(warning)
        }
        if let security = stack.security, !security.adminCIDRs.isEmpty {
            out.append(.warning("swarm-admin-cidrs-not-applied",
                "security.admin_cidrs: Docker Swarm's routing mesh publishes port \(ContainerWorkload.port(cluster.nodes)) of cluster '\(cluster.name)' to every source address; it cannot restrict it to \(security.adminCIDRs.joined(separator: ", "))",
                hint: "restrict the published port on the swarm hosts' firewall (Docker's DOCKER-USER iptables chain)",
                at: stack.location(of: "security.admin_cidrs") ?? security.location ?? cluster.location))
        }
        if stack.autoscaling?.vertical != nil {
            let limits = ContainerWorkload.limits(stack)
            let applied = [limits.cpu.map { "\(KubernetesValues.cpu($0)) CPUs" }, limits.memory.map { "\($0.text) of memory" }].compactMap { $0 }
            out.append(.warning("swarm-vertical-not-applied",
                "autoscaling.vertical: Docker Swarm has no vertical autoscaler; the tasks of cluster '\(cluster.name)' keep their reservations\(applied.isEmpty ? "" : ", limited to " + applied.joined(separator: " and ")), whatever the load",
                hint: "MAIF reads the vertical scaling settings from cluster.yaml; change the nodes' resources to resize the tasks",
                at: stack.location(of: "autoscaling.vertical") ?? cluster.location))
        }
        return out
    }
}
