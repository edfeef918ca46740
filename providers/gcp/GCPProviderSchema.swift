/// Resource types of the `gcp` provider. Attribute names are the API's request fields in lower_snake form
/// (`machine_type` is `machineType`, `ip_cidr_range` is `ipCidrRange`, `ip_protocol` is `IPProtocol`), nested as the
/// API nests them, so that the API client maps them one to one (APIForm.swift); `id`, `self_link` and the other
/// computed attributes are what the API returns. References to other Compute resources are their self links.
///
/// Where the API has no labels the owner is written into `description` (`maif:stack=… maif:address=…`). GCP label
/// keys and values allow only lowercase letters, digits, `_` and `-` (at most 63 characters), so the owner labels are
/// `maif-stack` / `maif-address` with sanitized values, not `maif:stack` / `maif:address`.

import ProviderKit

enum GCPProviderSchema {
    static let provider = ProviderSchema(provider: "gcp", resources: network + compute + scaling + balancing + dns + monitoring + storage)

    // MARK: Shorthands

    private static let id = AttributeSchema(.string, computed: true, description: "the numeric id GCP assigned")
    private static let selfLink = AttributeSchema(.string, computed: true, description: "the resource's URL, what other resources refer to")
    private static let name = AttributeSchema(.string, required: true, forceNew: true,
                                              description: "1-63 characters: a lowercase letter, then lowercase letters, digits or '-'")
    private static let project = AttributeSchema(.string, forceNew: true, description: "project id; the provider's project when not set")
    private static let region = AttributeSchema(.string, required: true, forceNew: true, description: "e.g. us-central1")
    private static let zone = AttributeSchema(.string, required: true, forceNew: true, description: "e.g. us-central1-a")
    private static let labels = AttributeSchema(.map, description: "labels; maif-stack and maif-address name the owner (setLabels, in place)")
    private static let ownerDescription = AttributeSchema(.string, forceNew: true,
                                                          description: "set at creation only; holds maif:stack and maif:address (the type has no labels)")

    private static func type(_ kind: String, _ description: String, _ attributes: [String: AttributeSchema]) -> ResourceSchema {
        ResourceSchema(type: "gcp.\(kind)", description: description, attributes: attributes)
    }

    // MARK: VPC networking

    static let network: [ResourceSchema] = [
        type("network", "A VPC network in custom subnet mode (networks.insert). It has no labels: the owner is in its description.", [
            "name": name, "project": project,
            "description": ownerDescription,
            "auto_create_subnetworks": .init(.bool, forceNew: true, description: "false: maifctl creates the subnetworks"),
            "routing_config": .init(.map, description: "{routing_mode: REGIONAL | GLOBAL} (networks.patch, in place)"),
            "mtu": .init(.int, description: "1300-8896; 1460 by default (networks.patch, in place)"),
            "id": id, "self_link": selfLink,
            "gateway_ipv4": .computedString,
        ]),
        type("subnetwork", "A regional subnetwork of a VPC network (subnetworks.insert). It has no labels: the owner is in its description.", [
            "name": name, "project": project, "region": region,
            "description": ownerDescription,
            "network": .init(.string, required: true, forceNew: true, description: "the network's self_link"),
            "ip_cidr_range": .init(.string, required: true, forceNew: true,
                                   description: "primary IPv4 range, e.g. 10.42.0.0/16; maifctl replaces rather than expands it"),
            "private_ip_google_access": .init(.bool, description: "reach Google APIs without external addresses (setPrivateIpGoogleAccess)"),
            "id": id, "self_link": selfLink,
            "gateway_address": .computedString,
            "fingerprint": .init(.string, computed: true, description: "required by subnetworks.patch"),
        ]),
        type("firewall", "A VPC firewall rule (firewalls.insert). It has no labels: the owner is in its description.", [
            "name": name, "project": project,
            "description": .init(.string, description: "holds maif:stack and maif:address (firewalls.patch, in place)"),
            "network": .init(.string, required: true, forceNew: true, description: "the network's self_link"),
            "direction": .init(.string, forceNew: true, description: "INGRESS or EGRESS"),
            "priority": .init(.int, description: "0-65535, lower wins; 1000 by default"),
            "allowed": .init(.list, description: "[{ip_protocol: tcp|udp|icmp|all, ports: [\"8080\", \"9000-9100\"]}] (the API's IPProtocol)"),
            "denied": .init(.list, description: "as allowed"),
            "source_ranges": .init(.list, description: "IPv4 CIDR ranges allowed to connect"),
            "source_tags": .optionalList,
            "target_tags": .init(.list, description: "network tags of the instances it applies to"),
            "disabled": .optionalBool,
            "id": id, "self_link": selfLink,
        ]),
    ]

    // MARK: Compute Engine disks and instances

    static let compute: [ResourceSchema] = [
        type("disk", "A zonal persistent disk (disks.insert).", [
            "name": name, "project": project, "zone": zone,
            "description": .init(.string, forceNew: true, description: "set at creation only"),
            "type": .init(.string, forceNew: true, description: "pd-standard, pd-balanced, pd-ssd, …; the provider expands it to zones/<zone>/diskTypes/<type>"),
            "size_gb": .init(.int, description: "GiB; grows in place (disks.resize), never shrinks"),
            "source_image": .init(.string, forceNew: true, description: "an image or image family to make the disk from"),
            "labels": labels,
            "id": id, "self_link": selfLink,
            "users": .init(.list, computed: true, description: "the instances the disk is attached to"),
        ]),
        type("instance", "A Compute Engine VM instance (instances.insert).", [
            "name": name, "project": project, "zone": zone,
            "description": .init(.string, forceNew: true, description: "set at creation only"),
            "machine_type": .init(.string, required: true,
                                  description: "e.g. c2-standard-16; the provider expands it to zones/<zone>/machineTypes/<type>. Changed by stop → setMachineType → start"),
            "disks": .init(.list, required: true, forceNew: true,
                           description: "[{boot, auto_delete, device_name, initialize_params: {disk_type: pd-ssd|pd-balanced|pd-standard|…, disk_size_gb, source_image}}]; disk_size_gb in GiB"),
            "network_interfaces": .init(.list, required: true, forceNew: true,
                                        description: "[{network, subnetwork, network_ip, access_configs: [{type: ONE_TO_ONE_NAT, network_tier}]}]: self_links; network_ip is chosen by GCP when not set"),
            "metadata": .init(.map, description: "key → value (the API's metadata.items, with fingerprint); startup-script runs at every boot (setMetadata, in place)"),
            "network_tags": .init(.list, description: "the API's tags.items: what firewall target_tags match (setTags, in place). Not `tags`, which maifctl keeps for owner tags"),
            "labels": labels,
            "deletion_protection": .init(.bool, description: "refuse deletes (setDeletionProtection, in place)"),
            "id": id, "self_link": selfLink,
            "network_ip": .init(.string, computed: true, description: "the first interface's internal IPv4 address"),
            "endpoint": .init(.string, description: "address:port of what the instance serves; recorded for `maifctl output`, not sent"),
        ]),
    ]

    // MARK: Horizontal scaling

    static let scaling: [ResourceSchema] = [
        type("instance_template", "The instance properties a managed instance group creates its VMs from (instanceTemplates.insert). Templates cannot change: a change is a new template, named by a digest of its properties, created before the old one goes.", [
            "name": name, "project": project,
            "description": ownerDescription,
            "machine_type": .init(.string, required: true, forceNew: true, description: "a bare machine type name, e.g. c2-standard-16"),
            "disks": .init(.list, required: true, forceNew: true, description: "as an instance's, disk_type a bare name"),
            "network_interfaces": .init(.list, required: true, forceNew: true, description: "as an instance's"),
            "metadata": .init(.map, forceNew: true, description: "key → value; startup-script runs at every boot"),
            "network_tags": .init(.list, forceNew: true, description: "what firewall target_tags match"),
            "labels": .init(.map, forceNew: true, description: "labels of the instances made from the template"),
            "id": id, "self_link": selfLink,
        ]),
        type("instance_group_manager", "A regional managed instance group (regionInstanceGroupManagers.insert): VMs from a template spread over the region's zones. It has no labels: the owner is in its description.", [
            "name": name, "project": project, "region": region,
            "description": ownerDescription,
            "base_instance_name": .init(.string, forceNew: true, description: "prefix of the names of the VMs it creates"),
            "instance_template": .init(.string, required: true, description: "the template's self_link (setInstanceTemplate, in place: new VMs use it)"),
            "target_size": .init(.int, required: true, description: "the size it starts with; an attached autoscaler owns it afterwards, so it is not read back"),
            "auto_healing_policies": .init(.list, description: "[{health_check, initial_delay_sec}]: VMs failing the health check are recreated (patch, in place)"),
            "id": id, "self_link": selfLink,
            "instance_group": .init(.string, computed: true, description: "the group of its VMs, what a backend service balances to"),
        ]),
        type("autoscaler", "A regional autoscaler of a managed instance group (regionAutoscalers.insert). It has no labels: the owner is in its description.", [
            "name": name, "project": project, "region": region,
            "description": .init(.string, description: "holds maif:stack and maif:address (patch, in place)"),
            "target": .init(.string, required: true, forceNew: true, description: "the managed instance group's self_link"),
            "autoscaling_policy": .init(.map, required: true,
                                        description: "{min_num_replicas, max_num_replicas, cool_down_period_sec, cpu_utilization: {utilization_target}, custom_metric_utilizations: [{metric, utilization_target, utilization_target_type}], scale_in_control: {max_scaled_in_replicas: {fixed}, time_window_sec}, mode} (patch, in place)"),
            "id": id, "self_link": selfLink,
        ]),
        type("instance_group", "An unmanaged zonal instance group of named instances (instanceGroups.insert), so a backend service can balance to them. It has no labels: the owner is in its description.", [
            "name": name, "project": project, "zone": zone,
            "description": ownerDescription,
            "network": .init(.string, forceNew: true, description: "the network's self_link"),
            "instances": .init(.list, description: "self_links of its instances, all in its zone (addInstances / removeInstances, in place)"),
            "named_ports": .init(.list, description: "[{name, port}] (setNamedPorts, in place)"),
            "id": id, "self_link": selfLink,
            "size": .init(.int, computed: true, description: "how many instances it holds"),
        ]),
    ]

    // MARK: Load balancing

    static let balancing: [ResourceSchema] = [
        type("health_check", "A regional health check (regionHealthChecks.insert). It has no labels: the owner is in its description.", [
            "name": name, "project": project, "region": region,
            "description": .init(.string, description: "holds maif:stack and maif:address (patch, in place)"),
            "type": .init(.string, required: true, forceNew: true, description: "TCP, HTTP, HTTPS, HTTP2 or SSL"),
            "check_interval_sec": .init(.int, description: "seconds between probes; 5 by default"),
            "timeout_sec": .init(.int, description: "seconds a probe may take; at most check_interval_sec"),
            "healthy_threshold": .init(.int, description: "successes before healthy again"),
            "unhealthy_threshold": .init(.int, description: "failures before unhealthy"),
            "http_health_check": .init(.map, description: "{port, request_path} for type HTTP"),
            "https_health_check": .init(.map, description: "{port, request_path} for type HTTPS"),
            "tcp_health_check": .init(.map, description: "{port} for type TCP"),
            "id": id, "self_link": selfLink,
        ]),
        type("backend_service", "A regional backend service (regionBackendServices.insert): an external passthrough network load balancer's backends and health check. It has no labels: the owner is in its description.", [
            "name": name, "project": project, "region": region,
            "description": .init(.string, description: "holds maif:stack and maif:address (patch, in place)"),
            "load_balancing_scheme": .init(.string, forceNew: true, description: "EXTERNAL (passthrough network load balancer) or INTERNAL"),
            "protocol": .init(.string, forceNew: true, description: "TCP, UDP or UNSPECIFIED"),
            "health_checks": .init(.list, description: "the health check's self_link (one)"),
            "backends": .init(.list, description: "[{group, balancing_mode: CONNECTION, capacity_scaler}]: instance groups of the region (patch, in place)"),
            "session_affinity": .optionalString,
            "timeout_sec": .optionalInt,
            "connection_draining": .init(.map, description: "{draining_timeout_sec}"),
            "id": id, "self_link": selfLink,
        ]),
        type("forwarding_rule", "A regional forwarding rule (forwardingRules.insert): the external address and ports of a passthrough load balancer.", [
            "name": name, "project": project, "region": region,
            "description": .init(.string, forceNew: true, description: "set at creation only"),
            "ip_protocol": .init(.string, forceNew: true, description: "TCP or UDP (the API's IPProtocol)"),
            "ports": .init(.list, forceNew: true, description: "up to five ports, e.g. [\"8080\"]"),
            "port_range": .init(.string, forceNew: true, description: "instead of ports: 8080-8090"),
            "backend_service": .init(.string, forceNew: true, description: "the backend service's self_link"),
            "load_balancing_scheme": .init(.string, forceNew: true, description: "EXTERNAL or INTERNAL, as the backend service's"),
            "network_tier": .init(.string, forceNew: true, description: "PREMIUM or STANDARD"),
            "labels": labels,
            "id": id, "self_link": selfLink,
            "ip_address": .init(.string, computed: true, description: "the address GCP assigned (the API's IPAddress)"),
            "endpoint": .init(.string, computed: true, description: "ip_address:first port, where clients reach the balancer; recorded for `maifctl output`"),
        ]),
    ]

    // MARK: Cloud DNS

    static let dns: [ResourceSchema] = [
        type("dns_managed_zone", "A Cloud DNS managed zone (managedZones.create).", [
            "name": name, "project": project,
            "dns_name": .init(.string, required: true, forceNew: true, description: "the zone's domain, ending with a dot"),
            "description": .init(.string, required: true, description: "free text (patch, in place)"),
            "visibility": .init(.string, forceNew: true, description: "public or private"),
            "labels": .init(.map, description: "labels; maif-stack and maif-address name the owner (patch, in place)"),
            "id": id,
            "name_servers": .init(.list, computed: true, description: "the zone's delegation"),
        ]),
        type("dns_record_set", "A record set of a managed zone (resourceRecordSets.create): plain rrdatas or a routing policy (geo, weighted). Record sets have no labels: maifctl finds them again by zone, name and type.", [
            "project": project,
            "managed_zone": .init(.string, required: true, forceNew: true, description: "the zone's name"),
            "name": .init(.string, required: true, forceNew: true, description: "a name inside the zone, ending with a dot"),
            "type": .init(.string, required: true, forceNew: true, description: "A, AAAA, CNAME, TXT, …"),
            "ttl": .init(.int, description: "seconds"),
            "rrdatas": .init(.list, description: "the records, when there is no routing policy"),
            "routing_policy": .init(.map, description: "{geo: {items: [{location: a GCP region, rrdatas}], enable_fencing}} or {wrr: {items: [{weight, rrdatas}]}}"),
        ]),
    ]

    // MARK: Cloud Monitoring

    static let monitoring: [ResourceSchema] = [
        type("alert_policy", "A Cloud Monitoring alert policy (projects.alertPolicies.create). Monitoring names it; the owner is in user_labels.", [
            "project": project,
            "display_name": .init(.string, required: true, description: "what incidents and notifications show"),
            "combiner": .init(.string, description: "OR, AND or AND_WITH_MATCHING_RESOURCE when several conditions"),
            "conditions": .init(.list, required: true,
                                description: "[{display_name, condition_threshold: {filter, comparison: COMPARISON_GT|…, threshold_value, duration: \"300s\", aggregations: [{alignment_period, per_series_aligner, cross_series_reducer, group_by_fields}], trigger: {count}}} or condition_absent: {filter, duration ≥ \"120s\", aggregations}]"),
            "documentation": .init(.map, description: "{content, mime_type: text/markdown}"),
            "user_labels": .init(.map, description: "labels; maif-stack and maif-address name the owner"),
            "enabled": .optionalBool,
            "severity": .init(.string, description: "CRITICAL, ERROR or WARNING"),
            "notification_channels": .init(.list, description: "notification channel names (projects/P/notificationChannels/ID)"),
            "name": .init(.string, computed: true, description: "projects/P/alertPolicies/ID, chosen by Monitoring"),
        ]),
        type("notification_channel", "A Cloud Monitoring notification channel (projects.notificationChannels.create): where the alert policies that name it send their incidents. Monitoring names it; the owner is in user_labels.", [
            "project": project,
            "type": .init(.string, required: true, forceNew: true, description: "email or webhook_tokenauth"),
            "display_name": .init(.string, description: "what the console shows"),
            "description": .optionalString,
            "labels": .init(.map, description: "the channel's settings: {email_address} for email, {url} for webhook_tokenauth"),
            "url_from": .init(.string, description: "env:NAME or file:PATH holding labels.url (a webhook URL that is a credential): read at plan and at each write, sent as labels.url, never stored"),
            "user_labels": .init(.map, description: "labels; maif-stack and maif-address name the owner"),
            "enabled": .optionalBool,
            "name": .init(.string, computed: true, description: "projects/P/notificationChannels/ID, chosen by Monitoring: what alert policies name"),
        ]),
    ]

    // MARK: Cloud Storage

    static let storage: [ResourceSchema] = [
        type("bucket", "A Cloud Storage bucket (buckets.insert).", [
            "name": .init(.string, required: true, forceNew: true, description: "globally unique; 3-63 lowercase letters, digits, '-', '_' and '.'"),
            "project": project,
            "location": .init(.string, required: true, forceNew: true, description: "a region (ASIA-SOUTHEAST1), dual- or multi-region (US, EU); upper case as the API returns it"),
            "storage_class": .init(.string, description: "STANDARD, NEARLINE, COLDLINE or ARCHIVE"),
            "versioning": .init(.map, description: "{enabled}"),
            "encryption": .init(.map, description: "{default_kms_key_name}: a Cloud KMS key (CMEK); without it Google-managed keys encrypt every object"),
            "lifecycle": .init(.map, description: "{rule: [{action: {type: Delete|SetStorageClass, storage_class}, condition: {age, days_since_noncurrent_time, num_newer_versions, is_live}}]}"),
            "iam_configuration": .init(.map, description: "{uniform_bucket_level_access: {enabled}, public_access_prevention: enforced|inherited}"),
            "retention_policy": .init(.map, description: "{retention_period: seconds}: objects cannot be deleted or replaced younger than that (not with versioning)"),
            "labels": .init(.map, description: "labels; maif-stack and maif-address name the owner (buckets.patch, in place)"),
            "id": id, "self_link": selfLink,
            "project_number": .computedString,
            "time_created": .computedString,
        ]),
    ]
}
