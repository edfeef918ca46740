/// The AWS JSON protocols (1.0 for CloudWatch, 1.1 for CloudWatch Logs): a POST of a JSON document to `/` naming the
/// operation in `X-Amz-Target`, a JSON document back, errors as `{"__type": …, "message": …}`.

import Foundation
import ProviderKit

extension AWSClient {
    /// One JSON-protocol call. `target` is the operation's full name, e.g. `Logs_20140328.CreateLogGroup`; the body and
    /// the answer are JSON objects held as `AttributeValue`s (which have JSON's shape and are `Sendable`).
    public func json(_ service: String, version: String, target: String,
                     _ body: [String: AttributeValue] = [:]) async throws -> [String: AttributeValue] {
        let call = target.split(separator: ".").last.map(String.init) ?? target
        let response = try await send(service, call: call, method: "POST", path: "/", query: [],
                                      headers: ["Content-Type": "application/x-amz-json-\(version)", "X-Amz-Target": target],
                                      body: Array(AttributeValue.map(body).canonicalJSON(indent: nil).utf8))
        let text = response.body.filter { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        // An operation without output answers an empty body (AWS) or `null` (moto's server): no fields either way.
        if text.isEmpty || text.elementsEqual("null".utf8) { return [:] }
        guard let value = try? JSONDecoder().decode(AttributeValue.self, from: Data(response.body)), case .map(let map) = value else {
            throw ProviderError(address: nil, call: "\(service) \(call)", message: "the response was not a JSON object")
        }
        return map
    }
}

/// The code and message of a JSON-protocol error body: `__type` (or the `x-amzn-ErrorType` header), `message` or `Message`.
struct JSONErrorBody {
    var code: String
    var message: String

    init?(_ response: AWSResponse) {
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        let header = response.headers.first { $0.0.lowercased() == "x-amzn-errortype" }?.1
        guard let raw = (object?["__type"] as? String) ?? object?["code"] as? String ?? header else { return nil }
        code = Self.shortCode(raw)
        message = (object?["message"] as? String) ?? (object?["Message"] as? String) ?? ""
    }

    /// `com.amazonaws.logs#ResourceNotFoundException` and `ResourceNotFoundException:http://…` are both
    /// `ResourceNotFoundException`.
    static func shortCode(_ raw: String) -> String {
        var code = Substring(raw)
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        return String(code)
    }
}

extension AttributeValue {
    /// A JSON list of strings from a list attribute (nil when the attribute is not a list).
    var stringList: [String]? { listValue?.compactMap(\.text) }
    /// A number for the JSON body: integral doubles stay doubles, so `90.0` goes out as `90.0`.
    var number: AttributeValue? {
        switch self {
        case .int, .double: return self
        case .string(let s): return Int64(s).map(AttributeValue.int) ?? Double(s).map(AttributeValue.double)
        default: return nil
        }
    }
}

/// Tags as the JSON services that take `[{Key, Value}]` have them (CloudWatch, CloudTrail; KMS names its fields
/// `TagKey`/`TagValue` and keeps its own).
enum JSONTags {
    /// Sorted by key, as the request bodies send them.
    static func list(_ tags: [String: String]) -> AttributeValue {
        .list(tags.keys.sorted().map { .map(["Key": .string($0), "Value": .string(tags[$0]!)]) })
    }

    static func map(_ list: AttributeValue?) -> [String: String] {
        var out: [String: String] = [:]
        for tag in list?.listValue ?? [] { if let k = tag.mapValue?["Key"]?.text { out[k] = tag.mapValue?["Value"]?.text ?? "" } }
        return out
    }
}
