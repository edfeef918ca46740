/// Who hears of a GCP alert: per `monitoring.notifications` entry, one Cloud Monitoring notification channel per e-mail
/// address (`email`) and per webhook URL (`webhook_tokenauth`), made once for the stack's project when a GCP cluster has
/// alert policies. Each alert policy names the channels of its severity's recipients in `notification_channels`.
/// A webhook written by reference becomes a channel with `url_from`: the provider reads the URL at plan and apply and
/// sends it as the channel's `labels.url`; it is never in the plan or the state.

import ProviderKit
import StackModel

extension GCPExpansion {
    static func channel(_ notification: Notification, _ suffix: String) -> ResourceAddress {
        ResourceAddress(provider: "gcp", kind: "notification_channel", name: "\(addressName(notification.name)).\(suffix)")
    }

    /// Whether any GCP VM cluster gets alert policies.
    static func hasAlertPolicies(_ stack: Stack) -> Bool {
        guard let monitoring = stack.monitoring, monitoring.alertingEnabled, !monitoring.alertRules.isEmpty else { return false }
        return stack.clusters.contains(where: expands)
    }

    /// The channels of a notification entry: address and what it says, in the order of the entry.
    /// The channels of a notification entry, in the order of the entry: address, type and what tells it where to send
    /// (`labels`, or `url_from` for a webhook written by reference).
    static func channels(of notification: Notification) -> [(address: ResourceAddress, type: String, target: [String: AttributeValue])] {
        var out: [(address: ResourceAddress, type: String, target: [String: AttributeValue])] = []
        for (i, email) in notification.emails.enumerated() {
            out.append((channel(notification, "email-\(i + 1)"), "email", ["labels": .map(["email_address": .string(email)])]))
        }
        for (i, webhook) in notification.webhooks.enumerated() {
            let target: [String: AttributeValue]
            switch webhook {
            case .url(let url): target = ["labels": .map(["url": .string(url)])]
            case .reference(let source): target = ["url_from": .string(source.description)]
            }
            out.append((channel(notification, "webhook-\(i + 1)"), "webhook_tokenauth", target))
        }
        return out
    }

    static func notificationChannels(_ stack: Stack) -> PlatformOutput {
        var out = PlatformOutput()
        guard hasAlertPolicies(stack) else { return out }
        let project = stack.clouds["gcp"]?.string("project")
        for notification in stack.monitoring?.notifications ?? [] {
            for c in channels(of: notification) {
                var config: [String: AttributeValue] = [
                    "type": .string(c.type),
                    "display_name": .string("MAIF \(stack.meta.name) \(notification.name)"),
                    "description": .string("MAIF alerts of stack \(stack.meta.name) (\(notification.severities.map(\.rawValue).joined(separator: ", ")))"),
                    "user_labels": .map(["maif-notification": .string(labelValue(notification.name))]),
                    "enabled": true,
                ]
                config.merge(c.target) { $1 }
                if let project { config["project"] = .string(project) }
                out.resources.append(DesiredResource(address: c.address, config: config, origin: notification.location))
            }
        }
        return out
    }
}

extension GCPCluster {
    /// The channels an alert policy of this severity notifies.
    func channelNames(_ severity: AlertSeverity) -> AttributeValue {
        .list((stack.monitoring?.recipients(of: severity) ?? []).flatMap { GCPExpansion.channels(of: $0) }.map { ref($0.address, "name") })
    }
}
