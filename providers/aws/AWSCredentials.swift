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
    /// references `env:NAME` or `file:PATH` (the stack's `clouds.aws` credential references).
    public static func resolve(settings: [String: AttributeValue], environment: [String: String]) -> AWSSettings {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let profile = settings["profile"]?.stringValue ?? environment["AWS_PROFILE"] ?? "default"
        let configFile = environment["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config"
        let config = IniFile.read(configFile)
        let configSection = config?[profile == "default" ? "default" : "profile \(profile)"]
        let region = settings["region"]?.stringValue ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"]
            ?? configSection?["region"] ?? "us-east-1"
        let endpoint = (settings["endpoint"]?.stringValue ?? environment["AWS_ENDPOINT_URL"]).flatMap(URL.init(string:))
        return AWSSettings(region: region, endpoint: endpoint,
                           credentials: referenced(settings, environment: environment) ?? credentials(profile: profile, explicitProfile: settings["profile"] != nil,
                                                    environment: environment, home: home, config: config, configFile: configFile))
    }

    /// Keys the stack names by reference (`clouds.aws.access_key_id: {env: NAME}` or `{file: PATH}`): they win over
    /// profiles and the plain environment, since the stack asked for them. nil when the stack names none.
    static func referenced(_ settings: [String: AttributeValue], environment: [String: String]) -> Result<AWSCredentials, ProviderError>? {
        guard let idRef = settings["access_key_id"]?.stringValue else { return nil }
        func fail(_ message: String) -> Result<AWSCredentials, ProviderError> {
            .failure(ProviderError(address: nil, call: "aws credentials", message: message))
        }
        func value(_ key: String, _ reference: String) -> Result<String, ProviderError> {
            if reference.hasPrefix("env:") {
                let name = String(reference.dropFirst(4))
                guard let v = environment[name], !v.isEmpty else {
                    return .failure(ProviderError(address: nil, call: "aws credentials",
                                                  message: "clouds.aws.\(key) names environment variable \(name), which is not set"))
                }
                return .success(v)
            }
            let path = String(reference.dropFirst(reference.hasPrefix("file:") ? 5 : 0))
            let home = environment["HOME"] ?? NSHomeDirectory()
            let expanded = path.hasPrefix("~/") ? home + path.dropFirst() : path
            guard let text = try? String(contentsOfFile: expanded, encoding: .utf8) else {
                return .failure(ProviderError(address: nil, call: "aws credentials", message: "clouds.aws.\(key) names file \(path), which cannot be read"))
            }
            return .success(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard let secretRef = settings["secret_access_key"]?.stringValue else {
            return fail("clouds.aws.access_key_id is set but clouds.aws.secret_access_key is not")
        }
        let id: String, secret: String
        switch value("access_key_id", idRef) { case .success(let v): id = v; case .failure(let e): return .failure(e) }
        switch value("secret_access_key", secretRef) { case .success(let v): secret = v; case .failure(let e): return .failure(e) }
        var token: String?
        if let tokenRef = settings["session_token"]?.stringValue, case .success(let v) = value("session_token", tokenRef) { token = v }
        return .success(AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token,
                                       source: "clouds.aws.access_key_id (\(idRef.replacingOccurrences(of: "env:", with: "environment variable ").replacingOccurrences(of: "file:", with: "file ")))"))
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
