/// The private IPv4 range of each VM cluster, so clusters on different clouds and on premises never overlap and each
/// firewall can admit exactly its peers. Pure functions of the stack.

import StackModel

enum Networks {
    /// Each VM cluster's private IPv4 range, a /16: the one holding its nodes' addresses when they are written as
    /// IPv4, otherwise 10.X.0.0/16 with X from a hash of the cluster's name (16-239, the next free one on a clash,
    /// clusters taken in name order), so adding, removing or reordering clusters does not move the others.
    /// The /16s of on-premises and other hosts written as IPv4 are never handed out.
    static func networkRanges(in stack: Stack) -> [String: String] {
        var ranges: [String: String] = [:]
        var taken = Set<[Int]>()
        for cluster in stack.clusters {
            for node in cluster.nodes {
                if let ip = node.host.flatMap(ipv4) { taken.insert([ip[0], ip[1]]) }
            }
            if cluster.platform == .vm, let first = cluster.nodes.lazy.compactMap({ $0.host.flatMap(ipv4) }).first {
                ranges[cluster.name] = "\(first[0]).\(first[1]).0.0/16"
            }
        }
        for cluster in stack.clusters.filter({ $0.platform == .vm && ranges[$0.name] == nil }).sorted(by: { $0.name < $1.name }) {
            var octet = 16 + Int(stableHash(cluster.name) % 224)
            while taken.contains([10, octet]) { octet = octet == 239 ? 16 : octet + 1 }
            taken.insert([10, octet])
            ranges[cluster.name] = "10.\(octet).0.0/16"
        }
        return ranges
    }

    static func networkRange(of cluster: Cluster, in stack: Stack) -> String? {
        networkRanges(in: stack)[cluster.name]
    }

    /// The ranges a cluster's nodes accept MAIF traffic from besides their own network: the other VM clusters'
    /// ranges and the IPv4 hosts of the other clusters (as /32), for replication and cross-cloud sync over the
    /// stack's private connectivity.
    static func peerRanges(of cluster: Cluster, in stack: Stack) -> [String] {
        let ranges = networkRanges(in: stack)
        let own = ranges[cluster.name]
        var out = Set<String>()
        for other in stack.clusters where other.name != cluster.name {
            if let r = ranges[other.name] {
                out.insert(r)
            } else {
                for node in other.nodes where node.host.flatMap(ipv4) != nil { out.insert("\(node.host!)/32") }
            }
        }
        if let own { out.remove(own) }
        return out.sorted()
    }

    /// Nodes whose host is an IPv4 address outside the cluster's range.
    static func nodesOutsideRange(_ cluster: Cluster, in stack: Stack) -> [Node] {
        guard let range = networkRange(of: cluster, in: stack), let base = ipv4(String(range.prefix { $0 != "/" })) else { return [] }
        return cluster.nodes.filter { node in
            guard let ip = node.host.flatMap(ipv4) else { return false }
            return ip[0] != base[0] || ip[1] != base[1]
        }
    }

    /// The four octets of a dotted IPv4 address, or nil.
    static func ipv4(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let octets = parts.compactMap { p -> Int? in
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), p.allSatisfy(\.isNumber) else { return nil }
            return Int(p).flatMap { $0 <= 255 ? $0 : nil }
        }
        return octets.count == 4 ? octets : nil
    }

    /// FNV-1a: the same on every machine and run, unlike `Hasher`.
    static func stableHash(_ text: String) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for byte in text.utf8 {
            h ^= UInt32(byte)
            h = h &* 16_777_619
        }
        return h
    }
}
