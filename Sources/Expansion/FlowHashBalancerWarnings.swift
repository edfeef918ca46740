/// What a cloud's flow-hashing network load balancer (AWS NLB, GCP passthrough) cannot take from `load_balancing`:
/// per-node weights and a strategy other than round robin. Both still reach MAIF through cluster.yaml.

import ProviderKit
import StackModel

struct FlowHashBalancerWarnings {
    /// `aws`, `gcp`: the rule ids' prefix.
    var prefix: String
    /// "an AWS network load balancer has no per-target weights"
    var noWeights: String
    /// "an AWS network load balancer, which sends each connection to a target by a hash of the flow"
    var balancer: String
    var weightsHint: String

    func diagnostics(cluster: Cluster, in stack: Stack) -> [Diagnostic] {
        var out: [Diagnostic] = []
        let lb = stack.loadBalancing ?? LoadBalancing()
        let weighted = cluster.nodes.filter { (lb.weights[$0.id] ?? $0.weight) != 1 }
        if let first = weighted.first {
            let at = lb.weightLocations[first.id] ?? stack.location(of: "load_balancing.weights") ?? first.location
            out.append(.warning("\(prefix)-lb-weights-ignored",
                                "cluster '\(cluster.name)': \(noWeights); \(weighted.map(\.id).joined(separator: ", ")) get an even share of connections",
                                hint: weightsHint, at: at))
        }
        if stack.loadBalancing != nil, lb.strategy != .roundRobin {
            out.append(.warning("\(prefix)-lb-strategy-unsupported",
                                "cluster '\(cluster.name)': load_balancing.strategy \(lb.strategy.rawValue) has no equivalent on \(balancer)",
                                hint: "MAIF still sees the strategy in cluster.yaml; round_robin is the closest match",
                                at: stack.location(of: "load_balancing.strategy") ?? stack.loadBalancing?.location))
        }
        return out
    }
}
