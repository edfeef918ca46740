/// The gcp provider's parts that need no server: the attribute ↔ API mapping, owner marks, the state and plan forms,
/// credentials and settings resolution, the signed JWT, retries by reason and error parsing.

import _CryptoExtras
import Crypto
import Foundation
import ProviderKit
import Testing
@testable import GCPProvider

@Suite struct APIFormTests {
    @Test func namesMapBothWays() {
        for (snake, api) in [("ip_cidr_range", "ipCidrRange"), ("ip_protocol", "IPProtocol"), ("ip_address", "IPAddress"), ("network_ip", "networkIP"),
                             ("self_link", "selfLink"), ("disk_size_gb", "diskSizeGb"), ("cool_down_period_sec", "coolDownPeriodSec"),
                             ("https_health_check", "httpsHealthCheck"), ("gateway_ipv4", "gatewayIPv4"), ("default_kms_key_name", "defaultKmsKeyName")] {
            #expect(APIForm.apiName(snake) == api)
            #expect(APIForm.snakeName(api) == snake)
        }
    }

    @Test func int64FieldsTravelAsStringsAndLabelsKeepTheirKeys() {
        let body = APIForm.body(["size_gb": 100, "labels": .map(["maif-stack": "p", "team_a": "x"]),
                                 "disks": .list([.map(["initialize_params": .map(["disk_size_gb": 20])])]), "ttl": 60], ["size_gb", "labels", "disks", "ttl"])
        #expect(body["sizeGb"] == "100")
        #expect(body["labels"] == .map(["maif-stack": "p", "team_a": "x"]))
        #expect(body["disks"] == .list([.map(["initializeParams": .map(["diskSizeGb": "20"])])]))
        #expect(body["ttl"] == 60, "int32 fields stay numbers")
        let back = APIForm.attributes(["sizeGb": "100", "userLabels": .map(["maif-stack": "p"]), "retentionPolicy": .map(["retentionPeriod": "86400"])])
        #expect(back["size_gb"] == .int(100))
        #expect(back["user_labels"] == .map(["maif-stack": "p"]))
        #expect(back["retention_policy"] == .map(["retention_period": .int(86_400)]))
    }

    @Test func computeReferencesInOneForm() {
        let full = "https://www.googleapis.com/compute/v1/projects/p/global/networks/n"
        #expect(ComputeURL.full("global/networks/n", project: "p") == full)
        #expect(ComputeURL.full("projects/p/global/networks/n", project: "q") == full)
        #expect(ComputeURL.full("https://compute.googleapis.com/compute/v1/projects/p/global/networks/n", project: "q") == full)
        #expect(ComputeURL.name(full) == "n")
        #expect(ComputeURL.scope("https://x/compute/v1/projects/p/zones/us-central1-a/instances/i") == "zones/us-central1-a")
    }
}

@Suite struct StateFormTests {
    @Test func gcpDefaultsAreNotDriftButChangesAre() {
        let config: [String: AttributeValue] = [
            "name": "hc", "https_health_check": .map(["port": 8080, "request_path": "/health"]),
            "backends": .list([.map(["group": "g", "balancing_mode": "CONNECTION"])]),
            "labels": .map(["a": "1"]), "source_ranges": .list(["10.0.0.0/8", "10.1.0.0/16"]),
        ]
        let read = ResourceState(id: "x", attributes: [
            "name": "hc", "https_health_check": .map(["port": 8080, "request_path": "/health", "proxy_header": "NONE"]),
            "backends": .list([.map(["group": "g", "balancing_mode": "CONNECTION", "capacity_scaler": 1])]),
            "labels": .map(["a": "1"]), "source_ranges": .list(["10.1.0.0/16", "10.0.0.0/8"]), "kind": "compute#healthCheck",
            "id": "123", "self_link": "https://…",
        ])
        let recorded = StateForm.recorded(read, config, "gcp.health_check")
        #expect(recorded.attributes["https_health_check"] == config["https_health_check"])
        #expect(recorded.attributes["kind"] == nil)
        #expect(StateForm.recorded(read, config, "gcp.backend_service").attributes["backends"] == config["backends"])
        #expect(StateForm.recorded(read, config, "gcp.firewall").attributes["source_ranges"] == config["source_ranges"], "a set, in the stack's order")
        // A label added by hand is drift: labels compare whole.
        var handLabelled = read
        handLabelled.attributes["labels"] = .map(["a": "1", "b": "2"])
        #expect(StateForm.managed(handLabelled, prior: recorded.attributes, type: "gcp.health_check").attributes["labels"] == .map(["a": "1", "b": "2"]))
        var changed = read
        changed.attributes["https_health_check"] = .map(["port": 8443, "request_path": "/health"])
        #expect(StateForm.managed(changed, prior: recorded.attributes, type: "gcp.health_check").attributes["https_health_check"]?.mapValue?["port"] == 8443)
    }

    @Test func planFormReadsAsTheAPIAnswers() {
        let planned = PlanForm.desired("instance", [
            "machine_type": "zones/us-central1-a/machineTypes/e2-small",
            "network_interfaces": .list([.map(["network": "global/networks/n", "subnetwork": "${gcp.subnetwork.s.self_link}"])]),
            "disks": .list([.map(["initialize_params": .map(["disk_type": "zones/us-central1-a/diskTypes/pd-ssd"])])]),
            "metadata": .map(["network": "not a reference"]),
        ], project: "p")
        #expect(planned["machine_type"] == "e2-small")
        #expect(planned["network_interfaces"] == .list([.map(["network": "https://www.googleapis.com/compute/v1/projects/p/global/networks/n",
                                                               "subnetwork": "${gcp.subnetwork.s.self_link}"])]))
        #expect(planned["disks"] == .list([.map(["initialize_params": .map(["disk_type": "pd-ssd"])])]))
        #expect(planned["metadata"] == .map(["network": "not a reference"]))
        #expect(PlanForm.desired("bucket", ["location": "asia-southeast1"], project: nil)["location"] == "ASIA-SOUTHEAST1")
        #expect(PlanForm.desired("dns_record_set", ["name": "a.example.com"], project: nil)["name"] == "a.example.com.")
    }
}

@Suite struct OwnerTests {
    func context(_ type: String, _ name: String) -> ResourceContext {
        let parts = type.split(separator: ".")
        return ResourceContext(stack: "multi-cloud", address: ResourceAddress(provider: String(parts[0]), kind: String(parts[1]), name: name))
    }

    @Test func labelsWhereTheTypeHasThemDescriptionsElsewhere() {
        let instance = Owner.mark(["labels": .map(["team": "x"])], context("gcp.instance", "maif-gcp.gcp-node-1"))
        #expect(instance["labels"] == .map(["team": "x", "maif-stack": "multi-cloud", "maif-address": "gcp_instance_maif-gcp_gcp-node-1"]))
        let mig = Owner.mark([:], context("gcp.instance_group_manager", "c"))
        #expect(mig["description"] == "Managed by maifctl: maif:stack=multi-cloud maif:address=gcp.instance_group_manager.c")
        let kept = Owner.mark(["description": "the MAIF port"], context("gcp.firewall", "c.maif"))
        #expect(kept["description"] == "the MAIF port (Managed by maifctl: maif:stack=multi-cloud maif:address=gcp.firewall.c.maif)")
        #expect(Owner.mark(["labels": .map([:])], context("gcp.instance_template", "c"))["labels"] == .map([:]), "a template's labels are its instances'")
        #expect(Owner.mark(["user_labels": .map([:])], context("gcp.alert_policy", "c.x"))["user_labels"]?.mapValue?["maif-stack"] == "multi-cloud")
        #expect(Owner.mark(["name": "a."], context("gcp.dns_record_set", "z")) == ["name": "a."], "record sets carry no owner")
    }

    @Test func ownershipIsExactNotAPrefix() {
        let c = context("gcp.firewall", "c.maif")
        #expect(Owner.owns(["description": "Managed by maifctl: maif:stack=multi-cloud maif:address=gcp.firewall.c.maif"], c))
        #expect(!Owner.owns(["description": "Managed by maifctl: maif:stack=multi-cloud maif:address=gcp.firewall.c.maif2"], c))
        #expect(!Owner.owns(["description": "Managed by maifctl: maif:stack=other maif:address=gcp.firewall.c.maif"], c))
        #expect(Owner.labelValue("gcp.instance.Maif.Node:1") == "gcp_instance_maif_node-1")
        #expect(Owner.labelValue(String(repeating: "a.", count: 40)).count == 63)
    }
}

@Suite struct CredentialTests {
    func keyJSON(_ pem: String, tokenURI: String = "https://oauth2.googleapis.com/token") -> String {
        let object: [String: Any] = ["type": "service_account", "project_id": "keyproj", "private_key_id": "kid1", "private_key": pem,
                                     "client_email": "sa@keyproj.iam.gserviceaccount.com", "token_uri": tokenURI]
        return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test func theJWTIsSignedRS256WithGooglesClaims() throws {
        let privateKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let key = ServiceAccountKey(clientEmail: "sa@p.iam.gserviceaccount.com", privateKeyID: "kid1", privateKeyPEM: privateKey.pemRepresentation,
                                    tokenURI: "http://127.0.0.1:1/token", projectID: "p")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let jwt = try JWT.assertion(key: key, audience: key.tokenURI, scope: GCPCredentialSource.scope, now: now)
        let parts = jwt.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        func decode(_ s: String) -> Data {
            var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while t.count % 4 != 0 { t += "=" }
            return Data(base64Encoded: t)!
        }
        let header = try JSONSerialization.jsonObject(with: decode(parts[0])) as! [String: Any]
        let claims = try JSONSerialization.jsonObject(with: decode(parts[1])) as! [String: Any]
        #expect(header["alg"] as? String == "RS256" && header["kid"] as? String == "kid1")
        #expect(claims["iss"] as? String == "sa@p.iam.gserviceaccount.com")
        #expect(claims["aud"] as? String == "http://127.0.0.1:1/token")
        #expect(claims["scope"] as? String == "https://www.googleapis.com/auth/cloud-platform")
        #expect(claims["iat"] as? Int == 1_800_000_000 && claims["exp"] as? Int == 1_800_003_600)
        let signature = _RSA.Signing.RSASignature(rawRepresentation: decode(parts[2]))
        #expect(privateKey.publicKey.isValidSignature(signature, for: Data((parts[0] + "." + parts[1]).utf8), padding: .insecurePKCS1v1_5))
    }

    @Test func sourcesInGooglesOrderAfterTheStacksReference() throws {
        let pem = try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation
        let dir = NSTemporaryDirectory() + "gcp-creds-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/.config/gcloud", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try keyJSON(pem).write(toFile: dir + "/sa.json", atomically: true, encoding: .utf8)
        try #"{"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r", "quota_project_id": "adc"}"#
            .write(toFile: dir + "/.config/gcloud/application_default_credentials.json", atomically: true, encoding: .utf8)

        func resolve(_ references: [String: SettingReference] = [:], _ env: [String: String]) throws -> GCPSettings {
            try GCPSettings.resolve(ProviderSettings(values: [:], references: references, section: "clouds.gcp"),
                                    environment: env.merging(["HOME": dir]) { a, _ in a }, workingDirectory: dir)
        }
        // The stack's reference first, even with everything else set; a relative path is the working directory's.
        let fromStack = try resolve(["credentials": .env("KEYPATH")], ["KEYPATH": "sa.json", "GOOGLE_OAUTH_ACCESS_TOKEN": "t"])
        guard case .success(.serviceAccount(let k, let origin)) = fromStack.credentials else { Issue.record("\(fromStack.credentials)"); return }
        #expect(k.clientEmail == "sa@keyproj.iam.gserviceaccount.com" && origin.contains("clouds.gcp.credentials (environment variable KEYPATH)"))
        #expect(fromStack.project == "keyproj", "the key's project when the stack names none")
        // Then a ready token, then GOOGLE_APPLICATION_CREDENTIALS, then gcloud's file, then the metadata server.
        if case .success(.accessToken) = try resolve([:], ["GOOGLE_OAUTH_ACCESS_TOKEN": "t", "GOOGLE_APPLICATION_CREDENTIALS": dir + "/sa.json"]).credentials {} else { Issue.record("token") }
        if case .success(.serviceAccount) = try resolve([:], ["GOOGLE_APPLICATION_CREDENTIALS": dir + "/sa.json"]).credentials {} else { Issue.record("ADC variable") }
        let wellKnown = try resolve([:], [:])
        if case .success(.authorizedUser) = wellKnown.credentials {} else { Issue.record("well-known file: \(wellKnown.credentials)") }
        #expect(wellKnown.project == "adc")
        try FileManager.default.removeItem(atPath: dir + "/.config/gcloud/application_default_credentials.json")
        let metadata = try resolve([:], ["GCE_METADATA_HOST": "127.0.0.1:9"])
        if case .success(.metadataServer(let host)) = metadata.credentials { #expect(host == "127.0.0.1:9") } else { Issue.record("metadata") }
        // A reference to a file that is not a key fails at once, naming the key, and never shows the file's text.
        try "secret-looking junk".write(toFile: dir + "/junk.json", atomically: true, encoding: .utf8)
        #expect { _ = try resolve(["credentials": .file(dir + "/junk.json")], [:]) } throws: { error in
            (error as? ProviderConfigurationError)?.key == "credentials" && !"\(error)".contains("secret-looking")
        }
    }

    @Test func endpointAndTokenOverridesFromSettingsOrEnvironment() throws {
        let fromEnv = try GCPSettings.resolve(ProviderSettings(values: ["project": "p"], section: "clouds.gcp"),
                                              environment: ["MAIFCTL_GCP_ENDPOINT": "http://127.0.0.1:5/", "MAIFCTL_GCP_TOKEN_URI": "http://127.0.0.1:6/token",
                                                            "GOOGLE_OAUTH_ACCESS_TOKEN": "t"], workingDirectory: "/")
        #expect(fromEnv.endpoint?.absoluteString == "http://127.0.0.1:5/" && fromEnv.tokenURI == "http://127.0.0.1:6/token")
        let client = GCPClient(settings: fromEnv)
        #expect(client.root(.compute) == "http://127.0.0.1:5/compute/v1/")
        #expect(client.root(.monitoring) == "http://127.0.0.1:5/v3/")
        let google = GCPClient(settings: GCPSettings(project: "p", credentials: .success(.accessToken("t", origin: "x"))))
        #expect(google.root(.storage) == "https://storage.googleapis.com/storage/v1/")
        #expect(google.root(.dns) == "https://dns.googleapis.com/dns/v1/")
    }
}

@Suite struct RetryAndErrorTests {
    @Test func retriesAreByStructuredReason() {
        #expect(GCPRetryPolicy.isRetryable(status: 429, reason: "rateLimitExceeded"))
        #expect(GCPRetryPolicy.isRetryable(status: 403, reason: "userRateLimitExceeded"), "Google answers some rate limits with 403")
        #expect(GCPRetryPolicy.isRetryable(status: 400, reason: "resourceNotReady"))
        #expect(GCPRetryPolicy.isRetryable(status: 503, reason: ""))
        for reason in ["alreadyExists", "conditionNotMet", "invalid", "resourceInUseByAnotherResource", "notFound"] {
            #expect(!GCPRetryPolicy.isRetryable(status: reason == "alreadyExists" ? 409 : 400, reason: reason), "\(reason)")
        }
        #expect(!GCPRetryPolicy.isRetryable(status: 403, reason: "forbidden"))
        let delays = (0..<8).map { GCPRetryPolicy().delay(afterAttempt: $0) }
        #expect(delays.allSatisfy { $0 > 0 && $0 <= 8 })
    }

    @Test func googlesErrorShapeBecomesCodeReasonAndMessage() {
        let body = #"{"error": {"code": 409, "message": "The resource 'projects/p/global/networks/n' already exists", "status": "ALREADY_EXISTS", "errors": [{"reason": "alreadyExists", "domain": "global", "message": "…"}]}}"#
        let error = GCPError.parse(call: "compute.networks.insert", status: 409, body: Array(body.utf8))
        #expect(error.reason == "alreadyExists" && error.isAlreadyExists)
        #expect(error.providerError.description == "compute.networks.insert failed: HTTP 409 alreadyExists: The resource 'projects/p/global/networks/n' already exists")
        let monitoring = GCPError.parse(call: "m", status: 400, body: Array(#"{"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT", "details": [{"reason": "FIELD_INVALID"}]}}"#.utf8))
        #expect(monitoring.reason == "FIELD_INVALID")
        let raw = GCPError.parse(call: "m", status: 502, body: Array("<html>proxy</html>".utf8))
        #expect(raw.detail == "HTTP 502 Bad Gateway", "a body that is not Google's is never shown")
        var auth = GCPError.parse(call: "m", status: 401, body: [])
        auth.credentialSource = "service account a@b from x"
        #expect(auth.detail.contains("(credentials: service account a@b from x)"))
    }
}

@Suite struct WebhookByReferenceTests {
    func provider(_ environment: [String: String]) -> GCPProvider {
        GCPProvider(client: GCPClient(settings: GCPSettings(project: "p", credentials: .success(.accessToken("t", origin: "x")))),
                    stack: "s", environment: environment)
    }

    func request() -> PlanRequest {
        PlanRequest(context: ResourceContext(stack: "s", address: ResourceAddress(provider: "gcp", kind: "notification_channel", name: "oncall.webhook-1")),
                    prior: nil, desired: ["type": "webhook_tokenauth", "url_from": "env:MAIF_TEST_WEBHOOK"])
    }

    /// A webhook channel whose URL the stack names by reference fails at plan when the reference is empty, before
    /// anything is created, without saying more than the reference.
    @Test func anUnreadableReferenceFailsThePlan() async throws {
        await #expect(throws: ProviderError.self) { _ = try await provider([:]).plan(request()) }
        let planned = try await provider(["MAIF_TEST_WEBHOOK": "https://hooks.example.com/secret"]).plan(request())
        #expect(planned.planned["url_from"] == "env:MAIF_TEST_WEBHOOK")
        #expect(!planned.planned.values.contains { $0.canonicalJSON(indent: nil).contains("hooks.example.com") }, "the URL is not planned")
    }
}
