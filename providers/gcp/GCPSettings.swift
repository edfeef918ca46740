/// The gcp provider's settings (`clouds.gcp`), and where each one comes from when the stack does not say.

import Foundation
import ProviderKit

public struct GCPSettings: Sendable {
    /// The project resources go to when they do not name one; nil until a credential or the metadata server says.
    public var project: String?
    public var region: String?
    /// A root URL replacing Google's API hosts (local test servers, a Private Service Connect endpoint).
    public var endpoint: URL?
    /// Overrides the token endpoint of every credential (a key's `token_uri`, Google's for authorized_user files).
    public var tokenURI: String?
    /// `host[:port]` of the metadata server.
    public var metadataHost: String
    /// How long one resource's long-running operations may take before apply gives up; nil: each type's default.
    public var operationTimeout: Double?
    /// How long one HTTP call may take.
    public var requestTimeout: Double
    public var credentials: Result<GCPCredentialSource, ProviderError>

    public init(project: String?, region: String? = nil, endpoint: URL? = nil, tokenURI: String? = nil,
                metadataHost: String = GCPSettings.defaultMetadataHost, operationTimeout: Double? = nil, requestTimeout: Double = 30,
                credentials: Result<GCPCredentialSource, ProviderError>) {
        self.project = project
        self.region = region
        self.endpoint = endpoint
        self.tokenURI = tokenURI
        self.metadataHost = metadataHost
        self.operationTimeout = operationTimeout
        self.requestTimeout = requestTimeout
        self.credentials = credentials
    }

    public static let defaultMetadataHost = "metadata.google.internal"

    public static let schema = SettingsSchema([
        SettingSchema("project", .string, description: "the project resources are created in; else the key's project_id, GOOGLE_CLOUD_PROJECT, CLOUDSDK_CORE_PROJECT, the metadata server"),
        SettingSchema("region", .string, description: "the default region for regional resources"),
        SettingSchema("credentials", .string, references: .required,
                      description: "a service-account or authorized_user JSON key by reference: {file: PATH}, or {env: NAME} holding the JSON or its path; else GOOGLE_OAUTH_ACCESS_TOKEN, GOOGLE_APPLICATION_CREDENTIALS, gcloud's application-default credentials, the metadata server"),
        SettingSchema("endpoint", .string, description: "a root URL replacing Google's API hosts (compute/v1/, storage/v1/, dns/v1/, v3/ below it); else MAIFCTL_GCP_ENDPOINT"),
        SettingSchema("token_uri", .string, description: "the OAuth 2.0 token endpoint for every credential (a key's token_uri, Google's for authorized_user); else MAIFCTL_GCP_TOKEN_URI"),
        SettingSchema("metadata_host", .string, description: "host[:port] of the metadata server; else GCE_METADATA_HOST, then metadata.google.internal"),
        SettingSchema("operation_timeout", .duration, description: "how long one resource's long-running operations may take (default per type: 10m for instances and groups, 5m otherwise)"),
        SettingSchema("request_timeout", .duration, default: .double(30), description: "how long one API call may take"),
        SettingSchema("backup_kms_key", .string, description: "a Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) as the default key of the gcs backup buckets; else Google-managed keys"),
    ])

    /// The settings from `clouds.gcp` and the environment. A credential the stack names by reference is read now and
    /// throws (naming the key) when it cannot be; implicit sources that fail are kept as the error of the first call.
    public static func resolve(_ settings: ProviderSettings, environment: [String: String], workingDirectory: String) throws -> GCPSettings {
        let section = settings.section.isEmpty ? "clouds.gcp" : settings.section
        var credentials: Result<GCPCredentialSource, ProviderError>
        if let reference = settings.references["credentials"] {
            guard let text = try settings.secret("credentials", environment: environment, workingDirectory: workingDirectory) else {
                throw ProviderConfigurationError(key: "credentials", "\(section).credentials is empty")
            }
            do {
                let origin = "\(section).credentials (\(reference))"
                if case .file = reference {
                    // A file holds the key itself; only a variable may hold a path (GOOGLE_APPLICATION_CREDENTIALS does).
                    credentials = .success(try GCPCredentialSource.parse(json: text, origin: origin))
                } else {
                    credentials = .success(try GCPCredentialSource.parse(jsonOrPath: text, origin: origin,
                                                                         workingDirectory: workingDirectory, environment: environment))
                }
            } catch let error as CredentialError {
                throw ProviderConfigurationError(key: "credentials", error.description,
                                                 hint: "a service-account key (gcloud iam service-accounts keys create) or gcloud's application_default_credentials.json")
            }
        } else {
            credentials = implicitCredentials(environment: environment, workingDirectory: workingDirectory,
                                              metadataHost: metadataHost(settings, environment))
        }
        let project = settings.string("project") ?? (try? credentials.get())?.projectID
            ?? environment["GOOGLE_CLOUD_PROJECT"] ?? environment["CLOUDSDK_CORE_PROJECT"]
        let endpoint = (settings.string("endpoint") ?? environment["MAIFCTL_GCP_ENDPOINT"]).flatMap { $0.isEmpty ? nil : URL(string: $0) }
        return GCPSettings(project: project, region: settings.string("region"), endpoint: endpoint,
                           tokenURI: settings.string("token_uri") ?? environment["MAIFCTL_GCP_TOKEN_URI"].flatMap { $0.isEmpty ? nil : $0 },
                           metadataHost: metadataHost(settings, environment), operationTimeout: settings.seconds("operation_timeout"),
                           requestTimeout: settings.seconds("request_timeout") ?? 30, credentials: credentials)
    }

    static func metadataHost(_ settings: ProviderSettings, _ environment: [String: String]) -> String {
        settings.string("metadata_host") ?? environment["GCE_METADATA_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultMetadataHost
    }

    /// Google's Application Default Credentials order, after the stack's own reference.
    static func implicitCredentials(environment: [String: String], workingDirectory: String, metadataHost: String)
        -> Result<GCPCredentialSource, ProviderError> {
        func failure(_ message: String) -> Result<GCPCredentialSource, ProviderError> {
            .failure(ProviderError(address: nil, call: "gcp credentials", message: message))
        }
        if let token = environment["GOOGLE_OAUTH_ACCESS_TOKEN"], !token.isEmpty {
            return .success(.accessToken(token, origin: "environment variable GOOGLE_OAUTH_ACCESS_TOKEN"))
        }
        if let value = environment["GOOGLE_APPLICATION_CREDENTIALS"], !value.isEmpty {
            do {
                return .success(try GCPCredentialSource.parse(jsonOrPath: value, origin: "environment variable GOOGLE_APPLICATION_CREDENTIALS",
                                                              workingDirectory: workingDirectory, environment: environment))
            } catch { return failure("\(error)") }
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let configDirectory = environment["CLOUDSDK_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.config/gcloud"
        let wellKnown = "\(configDirectory)/application_default_credentials.json"
        if let text = try? String(contentsOfFile: wellKnown, encoding: .utf8) {
            do { return .success(try GCPCredentialSource.parse(json: text, origin: "gcloud's application-default credentials \(wellKnown)")) }
            catch { return failure("\(error)") }
        }
        return .success(.metadataServer(host: metadataHost))
    }
}
