/// Every way the provider gets an access token, against the harness's token endpoint (which verifies the JWT's RS256
/// signature with the key's public half, and its iss, scope, aud, iat and exp) and metadata server, and the front, which
/// accepts only tokens they issued.

import Foundation
import ProviderKit
import Testing
@testable import GCPProvider

extension GCPIntegration {
    /// A cheap authenticated call: the project's regions.
    func anyCall(_ provider: GCPProvider, project: String) async throws {
        _ = try await provider.client.call(.compute, .GET, "projects/\(project)/regions", name: "compute.regions.list")
    }

    @Test func serviceAccountKeyIsExchangedOnceAndCached() async throws {
        let servers = try GCPServers.start()
        let gcp = try servers.provider()
        for _ in 0..<4 { try await anyCall(gcp, project: servers.project) }
        let stats = try servers.tokenStats()
        #expect(stats["jwt_bearer"] == 1, "one signed JWT exchanged for four calls: \(stats)")
        #expect(stats["rejected"] ?? 0 == 0, "\(stats)")
        #expect(await gcp.client.tokenExchanges() == 1)
        try servers.expectNoViolations()
    }

    @Test func aTokenNearItsEndIsRenewed() async throws {
        let servers = try GCPServers.start()
        // Tokens of 61 s: the provider renews a token with less than a minute left.
        try servers.post(servers.token + "/_token/config", ["expiresIn": 61])
        let gcp = try servers.provider()
        try await anyCall(gcp, project: servers.project)
        try await Task.sleep(nanoseconds: 1_200_000_000)
        try await anyCall(gcp, project: servers.project)
        #expect(try servers.tokenStats()["jwt_bearer"] == 2)
        try servers.expectNoViolations()
    }

    @Test func aKeyTheEndpointDoesNotKnowFailsNamingTheAccountAndSource() async throws {
        let servers = try GCPServers.start()
        let gcp = try servers.provider(references: ["credentials": .file(servers.wrongSignatureKey)])
        await #expect {
            try await anyCall(gcp, project: servers.project)
        } throws: { error in
            let text = "\(error)"
            let key = (try? String(contentsOfFile: servers.wrongSignatureKey, encoding: .utf8)) ?? ""
            let pem = key.components(separatedBy: "\\n").dropFirst().first ?? "never"
            return text.contains("invalid_grant: Invalid JWT Signature.") && text.contains("service account maifctl-test@")
                && text.contains("clouds.gcp.credentials (file \(servers.wrongSignatureKey))") && !text.contains(pem)
        }
        #expect(try servers.tokenStats()["rejected"] == 1)
        try servers.expectNoViolations()
    }

    @Test func authorizedUserRefreshTokenAtTheOverriddenTokenEndpoint() async throws {
        let servers = try GCPServers.start()
        // gcloud's application_default_credentials.json carries no token_uri: the override says where Google's endpoint is.
        let gcp = try servers.provider(settings: ["token_uri": .string(servers.tokenURI)],
                                       references: ["credentials": .file(servers.authorizedUser)])
        try await anyCall(gcp, project: servers.project)
        try await anyCall(gcp, project: servers.project)
        #expect(try servers.tokenStats()["refresh_token"] == 1)
        try servers.expectNoViolations()
    }

    @Test func theMetadataServerWhenNothingElseIsConfigured() async throws {
        let servers = try GCPServers.start()
        let home = NSTemporaryDirectory() + "gcp-home-" + UUID().uuidString
        let gcp = try servers.provider(references: [:], environment: ["HOME": home, "GCE_METADATA_HOST": servers.metadataHost])
        guard case .success(.metadataServer(let host)) = gcp.client.settings.credentials else {
            Issue.record("expected the metadata server, got \(gcp.client.settings.credentials)")
            return
        }
        #expect(host == servers.metadataHost)
        try await anyCall(gcp, project: servers.project)
        #expect(try servers.tokenStats()["metadata"] == 1)
        try servers.expectNoViolations()
    }

    @Test func aReadyAccessTokenFromTheEnvironment() async throws {
        let servers = try GCPServers.start()
        let minted = try #require((try servers.post(servers.token + "/_token/mint") as? [String: Any])?["access_token"] as? String)
        let gcp = try servers.provider(references: [:], environment: ["GOOGLE_OAUTH_ACCESS_TOKEN": minted, "HOME": NSTemporaryDirectory()])
        try await anyCall(gcp, project: servers.project)
        #expect(try servers.tokenStats()["jwt_bearer"] ?? 0 == 0)
        try servers.expectNoViolations()
    }

    @Test func aCredentialVariableHoldsThePathOrTheJSON() async throws {
        let servers = try GCPServers.start()
        let json = try String(contentsOfFile: servers.serviceAccountKey, encoding: .utf8)
        // GOOGLE_APPLICATION_CREDENTIALS holds a path by Google's convention; another variable may hold the key itself.
        for (name, value) in [("GOOGLE_APPLICATION_CREDENTIALS", servers.serviceAccountKey), ("MAIF_GCP_KEY_JSON", json)] {
            let gcp = try servers.provider(references: ["credentials": .env(name)], environment: [name: value])
            try await anyCall(gcp, project: servers.project)
        }
        // A reference that cannot be read fails when the provider is configured, naming the key.
        #expect {
            _ = try servers.provider(references: ["credentials": .env("GOOGLE_APPLICATION_CREDENTIALS")],
                                     environment: ["GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent/key.json"])
        } throws: { error in
            (error as? ProviderConfigurationError)?.key == "credentials" && "\(error)".contains("/nonexistent/key.json")
        }
        #expect {
            _ = try servers.provider(references: ["credentials": .env("MAIF_GCP_KEY_JSON")], environment: ["MAIF_GCP_KEY_JSON": #"{"type": "external_account"}"#])
        } throws: { error in
            (error as? ProviderConfigurationError)?.key == "credentials" && "\(error)".contains("external_account")
        }
        try servers.expectNoViolations()
    }

    @Test func withoutATokenTheFrontRefusesAndTheErrorNamesTheSource() async throws {
        let servers = try GCPServers.start()
        let gcp = try servers.provider(references: [:], environment: ["GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.not-issued-here", "HOME": NSTemporaryDirectory()])
        await #expect {
            try await anyCall(gcp, project: servers.project)
        } throws: { error in
            let text = "\(error)"
            return text.contains("HTTP 401") && text.contains("GOOGLE_OAUTH_ACCESS_TOKEN") && !text.contains("ya29.not-issued-here")
        }
        _ = try servers.violations()  // the 401s are the point of this test
    }
}
