/// The `aws` provider: signed calls to AWS's own APIs (query protocol for EC2, REST-XML for S3), resources
/// tagged `maif:stack`/`maif:address`, and lookups by those tags for crash recovery.

import Foundation
import ProviderKit

public struct AWSProvider: Provider {
    public let client: AWSClient
    let stack: String
    /// Where `endpoint_from` references are read.
    var environment: [String: String] = ProcessInfo.processInfo.environment

    /// Throws when a credential the stack names by reference cannot be read, so a plan fails before anything is created.
    public init(configuration: ProviderConfiguration) throws {
        var settings = configuration.settings
        if settings.section.isEmpty { settings.section = "clouds.aws" }
        _ = try AWSSettings.referenced(settings, environment: configuration.environment)
        self.init(client: AWSClient(settings: AWSSettings.resolve(settings: settings, environment: configuration.environment)),
                  stack: configuration.stack)
        environment = configuration.environment
    }

    public func markOwner(_ config: [String: AttributeValue], _ context: ResourceContext) -> [String: AttributeValue] {
        OwnerTags.add(to: config, context, schema: schema)
    }

    public static let settings = SettingsSchema([
        SettingSchema("region", .string, description: "the default region; else AWS_REGION, AWS_DEFAULT_REGION, the profile's, us-east-1"),
        SettingSchema("endpoint", .string, description: "one endpoint for every service (moto, LocalStack, a VPC endpoint); else AWS_ENDPOINT_URL"),
        SettingSchema("profile", .string, description: "a profile of ~/.aws/credentials and ~/.aws/config; else AWS_PROFILE"),
        SettingSchema("access_key_id", .string, references: .required, description: "the access key id, by reference; else the profile or AWS_ACCESS_KEY_ID"),
        SettingSchema("secret_access_key", .string, references: .required, description: "the secret access key, by reference"),
        SettingSchema("session_token", .string, references: .required, description: "a session token, by reference; left out when its variable is unset"),
    ])

    public init(client: AWSClient, stack: String) {
        self.client = client
        self.stack = stack
    }

    public var schema: ProviderSchema { AWSProviderSchema.provider }

    public var usage: String? { client.callCount == 0 ? nil : "\(client.callCount) API calls" }

    /// The schema's default plan, with security group rules in the one-rule-per-source form `read` reports.
    public func plan(_ request: PlanRequest) async throws -> PlanResponse {
        var request = request
        request.desired = PlanShape.desired(request, schema: schema.resources[request.context.address.type])
        if request.context.address.kind == "security_group" {
            for name in ["ingress", "egress"] {
                guard let value = request.desired[name], value.isKnown, value != .null else { continue }
                let usesSelf = value.canonicalJSON(indent: nil).contains("\"self\"")
                guard let id = request.prior?.id ?? (usesSelf ? nil : "") else { continue }
                request.desired[name] = SecurityRule.attribute(SecurityRule.from(value, selfId: id))
            }
        }
        request.desired = Self.readForm(request.context.address.kind, request.desired)
        if request.context.address.kind == "sns_topic_subscription", let source = request.desired["endpoint_from"]?.text,
           ReferenceText.read(source, environment: environment) == nil {
            // A webhook the stack names by reference must be readable before anything is created.
            throw ProviderError(address: request.context.address, call: "plan", message: "endpoint_from \(source) is not set or cannot be read")
        }
        var response = defaultPlan(request)
        // cloud-init writes what user data says at first boot only: with user_data_replace_on_change a new one is a new instance.
        if request.context.address.kind == "instance", let prior = request.prior, request.desired["user_data_replace_on_change"]?.boolValue_ == true,
           let wanted = request.desired["user_data"], wanted.isKnown, wanted != prior.attributes["user_data"], !response.requiresReplace.contains("user_data") {
            response.requiresReplace.append("user_data")
        }
        return response
    }

    public static func register(in registry: inout ProviderRegistry) {
        registry.register(ProviderDescriptor(name: "aws", version: "1.0.0",
                                             summary: "Amazon Web Services: EC2, ELBv2, Auto Scaling, S3, Route 53, CloudWatch, CloudTrail, IAM, KMS, SNS",
                                             settings: settings, schema: AWSProviderSchema.provider) { try AWSProvider(configuration: $0) })
    }

    /// The implementation of one resource type.
    protocol Resource: Sendable {
        func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState
        func read(_ context: ResourceContext, id: String) async throws -> ResourceState?
        func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState
        func delete(_ context: ResourceContext, _ prior: ResourceState) async throws
        func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState?
    }

    /// The implementation of the context's type, talking to `region` (the resource's own `region` attribute) or the
    /// provider's region when it has none.
    func resource(_ context: ResourceContext, region: AttributeValue? = nil) throws -> any Resource {
        let client = client.inRegion(region?.text)
        let ec2 = EC2(client: client)
        switch context.address.kind {
        case "vpc": return VPCResource(ec2: ec2)
        case "subnet": return SubnetResource(ec2: ec2)
        case "security_group": return SecurityGroupResource(ec2: ec2)
        case "s3_bucket": return S3BucketResource(s3: S3(client: client))
        case "route53_zone": return Route53ZoneResource(route53: Route53(client: client))
        case "route53_record": return Route53RecordResource(route53: Route53(client: client))
        case "route53_health_check": return Route53HealthCheckResource(route53: Route53(client: client))
        case "cloudwatch_alarm": return CloudWatchAlarmResource(cloudwatch: CloudWatch(client: client))
        case "cloudwatch_log_group": return LogGroupResource(logs: CloudWatchLogs(client: client))
        case "instance": return InstanceResource(ec2: ec2)
        case "internet_gateway": return InternetGatewayResource(ec2: ec2)
        case "route_table": return RouteTableResource(ec2: ec2)
        case "route_table_association": return RouteTableAssociationResource(ec2: ec2)
        case "launch_template": return LaunchTemplateResource(ec2: ec2)
        case "lb": return LoadBalancerResource(elb: ELBv2(client: client))
        case "lb_target_group": return TargetGroupResource(elb: ELBv2(client: client))
        case "lb_listener": return ListenerResource(elb: ELBv2(client: client))
        case "lb_target_group_attachment": return TargetGroupAttachmentResource(elb: ELBv2(client: client))
        case "autoscaling_group": return AutoScalingGroupResource(autoscaling: AutoScaling(client: client))
        case "autoscaling_policy": return ScalingPolicyResource(autoscaling: AutoScaling(client: client))
        case "iam_role": return IAMRoleResource(iam: IAM(client: client))
        case "iam_role_policy": return IAMRolePolicyResource(iam: IAM(client: client))
        case "iam_instance_profile": return IAMInstanceProfileResource(iam: IAM(client: client))
        case "kms_key": return KMSKeyResource(kms: KMS(client: client))
        case "cloudtrail_trail": return CloudTrailResource(trail: CloudTrail(client: client))
        case "caller_identity": return CallerIdentityResource(client: client)
        case "sns_topic": return SNSTopicResource(sns: SNS(client: client))
        case "sns_topic_subscription": return SNSSubscriptionResource(sns: SNS(client: client), environment: environment)
        default:
            throw ProviderError(address: context.address, call: "apply",
                                message: "the aws provider does not manage \(context.address.type) yet")
        }
    }

    /// Runs a call, naming the resource in whatever it throws.
    func named<T>(_ context: ResourceContext, _ call: String, _ body: () async throws -> T) async throws -> T {
        try await ProviderError.naming(context.address, translate: { ($0 as? AWSError)?.providerError }, body)
    }

    public func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await named(context, "create") {
            Self.recorded(try await resource(context, region: config["region"]).create(context, config), config, context.address.type)
        }
    }

    public func read(_ context: ResourceContext, _ prior: ResourceState) async throws -> ResourceState? {
        try await named(context, "read") {
            guard let now = try await resource(context, region: prior.attributes["region"]).read(context, id: prior.id) else { return nil }
            return Self.managed(now, prior: prior.attributes)
        }
    }

    public func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await named(context, "update") {
            let now = try await resource(context, region: config["region"] ?? prior.attributes["region"]).update(context, prior, config)
            return Self.recorded(now, config, context.address.type)
        }
    }

    public func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await named(context, "delete") { try await resource(context, region: prior.attributes["region"]).delete(context, prior) }
    }

    public func importResource(_ context: ResourceContext, id: String) async throws -> ResourceState {
        try await named(context, "import") {
            guard let state = try await resource(context).read(context, id: id) else {
                throw ProviderError(address: context.address, call: "import", message: "no \(context.address.type) with id \(id)")
            }
            return state
        }
    }

    public func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        try await named(context, "find") {
            try await resource(context, region: config["region"]).find(context, config).map { Self.recorded($0, config, context.address.type) }
        }
    }

    /// What `read` reports: the attributes the stack manages (those in the prior state) and the computed ones,
    /// so an attribute the stack leaves to AWS's default does not show as drift.
    static func managed(_ state: ResourceState, prior: [String: AttributeValue]) -> ResourceState {
        var out = state
        out.attributes = state.attributes.filter { prior[$0.key] != nil || $0.key == "id" || $0.key == "arn" }
        for (key, value) in prior where out.attributes[key] == nil && state.attributes[key] == nil && key != "tags" {
            // Inputs AWS does not echo back (region) keep their configured value.
            out.attributes[key] = value
        }
        out.attributes = ResourceShape.aligned(out.attributes, to: prior)
        return out
    }
}

extension AWSProvider.Resource {
    /// What AWS says about an object just created or changed. AWS is eventually consistent: an object may not be
    /// visible at once, so this waits (bounded) before giving up.
    func readOrFail(_ context: ResourceContext, _ id: String) async throws -> ResourceState {
        try await Poll.until("\(context.address.type) \(id) to be visible", timeout: 30) { try await read(context, id: id) }
    }
}

extension AttributeValue {
    var boolValue_: Bool? {
        switch self {
        case .bool(let b): return b
        case .string(let s): return s == "true" ? true : s == "false" ? false : nil
        default: return nil
        }
    }
    var intValue_: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int64(d)
        case .string(let s): return Int64(s)
        default: return nil
        }
    }
    var text: String? {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        default: return nil
        }
    }
}

/// Tags as a flat string map, from a config's `tags` attribute.
func tagMap(_ config: [String: AttributeValue]) -> [String: String] {
    guard case .map(let m)? = config["tags"] else { return [:] }
    return m.compactMapValues(\.text)
}
