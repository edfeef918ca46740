/// Resource types of the `gcp` provider. Attribute names are the Compute Engine v1 and Cloud Storage JSON
/// API request fields in lower_snake form (`machine_type` is `machineType`, `ip_cidr_range` is `ipCidrRange`),
/// nested as the API nests them, so that the API client maps them one to one; `id`, `self_link` and the other
/// computed attributes are what the API returns.
///
/// Where the API has no labels (networks, subnetworks, firewalls) the owner is written into `description`.
/// GCP label keys and values allow only lowercase letters, digits, `_` and `-` (at most 63 characters), so the
/// owner labels are `maif-stack` / `maif-address` with sanitized values, not `maif:stack` / `maif:address`.

import ProviderKit

enum GCPProviderSchema {
    static let provider = ProviderSchema(provider: "gcp", resources: network + compute + storage)

    // MARK: Shorthands

    private static let id = AttributeSchema(.string, computed: true, description: "the numeric id GCP assigned")
    private static let selfLink = AttributeSchema(.string, computed: true, description: "the resource's URL, what other resources refer to")
    private static let name = AttributeSchema(.string, required: true, forceNew: true,
                                              description: "1-63 characters: a lowercase letter, then lowercase letters, digits or '-'")
    private static let project = AttributeSchema(.string, forceNew: true, description: "project id; the provider's project when not set")
    private static let labels = AttributeSchema(.map, description: "labels; maif-stack and maif-address name the owner (setLabels, in place)")

    private static func type(_ kind: String, _ description: String, _ attributes: [String: AttributeSchema]) -> ResourceSchema {
        ResourceSchema(type: "gcp.\(kind)", description: description, attributes: attributes)
    }

    // MARK: VPC networking

    static let network: [ResourceSchema] = [
        type("network", "A VPC network in custom subnet mode (networks.insert). It has no labels: the owner is in its description.", [
            "name": name, "project": project,
            "description": .init(.string, forceNew: true, description: "set at creation only; holds maif:stack and maif:address"),
            "auto_create_subnetworks": .init(.bool, forceNew: true, description: "false: maifctl creates the subnetworks"),
            "routing_config": .init(.map, description: "{routing_mode: REGIONAL | GLOBAL}"),
            "mtu": .optionalInt,
            "id": id, "self_link": selfLink,
            "gateway_ipv4": .computedString,
        ]),
        type("subnetwork", "A regional subnetwork of a VPC network (subnetworks.insert). It has no labels: the owner is in its description.", [
            "name": name, "project": project,
            "description": .init(.string, forceNew: true, description: "set at creation only; holds maif:stack and maif:address"),
            "network": .init(.string, required: true, forceNew: true, description: "the network's self_link"),
            "region": .init(.string, required: true, forceNew: true, description: "e.g. us-central1"),
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

    // MARK: Compute Engine instances

    static let compute: [ResourceSchema] = [
        type("instance", "A Compute Engine VM instance (instances.insert).", [
            "name": name, "project": project,
            "zone": .init(.string, required: true, forceNew: true, description: "e.g. us-central1-a"),
            "machine_type": .init(.string, required: true,
                                  description: "e.g. c2-standard-16; the provider expands it to zones/<zone>/machineTypes/<type>. Changed by stopping the instance (setMachineType)"),
            "disks": .init(.list, required: true, forceNew: true,
                           description: "[{boot, auto_delete, device_name, initialize_params: {disk_type: pd-ssd|pd-balanced|pd-standard|…, disk_size_gb, source_image}}]; disk_size_gb in GiB"),
            "network_interfaces": .init(.list, required: true, forceNew: true,
                                        description: "[{network, subnetwork, network_ip}]: self_links; network_ip is chosen by GCP when not set"),
            "metadata": .init(.map, description: "key → value (the API's metadata.items, with fingerprint); startup-script runs at every boot (setMetadata, in place)"),
            "network_tags": .init(.list, description: "the API's tags.items: what firewall target_tags match (setTags, in place). Not `tags`, which maifctl keeps for owner tags"),
            "labels": labels,
            "deletion_protection": .optionalBool,
            "id": id, "self_link": selfLink,
            "network_ip": .init(.string, computed: true, description: "the first interface's internal IPv4 address"),
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
            "encryption": .init(.map, description: "{default_kms_key_name}: a Cloud KMS key; without it Google-managed keys encrypt every object"),
            "lifecycle": .init(.map, description: "{rule: [{action: {type: Delete|SetStorageClass, storage_class}, condition: {age, days_since_noncurrent_time, num_newer_versions, is_live}}]}"),
            "iam_configuration": .init(.map, description: "{uniform_bucket_level_access: {enabled}, public_access_prevention: enforced|inherited}"),
            "labels": .init(.map, description: "labels; maif-stack and maif-address name the owner (buckets.patch, in place)"),
            "id": id, "self_link": selfLink,
            "project_number": .computedString,
            "time_created": .computedString,
        ]),
    ]
}
