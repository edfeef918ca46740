/// Who hears of a GCP alert: per `monitoring.notifications` entry, one Cloud Monitoring notification channel per e-mail
/// address (`email`) and per webhook URL (`webhook_tokenauth`), made once for the stack's project when a GCP cluster has
/// alert policies. Each alert policy names the channels of its severity's recipients in `notification_channels`.
/// A webhook written by reference has no channel (its URL would be stored in the channel's labels, readable by anyone
/// who reads the project's channels): a warning says so, and its e-mail addresses are still told.

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
    static func channels(of notification: Notification) -> [(address: ResourceAddress, type: String, labels: [String: AttributeValue])] {
        var out: [(address: ResourceAddress, type: String, labels: [String: AttributeValue])] = []
        for (i, email) in notification.emails.enumerated() {
            out.append((address: channel(notification, "email-\(i + 1)"), type: "email", labels: ["email_address": .string(email)]))
        }
        for (i, webhook) in notification.webhooks.enumerated() {
            if case .url(let url) = webhook { out.append((address: channel(notification, "webhook-\(i + 1)"), type: "webhook_tokenauth", labels: ["url": .string(url)])) }
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
                    "labels": .map(c.labels),
                    "user_labels": .map(["maif-notification": .string(labelValue(notification.name))]),
                    "enabled": true,
                ]
                if let project { config["project"] = .string(project) }
                out.resources.append(DesiredResource(address: c.address, config: config, origin: notification.location))
            }
            for webhook in notification.webhooks {
                guard case .reference(let source) = webhook else { continue }
                out.diagnostics.append(.warning("gcp-webhook-by-reference",
                    "notification '\(notification.name)': a webhook written by reference (\(source)) gets no Cloud Monitoring channel: the channel would keep its URL in labels that anyone who may read the project's channels reads",
                    hint: "write the URL itself if it is no credential, or add the channel by hand; the e-mail addresses are told",
                    at: notification.location))
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
