/// `high_availability.recovery.auto_restart: false` on Docker Swarm: the tasks' restart policy is `none`, so a node
/// that stops stays stopped (Swarm's default, `any`, restarts it, which is what `true` asks for).

import ProviderKit
import StackModel

extension SwarmCluster {
    var restartPolicy: AttributeValue? {
        guard let ha = stack.highAvailability, !ha.autoRestart else { return nil }
        return .map(["Condition": "none"])
    }
}
