/// Where the credentials come from (the stack's references, then AZURE_* variables, then a managed identity), the
/// client assertion a certificate signs, and errors that name the credential's source and never hold a secret.

import Crypto
import _CryptoExtras
import Foundation
import ProviderKit
import Testing
@testable import AzureProvider

@Suite struct CredentialTests {
    func configuration(_ values: [String: AttributeValue] = [:], references: [String: SettingReference] = [:],
                       environment: [String: String] = [:]) -> ProviderConfiguration {
        ProviderConfiguration(stack: "s", settings: ProviderSettings(values: values, references: references, section: "clouds.azure"),
                              workingDirectory: "/tmp", environment: environment)
    }

    @Test func theStacksReferenceWinsOverTheEnvironment() throws {
        let s = try AzureSettings.resolve(configuration(["tenant": "t", "client_id": "c"], references: ["client_secret": .env("MY_SECRET")],
                                                        environment: ["MY_SECRET": "from-stack", "AZURE_CLIENT_SECRET": "from-env"]))
        guard case .success(.clientSecret(let tenant, let client, let secret)) = s.credential else { Issue.record("\(s.credential)"); return }
        #expect([tenant, client, secret] == ["t", "c", "from-stack"])
        #expect(s.credentialSource == "client secret from clouds.azure.client_secret (environment variable MY_SECRET)")
        #expect(!s.credentialSource.contains("from-stack"), "the source names where the secret is, never the secret")
    }

    @Test func aReferenceThatCannotBeReadFailsAtItsKey() {
        #expect {
            try AzureSettings.resolve(configuration(references: ["client_secret": .env("UNSET_VARIABLE")]))
        } throws: { ($0 as? ProviderConfigurationError)?.key == "client_secret" }
    }

    @Test func environmentThenManagedIdentity() throws {
        let env = try AzureSettings.resolve(configuration(environment: ["AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "x"]))
        #expect(env.credentialSource == "client secret from environment variable AZURE_CLIENT_SECRET")
        let noTenant = try AzureSettings.resolve(configuration(environment: ["AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "x"]))
        guard case .failure(let error) = noTenant.credential else { Issue.record("a principal without a tenant"); return }
        #expect(error.message.contains("tenant"))
        let managed = try AzureSettings.resolve(configuration(environment: ["AZURE_CLIENT_ID": "mi"]))
        guard case .success(.managedIdentity(let id, let endpoint)) = managed.credential else { Issue.record("\(managed.credential)"); return }
        #expect(id == "mi" && endpoint == "http://169.254.169.254")
        let pod = try AzureSettings.resolve(configuration(["use_managed_identity": true], environment: [
            "AZURE_POD_IDENTITY_AUTHORITY_HOST": "https://127.0.0.1:9/", "AZURE_CLIENT_SECRET": "x"]))
        guard case .success(.managedIdentity(nil, "https://127.0.0.1:9")) = pod.credential else { Issue.record("\(pod.credential)"); return }
    }

    @Test func endpointsAndAudience() throws {
        let public_ = try AzureSettings.resolve(configuration())
        #expect(public_.endpoint.absoluteString == "https://management.azure.com")
        #expect(public_.authorityHost.absoluteString == "https://login.microsoftonline.com")
        #expect(public_.audience == "https://management.azure.com")
        let gov = try AzureSettings.resolve(configuration(["endpoint": "https://management.usgovcloudapi.net/",
                                                           "authority_host": "https://login.microsoftonline.us"]))
        #expect(gov.audience == "https://management.usgovcloudapi.net", "a sovereign cloud's tokens are for its own ARM")
        let local = try AzureSettings.resolve(configuration(environment: ["ARM_ENDPOINT": "https://127.0.0.1:8443"]))
        #expect(local.endpoint.absoluteString == "https://127.0.0.1:8443")
        #expect(local.audience == "https://management.azure.com", "a test server takes the public cloud's audience")
        #expect(throws: ProviderConfigurationError.self) { try AzureSettings.resolve(configuration(["endpoint": "not a url"])) }
    }

    @Test func theClientAssertionIsSignedByTheCertificatesKey() throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let der: [UInt8] = Array("a certificate's DER bytes".utf8)
        let pem = key.pemRepresentation + "\n-----BEGIN CERTIFICATE-----\n" + Data(der).base64EncodedString() + "\n-----END CERTIFICATE-----\n"
        let certificate = try ClientCertificate(pem: pem, path: "test.pem")
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let jwt = try certificate.assertion(clientID: "client", audience: "https://login.example/t/oauth2/v2.0/token", now: now, id: "jti-1")
        let parts = jwt.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        let header = try JSONSerialization.jsonObject(with: Data(try #require(Base64URL.decode(parts[0])))) as? [String: Any]
        let claims = try JSONSerialization.jsonObject(with: Data(try #require(Base64URL.decode(parts[1])))) as? [String: Any]
        #expect(header?["alg"] as? String == "RS256")
        #expect(header?["x5t"] as? String == Base64URL.encode(Array(Insecure.SHA1.hash(data: der))), "x5t is the SHA-1 thumbprint")
        #expect(claims?["aud"] as? String == "https://login.example/t/oauth2/v2.0/token")
        #expect(claims?["iss"] as? String == "client" && claims?["sub"] as? String == "client")
        #expect(claims?["exp"] as? Int == 1_700_000_600 && claims?["nbf"] as? Int == 1_700_000_000 && claims?["jti"] as? String == "jti-1")
        let signature = _RSA.Signing.RSASignature(rawRepresentation: try #require(Base64URL.decode(parts[2])))
        #expect(key.publicKey.isValidSignature(signature, for: Array((parts[0] + "." + parts[1]).utf8), padding: .insecurePKCS1v1_5))
    }

    @Test func aCertificateFileWithoutKeyOrCertificateIsRefused() throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        #expect(throws: ClientCertificate.Problem.self) { try ClientCertificate(pem: key.pemRepresentation, path: "k.pem") }
        #expect(throws: ClientCertificate.Problem.self) {
            try ClientCertificate(pem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", path: "c.pem")
        }
        #expect(throws: ProviderConfigurationError.self) {
            try AzureSettings.resolve(configuration(["client_certificate_path": "/nonexistent/client.pem"]))
        }
    }

    @Test func tokenErrorsKeepAADsWordsAndNameTheSource() {
        let body = #"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Trace ID: 1 Correlation ID: 2\r\nTimestamp: x","error_codes":[7000215]}"#
        let text = TokenSource.describe(HTTPExchange(status: 401, headers: [], body: Array(body.utf8)), source: "client secret from X")
        #expect(text == "invalid_client: AADSTS7000215: Invalid client secret provided. (credential: client secret from X)")
    }
}
