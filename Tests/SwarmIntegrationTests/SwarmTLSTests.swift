/// The daemon reached over TCP with TLS client certificates, configured as a docker user would: from the environment
/// (`DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`) or from the stack (`clouds.swarm.host` and `cert_path`).

import Foundation
import XCTest

final class SwarmTLSTests: XCTestCase {
    func testTheEnvironmentsTLSSettingsReachTheDaemonAndAForeignCAIsRefused() throws {
        let lab = try SwarmLab.connect()
        try lab.removeLeftovers()
        let work = try Workdir(lab, name: "tls-env")
        defer {
            _ = try? work.maifctl(["destroy", "--auto-approve"])
            work.remove()
            try? lab.removeLeftovers()
        }
        let tls = try lab.tls()
        let env = ["DOCKER_HOST": tls.host, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": tls.certPath]
        let applied = try work.maifctl(["apply", "--auto-approve"], target: "swarm.network", environment: env)
        XCTAssertEqual(applied.status, 0, "\(applied)")
        XCTAssertEqual(try lab.labelled("network"), ["maif-net"])
        XCTAssertEqual(try work.maifctl(["plan", "--detailed-exitcode"], target: "swarm.network", environment: env).status, 0)

        // Client certificates signed by another CA, and a daemon checked against that CA: refused, and said so.
        let foreign = work.path + "/foreign"
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        let made = try Command.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                                        "-keyout", foreign + "/key.pem", "-out", foreign + "/cert.pem", "-days", "1",
                                                        "-subj", "/CN=stranger"])
        XCTAssertEqual(made.status, 0, "\(made)")
        try FileManager.default.copyItem(atPath: foreign + "/cert.pem", toPath: foreign + "/ca.pem")
        var strange = env
        strange["DOCKER_CERT_PATH"] = foreign
        let refused = try work.maifctl(["plan"], target: "swarm.network", environment: strange)
        XCTAssertEqual(refused.status, 1, "\(refused)")
        XCTAssertTrue(refused.all.contains("cannot reach the Docker daemon at tcp://127.0.0.1"), "\(refused)")
        XCTAssertTrue(refused.all.contains("TLS handshake failed (CERTIFICATE_VERIFY_FAILED): the daemon's certificate is not signed by \(foreign)/ca.pem"),
                      "\(refused)")
        XCTAssertTrue(refused.all.contains("from DOCKER_HOST"), "\(refused)")
    }

    func testTheStacksHostAndCertPathAreUsedWhenDockerHostIsNotSet() throws {
        let lab = try SwarmLab.connect()
        try lab.removeLeftovers()
        let work = try Workdir(lab, name: "tls-stack")
        let tls = try lab.tls()
        let overlay = try work.write("remote.yaml", "clouds:\n  swarm:\n    host: \(tls.host)\n    cert_path: \(tls.certPath)\n")
        let env = ["DOCKER_HOST": ""]
        defer {
            _ = try? work.maifctl(["destroy", "--auto-approve"], overlays: [overlay], environment: env)
            work.remove()
            try? lab.removeLeftovers()
        }
        let applied = try work.maifctl(["apply", "--auto-approve"], overlays: [overlay], target: "swarm.volume", environment: env)
        XCTAssertEqual(applied.status, 0, "\(applied)")
        XCTAssertEqual(try lab.labelled("volume"), ["maif-data"])
        let destroyed = try work.maifctl(["destroy", "--auto-approve"], overlays: [overlay], target: "swarm.volume", environment: env)
        XCTAssertEqual(destroyed.status, 0, "\(destroyed)")
        XCTAssertEqual(try lab.labelled("volume"), [])
    }
}
