import CGit2

/// A failed libgit2 call: what maifctl was doing, libgit2's message and its error code.
public struct GitError: Error, Sendable, CustomStringConvertible {
    /// What maifctl was doing, e.g. "stage production/meta.json".
    public var operation: String
    public var message: String
    /// libgit2's `git_error_code` (negative), e.g. `GIT_ENOTFOUND` = -3.
    public var code: Int32

    public init(operation: String, message: String, code: Int32) {
        self.operation = operation
        self.message = message
        self.code = code
    }

    public var description: String { "git: \(operation) failed: \(message)" }

    /// The error libgit2 recorded for the calling thread's last failed call.
    static func last(_ operation: String, code: Int32) -> GitError {
        var message = "libgit2 error \(code)"
        if let error = git_error_last(), let text = error.pointee.message {
            message = String(cString: text)
        }
        return GitError(operation: operation, message: message, code: code)
    }

    /// An error found by maifctl itself rather than reported by libgit2.
    static func invalid(_ operation: String, _ message: String) -> GitError {
        GitError(operation: operation, message: message, code: GIT_ERROR.rawValue)
    }
}

/// Throws the last libgit2 error when `code` says a call failed.
func check(_ code: Int32, _ operation: @autoclosure () -> String) throws {
    if code < 0 { throw GitError.last(operation(), code: code) }
}

/// libgit2 wants `git_libgit2_init()` once per process before any other call; Swift runs a global's
/// initialiser exactly once and thread-safely. It is never shut down: the process exit cleans up.
let libgit2Initialized: Int32 = git_libgit2_init()

extension git_oid {
    /// The 40-digit hex id.
    var hex: String {
        var oid = self
        return String(cString: git_oid_tostr_s(&oid))
    }
}
