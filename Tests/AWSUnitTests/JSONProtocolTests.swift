import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// The JSON 1.0/1.1 protocol helper: errors read from `__type`/`message`, throttling retried like the XML services'.
@Suite struct JSONProtocolTests {
    func client(_ server: FaultyServer, attempts: Int = 4) -> AWSClient {
        let settings = AWSSettings(region: "us-east-1", endpoint: URL(string: "http://127.0.0.1:\(server.port)"),
                                   credentials: .success(AWSCredentials(accessKeyId: "AKID", secretAccessKey: "s", source: "test")))
        return AWSClient(settings: settings, retry: RetryPolicy(maxAttempts: attempts, baseDelay: 0.01, maxDelay: 0.05), timeout: .seconds(5))
    }

    @Test func throttlingInAJSONBodyIsRetried() async throws {
        let throttled = #"{"__type": "com.amazonaws.monitoring#ThrottlingException", "message": "Rate exceeded"}"#
        let server = try FaultyServer(faults: [(400, throttled), (400, throttled)], success: #"{"MetricAlarms": [{"AlarmName": "a", "Threshold": 90.0}]}"#)
        let out = try await client(server).json("monitoring", version: "1.0", target: "GraniteServiceVersion20100801.DescribeAlarms",
                                               ["AlarmNames": .list(["a"])])
        #expect(out["MetricAlarms"]?.listValue?.first?.mapValue?["Threshold"] == .double(90))
        #expect(server.requestCount == 3)
    }

    @Test func anErrorNamesServiceCallCodeAndMessage() async throws {
        let body = #"{"__type": "ResourceAlreadyExistsException", "message": "The specified log group already exists"}"#
        let server = try FaultyServer(faults: [(400, body)], success: "{}")
        await #expect {
            _ = try await client(server).json("logs", version: "1.1", target: "Logs_20140328.CreateLogGroup", ["logGroupName": "/a"])
        } throws: { error in
            (error as? AWSError)?.description
                == "logs CreateLogGroup: ResourceAlreadyExistsException (HTTP 400): The specified log group already exists"
        }
        #expect(server.requestCount == 1)
    }

    @Test func errorCodesLoseTheirNamespaceAndSuffix() {
        #expect(JSONErrorBody.shortCode("com.amazonaws.logs#ResourceNotFoundException") == "ResourceNotFoundException")
        #expect(JSONErrorBody.shortCode("ValidationException:http://internal.amazon.com/coral/") == "ValidationException")
        let response = AWSResponse(status: 400, headers: [("x-amzn-ErrorType", "AccessDeniedException:http://x/")], body: Array(#"{"Message": "no"}"#.utf8))
        #expect(JSONErrorBody(response)?.code == "AccessDeniedException")
        #expect(JSONErrorBody(response)?.message == "no")
    }
}
