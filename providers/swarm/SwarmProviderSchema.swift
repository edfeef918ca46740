/// Resource types of the `swarm` provider, in the shapes of the Docker Engine API (v1.41).
/// Networks, configs, secrets and volumes cannot be changed in place: every setting of theirs is force-new, and
/// configs and secrets get a versioned name in Docker so that the new one can exist beside the old one.

import ProviderKit

enum SwarmProviderSchema {
    static let provider = ProviderSchema(provider: "swarm", resources: [
        ResourceSchema(type: "swarm.network", description: "A swarm-scoped network (POST /networks/create).", attributes: [
            "name": .init(.string, required: true, forceNew: true),
            "driver": .init(.string, forceNew: true, description: "overlay"),
            "attachable": .init(.bool, forceNew: true, description: "standalone containers may attach too"),
            "internal": .init(.bool, forceNew: true),
            "options": .init(.map, forceNew: true, description: "driver options"),
            "labels": labels,
            "id": .computedString,
            "swarm_id": swarmID,
        ]),
        ResourceSchema(type: "swarm.config", description: "A swarm config (POST /configs/create); immutable, so its Docker name carries a digest of the data.", attributes: [
            "name": .init(.string, required: true, forceNew: true, description: "the base name; Docker's is versioned_name"),
            "data": .init(.string, required: true, forceNew: true, description: "the content, as text"),
            "labels": labels,
            "id": .computedString,
            "versioned_name": .init(.string, computed: true, description: "<name>-<first 12 hex digits of the data's SHA-256>, what services refer to"),
            "swarm_id": swarmID,
        ]),
        ResourceSchema(type: "swarm.secret", description: "A swarm secret (POST /secrets/create). Exactly one of data, data_from, generate_length.", attributes: [
            "name": .init(.string, required: true, forceNew: true),
            "data": .init(.string, forceNew: true, sensitive: true, description: "the value; never shown or stored in clear text"),
            "data_from": .init(.string, forceNew: true, description: "`env:NAME` or `file:PATH`, read by the provider when it creates the secret"),
            "generate_length": .init(.int, forceNew: true, description: "the provider generates a random value of this many characters"),
            "labels": labels,
            "id": .computedString,
            "versioned_name": .init(.string, computed: true, description: "<name>-v<N>, one more than the highest version before it; what services refer to"),
            "swarm_id": swarmID,
        ]),
        ResourceSchema(type: "swarm.service", description: "A swarm service (POST /services/create, versioned updates).", attributes: [
            "name": .init(.string, required: true, forceNew: true, description: "Spec.Name"),
            "spec": .init(.map, required: true, description: "the Engine API ServiceSpec: Name, Labels, TaskTemplate, Mode, UpdateConfig, EndpointSpec"),
            "id": .computedString,
            "version": .init(.int, computed: true, description: "Version.Index, sent back with every update"),
            "endpoint": .init(.string, description: "where clients reach the service (a published port); recorded for `maifctl output`, not sent"),
            "swarm_id": swarmID,
        ]),
        ResourceSchema(type: "swarm.volume", description: "A named volume (POST /volumes/create); each node creates its own copy when a task needs it.", attributes: [
            "name": .init(.string, required: true, forceNew: true),
            "driver": .init(.string, forceNew: true, description: "local unless a volume plugin is named"),
            "driver_opts": .init(.map, forceNew: true),
            "labels": labels,
            "id": .computedString,
            "swarm_id": swarmID,
        ]),
    ])

    /// The swarm (`GET /swarm` ID) the object lives in: a record is never checked against another swarm's objects.
    static let swarmID = AttributeSchema(.string, computed: true, description: "the id of the swarm the object lives in")

    /// Docker labels cannot be changed on these objects once created.
    static let labels = AttributeSchema(.map, forceNew: true, description: "labels; maif.stack and maif.address name the owner")
}
