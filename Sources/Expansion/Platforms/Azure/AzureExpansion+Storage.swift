/// An `azure_blob` backup target of `disaster_recovery`: a resource group, a storage account (HTTPS only, TLS 1.2,
/// no public blob access, encrypted at rest, versioned, soft delete and a lifecycle policy from the retention period)
/// and a private blob container, whose metadata names its owner.

import ProviderKit
import StackModel

extension AzureExpansion {
    static func backupTarget(_ target: BackupTarget, in stack: Stack) -> PlatformOutput {
        var out = PlatformOutput()
        guard let container = target.container else { return out }  // the loader already reported it
        if !isContainerName(container) {
            out.diagnostics.append(.error("invalid-container-name", "'\(container)' is not a valid blob container name",
                                          hint: "3-63 lowercase letters, digits and single hyphens, starting with a letter or digit", at: target.location))
        }
        let accountName = target.bucket ?? derivedAccountName(stack: stack, target: target)
        if !isStorageAccountName(accountName) {
            out.diagnostics.append(.error("invalid-storage-account-name", "'\(accountName)' is not a valid storage account name",
                                          hint: "3-24 lowercase letters and digits, unique across Azure; leave `bucket` out to have maifctl derive one",
                                          at: target.location))
        }
        guard let region = target.region ?? stack.clouds["azure"]?.string("region") else {
            out.diagnostics.append(.error("missing-region", "backup target '\(target.name)' (azure_blob) has no region",
                                          hint: "set region on the target or under clouds.azure", at: target.location))
            return out
        }
        if !target.encryption {
            out.diagnostics.append(.warning("encryption-always-on", "Azure Storage encrypts every blob at rest; encryption: false on '\(target.name)' has no effect",
                                            at: target.location))
        }
        let name = addressName(target.name)
        let group = ResourceAddress(provider: "azure", kind: "resource_group", name: "backups.\(name)")
        let account = ResourceAddress(provider: "azure", kind: "storage_account", name: name)
        let blobContainer = ResourceAddress(provider: "azure", kind: "blob_container", name: name)
        let days = Int64(min(365, retentionDays(stack)))

        out.resources.append(DesiredResource(address: group, config: [
            "name": .string(resourceName(stack.meta.name, "backups", target.name)),
            "location": .string(armLocation(region)),
        ], origin: target.location))

        out.resources.append(DesiredResource(address: account, config: [
            "name": .string(accountName),
            "resource_group_name": .string("${\(group).name}"),
            "location": .string(armLocation(region)),
            "kind": "StorageV2",
            // Zone-redundant inside the region: geo-redundant SKUs would copy backups to the paired region,
            // outside what placement and compliance rules allow.
            "sku": .map(["name": "Standard_ZRS"]),
            "access_tier": "Hot",
            "supports_https_traffic_only": true,
            "minimum_tls_version": "TLS1_2",
            "allow_blob_public_access": false,
            "encryption": .map([
                "key_source": "Microsoft.Storage",
                "services": .map(["blob": .map(["enabled": true, "key_type": "Account"])]),
            ]),
            "blob_properties": .map([
                "is_versioning_enabled": true,
                "delete_retention_policy": .map(["enabled": true, "days": .int(days)]),
                "container_delete_retention_policy": .map(["enabled": true, "days": .int(days)]),
            ]),
            "management_policy": .map(["rules": .list([.map([
                "name": "maif-backup-retention",
                "enabled": true,
                "type": "Lifecycle",
                "definition": .map([
                    "filters": .map(["blob_types": .list(["blockBlob"])]),
                    "actions": .map([
                        "base_blob": .map(["delete": .map(["days_after_modification_greater_than": .int(days)])]),
                        "version": .map(["delete": .map(["days_after_creation_greater_than": .int(days)])]),
                    ]),
                ]),
            ])])]),
        ], origin: target.location))

        out.resources.append(DesiredResource(address: blobContainer, config: [
            "name": .string(container),
            "resource_group_name": .string("${\(group).name}"),
            "storage_account_name": .string("${\(account).name}"),
            "public_access": "None",
            "metadata": .map(["maif_stack": .string(stack.meta.name), "maif_address": .string(blobContainer.description)]),
        ], origin: target.location))
        return out
    }
}
