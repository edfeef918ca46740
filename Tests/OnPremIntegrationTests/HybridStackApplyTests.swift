/// `maifctl apply` of the on-prem part of stacks/hybrid.yaml, run as a real process against four sshd "hosts" on
/// 127.0.0.2-5 (the three nodes and the backup host). The stack is used as shipped; a lab overlay (merged key by key,
/// like any overlay) only says how to reach the hosts: an ssh_config mapping the stack's 10.0.1.x addresses to the
/// loopback ones, the lab's key and known_hosts, port 2223, and a `root` prefix per host because the hosts share this
/// machine's filesystem. Everything is checked over ssh, as on real hosts.

import Foundation
import TestSupport
import XCTest

final class HybridStackApplyTests: XCTestCase {
    static let stackHosts = ["10.0.1.10", "10.0.1.11", "10.0.1.12", "10.0.1.20"]

    struct Run: CustomStringConvertible {
        var status: Int32
        var output: String
        var seconds: Double
        var description: String { "exit \(status) after \(String(format: "%.2f", seconds)) s:\n\(output)" }
    }

    func testApplyPlanDriftAndDestroyOfTheOnPremPartOfHybrid() throws {
        let lab: SSHLab
        do { lab = try SSHLab.start(count: 4, port: 2223) } catch {
            return XCTFail("cannot start the sshd test hosts: \(error) — run scripts/sshd-hosts.sh start 4 DIR to see why")
        }
        defer { lab.stop() }
        let maifctl = try MaifctlBinary.locate()
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let work = lab.directory + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)

        // stack address → lab address
        let hosts = Dictionary(uniqueKeysWithValues: zip(Self.stackHosts, lab.hosts))
        try Self.stackHosts.map { "Host \($0)\n  HostName \(hosts[$0]!)\n" }.joined()
            .write(toFile: lab.directory + "/ssh_config", atomically: true, encoding: .utf8)
        try """
        clouds:
          onprem:
            port: \(lab.port)
            key: {file: \(lab.directory)/id_ed25519}
            known_hosts: \(lab.directory)/known_hosts
            ssh_config: \(lab.directory)/ssh_config
            root: \(lab.filesRoot)/{host}
        """.write(toFile: work + "/lab.yaml", atomically: true, encoding: .utf8)

        func maif(_ verb: String, _ extra: [String] = []) -> Run {
            let start = Date()
            let result = SSHLab.run(maifctl, [verb, repository + "/stacks/hybrid.yaml", work + "/lab.yaml", "--var", "ssh_user=root",
                                                   "--target", "onprem", "--state", work + "/state", "--no-color"] + extra)
            let run = Run(status: result.status, output: result.output, seconds: Date().timeIntervalSince(start))
            print("maifctl \(verb) \(extra.joined(separator: " ")): exit \(run.status) in \(String(format: "%.2f", run.seconds)) s")
            return run
        }
        func fileOnHost(_ stackHost: String, _ path: String) throws -> String {
            try lab.ssh(hosts[stackHost]!, "cat \(lab.filesRoot)/\(stackHost)\(path)")
        }

        let mastersBefore = Self.sshMasters()
        // Apply: 4 hosts, 3 config directories, 6 files, 3 units, 1 backup directory; per node a service and a timer for
        // each of the 3 kinds of backup (18); the alert rules and the Alertmanager route on the first host, in a directory (3).
        let connectionsBefore = try lab.acceptedConnections()
        let apply = maif("apply", ["--auto-approve"])
        XCTAssertEqual(apply.status, 0, "\(apply)")
        XCTAssertTrue(apply.output.contains("38 added"), "\(apply)")
        let connections = try lab.acceptedConnections().merging(connectionsBefore) { $0 - $1 }
        print("hybrid on-prem apply: \(String(format: "%.2f", apply.seconds)) s; ssh connections per host: "
              + lab.hosts.map { "\($0)=\(connections[$0] ?? 0)" }.joined(separator: " "))

        for (i, host) in Self.stackHosts.prefix(3).enumerated() {
            let cluster = try fileOnHost(host, "/etc/maif/cluster.yaml")
            XCTAssertTrue(cluster.contains("name: on-prem") && cluster.contains("id: node-\(i + 1)"), cluster)
            XCTAssertTrue(try fileOnHost(host, "/etc/maif/tls.yaml").contains("cert_file: /etc/maif/tls/node-\(i + 1).crt"))
            XCTAssertTrue(try fileOnHost(host, "/etc/systemd/system/maif.service").contains("--node-id node-\(i + 1)"))
            XCTAssertEqual(try lab.ssh(hosts[host]!, "stat -c '%a %U:%G' \(lab.filesRoot)/\(host)/etc/maif \(lab.filesRoot)/\(host)/etc/maif/cluster.yaml"),
                           "750 root:maif\n640 root:maif\n")
        }
        // The backup schedule as timers on every node: what each runs, when, and to which target; unit files only root may read.
        let calendars = ["full": "OnCalendar=daily", "incremental": "OnCalendar=hourly", "transaction-log": "OnCalendar=*-*-* *:0/5:00"]
        for (i, host) in Self.stackHosts.prefix(3).enumerated() {
            let node = "node-\(i + 1)"
            var units: [String] = []
            for (kind, calendar) in calendars.sorted(by: { $0.key < $1.key }) {
                let timer = try fileOnHost(host, "/etc/systemd/system/maif-backup-\(kind).timer")
                XCTAssertTrue(timer.contains(calendar) && timer.contains("Unit=maif-backup-\(kind).service") && timer.contains("WantedBy=timers.target"), timer)
                let service = try fileOnHost(host, "/etc/systemd/system/maif-backup-\(kind).service")
                XCTAssertTrue(service.contains("Type=oneshot"), service)
                XCTAssertTrue(service.contains("ExecStart=/usr/local/bin/maif backup --type \(kind) --node-id \(node) --config /etc/maif/cluster.yaml --target sftp://10.0.1.20/var/backups/maif/hybrid/on-prem/\(node)/"), service)
                units += ["maif-backup-\(kind).timer", "maif-backup-\(kind).service"]
            }
            let paths = units.map { "\(lab.filesRoot)/\(host)/etc/systemd/system/\($0)" }.joined(separator: " ")
            XCTAssertEqual(try lab.ssh(hosts[host]!, "stat -c '%a %U:%G' \(paths)"), String(repeating: "600 root:root\n", count: units.count))
        }
        let rules = try fileOnHost("10.0.1.10", "/etc/maif/alerting/maif-rules.yml")
        XCTAssertTrue(rules.contains("alert: node_down") && rules.contains(#"expr: "up{job=\"maif\", cluster=\"on-prem\"} == 0""#), rules)
        XCTAssertTrue(try fileOnHost("10.0.1.10", "/etc/maif/alerting/alertmanager.yml").contains("to: oncall@example.com"))
        XCTAssertEqual(try lab.ssh(hosts["10.0.1.10"]!, "stat -c '%a %U:%G' \(lab.filesRoot)/10.0.1.10/etc/maif/alerting/maif-rules.yml"), "644 root:root\n")
        XCTAssertEqual(try lab.ssh(hosts["10.0.1.20"]!, "stat -c %a \(lab.filesRoot)/10.0.1.20/var/backups/maif"), "700\n")
        // Nothing of the nodes landed on the backup host, and no node got another node's files.
        XCTAssertEqual(try lab.ssh(hosts["10.0.1.20"]!, "test -e \(lab.filesRoot)/10.0.1.20/etc/maif && echo yes || echo no"), "no\n")

        // Each host was reached over one shared connection, however many resources it has and however many
        // commands ran at once.
        for host in lab.hosts { XCTAssertEqual(connections[host], 1, "ssh connections to \(host): \(connections)") }

        // After apply, nothing to do.
        let noop = maif("plan", ["--detailed-exitcode"])
        XCTAssertEqual(noop.status, 0, "\(noop)")

        // maifctl output: each node's address and port on its host, as the stack names them.
        let output = SSHLab.run(maifctl, ["output", "--stack", "hybrid", "--state", work + "/state", "--json"])
        let outputs = try JSONSerialization.jsonObject(with: Data(output.output.utf8)) as? [String: Any]
        let endpoints = outputs?["endpoints"] as? [String: String] ?? [:]
        XCTAssertEqual(endpoints, ["onprem.systemd_unit.on-prem.node-1.maif": "10.0.1.10:8080", "onprem.systemd_unit.on-prem.node-2.maif": "10.0.1.11:8080",
                                   "onprem.systemd_unit.on-prem.node-3.maif": "10.0.1.12:8080"], output.output)

        // A hand edit on a host is drift: plan shows it, apply puts the file back.
        _ = try lab.ssh(hosts["10.0.1.11"]!, "echo 'replication_factor: 1' >> \(lab.filesRoot)/10.0.1.11/etc/maif/cluster.yaml")
        let drift = maif("plan", ["--detailed-exitcode"])
        XCTAssertEqual(drift.status, 2, "\(drift)")
        XCTAssertTrue(drift.output.contains("onprem.file.on-prem.node-2.cluster-yaml"), "\(drift)")
        let repair = maif("apply", ["--auto-approve"])
        XCTAssertEqual(repair.status, 0, "\(repair)")
        XCTAssertFalse(try fileOnHost("10.0.1.11", "/etc/maif/cluster.yaml").contains("replication_factor: 1\n"))
        XCTAssertEqual(maif("plan", ["--detailed-exitcode"]).status, 0)

        // Destroy removes what maifctl put there, and its markers.
        let beforeDestroy = try lab.acceptedConnections()
        let destroy = maif("destroy", ["--auto-approve"])
        XCTAssertEqual(destroy.status, 0, "\(destroy)")
        let destroyConnections = try lab.acceptedConnections().merging(beforeDestroy) { $0 - $1 }
        for host in lab.hosts { XCTAssertEqual(destroyConnections[host], 1, "ssh connections to \(host) during destroy: \(destroyConnections)") }
        for host in Self.stackHosts {
            XCTAssertEqual(try lab.ssh(hosts[host]!, "find \(lab.filesRoot)/\(host) -type f | wc -l"), "0\n", "files left on \(host)")
        }
        // The command closed its shared connections: no ssh master of it is left.
        XCTAssertEqual(Self.sshMasters(), mastersBefore, "ssh masters left behind")
    }
}

extension HybridStackApplyTests {
    /// The shared-connection masters maifctl's ssh clients run (`ssh: <control path> [mux]`).
    static func sshMasters() -> [String] {
        let output = SSHLab.run("/usr/bin/pgrep", ["-a", "-f", "^ssh: .*maif-ssh-"]).output
        return output.split(separator: "\n").map(String.init).sorted()
    }
}
