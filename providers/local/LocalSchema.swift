/// Resource types of the `local` provider.

import ProviderKit

enum LocalSchema {
    static let provider = ProviderSchema(provider: "local", resources: [
        ResourceSchema(type: "local.node", description: "A MAIF node: a directory holding its cluster.yaml and node.yaml.", attributes: [
            "cluster": .init(.string, required: true, forceNew: true),
            "node_id": .init(.string, required: true, forceNew: true),
            "role": .init(.string, required: true),
            "host": .init(.string),
            "port": .init(.int),
            "path": .init(.string, required: true, forceNew: true, description: "directory, relative to the provider root"),
            "files": .init(.map, required: true, description: "file name → content"),
            "id": .init(.string, computed: true),
            "delay_ms": .init(.int, description: "sleep this long in every call, to simulate a slow API"),
            "endpoint": .init(.string, computed: true, description: "http://host:port"),
        ]),
        ResourceSchema(type: "local.load_balancer", description: "A load balancer config: targets, weights, strategy, health checks.", attributes: [
            "cluster": .init(.string, required: true, forceNew: true),
            "path": .init(.string, required: true, forceNew: true),
            "strategy": .init(.string, required: true),
            "health_check": .init(.map),
            "adaptive": .init(.map),
            "targets": .init(.list, required: true),
            "id": .init(.string, computed: true),
            "delay_ms": .init(.int, description: "sleep this long in every call, to simulate a slow API"),
        ]),
        ResourceSchema(type: "local.backup_target", description: "A backup directory with a manifest of schedule and encryption.", attributes: [
            "name": .init(.string, required: true, forceNew: true),
            "path": .init(.string, required: true, forceNew: true, description: "relative to the working directory"),
            "encryption": .init(.bool),
            "strategy": .init(.string),
            "schedule": .init(.map),
            "retention": .init(.string),
            "rpo": .init(.string),
            "rto": .init(.string),
            "id": .init(.string, computed: true),
            "delay_ms": .init(.int, description: "sleep this long in every call, to simulate a slow API"),
        ]),
        ResourceSchema(type: "local.alert_rule", description: "An alert rule file.", attributes: [
            "cluster": .init(.string, required: true, forceNew: true),
            "name": .init(.string, required: true, forceNew: true),
            "path": .init(.string, required: true, forceNew: true),
            "condition": .init(.string, required: true),
            "duration": .init(.string),
            "severity": .init(.string),
            "id": .init(.string, computed: true),
            "delay_ms": .init(.int, description: "sleep this long in every call, to simulate a slow API"),
        ]),
        ResourceSchema(type: "local.file", description: "A file with the given content.", attributes: [
            "path": .init(.string, required: true, forceNew: true, description: "relative to the provider root"),
            "content": .init(.string, required: true),
            "id": .init(.string, computed: true),
            "delay_ms": .init(.int, description: "sleep this long in every call, to simulate a slow API"),
        ]),
        ResourceSchema(type: "local.secret", description: "A file only its owner can read, holding a secret (TLS key, join token).", attributes: [
            "path": .init(.string, required: true, forceNew: true, description: "relative to the provider root"),
            "value": .init(.string, required: true, sensitive: true, description: "never shown or stored in clear text"),
            "id": .init(.string, computed: true),
            "delay_ms": .init(.int, description: "sleep this long in every call, to simulate a slow API"),
        ]),
        ResourceSchema(type: "local.null", description: "No side effect; for tests and benchmarks.", attributes: [
            "triggers": .init(.map, forceNew: true, description: "any values; a change replaces the resource"),
            "delay_ms": .init(.int, description: "sleep this long in every call, to simulate a slow API"),
            "fail": .init(.bool, description: "fail create and update, to simulate a failing API"),
            "id": .init(.string, computed: true),
        ], createsOutsideObject: false),
    ])
}
