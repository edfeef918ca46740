/// The swarm provider's parts that need no daemon: versioned names, what read reports of a live spec, error
/// messages, where the daemon is found, and the verdict on a service's tasks.

import Foundation
import ProviderKit
@testable import SwarmProvider
import XCTest

final class VersionedNameTests: XCTestCase {
    func testAConfigsNameCarriesADigestOfItsData() {
        let name = VersionedNames.config(base: "maif-config", data: "cluster: {name: a}\n")
        XCTAssertEqual(name, "maif-config-" + Digest.sha256("cluster: {name: a}\n").prefix(12))
        XCTAssertEqual(VersionedNames.config(base: "maif-config", data: "cluster: {name: a}\n"), name, "same data, same name")
        XCTAssertNotEqual(VersionedNames.config(base: "maif-config", data: "cluster: {name: b}\n"), name)
    }

    func testSecretsCountVersionsFromTheHighestExistingOne() {
        XCTAssertEqual(VersionedNames.nextSecretVersion(base: "maif-join-token", existing: []), 1)
        XCTAssertEqual(VersionedNames.nextSecretVersion(base: "maif-join-token",
                                                        existing: ["maif-join-token-v1", "maif-join-token-v3", "maif-join-token-vx",
                                                                   "maif-join-token-extra-v9", "other-v7"]), 4)
        XCTAssertEqual(VersionedNames.secret(base: "maif-join-token", version: 4), "maif-join-token-v4")
        XCTAssertNil(VersionedNames.version(of: "maif-join-token-v0", base: "maif-join-token"))
    }

    func testTheBaseNameOfAnImportedObjectDropsOnlyAVersionSuffix() {
        XCTAssertEqual(ImmutableObjectResource.baseName(of: "maif-config-0123456789ab", kind: .config), "maif-config")
        XCTAssertEqual(ImmutableObjectResource.baseName(of: "maif-config-prod", kind: .config), "maif-config-prod")
        XCTAssertEqual(ImmutableObjectResource.baseName(of: "maif-join-token-v2", kind: .secret), "maif-join-token")
        XCTAssertEqual(ImmutableObjectResource.baseName(of: "maif-join-token", kind: .secret), "maif-join-token")
    }
}

final class SpecProjectionTests: XCTestCase {
    /// What Docker answered for a spec maifctl sent (seen from Engine 20.10): defaults added, zero values dropped.
    func testDockersDefaultsAreNotDriftButAChangedReplicaCountIs() {
        let sent: AttributeValue = .map([
            "Name": "maif-worker",
            "Mode": .map(["Replicated": .map(["Replicas": 2])]),
            "TaskTemplate": .map(["ContainerSpec": .map(["Image": "maif/maif-enterprise:latest", "Env": .list(["A=1"]), "Args": .list([])]),
                                  "Placement": .map(["Constraints": .list(["node.role == worker"])])]),
            "UpdateConfig": .map(["Parallelism": 1, "FailureAction": "rollback", "Order": "stop-first"]),
        ])
        let live: AttributeValue = .map([
            "Name": "maif-worker",
            "Mode": .map(["Replicated": .map(["Replicas": 2])]),
            "TaskTemplate": .map(["ContainerSpec": .map(["Image": "maif/maif-enterprise:latest", "Env": .list(["A=1"]), "Isolation": "default"]),
                                  "Placement": .map(["Constraints": .list(["node.role == worker"])]),
                                  "ForceUpdate": 0, "Runtime": "container"]),
            "UpdateConfig": .map(["Parallelism": 1, "FailureAction": "rollback", "MaxFailureRatio": 0, "Order": "stop-first"]),
        ])
        XCTAssertEqual(SpecProjection.project(live, onto: sent), sent, "defaults dropped, the omitted empty Args kept")

        var scaled = live.mapValue!
        scaled["Mode"] = .map(["Replicated": .map(["Replicas": 3])])
        let projected = SpecProjection.project(.map(scaled), onto: sent)
        XCTAssertEqual(projected.mapValue?["Mode"]?.mapValue?["Replicated"]?.mapValue?["Replicas"], 3)
    }

    func testAListElementAddedOutOfBandShows() {
        let sent: AttributeValue = .list([.map(["Target": "net-1", "Aliases": .list(["a"])])])
        let live: AttributeValue = .list([.map(["Target": "net-1", "Aliases": .list(["a"])]), .map(["Target": "net-2", "DriverOpts": .null])])
        XCTAssertEqual(SpecProjection.project(live, onto: sent), .list([.map(["Target": "net-1", "Aliases": .list(["a"])]), .map(["Target": "net-2"])]))
    }

    func testAKeyDockerNoLongerHasIsReportedMissing() {
        let sent: AttributeValue = .map(["EndpointSpec": .map(["Mode": "vip"])])
        XCTAssertEqual(SpecProjection.project(.map([:]), onto: sent), .map([:]))
    }
}

final class DockerErrorTests: XCTestCase {
    func testSwarmsGRPCWrappingIsRemovedAndTheCallAndStatusNamed() {
        let body = Array(#"{"message":"rpc error: code = InvalidArgument desc = config 'maif-config-1' is in use by the following service: maif-manager"}"#.utf8)
        let error = DockerError(call: "ConfigDelete", status: 400, message: DockerError.message(status: 400, body: body))
        XCTAssertEqual(error.description, "ConfigDelete: HTTP 400: config 'maif-config-1' is in use by the following service: maif-manager")
        XCTAssertTrue(error.isInUse)
        XCTAssertEqual(error.providerError.description, "docker ConfigDelete failed: HTTP 400: config 'maif-config-1' is in use by the following service: maif-manager")
    }

    func testAnUpdateOutOfSequenceIsRecognised() {
        let body = Array(#"{"message":"rpc error: code = Unknown desc = update out of sequence"}"#.utf8)
        let error = DockerError(call: "ServiceUpdate", status: 500, message: DockerError.message(status: 500, body: body))
        XCTAssertTrue(error.isOutOfSequence)
        XCTAssertEqual(error.detail, "HTTP 500: update out of sequence")
    }

    /// What NIOSSL says when the daemon's certificate is not from the CA in ca.pem, made readable.
    func testATLSHandshakeFailureNamesTheReasonAndTheFileToCheck() {
        let text = "handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at /x/handshake.cc:320]))"
        XCTAssertEqual(DockerClient.tlsFailure(text), "CERTIFICATE_VERIFY_FAILED")
        let tls = DockerTLS(certPath: "/certs", verify: true)
        XCTAssertEqual(DockerClient.explainTLS("CERTIFICATE_VERIFY_FAILED", tls),
                       "TLS handshake failed (CERTIFICATE_VERIFY_FAILED): the daemon's certificate is not signed by /certs/ca.pem")
        XCTAssertEqual(DockerClient.explainTLS("TLSV1_ALERT_UNKNOWN_CA", tls),
                       "TLS handshake failed (TLSV1_ALERT_UNKNOWN_CA): the daemon refused the client certificate /certs/cert.pem")
        XCTAssertNil(DockerClient.tlsFailure("connection reset by peer"))
    }

    func testABodyWithoutAMessageGivesTheReasonPhraseNeverTheRawBody() {
        XCTAssertEqual(DockerError.message(status: 502, body: Array("<html>proxy error</html>".utf8)), "Bad Gateway")
        XCTAssertEqual(DockerError.message(status: 404, body: []), "Not Found")
    }
}

final class SwarmSettingsTests: XCTestCase {
    func resolve(_ settings: [String: AttributeValue], _ env: [String: String] = [:]) -> Result<SwarmSettings, ProviderError> {
        SwarmSettings.resolve(settings: ProviderSettings(values: settings), environment: env.merging(["HOME": "/home/me"]) { a, _ in a }, workingDirectory: "/work")
    }

    func testDockerHostOverridesTheStackAsItOverridesADockerContext() throws {
        let s = try resolve(["host": "tcp://manager:2376", "cert_path": "certs"], ["DOCKER_HOST": "unix:///tmp/test.sock"]).get()
        XCTAssertEqual(s.endpoint, .unix(path: "/tmp/test.sock"))
        XCTAssertEqual(s.source, "DOCKER_HOST")
    }

    func testTheStacksHostWithACertPathIsVerifiedTLS() throws {
        let s = try resolve(["host": "tcp://manager.example.com", "cert_path": "certs", "wait_for_running": 120]).get()
        XCTAssertEqual(s.endpoint, .tcp(host: "manager.example.com", port: 2376, tls: DockerTLS(certPath: "/work/certs", verify: true)))
        XCTAssertEqual(s.source, "clouds.swarm.host")
        XCTAssertEqual(s.waitForRunning, 120)
        XCTAssertEqual(try resolve(["host": "tcp://m:2380", "cert_path": "~/d", "tls_verify": false]).get().endpoint,
                       .tcp(host: "m", port: 2380, tls: DockerTLS(certPath: "/home/me/d", verify: false)))
    }

    func testTheEnvironmentsTLSSettingsGoWithDockerHost() throws {
        let s = try resolve(["cert_path": "ignored"], ["DOCKER_HOST": "tcp://10.0.0.5:2376", "DOCKER_TLS_VERIFY": "1"]).get()
        XCTAssertEqual(s.endpoint, .tcp(host: "10.0.0.5", port: 2376, tls: DockerTLS(certPath: "/home/me/.docker", verify: true)))
        XCTAssertEqual(try resolve([:], ["DOCKER_HOST": "tcp://10.0.0.5"]).get().endpoint, .tcp(host: "10.0.0.5", port: 2375, tls: nil))
    }

    func testWithoutAnyHostTheLocalSocket() throws {
        let s = try resolve([:]).get()
        XCTAssertEqual(s.endpoint, .unix(path: "/var/run/docker.sock"))
        XCTAssertEqual(s.waitForRunning, 0, "no wait unless the stack asks, as docker stack deploy")
    }

    func testAnUnusableHostSaysWhereItCameFrom() {
        guard case .failure(let e) = resolve(["host": "ssh://admin@manager"]) else { return XCTFail("accepted an ssh host") }
        XCTAssertTrue(e.message.hasPrefix("clouds.swarm.host 'ssh://admin@manager': "), e.message)
        guard case .failure(let p) = resolve([:], ["DOCKER_HOST": "tcp://h:99999"]) else { return XCTFail("accepted port 99999") }
        XCTAssertTrue(p.message.contains("DOCKER_HOST"), p.message)
    }
}

final class TaskProgressTests: XCTestCase {
    func task(_ state: String, desired: String = "running", err: String? = nil, message: String = "", created: String = "2026-01-01T10:00:05.5Z",
              id: String = "") -> AttributeValue {
        var status: [String: AttributeValue] = ["State": .string(state), "Message": .string(message)]
        if let err { status["Err"] = .string(err) }
        return .map(["ID": .string(id), "DesiredState": .string(desired), "Status": .map(status), "CreatedAt": .string(created)])
    }

    func service(replicas: Int64, update: String? = nil) -> [String: AttributeValue] {
        var s: [String: AttributeValue] = ["Spec": .map(["Mode": .map(["Replicated": .map(["Replicas": .int(replicas)])])])]
        if let update { s["UpdateStatus"] = .map(["State": .string(update), "Message": "update rolled back due to failure"]) }
        return s
    }

    let since = DockerTime("2026-01-01T10:00:05.25Z")

    func testRunningWhenEveryWantedTaskRuns() {
        let p = TaskProgress(service: service(replicas: 2), tasks: [task("running"), task("running"), task("shutdown", desired: "shutdown")], since: since)
        XCTAssertEqual(p.verdict, .running)
    }

    func testAnUpdateTheOrchestratorHasNotPickedUpYetIsWaitedFor() {
        // Right after POST /services/{id}/update the old task still runs and UpdateStatus is the previous update's.
        let old = task("running", created: "2026-01-01T10:00:01Z", id: "old")
        let before = TaskProgress(service: service(replicas: 1, update: "completed"), tasks: [old], current: [], since: since)
        XCTAssertEqual(before.verdict, .waiting)
        XCTAssertEqual(before.summary, "0 of 1 tasks running; running the previous spec")

        let replaced = TaskProgress(service: service(replicas: 1, update: "completed"),
                                    tasks: [task("shutdown", desired: "shutdown", id: "old"), task("running", id: "new")], current: ["new"], since: since)
        XCTAssertEqual(replaced.verdict, .running)
    }

    func testRepeatedTaskErrorsFailEarlyWithDockersOwnWords() {
        let tasks = [task("rejected", desired: "shutdown", err: "No such image: maif/nope:1"),
                     task("rejected", err: "No such image: maif/nope:1")]
        let p = TaskProgress(service: service(replicas: 1), tasks: tasks, since: since)
        XCTAssertEqual(p.verdict, .failed("0 of 1 tasks running; task errors: No such image: maif/nope:1 (rejected) ×2"))
    }

    func testFailuresFromBeforeTheChangeDoNotCount() {
        let old = task("failed", desired: "shutdown", err: "task: non-zero exit (1)", created: "2026-01-01T10:00:05.1Z")
        let p = TaskProgress(service: service(replicas: 1), tasks: [old, old, task("starting")], since: since)
        XCTAssertEqual(p.verdict, .waiting)
    }

    func testPendingTasksSayWhyWhileWaiting() {
        let p = TaskProgress(service: service(replicas: 2), tasks: [
            task("pending", err: "no suitable node (scheduling constraints not satisfied on 1 node)"),
            task("pending", err: "no suitable node (scheduling constraints not satisfied on 1 node)"),
        ], since: since)
        XCTAssertEqual(p.verdict, .waiting)
        XCTAssertEqual(p.summary, "0 of 2 tasks running; pending: no suitable node (scheduling constraints not satisfied on 1 node) ×2")
    }

    func testARolledBackUpdateFails() {
        let p = TaskProgress(service: service(replicas: 1, update: "rollback_completed"), tasks: [task("running")], since: since)
        XCTAssertEqual(p.verdict, .failed("the update did not take (rollback completed: update rolled back due to failure)"))
    }

    func testARollbackInProgressIsWaitedForSoApplyEndsOnThePreviousSpec() {
        let p = TaskProgress(service: service(replicas: 1, update: "rollback_started"),
                             tasks: [task("rejected", err: "No such image: maif/nope:1"), task("running")], since: since)
        XCTAssertEqual(p.verdict, .waiting)
    }

    func testDockerTimestampsCompareWhateverTheirFractionDigits() throws {
        let a = try XCTUnwrap(DockerTime("2026-11-27T11:00:37.5Z")), b = try XCTUnwrap(DockerTime("2026-11-27T11:00:37.546425697Z"))
        XCTAssertLessThan(a, b)
        XCTAssertLessThan(try XCTUnwrap(DockerTime("2026-11-27T11:00:37Z")), a)
        XCTAssertNil(DockerTime("yesterday"))
    }
}

final class SecretValueTests: XCTestCase {
    let configuration = ProviderConfiguration(stack: "s", workingDirectory: "/tmp", environment: ["MAIF_TEST_SECRET": "s3cret"])

    func testExactlyOneSourceAndEachIsRead() throws {
        XCTAssertEqual(try SecretValue.resolve(["data_from": "env:MAIF_TEST_SECRET"], configuration: configuration), "s3cret")
        XCTAssertEqual(try SecretValue.resolve(["data": "inline"], configuration: configuration), "inline")
        let generated = try SecretValue.resolve(["generate_length": 48], configuration: configuration)
        XCTAssertEqual(generated.count, 48)
        XCTAssertNotEqual(try SecretValue.resolve(["generate_length": 48], configuration: configuration), generated)
        XCTAssertThrowsError(try SecretValue.resolve(["data": "a", "generate_length": 8], configuration: configuration))
        XCTAssertThrowsError(try SecretValue.resolve([:], configuration: configuration))
    }

    func testAMissingVariableIsNamed() {
        XCTAssertThrowsError(try SecretValue.resolve(["data_from": "env:MAIF_TEST_NOT_SET_ANYWHERE"], configuration: configuration)) { error in
            XCTAssertTrue("\(error)".contains("MAIF_TEST_NOT_SET_ANYWHERE is not set"), "\(error)")
        }
    }
}

final class AttributeJSONTests: XCTestCase {
    /// Docker's numbers must stay numbers (a version index read as `true` would break every update).
    func testNumbersAndBooleansFromDockerKeepTheirKinds() throws {
        let value = try JSONDecoder().decode(AttributeValue.self, from: Data(#"{"Index": 1, "Attachable": true, "Mode": 292}"#.utf8))
        XCTAssertEqual(value.mapValue?["Index"], .int(1))
        XCTAssertEqual(value.mapValue?["Attachable"], .bool(true))
        XCTAssertEqual(value.mapValue?["Index"]?.intValue, 1)
    }
}
