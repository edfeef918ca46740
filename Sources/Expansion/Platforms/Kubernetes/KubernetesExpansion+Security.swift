/// `security` on Kubernetes.
///
/// - `tls`: the node's TLS settings file (the tls.yaml on-prem nodes get) is a second key of the maif-config
///   ConfigMap, passed to the node as `--tls-config`; the certificate, key and CA are the Secret `maif-tls`
///   (`tls.crt`, `tls.key`, `ca.crt`: what `kubectl create secret tls` and cert-manager write), mounted read-only and
///   never carried by maifctl. The probes speak HTTPS.
/// - `authentication`: the file's `client_authentication` (`mutual_tls`: the nodes ask peers and clients for a
///   certificate signed by `ca.crt`).
/// - `admin_cidrs`: a NetworkPolicy on the MAIF pods: their port is open to every pod of the cluster (peers, and the
///   clients behind the maif Service) and, from outside the cluster, to the admin CIDRs only.

import ProviderKit
import StackModel

extension KubernetesCluster {
    static let tlsSecretName = "maif-tls"
    static let tlsDirectory = "/etc/maif/tls"
    static let tlsConfigKey = "tls.yaml"
    static var tlsConfigPath: String { "\(ContainerWorkload.configDirectory)/\(tlsConfigKey)" }

    var networkPolicy: ResourceAddress { address("manifest", "network-policy") }

    /// `authentication: mutual_tls` needs the certificates TLS brings; without `tls` it cannot be delivered.
    var mutualTLSWarning: Diagnostic? {
        TLSConfig.mutualTLSWithoutTLS(stack, cluster: cluster, platform: "kubernetes", delivery: "the Secret \(Self.tlsSecretName)")
    }

    /// The node's tls.yaml when `security.tls` is on.
    var tlsYAML: String? {
        guard let security = stack.security, security.tls else { return nil }
        return TLSConfig.render(stack: stack, security: security, certFile: "\(Self.tlsDirectory)/tls.crt", keyFile: "\(Self.tlsDirectory)/tls.key",
                                caFile: "\(Self.tlsDirectory)/ca.crt", deliveredBy: "the Secret \(Self.tlsSecretName) of namespace \(namespaceName)")
    }

    /// The container with TLS on: `--tls-config`, the Secret's files, and HTTPS probes.
    func securing(_ container: [String: AttributeValue]) -> [String: AttributeValue] {
        guard tlsYAML != nil else { return container }
        var c = container
        c["args"] = .list(["maif", "--tls-config", .string(Self.tlsConfigPath)])
        var mounts = c["volumeMounts"]?.listValue ?? []
        mounts.append(.map(["name": "tls", "mountPath": .string(Self.tlsDirectory), "readOnly": true]))
        c["volumeMounts"] = .list(mounts)
        for probe in ["readinessProbe", "livenessProbe"] {
            guard case .map(var p)? = c[probe], case .map(var get)? = p["httpGet"] else { continue }
            get["scheme"] = "HTTPS"
            p["httpGet"] = .map(get)
            c[probe] = .map(p)
        }
        return c
    }

    /// The Secret with the certificate material, by name (the pods wait until it exists); readable by the node's group.
    var tlsVolumes: [AttributeValue] {
        guard tlsYAML != nil else { return [] }
        return [.map(["name": "tls", "secret": .map(["secretName": .string(Self.tlsSecretName), "defaultMode": .int(0o440)])])]
    }

    /// `admin_cidrs`: ingress to the MAIF port from the cluster's pods (any namespace) and the admin CIDRs, nothing else.
    /// The kubelet's probes come from the pod's own node, which NetworkPolicy always admits.
    func networkPolicyResource() -> DesiredResource? {
        guard let security = stack.security, !security.adminCIDRs.isEmpty else { return nil }
        let port = Int64(ContainerWorkload.port(cluster.nodes))
        var from: [AttributeValue] = [.map(["namespaceSelector": .map([:])])]
        from += security.adminCIDRs.map { .map(["ipBlock": .map(["cidr": .string($0)])]) }
        let spec: [String: AttributeValue] = [
            "podSelector": .map(["matchLabels": .map(selector)]),
            "policyTypes": .list(["Ingress"]),
            "ingress": .list([.map([
                "from": .list(from),
                "ports": .list([.map(["port": .int(port), "protocol": "TCP"])]),
            ])]),
        ]
        return DesiredResource(address: networkPolicy,
                               config: object(networkPolicy, "networking.k8s.io/v1", "NetworkPolicy", name: "maif-ingress", ["spec": .map(spec)]),
                               origin: stack.location(of: "security.admin_cidrs") ?? security.location ?? cluster.location)
    }
}
