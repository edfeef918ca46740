/// Resource types of the `onprem` provider: hosts reached over SSH, and what maifctl puts on them.

import ProviderKit

enum OnPremProviderSchema {
    static let provider = ProviderSchema(provider: "onprem", resources: [
        ResourceSchema(type: "onprem.host", description: "A host reached over SSH; creating it checks the connection and gathers facts.", attributes: [
            "address": .init(.string, required: true, forceNew: true, description: "IP address or DNS name"),
            "port": .init(.int, description: "SSH port (22)"),
            "user": .init(.string, description: "SSH user"),
            "become": .init(.bool, description: "make changes through sudo (the user is not root)"),
            "jump_host": .init(.string, description: "bastion to connect through"),
            "tags": .tags,
            "facts": .init(.map, computed: true, description: "hostname, os, architecture, as found on the host"),
        ]),
        ResourceSchema(type: "onprem.directory", description: "A directory on a host.", attributes: [
            "host": .forceNewString,
            "path": .init(.string, required: true, forceNew: true, description: "absolute path"),
            "mode": .init(.string, description: "octal, e.g. 0755"),
            "owner": .init(.string, description: "user[:group]"),
            "tags": .tags,
        ]),
        ResourceSchema(type: "onprem.file", description: "A file on a host with the given content.", attributes: [
            "host": .forceNewString,
            "path": .init(.string, required: true, forceNew: true, description: "absolute path"),
            "content": .init(.string, required: true),
            "mode": .init(.string, description: "octal, e.g. 0644"),
            "owner": .init(.string, description: "user[:group]"),
            "tags": .tags,
            "sha256": .init(.string, computed: true, description: "of the content as found on the host"),
        ]),
        ResourceSchema(type: "onprem.systemd_unit", description: "A systemd unit file in /etc/systemd/system, enabled and started as asked.", attributes: [
            "host": .forceNewString,
            "name": .init(.string, required: true, forceNew: true, description: "unit name, e.g. maif.service"),
            "content": .init(.string, required: true),
            "enabled": .init(.bool, description: "start at boot"),
            "state": .init(.string, description: "started or stopped"),
            "restart_triggers": .init(.map, description: "any values; when one changes the unit is restarted (e.g. digests of its config files)"),
            "endpoint": .init(.string, description: "host:port the unit serves on; recorded for `maifctl output`"),
            "tags": .tags,
            "active_state": .init(.string, computed: true, description: "systemctl is-active, after apply"),
        ]),
    ])
}
