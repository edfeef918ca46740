/// Where the aws provider's credentials, region and endpoint come from: the stack's `clouds.aws` settings,
/// then the environment, then the shared `~/.aws/credentials` and `~/.aws/config` files.

import Foundation
import ProviderKit

/// The resolved connection settings of one provider instance.
public struct AWSSettings: Sendable {
    public var region: String
    /// An endpoint override (moto, LocalStack, a VPC endpoint) used for every service; nil means AWS's own.
    public var endpoint: URL?
    public var credentials: Result<AWSCredentials, ProviderError>

    public init(region: String, endpoint: URL?, credentials: Result<AWSCredentials, ProviderError>) {
        self.region = region
        self.endpoint = endpoint
        self.credentials = credentials
    }

    /// Settings keys: `region`, `endpoint`, `profile`, and `access_key_id` / `secret_access_key` / `session_token` as
    /// references (the stack's `clouds.aws` credential references).
    public static func resolve(settings: ProviderSettings, environment: [String: String]) -> AWSSettings {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let profile = settings.string("profile") ?? environment["AWS_PROFILE"] ?? "default"
        let configFile = environment["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config"
        let config = IniFile.read(configFile)
        let configSection = config?[profile == "default" ? "default" : "profile \(profile)"]
        let region = settings.string("region") ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"]
            ?? configSection?["region"] ?? "us-east-1"
        let endpoint = (settings.string("endpoint") ?? environment["AWS_ENDPOINT_URL"]).flatMap(URL.init(string:))
        let credentials: Result<AWSCredentials, ProviderError>
        do {
            credentials = try referenced(settings, environment: environment)
                ?? self.credentials(profile: profile, explicitProfile: settings.isSet("profile"), environment: environment, home: home,
                                    config: config, configFile: configFile)
        } catch let error as ProviderConfigurationError {
            credentials = .failure(ProviderError(address: nil, call: "aws credentials", message: error.message))
        } catch {
            credentials = .failure(ProviderError(address: nil, call: "aws credentials", message: "\(error)"))
        }
        return AWSSettings(region: region, endpoint: endpoint, credentials: credentials)
    }

    /// Keys the stack names by reference (`clouds.aws.access_key_id: {env: NAME}` or `{file: PATH}`): they win over
    /// profiles and the plain environment, since the stack asked for them. nil when the stack names none; throws,
    /// naming the key, when a reference cannot be read. A session token whose variable is unset is left out.
    static func referenced(_ settings: ProviderSettings, environment: [String: String]) throws -> Result<AWSCredentials, ProviderError>? {
        guard let idRef = settings.references["access_key_id"] else { return nil }
        guard settings.references["secret_access_key"] != nil else {
            throw ProviderConfigurationError(key: "access_key_id", "clouds.aws.access_key_id is set but clouds.aws.secret_access_key is not",
                                             hint: "add secret_access_key: {env: AWS_SECRET_ACCESS_KEY}")
        }
        let cwd = FileManager.default.currentDirectoryPath
        let id = try settings.secret("access_key_id", environment: environment, workingDirectory: cwd)!
        let secret = try settings.secret("secret_access_key", environment: environment, workingDirectory: cwd)!
        let token = try? settings.secret("session_token", environment: environment, workingDirectory: cwd)
        return .success(AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token ?? nil,
                                       source: "clouds.aws.access_key_id (\(idRef))"))
    }

    static func credentials(profile: String, explicitProfile: Bool, environment: [String: String], home: String,
                            config: [String: [String: String]]?, configFile: String) -> Result<AWSCredentials, ProviderError> {
        // A profile named in the stack wins over keys in the environment, as with the AWS CLI's --profile.
        if !explicitProfile, let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty {
            guard let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
                return .failure(ProviderError(address: nil, call: "aws credentials",
                                              message: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"))
            }
            return .success(AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"],
                                           source: "environment (AWS_ACCESS_KEY_ID)"))
        }
        let credentialsFile = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials"
        let candidates: [(String, [String: String]?)] = [
            (credentialsFile, IniFile.read(credentialsFile)?[profile]),
            (configFile, config?[profile == "default" ? "default" : "profile \(profile)"]),
        ]
        for (file, section) in candidates {
            guard let section, let id = section["aws_access_key_id"] else { continue }
            guard let secret = section["aws_secret_access_key"] else {
                return .failure(ProviderError(address: nil, call: "aws credentials",
                                              message: "profile '\(profile)' in \(file) has aws_access_key_id but no aws_secret_access_key"))
            }
            return .success(AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: section["aws_session_token"],
                                           source: "profile '\(profile)' in \(file)"))
        }
        return .failure(ProviderError(address: nil, call: "aws credentials", message:
            "no credentials: AWS_ACCESS_KEY_ID is not set and profile '\(profile)' has no keys in \(credentialsFile) or \(configFile)"))
    }
}

/// The INI dialect of the AWS shared files: `[section]`, `key = value`, `#`/`;` comments.
enum IniFile {
    static func read(_ path: String) -> [String: [String: String]]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return parse(text)
    }

    static func parse(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                sections[current!, default: [:]] = sections[current!] ?? [:]
            } else if let current, let eq = line.firstIndex(of: "=") {
                let key = line[..<eq].trimmingCharacters(in: .whitespaces)
                let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                sections[current]?[key] = value
            }
        }
        return sections
    }
}
