/// Where the azure provider's credentials, subscription and endpoints come from, in the order Azure's own tools
/// resolve them (azure-identity's DefaultAzureCredential): what the stack names under `clouds.azure`, then the
/// `AZURE_*` environment variables of a service principal (client secret, then client certificate), then a managed
/// identity through the instance metadata endpoint.

import Foundation
import ProviderKit

/// How the provider gets its tokens.
enum AzureCredential: Sendable {
    case clientSecret(tenant: String, clientID: String, secret: String)
    /// A PEM holding the private key and the certificate registered with the application (what
    /// AZURE_CLIENT_CERTIFICATE_PATH names); tokens are asked for with a signed client assertion.
    case clientCertificate(tenant: String, clientID: String, certificate: ClientCertificate)
    /// The VM's (or a user-assigned) managed identity, through IMDS.
    case managedIdentity(clientID: String?, endpoint: String)
}

/// The resolved connection settings of one provider instance.
public struct AzureSettings: Sendable {
    var subscription: String?
    var endpoint: URL
    var authorityHost: URL
    /// The resource the tokens are for: `https://management.azure.com` unless a sovereign cloud says otherwise.
    var audience: String
    var credential: Result<AzureCredential, ProviderError>
    /// Where the credential came from, for errors ("client secret from clouds.azure.client_secret (environment variable …)").
    var credentialSource: String
    var caFile: String?
    var adminSSHPublicKey: String?
    var maxRetries: Int
    var operationTimeout: Double
    var operationsDirectory: String?
    var callTimeout: Double = 60

    static let publicCloudAuthority = "https://login.microsoftonline.com"
    static let publicCloudEndpoint = "https://management.azure.com"
    static let imdsHost = "http://169.254.169.254"

    static let schema = SettingsSchema([
        SettingSchema("subscription", .string, description: "the subscription id resources are created in; else AZURE_SUBSCRIPTION_ID"),
        SettingSchema("region", .string, description: "the default location, e.g. East US (resources carry their own `location`)"),
        SettingSchema("tenant", .string, description: "the Microsoft Entra tenant of the service principal; else AZURE_TENANT_ID"),
        SettingSchema("client_id", .string, description: "the service principal's application (client) id; else AZURE_CLIENT_ID"),
        SettingSchema("client_secret", .string, references: .required,
                      description: "the service principal's secret, by reference; else AZURE_CLIENT_SECRET"),
        SettingSchema("client_certificate_path", .path,
                      description: "a PEM with the private key and certificate of the service principal (a client assertion is signed with it); else AZURE_CLIENT_CERTIFICATE_PATH"),
        SettingSchema("use_managed_identity", .bool,
                      description: "use the managed identity of the machine maifctl runs on (IMDS), even when AZURE_CLIENT_* are set"),
        SettingSchema("managed_identity_client_id", .string, description: "a user-assigned managed identity's client id"),
        SettingSchema("endpoint", .string,
                      description: "the Azure Resource Manager endpoint (sovereign clouds, test servers); else ARM_ENDPOINT, else https://management.azure.com"),
        SettingSchema("authority_host", .string,
                      description: "the Microsoft Entra authority; else AZURE_AUTHORITY_HOST, else https://login.microsoftonline.com"),
        SettingSchema("audience", .string,
                      description: "the resource tokens are asked for; the endpoint for a management.* host, else https://management.azure.com"),
        SettingSchema("ca_file", .path, description: "extra CA certificates (PEM) to trust for HTTPS; else REQUESTS_CA_BUNDLE"),
        SettingSchema("admin_ssh_public_key", .string, references: .allowed,
                      description: "the SSH public key VMs get for their admin user (Azure needs one for a Linux VM without a password), e.g. {file: ~/.ssh/id_ed25519.pub}"),
        SettingSchema("max_retries", .int(0...20), default: .int(6),
                      description: "how often a throttled (429) or failed (5xx) call is tried again, honouring Retry-After"),
        SettingSchema("operation_timeout", .duration, default: .double(1800),
                      description: "how long one resource's long-running operations may take before apply gives up on it"),
        SettingSchema("operations_dir", .path, default: .string(".maif/azure-operations"),
                      description: "where the URL of each running ARM operation is kept, so an interrupted apply resumes it"),
    ])

    /// Reads what the stack names (references, the certificate file) now, throwing a `ProviderConfigurationError` at its
    /// key; what comes from the environment or the metadata endpoint is resolved as well but fails only when used.
    static func resolve(_ configuration: ProviderConfiguration) throws -> AzureSettings {
        let settings = configuration.settings
        let env = configuration.environment
        func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }
        func url(_ key: String, _ variable: String, _ fallback: String) throws -> URL {
            let text = nonEmpty(settings.string(key)) ?? nonEmpty(env[variable]) ?? fallback
            guard let u = URL(string: text.hasSuffix("/") ? String(text.dropLast()) : text), u.scheme != nil, u.host != nil else {
                throw ProviderConfigurationError(key: key, "clouds.azure.\(key) '\(text)' is not a URL", hint: "e.g. \(fallback)")
            }
            return u
        }
        let endpoint = try url("endpoint", "ARM_ENDPOINT", publicCloudEndpoint)
        let authority = try url("authority_host", "AZURE_AUTHORITY_HOST", publicCloudAuthority)
        let audience = nonEmpty(settings.string("audience"))
            ?? ((endpoint.host ?? "").hasPrefix("management.") ? endpoint.absoluteString : publicCloudEndpoint)
        let tenant = nonEmpty(settings.string("tenant")) ?? nonEmpty(env["AZURE_TENANT_ID"])
        let clientID = nonEmpty(settings.string("client_id")) ?? nonEmpty(env["AZURE_CLIENT_ID"])
        let sshKey = try configuration.secret("admin_ssh_public_key").flatMap(nonEmpty)

        var credential: Result<AzureCredential, ProviderError>
        var source: String
        func missing(_ what: String, _ source: String) -> Result<AzureCredential, ProviderError> {
            .failure(ProviderError(address: nil, call: "azure credentials", message: "\(source) is set but \(what) is not"))
        }
        func principal(_ make: (String, String) -> AzureCredential, source: String) -> Result<AzureCredential, ProviderError> {
            guard let tenant else { return missing("the tenant (clouds.azure.tenant or AZURE_TENANT_ID)", source) }
            guard let clientID else { return missing("the client id (clouds.azure.client_id or AZURE_CLIENT_ID)", source) }
            return .success(make(tenant, clientID))
        }
        let imds = nonEmpty(env["AZURE_POD_IDENTITY_AUTHORITY_HOST"]).map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? imdsHost
        let managed = { (id: String?) -> AzureCredential in .managedIdentity(clientID: id, endpoint: imds) }

        if let reference = settings.references["client_secret"] {
            let secret = try configuration.secret("client_secret")!
            source = "client secret from clouds.azure.client_secret (\(reference))"
            credential = principal({ .clientSecret(tenant: $0, clientID: $1, secret: secret) }, source: source)
        } else if let path = configuration.path("client_certificate_path") {
            let certificate: ClientCertificate
            do { certificate = try ClientCertificate(path: path) } catch let e as ClientCertificate.Problem {
                throw ProviderConfigurationError(key: "client_certificate_path", "clouds.azure.client_certificate_path: \(e.message)",
                                                 hint: "a PEM file with the private key (unencrypted) and the certificate, as AZURE_CLIENT_CERTIFICATE_PATH takes")
            }
            source = "client certificate \(path) (clouds.azure.client_certificate_path)"
            credential = principal({ .clientCertificate(tenant: $0, clientID: $1, certificate: certificate) }, source: source)
        } else if settings.bool("use_managed_identity") == true {
            let id = nonEmpty(settings.string("managed_identity_client_id"))
            source = "managed identity\(id.map { " \($0)" } ?? "") at \(imds) (clouds.azure.use_managed_identity)"
            credential = .success(managed(id))
        } else if let secret = nonEmpty(env["AZURE_CLIENT_SECRET"]) {
            source = "client secret from environment variable AZURE_CLIENT_SECRET"
            credential = principal({ .clientSecret(tenant: $0, clientID: $1, secret: secret) }, source: source)
        } else if let path = nonEmpty(env["AZURE_CLIENT_CERTIFICATE_PATH"]) {
            source = "client certificate \(path) (environment variable AZURE_CLIENT_CERTIFICATE_PATH)"
            if nonEmpty(env["AZURE_CLIENT_CERTIFICATE_PASSWORD"]) != nil {
                credential = .failure(ProviderError(address: nil, call: "azure credentials", message:
                    "\(source): password-protected certificates are not supported; give a PEM with an unencrypted key"))
            } else {
                do {
                    let certificate = try ClientCertificate(path: path)
                    credential = principal({ .clientCertificate(tenant: $0, clientID: $1, certificate: certificate) }, source: source)
                } catch let e as ClientCertificate.Problem {
                    credential = .failure(ProviderError(address: nil, call: "azure credentials", message: "\(source): \(e.message)"))
                }
            }
        } else {
            let id = nonEmpty(settings.string("managed_identity_client_id")) ?? clientID
            source = "managed identity\(id.map { " \($0)" } ?? "") at \(imds) (no clouds.azure.client_secret, AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH)"
            credential = .success(managed(id))
        }
        return AzureSettings(
            subscription: nonEmpty(settings.string("subscription")) ?? nonEmpty(env["AZURE_SUBSCRIPTION_ID"]),
            endpoint: endpoint, authorityHost: authority, audience: audience, credential: credential, credentialSource: source,
            caFile: configuration.path("ca_file") ?? nonEmpty(env["REQUESTS_CA_BUNDLE"]),
            adminSSHPublicKey: sshKey,
            maxRetries: settings.int("max_retries") ?? 6,
            operationTimeout: settings.seconds("operation_timeout") ?? 1800,
            operationsDirectory: configuration.path("operations_dir")
                ?? ProviderSettings.resolvePath(".maif/azure-operations", environment: env, workingDirectory: configuration.workingDirectory))
    }
}
