import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// How the compute resources turn configurations into EC2 parameters and EC2's XML back into the configuration's
/// shape, and how `plan` puts a configuration in the form `read` reports. No server needed.
@Suite struct ComputeShapeTests {
    static func xml(_ text: String) throws -> XMLNode { try #require(XMLTree.parse(Array(text.utf8))) }
    static let instanceCtx = ResourceContext(stack: "s", address: ResourceAddress(provider: "aws", kind: "instance", name: "n"))
    static var instanceSchema: ResourceSchema? { AWSProviderSchema.provider.resources["aws.instance"] }

    @Test func aPrivateAddressLeftToAWSIsNoReasonToReplace() async throws {
        let aws = AWSProvider(client: AWSClient(settings: AWSSettings(region: "us-east-1", endpoint: nil, credentials: .success(
            AWSCredentials(accessKeyId: "k", secretAccessKey: "s", source: "test")))), stack: "s")
        let prior = ResourceState(id: "i-1", attributes: ["private_ip_address": "10.0.1.7", "instance_type": "c5.large"])
        let plan = try await aws.plan(PlanRequest(context: Self.instanceCtx, prior: prior, desired: ["instance_type": "c5.large"]))
        #expect(plan.requiresReplace.isEmpty && plan.planned["private_ip_address"] == "10.0.1.7")
        // Set by the stack, it is the stack's: a different address is a replacement, as the schema says.
        let pinned = try await aws.plan(PlanRequest(context: Self.instanceCtx, prior: prior,
                                                    desired: ["instance_type": "c5.large", "private_ip_address": "10.0.1.9"]))
        #expect(pinned.requiresReplace == ["private_ip_address"])
    }

    @Test func setsAreOrderedAsReadReportsThem() {
        let request = PlanRequest(context: Self.instanceCtx, prior: nil, desired: [
            "security_group_ids": .list(["sg-b", "sg-a", .unknown]),
            "block_device_mappings": .list([.map(["device_name": "/dev/xvdb"]), .map(["device_name": "/dev/xvda"])]),
        ])
        let desired = PlanShape.desired(request, schema: Self.instanceSchema)
        #expect(desired["security_group_ids"] == .list(["sg-a", "sg-b", .unknown]))
        #expect(desired["block_device_mappings"]?.listValue?.first?.mapValue?["device_name"] == "/dev/xvda")

        let routes = ResourceContext(stack: "s", address: ResourceAddress(provider: "aws", kind: "route_table", name: "r"))
        let table = PlanShape.desired(PlanRequest(context: routes, prior: nil, desired: ["routes": .list([
            .map(["destination_cidr_block": "192.168.0.0/16", "gateway_id": "igw-1"]),
            .map(["destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-1"]),
        ])]), schema: nil)
        #expect(table["routes"]?.listValue?.first?.mapValue?["destination_cidr_block"] == "0.0.0.0/0")
    }

    @Test func settingsLeftUnsetTakeWhatAWSChose() {
        let prior = ResourceState(id: "i-1", attributes: [
            "metadata_options": .map(["http_tokens": "required", "http_endpoint": "enabled", "http_put_response_hop_limit": 1]),
            "block_device_mappings": .list([.map(["device_name": "/dev/xvda",
                                                  "ebs": .map(["volume_size": 8, "volume_type": "gp3", "encrypted": false, "delete_on_termination": true])])]),
        ])
        let desired = PlanShape.desired(PlanRequest(context: Self.instanceCtx, prior: prior, desired: [
            "metadata_options": .map(["http_tokens": "required"]),
            "block_device_mappings": .list([.map(["device_name": "/dev/xvda", "ebs": .map(["volume_size": 20])])]),
        ]), schema: Self.instanceSchema)
        #expect(desired["metadata_options"] == prior.attributes["metadata_options"])
        let ebs = desired["block_device_mappings"]?.listValue?.first?.mapValue?["ebs"]?.mapValue
        #expect(ebs == ["volume_size": 20, "volume_type": "gp3", "encrypted": false, "delete_on_termination": true])
    }

    @Test func launchParametersFollowEC2sQueryNames() {
        let config: [String: AttributeValue] = [
            "image_id": "resolve:ssm:/p", "instance_type": "c5.large", "user_data": "hello",
            "block_device_mappings": .list([.map(["device_name": "/dev/xvda",
                                                  "ebs": .map(["volume_size": 932, "volume_type": "gp3", "encrypted": true, "delete_on_termination": true])])]),
            "network_interfaces": .list([.map(["device_index": 0, "associate_public_ip_address": true, "groups": .list(["sg-1"])])]),
            "tag_specifications": .list([.map(["resource_type": "instance", "tags": .map(["Name": "x"])])]),
            "metadata_options": .map(["http_tokens": "required"]),
            "monitoring": .map(["enabled": true]),
        ]
        let p = LaunchTemplateResource.data(config, prefix: "LaunchTemplateData")
        #expect(p["LaunchTemplateData.ImageId"] == "resolve:ssm:/p")
        #expect(p["LaunchTemplateData.UserData"] == "aGVsbG8=")
        #expect(p["LaunchTemplateData.BlockDeviceMapping.1.Ebs.VolumeSize"] == "932")
        #expect(p["LaunchTemplateData.BlockDeviceMapping.1.Ebs.Encrypted"] == "true")
        #expect(p["LaunchTemplateData.NetworkInterface.1.DeviceIndex"] == "0")
        #expect(p["LaunchTemplateData.NetworkInterface.1.SecurityGroupId.1"] == "sg-1")
        #expect(p["LaunchTemplateData.TagSpecification.1.ResourceType"] == "instance")
        #expect(p["LaunchTemplateData.TagSpecification.1.Tag.1.Key"] == "Name")
        #expect(p["LaunchTemplateData.MetadataOptions.HttpTokens"] == "required")
        #expect(p["LaunchTemplateData.Monitoring.Enabled"] == "true")
    }

    @Test func launchTemplateDataReadsBackInTheConfigurationsShape() throws {
        let data = try Self.xml("""
        <launchTemplateData><imageId>resolve:ssm:/p</imageId><instanceType>c5.large</instanceType><userData>aGVsbG8=</userData>
        <networkInterfaceSet><item><associatePublicIpAddress>true</associatePublicIpAddress><deviceIndex>0</deviceIndex>
        <groupSet><groupId>sg-2</groupId><groupId>sg-1</groupId></groupSet></item></networkInterfaceSet>
        <securityGroupIdSet><item>sg-9</item></securityGroupIdSet>
        <tagSpecificationSet><item><resourceType>launch-template</resourceType><tagSet/></item>
        <item><resourceType>volume</resourceType><tagSet><item><key>a</key><value>b</value></item></tagSet></item></tagSpecificationSet>
        </launchTemplateData>
        """)
        let a = LaunchTemplateResource.attributes(data)
        #expect(a["user_data"] == "hello")
        #expect(a["network_interfaces"] == .list([.map(["device_index": 0, "associate_public_ip_address": true, "groups": .list(["sg-1", "sg-2"])])]))
        #expect(a["security_group_ids"] == .list(["sg-9"]))
        #expect(a["tag_specifications"] == .list([.map(["resource_type": "volume", "tags": .map(["a": "b"])])]))
        #expect(a["monitoring"] == .null && a["block_device_mappings"] == .list([]))
    }

    @Test func routesLeaveOutTheLocalRouteAndTheInstancesInterface() throws {
        let table = try Self.xml("""
        <routeSet><item><destinationCidrBlock>10.0.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId></item>
        <item><destinationCidrBlock>0.0.0.0/0</destinationCidrBlock><gatewayId>igw-1</gatewayId></item>
        <item><destinationCidrBlock>10.9.0.0/16</destinationCidrBlock><instanceId>i-1</instanceId><networkInterfaceId>eni-1</networkInterfaceId></item></routeSet>
        """)
        let routes = Route.parse(table.all("item"))
        #expect(Route.attribute(routes) == .list([
            .map(["destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-1"]),
            .map(["destination_cidr_block": "10.9.0.0/16", "instance_id": "i-1"]),
        ]))
        #expect(routes[0].params("rtb-1") == ["RouteTableId": "rtb-1", "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"])
    }

    @Test func ssmImagesAndJSONErrors() {
        #expect(SSM.parameterName("resolve:ssm:/aws/service/x") == "/aws/service/x")
        #expect(SSM.parameterName("ami-123") == nil)
        func body(_ text: String) -> AWSResponse { AWSResponse(status: 400, headers: [], body: Array(text.utf8)) }
        let error = JSONErrorBody(body(#"{"__type":"com.amazonaws.ssm#ParameterNotFound","message":"no /x"}"#))
        #expect(error?.code == "ParameterNotFound" && error?.message == "no /x")
        #expect(JSONErrorBody(body("<Error/>")) == nil)
        #expect(LaunchShapes.profileName("arn:aws:iam::1:instance-profile/path/web") == "web")
        #expect(LaunchShapes.profileName("web") == "web")
    }
}
