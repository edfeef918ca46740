import Foundation
import ProviderKit
import Testing
@testable import AWSProvider
#if canImport(Glibc)
import Glibc
#endif

/// A fault-injecting stand-in for an AWS endpoint on 127.0.0.1: answers the first calls with the given
/// error responses, then with `success`. One connection per request (Connection: close).
final class FaultyServer: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private let lock = NSLock()
    private var faults: [(Int, String)]
    private let success: String
    private(set) var requests = 0

    init(faults: [(Int, String)], success: String) throws {
        self.faults = faults
        self.success = success
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        listen(fd, 16)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
        Thread.detachNewThread { [self] in serve() }
    }

    var requestCount: Int { lock.lock(); defer { lock.unlock() }; return requests }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { return }
            var data = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65536)
            // Read headers, then the body by Content-Length.
            while true {
                let n = recv(client, &buffer, buffer.count, 0)
                if n <= 0 { break }
                data += buffer[0..<n]
                let text = String(decoding: data, as: UTF8.self)
                if let end = text.range(of: "\r\n\r\n") {
                    let head = text[..<end.lowerBound].lowercased()
                    let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                    if text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound.samePosition(in: text.utf8)!) + length <= data.count { break }
                }
            }
            lock.lock()
            requests += 1
            let (status, body) = faults.isEmpty ? (200, success) : faults.removeFirst()
            lock.unlock()
            let response = "HTTP/1.1 \(status) X\r\nContent-Type: text/xml\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            _ = response.withCString { send(client, $0, strlen($0), 0) }
            close(client)
        }
    }

    deinit { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}

@Suite struct RetryTests {
    static let throttled = "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors></Response>"
    static let slowDown = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
    static let ok = "<DescribeVpcsResponse><vpcSet><item><vpcId>vpc-1</vpcId></item></vpcSet></DescribeVpcsResponse>"

    func client(_ server: FaultyServer, attempts: Int) -> AWSClient {
        let settings = AWSSettings(region: "us-east-1", endpoint: URL(string: "http://127.0.0.1:\(server.port)"),
                                   credentials: .success(AWSCredentials(accessKeyId: "AKID", secretAccessKey: "s", source: "test")))
        return AWSClient(settings: settings, retry: RetryPolicy(maxAttempts: attempts, baseDelay: 0.01, maxDelay: 0.05), timeout: .seconds(5))
    }

    @Test func throttlingAndServerErrorsAreRetried() async throws {
        let server = try FaultyServer(faults: [(400, Self.throttled), (503, Self.slowDown), (429, ""), (500, "")], success: Self.ok)
        let xml = try await client(server, attempts: 6).query("ec2", version: "2016-11-15", "DescribeVpcs", [:])
        #expect(xml.items("vpcSet").first?.value("vpcId") == "vpc-1")
        #expect(server.requestCount == 5)
    }

    @Test func retriesAreBounded() async throws {
        let server = try FaultyServer(faults: Array(repeating: (400, Self.throttled), count: 10), success: Self.ok)
        await #expect {
            _ = try await client(server, attempts: 3).query("ec2", version: "2016-11-15", "DescribeVpcs", [:])
        } throws: { error in
            (error as? AWSError)?.description == "ec2 DescribeVpcs: RequestLimitExceeded (HTTP 400): Request limit exceeded."
        }
        #expect(server.requestCount == 3)
    }

    @Test func otherErrorsAreNotRetried() async throws {
        let body = "<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>bad cidr</Message></Error></Errors></Response>"
        let server = try FaultyServer(faults: [(400, body)], success: Self.ok)
        await #expect(throws: AWSError.self) {
            _ = try await client(server, attempts: 5).query("ec2", version: "2016-11-15", "CreateVpc", [:])
        }
        #expect(server.requestCount == 1)
    }

    @Test func backoffGrowsAndIsCapped() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: 0.1, maxDelay: 1)
        #expect(policy.delay(afterAttempt: 0) <= 0.1)
        #expect((0.5...1).contains(policy.delay(afterAttempt: 8)))
    }
}
