/// stacks/swarm.yaml applied by the built maifctl (`--target swarm`: the stack's S3 backup bucket is left out) to a
/// real two-node swarm, and checked with the docker CLI: what exists with which spec, that tasks run, that a second
/// plan is empty, how updates, config changes, drift and destroy behave.

import Foundation
import XCTest

final class SwarmStackTests: XCTestCase {
    var lab: SwarmLab!
    var work: Workdir!

    /// Called first by every test (not from setUp, where XCTest would report the missing swarm as a skip): connects,
    /// or fails the test saying how to start the swarm.
    func begin(_ scenario: String) throws {
        lab = try SwarmLab.connect()
        try lab.removeLeftovers()
        work = try Workdir(lab, name: scenario)
        // stacks/swarm.yaml has security.tls: the services mount the operator's certificate secrets by name.
        try lab.createTLSSecrets(in: work.path)
    }

    override func tearDownWithError() throws {
        if let work, lab != nil {
            _ = try? work.maifctl(["destroy", "--auto-approve"])
            work.remove()
        }
        try lab?.removeLeftovers()
        try lab?.removeTLSSecrets()
    }

    // MARK: helpers

    @discardableResult
    func apply(_ overlays: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> Output {
        let out = try work.maifctl(["apply", "--auto-approve"], overlays: overlays)
        XCTAssertEqual(out.status, 0, "apply failed:\n\(out)", file: file, line: line)
        return out
    }

    /// `plan --json` → address → action, and the raw changes.
    func plan(_ overlays: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> (actions: [String: String], changes: [[String: Any]]) {
        let out = try work.maifctl(["plan", "--json"], overlays: overlays)
        XCTAssertEqual(out.status, 0, "plan failed:\n\(out)", file: file, line: line)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any], out.description)
        let changes = (json["changes"] as? [[String: Any]]) ?? []
        var actions: [String: String] = [:]
        for c in changes { if let a = c["address"] as? String, let action = c["action"] as? String, action != "no-op" { actions[a] = action } }
        return (actions, changes)
    }

    func spec(_ service: String) throws -> [String: Any] {
        try XCTUnwrap(try lab.inspect("service", service, "{{json .Spec}}") as? [String: Any])
    }

    func version(_ service: String) throws -> Int {
        try XCTUnwrap(Int(try lab.docker(["service", "inspect", "--format", "{{.Version.Index}}", service])))
    }

    func replicas(_ service: String) throws -> Int? {
        ((try spec(service)["Mode"] as? [String: Any])?["Replicated"] as? [String: Any])?["Replicas"] as? Int
    }

    /// The manager's task container (it runs on the manager node, whose daemon the lab talks to).
    func managerContainer() throws -> String {
        try XCTUnwrap(try lab.lines(["ps", "-q", "--filter", "label=com.docker.swarm.service.name=maif-manager"]).first,
                      "no running maif-manager container on the manager node")
    }

    func assertNothingLeft(file: StaticString = #filePath, line: UInt = #line) throws {
        for kind in ["service", "config", "secret", "network", "volume"] {
            XCTAssertEqual(try lab.labelled(kind), [], "\(kind)s labelled maif.stack=swarm are left", file: file, line: line)
        }
    }

    /// The versions of the cluster.yaml config (not tls.yaml's, nor the alerting configs, which change only with the alert rules).
    func clusterConfigs() throws -> [String] {
        try lab.labelled("config").filter { $0.hasPrefix("maif-config-") }
    }

    func workersOverlay(_ count: Int) throws -> String {
        let workers = (1...count).map { "      - {id: maif-worker-\($0), role: worker}" }.joined(separator: "\n")
        return try work.write("workers-\(count).yaml", """
            clusters:
              - name: swarm-cluster
                platform: swarm
                image: maif/maif-enterprise:latest
                replication_factor: 3
                consistency_level: quorum
                nodes:
                  - {id: maif-manager, role: manager, port: 8080}
            \(workers)

            """)
    }


    // MARK: scenarios

    /// security.tls: tls.yaml is a config passed as --tls-config; the certificate material is the operator's swarm
    /// secrets, which the services mount by name (the provider finds their ids), and whose absence apply names.
    func testTheTLSSettingsAreAConfigAndTheCertificatesTheOperatorsSecretsByName() throws {
        try begin("tls-material")
        try lab.removeTLSSecrets()
        let missing = try work.maifctl(["apply", "--auto-approve"])
        XCTAssertNotEqual(missing.status, 0, "\(missing)")
        XCTAssertTrue(missing.all.contains("the swarm has no secret named maif-tls-cert, which the service mounts"), "\(missing)")

        try lab.createTLSSecrets(in: work.path)
        try apply()
        let container = try XCTUnwrap((try spec("maif-manager")["TaskTemplate"] as? [String: Any])?["ContainerSpec"] as? [String: Any])
        XCTAssertEqual((container["Args"] as? [String])?.suffix(2), ["--tls-config", "/config/tls.yaml"])
        let mounted = (container["Secrets"] as? [[String: Any]] ?? []).compactMap { $0["SecretName"] as? String }
        XCTAssertTrue(Set(SwarmLab.tlsSecrets).isSubset(of: Set(mounted)), "\(mounted)")
        let tls = try lab.docker(["exec", try managerContainer(), "cat", "/config/tls.yaml"])
        XCTAssertTrue(tls.contains("cert_file: /run/secrets/maif-tls-cert"), tls)
        let cert = try lab.docker(["exec", try managerContainer(), "cat", "/run/secrets/maif-tls-cert"])
        XCTAssertEqual(cert, "-----BEGIN TEST maif-tls-cert-----")
        XCTAssertFalse(work.stateText().contains("BEGIN TEST"), "the material never reaches state")
        XCTAssertEqual(try work.maifctl(["plan", "--detailed-exitcode"]).status, 0, "the resolved ids are not drift")
    }

    func testApplyCreatesTheGuidesSwarmObjectsTasksRunAndASecondPlanIsEmpty() throws {
        try begin("apply")
        let applied = try apply()
        print("swarm apply of stacks/swarm.yaml (11 resources, tasks waited for): \(String(format: "%.1f", applied.seconds)) s")

        XCTAssertEqual(try lab.labelled("service"), ["maif-manager", "maif-worker"])
        XCTAssertEqual(try lab.labelled("network"), ["maif-net"])
        XCTAssertEqual(try lab.labelled("volume"), ["maif-data"])
        // cluster.yaml, tls.yaml, and the alert rules and the Alertmanager route for the swarm's Prometheus (issue 12).
        let allConfigs = try lab.labelled("config")
        XCTAssertEqual(allConfigs.count, 4, "\(allConfigs)")
        for prefix in ["maif-config-", "maif-tls-config-", "maif-alert-rules-", "maif-alertmanager-"] {
            XCTAssertTrue(allConfigs.contains { $0.hasPrefix(prefix) }, "\(prefix): \(allConfigs)")
        }
        let configs = allConfigs.filter { $0.hasPrefix("maif-config-") }
        XCTAssertEqual(try lab.labelled("secret"), ["maif-aws-access-key-id-v1", "maif-aws-secret-access-key-v1", "maif-join-token-v1"])

        let network = try XCTUnwrap(try lab.inspect("network", "maif-net") as? [String: Any])
        XCTAssertEqual(network["Driver"] as? String, "overlay")
        XCTAssertEqual(network["Scope"] as? String, "swarm")
        XCTAssertEqual(network["Attachable"] as? Bool, true)
        XCTAssertEqual((network["Labels"] as? [String: String])?["maif.address"], "swarm.network.swarm-cluster")

        for (service, role, count) in [("maif-manager", "manager", 1), ("maif-worker", "worker", 2)] {
            let spec = try spec(service)
            XCTAssertEqual(try replicas(service), count, service)
            let task = try XCTUnwrap(spec["TaskTemplate"] as? [String: Any])
            XCTAssertEqual((task["Placement"] as? [String: Any])?["Constraints"] as? [String], ["node.role == \(role)"], service)
            let container = try XCTUnwrap(task["ContainerSpec"] as? [String: Any])
            XCTAssertEqual(container["Image"] as? String, "maif/maif-enterprise:latest")
            let env = container["Env"] as? [String] ?? []
            XCTAssertTrue(env.contains("MAIF_CLUSTER_NAME=swarm-cluster"), "\(env)")
            XCTAssertTrue(env.contains("MAIF_REPLICATION_FACTOR=3"), "\(env)")
            let mounts = container["Mounts"] as? [[String: Any]] ?? []
            XCTAssertEqual(mounts.first?["Source"] as? String, "maif-data")
            XCTAssertEqual(mounts.first?["Target"] as? String, "/data")
            XCTAssertEqual((container["Configs"] as? [[String: Any]])?.first?["ConfigName"] as? String, configs.first)
            XCTAssertEqual(Set((container["Secrets"] as? [[String: Any]] ?? []).compactMap { $0["SecretName"] as? String }),
                           ["maif-join-token-v1", "maif-aws-access-key-id-v1", "maif-aws-secret-access-key-v1",
                            // security.tls: the operator's certificate material, by name
                            "maif-tls-cert", "maif-tls-key", "maif-tls-ca"])
            let labels = spec["Labels"] as? [String: String] ?? [:]
            XCTAssertEqual(labels["maif.stack"], "swarm")
            XCTAssertEqual(labels["maif.address"], "swarm.service.swarm-cluster.\(role)")
            // The stack waited for the tasks (wait_for_running), so they run now, on nodes of the right role.
            XCTAssertEqual(try lab.taskStates(service), Array(repeating: "running", count: count), service)
            XCTAssertEqual(try lab.nodeRoles(ofRunningTasks: service), Array(repeating: role, count: count), service)
        }

        // The tasks got the files the stack promised, and the secret values reached only the swarm.
        let container = try managerContainer()
        let clusterYAML = try lab.docker(["exec", container, "cat", "/config/cluster.yaml"])
        XCTAssertTrue(clusterYAML.contains("name: swarm-cluster"), clusterYAML)
        XCTAssertEqual(try lab.docker(["exec", container, "cat", "/run/secrets/maif-aws-secret-access-key"]),
                       work.environment["AWS_SECRET_ACCESS_KEY"])
        let token = try lab.docker(["exec", container, "cat", "/run/secrets/maif-join-token"])
        XCTAssertEqual(token.count, 48)
        let state = work.stateText()
        XCTAssertFalse(state.contains(token), "the generated join token is in the state")
        XCTAssertFalse(state.contains(work.environment["AWS_SECRET_ACCESS_KEY"]!), "a secret's value is in the state")
        XCTAssertFalse(applied.all.contains(token), "the generated join token was printed")

        let second = try work.maifctl(["plan", "--detailed-exitcode"])
        XCTAssertEqual(second.status, 0, "a plan right after apply must be empty:\n\(second)")

        // The worker node made its own copy of the volume for its tasks, labelled as the stack's.
        XCTAssertEqual(try lab.labelled("volume", host: lab.workerHost), ["maif-data"])

        let destroyed = try work.maifctl(["destroy", "--auto-approve"])
        XCTAssertEqual(destroyed.status, 0, "\(destroyed)")
        try assertNothingLeft()
    }

    func testAReplicaChangeIsAnInPlaceUpdateAndAChangedConfigRollsTheServicesOntoANewName() throws {
        try begin("update")
        try apply()
        let ids = try ["maif-manager", "maif-worker"].map { try lab.docker(["service", "inspect", "--format", "{{.ID}}", $0]) }
        let versions = try ["maif-manager", "maif-worker"].map(version)
        let oldConfig = try XCTUnwrap(try clusterConfigs().first)

        // A third worker: more replicas, and a cluster.yaml that lists it.
        let three = try workersOverlay(3)
        let planned = try plan([three])
        XCTAssertEqual(planned.actions, ["swarm.config.swarm-cluster": "replace", "swarm.service.swarm-cluster.manager": "update",
                                         "swarm.service.swarm-cluster.worker": "update"])
        let started = Date()
        try apply([three])
        print("swarm apply of a replica change with a new config: \(String(format: "%.1f", Date().timeIntervalSince(started))) s")

        XCTAssertEqual(try ["maif-manager", "maif-worker"].map { try lab.docker(["service", "inspect", "--format", "{{.ID}}", $0]) }, ids,
                       "an update in place keeps the services")
        let newVersions = try ["maif-manager", "maif-worker"].map(version)
        XCTAssertGreaterThan(newVersions[0], versions[0])
        XCTAssertGreaterThan(newVersions[1], versions[1])
        XCTAssertEqual(try replicas("maif-worker"), 3)
        XCTAssertEqual(try lab.taskStates("maif-worker"), ["running", "running", "running"])
        let newConfig = try XCTUnwrap(try clusterConfigs().first)
        XCTAssertEqual(try clusterConfigs(), [newConfig], "the old config is removed once no service uses it")
        XCTAssertNotEqual(newConfig, oldConfig)
        let container = try XCTUnwrap((try spec("maif-manager")["TaskTemplate"] as? [String: Any])?["ContainerSpec"] as? [String: Any])
        XCTAssertEqual((container["Configs"] as? [[String: Any]])?.first?["ConfigName"] as? String, newConfig)
        XCTAssertEqual(try work.maifctl(["plan", "--detailed-exitcode"], overlays: [three]).status, 0)

        // A change to cluster.yaml alone rolls both services, and the new task reads the new file.
        let interval = try work.write("interval.yaml", "load_balancing:\n  health_check_interval: 15s\n")
        let configOnly = try plan([three, interval])
        XCTAssertEqual(configOnly.actions, ["swarm.config.swarm-cluster": "replace", "swarm.service.swarm-cluster.manager": "update",
                                            "swarm.service.swarm-cluster.worker": "update"])
        try apply([three, interval])
        let rolled = try XCTUnwrap(try clusterConfigs().first)
        XCTAssertEqual(try clusterConfigs(), [rolled])
        XCTAssertNotEqual(rolled, newConfig)
        XCTAssertEqual(try replicas("maif-worker"), 3, "a config change leaves the replicas alone")
        let yaml = try lab.docker(["exec", try managerContainer(), "cat", "/config/cluster.yaml"])
        XCTAssertTrue(yaml.contains("health_check_interval: 15s"), yaml)
        XCTAssertEqual(try work.maifctl(["plan", "--detailed-exitcode"], overlays: [three, interval]).status, 0)
    }

    func testDriftFromDockerServiceScaleAndAnOutOfBandRemovalAreShownAndRepaired() throws {
        try begin("drift")
        try apply()
        let before = try version("maif-worker")
        try lab.docker(["service", "scale", "--detach", "maif-worker=3"])

        let drifted = try plan()
        XCTAssertEqual(drifted.actions, ["swarm.service.swarm-cluster.worker": "update"])
        let change = try XCTUnwrap(drifted.changes.first { $0["address"] as? String == "swarm.service.swarm-cluster.worker" })
        XCTAssertNotNil((change["drift"] as? [String: Any])?["spec"], "the plan shows what changed out of band: \(change)")
        let shown = try work.maifctl(["plan"])
        XCTAssertTrue(shown.stdout.contains("swarm.service.swarm-cluster.worker"), shown.stdout)

        try apply()
        XCTAssertEqual(try replicas("maif-worker"), 2, "apply puts the stack's replicas back")
        XCTAssertGreaterThan(try version("maif-worker"), before + 1, "scale and repair are two updates")
        XCTAssertEqual(try lab.taskStates("maif-worker"), ["running", "running"])
        XCTAssertEqual(try work.maifctl(["plan", "--detailed-exitcode"]).status, 0)

        // Removed behind maifctl's back: read finds nothing (404), so the plan creates it again.
        try lab.docker(["service", "rm", "maif-worker"])
        XCTAssertEqual(try plan().actions, ["swarm.service.swarm-cluster.worker": "create"])
        try apply()
        XCTAssertEqual(try lab.taskStates("maif-worker"), ["running", "running"])

        // The worker's daemon is no manager: the error says so instead of taking every object for deleted.
        let wrong = try work.maifctl(["plan"], environment: ["DOCKER_HOST": lab.workerHost])
        XCTAssertEqual(wrong.status, 1, "\(wrong)")
        XCTAssertTrue(wrong.all.contains("is not a swarm manager"), "\(wrong)")
        XCTAssertTrue(wrong.all.contains("from DOCKER_HOST"), "\(wrong)")

        XCTAssertEqual(try work.maifctl(["destroy", "--auto-approve"]).status, 0)
        try assertNothingLeft()
    }

    func testTaskErrorsAreReportedACreateThatNeverRanIsRemovedAndAFailedUpdateRolledBack() throws {
        try begin("taskerror")
        let missing = try work.write("missing-image.yaml", """
            clusters:
              - name: swarm-cluster
                platform: swarm
                image: maif/does-not-exist:1
                replication_factor: 3
                nodes:
                  - {id: maif-manager, role: manager, port: 8080}
                  - {id: maif-worker-1, role: worker}
                  - {id: maif-worker-2, role: worker}

            """)
        let out = try work.maifctl(["apply", "--auto-approve"], overlays: [missing])
        XCTAssertEqual(out.status, 1, "\(out)")
        XCTAssertTrue(out.all.contains("No such image: maif/does-not-exist:1"), "the task's own error is in the output:\n\(out)")
        XCTAssertTrue(out.all.contains("swarm.service.swarm-cluster.manager"), "\(out)")
        XCTAssertEqual(try lab.labelled("service"), [], "a service whose tasks never ran is removed again")
        XCTAssertEqual(try lab.labelled("network"), ["maif-net"], "what did work stays, recorded in state")

        // With the image fixed, the next apply creates just the services.
        XCTAssertEqual(try plan().actions, ["swarm.service.swarm-cluster.manager": "create", "swarm.service.swarm-cluster.worker": "create"])
        try apply()
        XCTAssertEqual(try lab.taskStates("maif-manager"), ["running"])

        // An update to a missing image: swarm rolls it back (UpdateConfig.FailureAction), and apply says why.
        let id = try lab.docker(["service", "inspect", "--format", "{{.ID}}", "maif-manager"])
        let update = try work.maifctl(["apply", "--auto-approve"], overlays: [missing])
        XCTAssertEqual(update.status, 1, "\(update)")
        XCTAssertTrue(update.all.contains("the update did not take (rollback"), "\(update)")
        XCTAssertTrue(update.all.contains("No such image: maif/does-not-exist:1"), "\(update)")
        XCTAssertEqual(try lab.docker(["service", "inspect", "--format", "{{.ID}}", "maif-manager"]), id)
        XCTAssertEqual(try lab.docker(["service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", "maif-manager"]),
                       "maif/maif-enterprise:latest", "swarm rolled back to the image that runs")
    }

    /// Killed while the services start (apply waits for their tasks): the next run finds them by their
    /// `maif.stack`/`maif.address` labels and adopts them, instead of failing on a name that is taken or making twins.
    func testARunKilledWhileServicesStartIsRecoveredByAdoptingWhatItCreated() throws {
        try begin("crash")
        let run = try work.start(["apply", "--auto-approve"])
        let deadline = Date().addingTimeInterval(120)
        while try lab.labelled("service").isEmpty, run.isRunning, Date() < deadline { usleep(20_000) }
        XCTAssertTrue(run.isRunning, "apply finished before a service existed; nothing was interrupted")
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()

        let recovered = try work.maifctl(["apply", "--auto-approve"])
        XCTAssertEqual(recovered.status, 0, "\(recovered)")
        XCTAssertTrue(recovered.stderr.contains("adopted what it had created: swarm.service.swarm-cluster."), "\(recovered)")
        XCTAssertEqual(try lab.labelled("service"), ["maif-manager", "maif-worker"])
        XCTAssertEqual(try lab.labelled("secret").count, 3, "no secret was made twice")
        XCTAssertEqual(try lab.labelled("config").count, 4, "cluster.yaml, tls.yaml, the alert rules and the Alertmanager route, once each")
        XCTAssertEqual(try work.maifctl(["plan", "--detailed-exitcode"]).status, 0)
    }
}
