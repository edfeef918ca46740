/// Who hears of an AWS alarm: per `monitoring.notifications` entry and per region with alarms, an SNS topic with one
/// subscription per e-mail address and webhook (a webhook written by reference is read by the provider at apply, never
/// stored). Each alert alarm names the topics of its severity's recipients as AlarmActions and OKActions.

import ProviderKit
import StackModel

extension AWSExpansion {
    static func topic(_ notification: Notification, region: String) -> ResourceAddress {
        ResourceAddress(provider: "aws", kind: "sns_topic", name: "\(notification.name).\(region)")
    }

    /// The regions whose AWS VM clusters have alert alarms.
    static func alarmRegions(_ stack: Stack) -> [String] {
        guard let monitoring = stack.monitoring, monitoring.alertingEnabled, !monitoring.alertRules.isEmpty else { return [] }
        let regions = stack.clusters.filter(expands).compactMap { Placement.region(of: $0, in: stack) }
        return Array(Set(regions)).sorted()
    }

    /// SNS topic names: letters, digits, `-` and `_`, at most 256.
    static func topicName(_ stack: Stack, _ notification: Notification) -> String {
        String("maif-\(stack.meta.name)-\(notification.name)".map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "-" }.prefix(256))
    }

    static func notifications(_ stack: Stack) -> PlatformOutput {
        var out = PlatformOutput()
        let regions = alarmRegions(stack)
        for notification in stack.monitoring?.notifications ?? [] {
            for region in regions {
                let topic = topic(notification, region: region)
                out.resources.append(DesiredResource(address: topic, config: [
                    "name": .string(topicName(stack, notification)),
                    "display_name": .string(String("MAIF \(stack.meta.name)".prefix(100))),
                    "region": .string(region),
                    "tags": tags(["maif:notification": notification.name,
                                  "maif:severities": notification.severities.map(\.rawValue).joined(separator: " ")]),
                ], origin: notification.location))
                for (i, email) in notification.emails.enumerated() {
                    out.resources.append(DesiredResource(address: subscription(notification, region, "email-\(i + 1)"), config: [
                        "topic_arn": reference(topic, "arn"), "protocol": "email", "endpoint": .string(email), "region": .string(region),
                    ], origin: notification.location))
                }
                for (i, webhook) in notification.webhooks.enumerated() {
                    var config: [String: AttributeValue] = ["topic_arn": reference(topic, "arn"), "region": .string(region)]
                    switch webhook {
                    case .url(let url):
                        config["protocol"] = .string(url.hasPrefix("http://") ? "http" : "https")
                        config["endpoint"] = .string(url)
                    case .reference(let source):
                        config["protocol"] = "https"
                        config["endpoint_from"] = .string(source.description)
                    }
                    out.resources.append(DesiredResource(address: subscription(notification, region, "webhook-\(i + 1)"), config: config,
                                                         origin: notification.location))
                }
            }
        }
        return out
    }

    static func subscription(_ notification: Notification, _ region: String, _ suffix: String) -> ResourceAddress {
        ResourceAddress(provider: "aws", kind: "sns_topic_subscription", name: "\(notification.name).\(region).\(suffix)")
    }
}

extension AWSClusterExpansion {
    /// The topics an alarm of this severity notifies, in the cluster's region.
    func topicARNs(_ severity: AlertSeverity) -> AttributeValue {
        .list((stack.monitoring?.recipients(of: severity) ?? []).map { ref(AWSExpansion.topic($0, region: region), "arn") })
    }
}
