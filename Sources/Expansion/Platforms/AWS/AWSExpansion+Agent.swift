/// The CloudWatch agent on an AWS node, when something of the stack watches memory or disk (CWAgent metrics):
/// installed from the distribution (Amazon Linux) or Amazon's package, started with a configuration that publishes
/// `mem_used_percent` and `disk_used_percent` (of /) every minute under `CWAgent`, with the `InstanceId` and
/// `AutoScalingGroupName` dimensions the alarms and scaling policies query; and the two permissions it needs:
/// `cloudwatch:PutMetricData` into that namespace only, and `ec2:DescribeTags`, by which it reads the group name.

import ProviderKit
import StackModel

extension AWSClusterExpansion {
    var usesAgentMetrics: Bool { !agentMetricUses.isEmpty }

    static let agentConfigPath = "/opt/aws/amazon-cloudwatch-agent/etc/maif-agent.json"
    static let agentControl = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"

    /// The agent's JSON configuration. `${aws:…}` are the agent's own placeholders, filled on the instance.
    static var agentConfig: String {
        let config: AttributeValue = .map([
            "agent": .map(["metrics_collection_interval": .int(period), "run_as_user": "root"]),
            "metrics": .map([
                "namespace": "CWAgent",
                "append_dimensions": .map(["InstanceId": "${aws:InstanceId}", "AutoScalingGroupName": "${aws:AutoScalingGroupName}"]),
                // Rolled up per instance and per group: the dimension sets the alarms' metric math names.
                "aggregation_dimensions": .list([.list(["InstanceId"]), .list(["AutoScalingGroupName"])]),
                "metrics_collected": .map([
                    "mem": .map(["measurement": .list(["mem_used_percent"])]),
                    "disk": .map(["measurement": .list(["used_percent"]), "resources": .list(["/"]), "drop_device": true]),
                ]),
            ]),
        ])
        return config.canonicalJSON(indent: 2) + "\n"
    }

    /// Amazon Linux has the agent in its repositories; elsewhere Amazon's package for the machine's architecture.
    static let installAgent = "test -x \(agentControl) || dnf install -y amazon-cloudwatch-agent || yum install -y amazon-cloudwatch-agent"
        + " || (curl -fsSLo /tmp/amazon-cloudwatch-agent.deb https://amazoncloudwatch-agent.s3.amazonaws.com/ubuntu/$(dpkg --print-architecture)/latest/amazon-cloudwatch-agent.deb"
        + " && dpkg -i /tmp/amazon-cloudwatch-agent.deb)"

    /// The node's bootstrap with the agent added, when the stack watches its metrics.
    func withAgent(_ config: VMBootstrap.NodeConfig) -> VMBootstrap.NodeConfig {
        guard usesAgentMetrics else { return config }
        var config = config
        config.platformFiles.append((Self.agentConfigPath, "0644", Self.agentConfig))
        config.platformCommands += [
            ["sh", "-c", Self.installAgent],
            [Self.agentControl, "-a", "fetch-config", "-m", "ec2", "-s", "-c", "file:\(Self.agentConfigPath)"],
        ]
        return config
    }

    var metricsPolicy: ResourceAddress { address("iam_role_policy", "metrics") }

    /// `cloudwatch:PutMetricData` (which takes no resource) into CWAgent only; and `ec2:DescribeTags`, as in
    /// AWS's CloudWatchAgentServerPolicy.
    func agentPolicy(origin: SourceLocation?) -> [DesiredResource] {
        guard usesAgentMetrics else { return [] }
        return [DesiredResource(address: metricsPolicy, config: [
            "role": ref(nodesRole, "name"),
            "name": "maif-agent-metrics",
            "policy": .string(AWSExpansion.policy([
                .map([
                    "Sid": "PublishAgentMetrics", "Effect": "Allow", "Action": .list(["cloudwatch:PutMetricData"]), "Resource": .list(["*"]),
                    "Condition": .map(["StringEquals": .map(["cloudwatch:namespace": "CWAgent"])]),
                ]),
                // `${aws:AutoScalingGroupName}` is the instance's `aws:autoscaling:groupName` tag, which the agent reads
                // with DescribeTags only (not from instance metadata, even with instance_metadata_tags on); and it holds
                // back every metric until that call succeeds. DescribeTags has no resource-level permissions, so "*".
                .map(["Sid": "ReadGroupNameTag", "Effect": "Allow", "Action": .list(["ec2:DescribeTags"]), "Resource": .list(["*"])]),
            ])),
        ], origin: origin)]
    }
}
