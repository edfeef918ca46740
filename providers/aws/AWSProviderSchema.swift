/// Resource types of the `aws` provider. Attribute names are the AWS API's request fields in lower_snake
/// form (EC2, ELBv2, Auto Scaling, S3, Route 53, CloudWatch), so that the API client maps them one to one;
/// `id`, `arn` and the other computed attributes are what the API returns.

import ProviderKit

enum AWSProviderSchema {
    static let provider = ProviderSchema(provider: "aws", resources: network + compute + balancing + storage + routing + monitoring
                                         + audit + identity + notification)

    // MARK: Shorthands

    private static let id = AttributeSchema(.string, computed: true, description: "the id AWS assigned")
    private static let arn = AttributeSchema(.string, computed: true, description: "the Amazon Resource Name")
    private static let tags = AttributeSchema.tags
    private static let region = AttributeSchema(.string, forceNew: true, description: "AWS region; the provider's region when not set")

    private static func type(_ kind: String, _ description: String, _ attributes: [String: AttributeSchema]) -> ResourceSchema {
        ResourceSchema(type: "aws.\(kind)", description: description, attributes: attributes)
    }

    // MARK: EC2 networking

    static let network: [ResourceSchema] = [
        type("vpc", "A VPC (CreateVpc).", [
            "cidr_block": .init(.string, required: true, forceNew: true, description: "IPv4 range, e.g. 10.0.0.0/16"),
            "instance_tenancy": .init(.string, forceNew: true, description: "default or dedicated"),
            "enable_dns_support": .optionalBool,
            "enable_dns_hostnames": .optionalBool,
            "region": region, "tags": tags,
            "id": id, "arn": arn,
            "owner_id": .computedString,
            "main_route_table_id": .computedString,
            "default_security_group_id": .computedString,
        ]),
        type("subnet", "A subnet in one availability zone (CreateSubnet).", [
            "vpc_id": .init(.string, required: true, forceNew: true),
            "cidr_block": .init(.string, required: true, forceNew: true),
            "availability_zone": .init(.string, required: true, forceNew: true, description: "e.g. us-east-1a"),
            "map_public_ip_on_launch": .optionalBool,
            "region": region, "tags": tags,
            "id": id, "arn": arn,
        ]),
        type("internet_gateway", "An internet gateway attached to a VPC (CreateInternetGateway, AttachInternetGateway).", [
            "vpc_id": .init(.string, description: "the VPC it is attached to; changing it detaches and re-attaches"),
            "region": region, "tags": tags,
            "id": id, "arn": arn,
        ]),
        type("route_table", "A route table with its routes (CreateRouteTable, CreateRoute).", [
            "vpc_id": .init(.string, required: true, forceNew: true),
            "routes": .init(.list, description: "[{destination_cidr_block, gateway_id | nat_gateway_id | instance_id}]"),
            "region": region, "tags": tags,
            "id": id,
        ]),
        type("route_table_association", "A subnet's association with a route table (AssociateRouteTable). AWS has no tags for it.", [
            "route_table_id": .init(.string, required: true, forceNew: true),
            "subnet_id": .init(.string, required: true, forceNew: true),
            "region": region,
            "id": id,
        ]),
        type("security_group", "A security group and its rules (CreateSecurityGroup, AuthorizeSecurityGroupIngress/Egress).", [
            "group_name": .init(.string, required: true, forceNew: true),
            "description": .init(.string, required: true, forceNew: true, description: "EC2 cannot change it in place"),
            "vpc_id": .init(.string, required: true, forceNew: true),
            "ingress": .init(.list, description: "IpPermissions: [{ip_protocol, from_port, to_port, ip_ranges: [{cidr_ip, description}], user_id_group_pairs: [{group_id | self: true, description}]}]; self stands for the group's own id"),
            "egress": .init(.list, description: "IpPermissions, as ingress; ip_protocol \"-1\" is all traffic"),
            "region": region, "tags": tags,
            "id": id, "arn": arn,
            "owner_id": .computedString,
        ]),
    ]

    // MARK: EC2 instances and Auto Scaling

    static let compute: [ResourceSchema] = [
        type("instance", "An EC2 instance (RunInstances).", [
            "image_id": .init(.string, required: true, forceNew: true, description: "an AMI id, or resolve:ssm:<public parameter>"),
            "instance_type": .init(.string, required: true, description: "changed by stopping, modifying and starting the instance"),
            "subnet_id": .init(.string, required: true, forceNew: true),
            "security_group_ids": .init(.list, description: "VPC security group ids"),
            "private_ip_address": .init(.string, computed: true, forceNew: true, description: "chosen by AWS when not set"),
            "associate_public_ip_address": .init(.bool, forceNew: true),
            "user_data": .init(.string, description: "plain text; the provider base64-encodes it for the API"),
            "block_device_mappings": .init(.list, description: "[{device_name, ebs: {volume_size, volume_type, encrypted, delete_on_termination}}]; volume_size in GiB"),
            "key_name": .init(.string, forceNew: true),
            "iam_instance_profile": .optionalString,
            "endpoint": .init(.string, description: "address:port of what the instance serves; recorded for `maifctl output`, not sent"),
            "user_data_replace_on_change": .init(.bool, description: "a new user_data replaces the instance (cloud-init reads user data at first boot only); recorded, not sent"),
            "monitoring": .init(.map, description: "{enabled}: detailed (1-minute) CloudWatch monitoring"),
            "ebs_optimized": .optionalBool,
            "metadata_options": .init(.map, description: "{http_tokens: required|optional, http_endpoint}"),
            "region": region, "tags": tags,
            "id": id, "arn": arn,
            "availability_zone": .computedString,
            "private_dns_name": .computedString,
            "public_ip_address": .computedString,
            "public_dns_name": .computedString,
            "instance_state": .computedString,
            "primary_network_interface_id": .computedString,
            "password_data": .init(.string, computed: true, sensitive: true, description: "encrypted Windows administrator password"),
        ]),
        type("launch_template", "A launch template for Auto Scaling (CreateLaunchTemplate); a change makes a new version.", [
            "launch_template_name": .init(.string, required: true, forceNew: true),
            "image_id": .init(.string, required: true),
            "instance_type": .init(.string, required: true),
            "user_data": .init(.string, description: "plain text; the provider base64-encodes it for the API"),
            "iam_instance_profile": .init(.string, description: "the instance profile (name or ARN) of what it launches"),
            "security_group_ids": .optionalList,
            "block_device_mappings": .optionalList,
            "monitoring": .optionalMap,
            "metadata_options": .optionalMap,
            "network_interfaces": .init(.list, description: "[{device_index, associate_public_ip_address, groups}]"),
            "tag_specifications": .init(.list, description: "[{resource_type: instance|volume, tags}]: tags of what it launches"),
            "update_default_version": .init(.bool, description: "make each new version the default"),
            "region": region, "tags": tags,
            "id": id, "arn": arn,
            "latest_version": .init(.int, computed: true),
            "default_version": .init(.int, computed: true),
        ]),
        type("autoscaling_group", "An Auto Scaling group (CreateAutoScalingGroup).", [
            "auto_scaling_group_name": .init(.string, required: true, forceNew: true),
            "min_size": .init(.int, required: true),
            "max_size": .init(.int, required: true),
            "desired_capacity": .init(.int, description: "left to the scaling policies when not set"),
            "default_cooldown": .init(.int, description: "seconds"),
            "health_check_type": .init(.string, description: "EC2 or ELB"),
            "health_check_grace_period": .init(.int, description: "seconds"),
            "vpc_zone_identifier": .init(.list, required: true, description: "subnet ids"),
            "launch_template": .init(.map, required: true, description: "{launch_template_id, version}"),
            "target_group_arns": .optionalList,
            "termination_policies": .optionalList,
            "region": region,
            "tags": .init(.map, description: "tags; maif:stack and maif:address name the owner. Propagated to the instances it launches"),
            "id": id, "arn": arn,
        ]),
        type("autoscaling_policy", "A scaling policy of an Auto Scaling group (PutScalingPolicy). AWS has no tags for it.", [
            "auto_scaling_group_name": .init(.string, required: true, forceNew: true),
            "policy_name": .init(.string, required: true, forceNew: true),
            "policy_type": .init(.string, required: true, description: "SimpleScaling, StepScaling or TargetTrackingScaling"),
            "adjustment_type": .init(.string, description: "ChangeInCapacity, ExactCapacity or PercentChangeInCapacity"),
            "scaling_adjustment": .optionalInt,
            "cooldown": .init(.int, description: "seconds"),
            "estimated_instance_warmup": .init(.int, description: "seconds"),
            "target_tracking_configuration": .init(.map, description: "{predefined_metric_specification | customized_metric_specification, target_value, disable_scale_in}"),
            "region": region,
            "arn": arn,
        ]),
    ]

    // MARK: Elastic Load Balancing v2

    static let balancing: [ResourceSchema] = [
        type("lb", "A load balancer (CreateLoadBalancer).", [
            "name": .init(.string, required: true, forceNew: true, description: "at most 32 letters, digits and hyphens"),
            "type": .init(.string, forceNew: true, description: "application, network or gateway"),
            "scheme": .init(.string, forceNew: true, description: "internet-facing or internal"),
            "subnets": .init(.list, required: true),
            "security_groups": .optionalList,
            "ip_address_type": .optionalString,
            "attributes": .init(.map, description: "ModifyLoadBalancerAttributes key → value"),
            "region": region, "tags": tags,
            "id": id, "arn": arn,
            "arn_suffix": .init(.string, computed: true, description: "the CloudWatch LoadBalancer dimension"),
            "dns_name": .computedString,
            "canonical_hosted_zone_id": .init(.string, computed: true, description: "for Route 53 alias records"),
        ]),
        type("lb_target_group", "A target group with its health check (CreateTargetGroup).", [
            "name": .init(.string, required: true, forceNew: true, description: "at most 32 letters, digits and hyphens"),
            "protocol": .init(.string, required: true, forceNew: true),
            "port": .init(.int, required: true, forceNew: true),
            "vpc_id": .init(.string, required: true, forceNew: true),
            "target_type": .init(.string, forceNew: true, description: "instance, ip, lambda or alb"),
            "health_check_enabled": .optionalBool,
            "health_check_protocol": .optionalString,
            "health_check_port": .init(.string, description: "a port, or traffic-port"),
            "health_check_path": .optionalString,
            "health_check_interval_seconds": .optionalInt,
            "health_check_timeout_seconds": .optionalInt,
            "healthy_threshold_count": .optionalInt,
            "unhealthy_threshold_count": .optionalInt,
            "matcher": .init(.map, description: "{http_code}"),
            "attributes": .init(.map, description: "ModifyTargetGroupAttributes key → value"),
            "region": region, "tags": tags,
            "id": id, "arn": arn,
            "arn_suffix": .init(.string, computed: true, description: "the CloudWatch TargetGroup dimension"),
        ]),
        type("lb_listener", "A listener of a load balancer (CreateListener).", [
            "load_balancer_arn": .init(.string, required: true, forceNew: true),
            "protocol": .init(.string, required: true),
            "port": .init(.int, required: true),
            "certificate_arn": .optionalString,
            "ssl_policy": .optionalString,
            "default_actions": .init(.list, required: true, description: "[{type: forward, target_group_arn}]"),
            "endpoint": .init(.string, description: "dns name:port clients use; recorded for `maifctl output`, not sent"),
            "region": region, "tags": tags,
            "id": id, "arn": arn,
        ]),
        type("lb_target_group_attachment", "One registered target of a target group (RegisterTargets). AWS has no tags for it.", [
            "target_group_arn": .init(.string, required: true, forceNew: true),
            "target_id": .init(.string, required: true, forceNew: true, description: "an instance id"),
            "port": .init(.int, forceNew: true),
            "availability_zone": .init(.string, forceNew: true),
            "weight": .init(.number, description: "relative share of traffic (load_balancing.weights); RegisterTargets takes no weight, so maifctl records it for the nodes and for a weighted forward action"),
            "region": region,
            "id": id,
        ]),
    ]

    // MARK: S3

    static let storage: [ResourceSchema] = [
        type("s3_bucket", "An S3 bucket with versioning, default encryption and lifecycle rules (CreateBucket, PutBucket*).", [
            "bucket": .init(.string, required: true, forceNew: true, description: "the globally unique bucket name"),
            "versioning": .init(.bool, description: "PutBucketVersioning Status Enabled (true) or Suspended (false)"),
            "server_side_encryption": .init(.map, description: "{sse_algorithm: aws:kms|AES256, kms_master_key_id, bucket_key_enabled}"),
            "lifecycle_rules": .init(.list, description: "[{id, status, filter: {prefix}, expiration: {days}, noncurrent_version_expiration: {noncurrent_days}, abort_incomplete_multipart_upload: {days_after_initiation}}]"),
            "public_access_block": .init(.map, description: "{block_public_acls, ignore_public_acls, block_public_policy, restrict_public_buckets}"),
            "object_lock_enabled_for_bucket": .init(.bool, forceNew: true),
            "force_destroy": .init(.bool, description: "delete the objects too when the bucket is destroyed"),
            "replication": .init(.map, description: "PutBucketReplication: {role (ARN), rules: [{id, priority, status, prefix, destination_bucket (ARN), storage_class, replica_kms_key_id}]}; a rule with a replica key replicates SSE-KMS objects too"),
            "policy": .init(.string, description: "the bucket policy, JSON (PutBucketPolicy); null deletes it"),
            "region": region, "tags": tags,
            "id": id, "arn": arn,
            "bucket_domain_name": .computedString,
            "bucket_regional_domain_name": .computedString,
        ]),
    ]

    // MARK: Route 53 (global: no region)

    static let routing: [ResourceSchema] = [
        type("route53_zone", "A public hosted zone (CreateHostedZone).", [
            "name": .init(.string, required: true, forceNew: true, description: "the domain, e.g. maif.example.com"),
            "comment": .optionalString,
            "force_destroy": .init(.bool, description: "delete its records too when the zone is destroyed"),
            "tags": tags,
            "id": .init(.string, computed: true, description: "the hosted zone id"),
            "arn": arn,
            "name_servers": .init(.list, computed: true),
        ]),
        type("route53_record", "A resource record set (ChangeResourceRecordSets). AWS has no tags for it.", [
            "hosted_zone_id": .init(.string, required: true, forceNew: true),
            "name": .init(.string, required: true, forceNew: true),
            "type": .init(.string, required: true, forceNew: true, description: "A, AAAA, CNAME, …"),
            "set_identifier": .init(.string, forceNew: true, description: "tells records of one name apart under latency or geolocation routing"),
            "region": .init(.string, description: "latency routing: the AWS region whose latency picks this record"),
            "geo_location": .init(.map, description: "geolocation routing: {continent_code} or {country_code}; country_code * is the default"),
            "weight": .init(.int, description: "weighted routing: this record's share, 0–255, of the answers for its name"),
            "alias_target": .init(.map, description: "{hosted_zone_id, dns_name, evaluate_target_health}"),
            "health_check_id": .optionalString,
            "ttl": .optionalInt,
            "resource_records": .optionalList,
            "id": id,
            "fqdn": .computedString,
        ]),
        type("route53_health_check", "A Route 53 health check (CreateHealthCheck).", [
            "type": .init(.string, required: true, forceNew: true, description: "HTTP, HTTPS or TCP"),
            "fully_qualified_domain_name": .optionalString,
            "ip_address": .optionalString,
            "port": .optionalInt,
            "resource_path": .optionalString,
            "request_interval": .init(.int, forceNew: true, description: "10 or 30 seconds"),
            "failure_threshold": .init(.int, description: "1 to 10"),
            "measure_latency": .init(.bool, forceNew: true),
            "regions": .init(.list, description: "the checker regions"),
            "tags": tags,
            "id": id, "arn": arn,
        ]),
    ]

    // MARK: CloudWatch

    static let monitoring: [ResourceSchema] = [
        type("cloudwatch_alarm", "A metric alarm (PutMetricAlarm).", [
            "alarm_name": .init(.string, required: true, forceNew: true),
            "alarm_description": .optionalString,
            "comparison_operator": .init(.string, required: true, description: "GreaterThanThreshold, LessThanOrEqualToThreshold, …"),
            "evaluation_periods": .init(.int, required: true),
            "datapoints_to_alarm": .optionalInt,
            "threshold": .optionalNumber,
            "namespace": .init(.string, description: "with metric_name, dimensions, statistic, period; or use metrics"),
            "metric_name": .optionalString,
            "dimensions": .init(.map, description: "dimension name → value"),
            "statistic": .init(.string, description: "Average, Maximum, Minimum, Sum or SampleCount"),
            "period": .init(.int, description: "seconds: 10, 30 or a multiple of 60"),
            "metrics": .init(.list, description: "metric math: [{id, expression | metric_stat: {metric: {namespace, metric_name, dimensions}, period, stat}, label, return_data}]"),
            "treat_missing_data": .init(.string, description: "missing, ignore, breaching or notBreaching"),
            "actions_enabled": .optionalBool,
            "alarm_actions": .optionalList,
            "ok_actions": .optionalList,
            "insufficient_data_actions": .optionalList,
            "region": region, "tags": tags,
            "arn": arn,
        ]),
        type("cloudwatch_log_group", "A CloudWatch Logs log group (CreateLogGroup, PutRetentionPolicy).", [
            "name": .init(.string, required: true, forceNew: true),
            "retention_in_days": .optionalInt,
            "kms_key_id": .optionalString,
            "log_group_class": .init(.string, forceNew: true, description: "STANDARD or INFREQUENT_ACCESS"),
            "export_bucket": .init(.string, description: "the S3 bucket (ARN) CreateExportTask sends exports to"),
            "region": region, "tags": tags,
            "arn": arn,
        ]),
    ]

    // MARK: CloudTrail

    static let audit: [ResourceSchema] = [
        type("cloudtrail_trail", "A CloudTrail trail delivering to an S3 bucket (CreateTrail, StartLogging).", [
            "name": .init(.string, required: true, forceNew: true, description: "3–128 letters, digits, . _ -"),
            "s3_bucket_name": .init(.string, required: true, description: "the bucket; its policy must let cloudtrail.amazonaws.com GetBucketAcl and PutObject"),
            "s3_key_prefix": .init(.string, description: "logs go to <prefix>/AWSLogs/<account>/"),
            "kms_key_id": .init(.string, description: "the KMS key (ARN) the log files are encrypted with; its policy must let CloudTrail use it"),
            "include_global_service_events": .init(.bool, description: "IAM, STS and other global services too (default true)"),
            "is_multi_region_trail": .init(.bool, description: "every region's events, not only the trail's own"),
            "enable_log_file_validation": .init(.bool, description: "hourly signed digest files"),
            "enable_logging": .init(.bool, description: "StartLogging (true, the default) or StopLogging"),
            "region": region, "tags": tags,
            "arn": arn,
            "home_region": .computedString,
        ]),
        type("caller_identity", "The account of the provider's credentials (STS GetCallerIdentity), for policies that must name it; nothing is created or deleted.", [
            "account_id": .computedString,
            "caller_arn": .computedString,
        ]),
    ]

    // MARK: IAM (global: no region), KMS

    static let identity: [ResourceSchema] = [
        type("iam_role", "An IAM role (CreateRole).", [
            "name": .init(.string, required: true, forceNew: true),
            "assume_role_policy": .init(.string, required: true, description: "the trust policy, JSON"),
            "description": .optionalString,
            "path": .init(.string, forceNew: true, description: "default /"),
            "tags": tags,
            "arn": arn,
            "unique_id": .init(.string, computed: true, description: "the RoleId"),
        ]),
        type("iam_role_policy", "An inline policy of a role (PutRolePolicy). AWS has no tags for it.", [
            "role": .init(.string, required: true, forceNew: true, description: "the role's name"),
            "name": .init(.string, required: true, forceNew: true),
            "policy": .init(.string, required: true, description: "the policy document, JSON"),
            "id": .init(.string, computed: true, description: "role:name"),
        ]),
        type("iam_instance_profile", "An instance profile carrying a role (CreateInstanceProfile, AddRoleToInstanceProfile).", [
            "name": .init(.string, required: true, forceNew: true),
            "role": .init(.string, description: "the role's name"),
            "path": .init(.string, forceNew: true, description: "default /"),
            "tags": tags,
            "arn": arn,
            "unique_id": .init(.string, computed: true, description: "the InstanceProfileId"),
        ]),
        type("kms_key", "A symmetric customer-managed KMS key (CreateKey); destroy schedules its deletion.", [
            "description": .optionalString,
            "enable_key_rotation": .optionalBool,
            "deletion_window_in_days": .init(.int, description: "7–30 days between destroy and deletion (default 30); recorded, used by destroy"),
            "policy": .init(.string, description: "the key policy, JSON (PutKeyPolicy \"default\"); KMS's default policy when not set"),
            "region": region, "tags": tags,
            "id": .init(.string, computed: true, description: "the key id"),
            "arn": arn,
            "key_state": .computedString,
        ]),
    ]

    // MARK: SNS

    static let notification: [ResourceSchema] = [
        type("sns_topic", "An SNS topic (CreateTopic).", [
            "name": .init(.string, required: true, forceNew: true),
            "display_name": .optionalString,
            "region": region, "tags": tags,
            "id": .init(.string, computed: true, description: "the topic ARN"),
            "arn": arn,
        ]),
        type("sns_topic_subscription", "A subscription of a topic (Subscribe). AWS has no tags for it; an e-mail one waits for its recipient to confirm.", [
            "topic_arn": .init(.string, required: true, forceNew: true),
            "protocol": .init(.string, required: true, forceNew: true, description: "email, https, http, sqs, lambda, …"),
            "endpoint": .init(.string, forceNew: true, description: "the address; or endpoint_from"),
            "endpoint_from": .init(.string, forceNew: true, description: "env:NAME or file:PATH holding the endpoint (a webhook URL that is a credential): read at plan and create, never stored"),
            "region": region,
            "id": .init(.string, computed: true, description: "the subscription ARN"),
            "arn": arn,
            "pending_confirmation": .init(.bool, computed: true, description: "true until the recipient confirms"),
        ]),
    ]
}
