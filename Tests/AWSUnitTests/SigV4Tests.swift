import Foundation
import Testing
@testable import AWSProvider

/// Vectors from AWS's published Signature Version 4 test suite and the S3 API reference examples.
@Suite struct SigV4Tests {
    static let suiteCredentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                 source: "test")
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160) // 20150830T123600Z

    @Test func getVanilla() {
        let request = SignableRequest(method: "GET", path: "/", headers: ["Host": "example.amazonaws.com"])
        let added = SigV4.sign(request, service: "service", region: "us-east-1", credentials: Self.suiteCredentials, date: Self.suiteDate,
                               signPayloadHeader: false)
        #expect(added["X-Amz-Date"] == "20150830T123600Z")
        #expect(added["Authorization"] == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func getVanillaQueryOrderKeyCase() {
        let request = SignableRequest(method: "GET", path: "/", query: [("Param2", "value2"), ("Param1", "value1")],
                                      headers: ["Host": "example.amazonaws.com"])
        let added = SigV4.sign(request, service: "service", region: "us-east-1", credentials: Self.suiteCredentials, date: Self.suiteDate,
                               signPayloadHeader: false)
        #expect(added["Authorization"]?.hasSuffix("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500") == true)
    }

    /// The S3 reference's "GET Object" example (x-amz-content-sha256 signed, Range header).
    @Test func s3GetObjectExample() {
        let credentials = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                         source: "test")
        let request = SignableRequest(method: "GET", path: "/test.txt",
                                      headers: ["Host": "examplebucket.s3.amazonaws.com", "Range": "bytes=0-9"])
        let added = SigV4.sign(request, service: "s3", region: "us-east-1", credentials: credentials,
                               date: Date(timeIntervalSince1970: 1_369_353_600)) // 20130524T000000Z
        #expect(added["X-Amz-Content-Sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(added["Authorization"] == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func sessionTokenIsSentAndSigned() {
        var credentials = Self.suiteCredentials
        credentials.sessionToken = "TOKEN/with+chars="
        let request = SignableRequest(method: "GET", path: "/", headers: ["Host": "example.amazonaws.com"])
        let added = SigV4.sign(request, service: "service", region: "us-east-1", credentials: credentials, date: Self.suiteDate,
                               signPayloadHeader: false)
        #expect(added["X-Amz-Security-Token"] == "TOKEN/with+chars=")
        #expect(added["Authorization"]?.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,") == true)
    }

    @Test func encodesLikeRFC3986() {
        #expect(SigV4.encode("a b/c~d*e") == "a%20b%2Fc~d%2Ae")
    }
}
