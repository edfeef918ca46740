import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

@Suite struct SettingsTests {
    func home(_ credentials: String, config: String = "") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aws-home-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/.aws", withIntermediateDirectories: true)
        try credentials.write(toFile: dir + "/.aws/credentials", atomically: true, encoding: .utf8)
        try config.write(toFile: dir + "/.aws/config", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func environmentComesFirst() throws {
        let h = try home("[default]\naws_access_key_id = FILE\naws_secret_access_key = s\n")
        let s = AWSSettings.resolve(settings: [:], environment: ["HOME": h, "AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "x",
                                                                 "AWS_SESSION_TOKEN": "t", "AWS_REGION": "eu-west-1"])
        let c = try s.credentials.get()
        #expect(c.accessKeyId == "ENV" && c.sessionToken == "t" && c.source == "environment (AWS_ACCESS_KEY_ID)")
        #expect(s.region == "eu-west-1")
    }

    @Test func profileFromSettingsAndFiles() throws {
        let h = try home("[default]\naws_access_key_id = D\naws_secret_access_key = d\n\n[ci]\n# comment\naws_access_key_id = CI\naws_secret_access_key = ci\naws_session_token = tok\n",
                         config: "[profile ci]\nregion = ap-south-1\n")
        let s = AWSSettings.resolve(settings: ["profile": .string("ci"), "endpoint": .string("http://127.0.0.1:5000")],
                                    environment: ["HOME": h, "AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "x"])
        let c = try s.credentials.get()
        #expect(c.accessKeyId == "CI" && c.sessionToken == "tok" && c.source == "profile 'ci' in \(h)/.aws/credentials")
        #expect(s.region == "ap-south-1" && s.endpoint?.absoluteString == "http://127.0.0.1:5000")
        let viaEnv = AWSSettings.resolve(settings: ["region": .string("us-west-2")], environment: ["HOME": h, "AWS_PROFILE": "ci"])
        #expect(try viaEnv.credentials.get().accessKeyId == "CI" && viaEnv.region == "us-west-2")
    }

    @Test func credentialReferencesOfTheStackWinAndNameTheirSource() throws {
        let h = try home("[ci]\naws_access_key_id = CI\naws_secret_access_key = ci\n")
        try "from-file\n".write(toFile: h + "/secret", atomically: true, encoding: .utf8)
        let settings = ProviderSettings(values: ["profile": .string("ci")],
                                        references: ["access_key_id": .env("MAIF_KEY"), "secret_access_key": .file("\(h)/secret")],
                                        section: "clouds.aws")
        let s = AWSSettings.resolve(settings: settings, environment: ["HOME": h, "MAIF_KEY": "REF", "AWS_ACCESS_KEY_ID": "ENV"])
        let c = try s.credentials.get()
        #expect(c.accessKeyId == "REF" && c.secretAccessKey == "from-file")
        #expect(c.source == "clouds.aws.access_key_id (environment variable MAIF_KEY)")

        let unset = AWSSettings.resolve(settings: settings, environment: ["HOME": h])
        guard case .failure(let error) = unset.credentials else { Issue.record("expected a failure"); return }
        #expect(error.description.contains("clouds.aws.access_key_id names environment variable MAIF_KEY, which is not set"))
    }

    @Test func missingCredentialsNameWhereTheyWereLookedFor() throws {
        let h = try home("")
        let s = AWSSettings.resolve(settings: [:], environment: ["HOME": h, "AWS_PROFILE": "nope"])
        guard case .failure(let error) = s.credentials else { Issue.record("expected a failure"); return }
        #expect(error.description.contains("profile 'nope'") && error.description.contains("\(h)/.aws/credentials"))
    }

    @Test func awsErrorsNameServiceCallCodeAndMessage() {
        let body = "<?xml version=\"1.0\"?><Response><Errors><Error><Code>InvalidVpcID.NotFound</Code><Message>The vpc ID 'vpc-1' does not exist</Message></Error></Errors><RequestID>r</RequestID></Response>"
        let error = AWSClient.error(service: "ec2", call: "DescribeVpcs", response: AWSResponse(status: 400, headers: [], body: Array(body.utf8)),
                                    credentialSource: "test")
        #expect(error.code == "InvalidVpcID.NotFound")
        #expect(error.providerError.description == "ec2 DescribeVpcs failed: InvalidVpcID.NotFound (HTTP 400): The vpc ID 'vpc-1' does not exist")
    }
}
