/// The custom data of an Azure cluster's Ubuntu VMs: the shared VMBootstrap cloud-config (cluster.yaml, TLS settings,
/// the node's unit running the stack's image, the backup timers), after the sections that format the data disk and
/// mount it at /var/lib/maif, where the unit keeps the node's data. The first node's also writes the alerting files
/// (AzureExpansion+Monitoring).

import ProviderKit
import StackModel

extension AzureClusterExpansion {
    /// The data disk at LUN 0, as Azure's udev rules name it.
    static let dataDevice = "/dev/disk/azure/scsi1/lun0"

    /// cloud-init's disk_setup, fs_setup and mounts for the data disk; mounts run before write_files and runcmd.
    static let dataDiskSetup = """
        disk_setup:
          \(dataDevice):
            table_type: gpt
            layout: true
            overwrite: false
        fs_setup:
          - label: maif-data
            filesystem: ext4
            device: \(dataDevice)
            partition: auto
        mounts:
          - ["\(dataDevice)-part1", "\(NodeUnit.dataDirectory)", "auto", "defaults,nofail", "0", "2"]

        """

    /// A named node's custom data; the cluster's first node also carries the alert rules and the Alertmanager route.
    func cloudConfig(node: Node) -> String {
        let alertingFiles = node.id == cluster.nodes.first?.id ? alerting.map(VMBootstrap.alertingFiles) ?? [] : []
        return VMBootstrap.NodeConfig(stack: stack, cluster: hosted, node: node, clusterYAML: clusterYAML, managedBy: vm(node).description,
                                      platformFiles: alertingFiles, storageSetup: Self.dataDiskSetup).cloudConfig()
    }

    /// A scale set instance's custom data: the same cluster.yaml, its node id being its host name.
    func scaledCloudConfig() -> String {
        VMBootstrap.NodeConfig(stack: stack, cluster: hosted, node: VMBootstrap.scaledNode(of: cluster, port: ports[0]), clusterYAML: clusterYAML,
                               managedBy: scaleSetAddress.description, storageSetup: Self.dataDiskSetup).cloudConfig()
    }
}
