import CGit2
import Foundation

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

/// One commit as `maifctl state log` shows it.
public struct GitCommit: Sendable, Equatable {
    public var id: String
    public var summary: String
    public var message: String
    public var authorName: String
    public var authorEmail: String
    /// When the commit was made (committer time).
    public var time: Date

    public init(id: String, summary: String, message: String, authorName: String, authorEmail: String, time: Date) {
        self.id = id
        self.summary = summary
        self.message = message
        self.authorName = authorName
        self.authorEmail = authorEmail
        self.time = time
    }
}

/// The git repository holding a state directory, through libgit2.
///
/// Every path this API takes or returns is relative to `path`, which is either a repository's work tree
/// root or a folder inside one (a state directory kept in the user's own repository).
public final class GitRepository: @unchecked Sendable {   // one instance is used from one task at a time
    /// The state directory (absolute): the root every path of this API is relative to.
    public let path: String
    let repository: OpaquePointer
    /// The work tree root, absolute, symlinks resolved, without a trailing slash.
    let workTree: String
    /// Where `path` sits below the work tree root: "" at the root, else "infra/state" (no slashes around).
    private let prefixInWorkTree: String

    private init(path: String, repository: OpaquePointer, workTree: String, prefixInWorkTree: String) {
        self.path = path
        self.repository = repository
        self.workTree = workTree
        self.prefixInWorkTree = prefixInWorkTree
    }

    deinit { git_repository_free(repository) }

    /// Opens the repository at `path`; creates the directory and `git init`s it (initial branch `main`) if missing.
    public static func openOrInit(at path: String) throws -> GitRepository {
        _ = libgit2Initialized
        let directory = URL(fileURLWithPath: path).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw GitError.invalid("open \(directory)", "not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw GitError.invalid("create \(directory)", "\(error.localizedDescription)")
            }
        }

        var repository: OpaquePointer?
        // A state directory inside an existing repository uses that repository (found upwards, as `git` does).
        let opened = git_repository_open_ext(&repository, directory, 0, nil)
        if opened == GIT_ENOTFOUND.rawValue {
            repository = try initRepository(at: directory)
        } else {
            try check(opened, "open repository at \(directory)")
        }
        guard let repository else { throw GitError.invalid("open repository at \(directory)", "no repository") }
        do {
            guard let workdir = git_repository_workdir(repository) else {
                throw GitError.invalid("open repository at \(directory)", "the repository is bare")
            }
            let workTree = resolvedPath(String(cString: workdir))
            let state = resolvedPath(directory)
            let prefix: String
            if state == workTree {
                prefix = ""
            } else if state.hasPrefix(workTree.hasSuffix("/") ? workTree : workTree + "/") {
                prefix = String(state.dropFirst(workTree.count).drop(while: { $0 == "/" }))
            } else {
                throw GitError.invalid("open repository at \(directory)", "the directory is not inside the work tree \(workTree)")
            }
            return GitRepository(path: directory, repository: repository, workTree: workTree, prefixInWorkTree: prefix)
        } catch {
            git_repository_free(repository)
            throw error
        }
    }

    private static func initRepository(at directory: String) throws -> OpaquePointer? {
        var options = git_repository_init_options()
        try check(git_repository_init_options_init(&options, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)), "init repository")
        options.flags = GIT_REPOSITORY_INIT_MKPATH.rawValue
        var repository: OpaquePointer?
        let code = "main".withCString { head in
            options.initial_head = head
            return git_repository_init_ext(&repository, directory, &options)
        }
        try check(code, "init repository at \(directory)")
        return repository
    }

    /// The commit id HEAD points to, nil before the first commit.
    public func headCommit() throws -> String? {
        try headCommitId()?.hex
    }

    /// Stages exactly these paths (a path that no longer exists on disk is removed from the index), then commits
    /// when the resulting tree differs from HEAD's tree. Returns the new commit id, or nil when nothing changed.
    public func commit(paths: [String], message: String) throws -> String? {
        let files = try paths.map { try pathInWorkTree($0) }.filter { !$0.isEmpty }
        let index = try repositoryIndex()
        defer { git_index_free(index) }
        let stager = try WorkTreeStager(repository: repository, index: index, workTree: workTree)
        for file in files { try stager.stage(file) }
        try stager.finish()
        try check(git_index_write(index), "write index")
        return try commitIndex(index, scope: .files(files), message: message)
    }

    /// Like `commit(paths:)` but stages every file change (adds, modifications, deletions) under a directory prefix.
    /// Untracked files that `.gitignore` excludes are left out, as `git add --all` does.
    public func commitAll(under prefix: String, message: String) throws -> String? {
        let directory = try pathInWorkTree(prefix)
        let index = try repositoryIndex()
        defer { git_index_free(index) }
        let stager = try WorkTreeStager(repository: repository, index: index, workTree: workTree)
        let files = try stager.filesOnDisk(under: directory)
        let present = Set(files)
        var gone: [String] = []
        forEachEntry(of: index, under: directory) { entry in
            let file = String(cString: entry.pointee.path)
            if !present.contains(file) { gone.append(file) }
        }
        for file in gone + files { try stager.stage(file) }
        try stager.finish()
        try check(git_index_write(index), "write index")
        return try commitIndex(index, scope: .directory(directory), message: message)
    }

    /// Newest first; only commits that touched `pathPrefix` when given (the state directory when it is a folder
    /// inside a larger repository).
    public func log(pathPrefix: String?, limit: Int) throws -> [GitCommit] {
        guard limit > 0 else { return [] }
        let prefix = try pathPrefix.map { try pathInWorkTree($0) } ?? prefixInWorkTree
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, repository), "walk history")
        defer { git_revwalk_free(walk) }
        guard var head = try headCommitId() else { return [] }
        try check(git_revwalk_push(walk, &head), "walk history from HEAD")

        var commits: [GitCommit] = []
        var id = git_oid()
        while commits.count < limit {
            let next = git_revwalk_next(&id, walk)
            if next == GIT_ITEROVER.rawValue { break }
            try check(next, "walk history")
            var commit: OpaquePointer?
            try check(git_commit_lookup(&commit, repository, &id), "read commit \(id.hex)")
            defer { git_commit_free(commit) }
            if try prefix.isEmpty || touches(commit!, prefix) {
                commits.append(describe(commit!))
            }
        }
        return commits
    }

    /// Contents of a file at a revision (commit id, branch, `HEAD`, `HEAD~1`), nil if the file is absent there.
    /// Throws when the revision itself does not exist (`code` is `GIT_ENOTFOUND`).
    public func fileContents(at revision: String, path: String) throws -> Data? {
        let file = try pathInWorkTree(path)
        guard !file.isEmpty else { return nil }
        let tree = try tree(at: revision)
        defer { git_tree_free(tree) }
        guard let entry = try treeEntry(tree, file) else { return nil }
        defer { git_tree_entry_free(entry) }
        guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return nil }
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, repository, git_tree_entry_id(entry)), "read \(file) at \(revision)")
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let bytes = git_blob_rawcontent(blob) else { return Data() }
        return Data(bytes: bytes, count: size)
    }

    /// Paths (relative to `path`, files only, sorted) under `pathPrefix` in the tree of `revision`.
    public func listFiles(at revision: String, under pathPrefix: String) throws -> [String] {
        let directory = try pathInWorkTree(pathPrefix)
        let root = try tree(at: revision)
        defer { git_tree_free(root) }
        var files: [String] = []
        if directory.isEmpty {
            try collectFiles(in: root, directory: "", into: &files)
        } else {
            guard let entry = try treeEntry(root, directory) else { return [] }
            defer { git_tree_entry_free(entry) }
            guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else { return [] }
            var subtree: OpaquePointer?
            try check(git_tree_lookup(&subtree, repository, git_tree_entry_id(entry)), "read tree \(directory)")
            defer { git_tree_free(subtree) }
            try collectFiles(in: subtree!, directory: directory, into: &files)
        }
        let dropped = prefixInWorkTree.isEmpty ? 0 : prefixInWorkTree.count + 1
        return files.map { String($0.dropFirst(dropped)) }.sorted()
    }
}

// MARK: - Committing

extension GitRepository {
    /// Which index entries a commit takes over from the repository's index.
    private enum Scope {
        case files([String])
        case directory(String)
    }

    /// Commits HEAD's tree with the entries in `scope` taken from `index`. Anything else staged in the index (the
    /// user's own work when the state directory is inside their repository) stays staged and out of the commit.
    private func commitIndex(_ index: OpaquePointer, scope: Scope, message: String) throws -> String? {
        var parent: OpaquePointer?
        if var headId = try headCommitId() {
            try check(git_commit_lookup(&parent, repository, &headId), "read HEAD commit")
        }
        defer { git_commit_free(parent) }
        var parentTree: OpaquePointer?
        if let parent { try check(git_commit_tree(&parentTree, parent), "read HEAD tree") }
        defer { git_tree_free(parentTree) }

        var treeId = git_oid()
        if case .directory("") = scope {
            try check(git_index_write_tree(&treeId, index), "write tree")
        } else {
            var staged: OpaquePointer?
            try check(git_index_new(&staged), "create index")
            defer { git_index_free(staged) }
            if let parentTree { try check(git_index_read_tree(staged, parentTree), "read HEAD tree") }
            switch scope {
            case .files(let files):
                for file in files { try copyEntries(at: file, from: index, to: staged!) }
            case .directory(let directory):
                try copyEntries(at: directory, from: index, to: staged!)
            }
            try check(git_index_write_tree_to(&treeId, staged, repository), "write tree")
        }

        if let parentTree {
            if git_oid_equal(&treeId, git_tree_id(parentTree)) != 0 { return nil }
        } else if treeId.hex == Self.emptyTreeId {
            return nil
        }
        return try createCommit(tree: treeId, parent: parent, message: message)
    }

    /// Makes `staged` hold what `index` holds at `path` and below it.
    private func copyEntries(at path: String, from index: OpaquePointer, to staged: OpaquePointer) throws {
        if let entry = git_index_get_bypath(index, path, 0) {
            try check(git_index_add(staged, entry), "stage \(path)")
        } else {
            _ = git_index_remove(staged, path, 0)   // GIT_ENOTFOUND: HEAD did not have it either
        }
        try check(git_index_remove_directory(staged, path, 0), "unstage \(path)/")
        var failure: Int32 = 0
        forEachEntry(of: index, under: path) { entry in
            if failure == 0 { failure = min(0, git_index_add(staged, entry)) }
        }
        try check(failure, "stage \(path)/")
    }

    private static let emptyTreeId = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

    private func createCommit(tree treeId: git_oid, parent: OpaquePointer?, message: String) throws -> String {
        var treeId = treeId
        var tree: OpaquePointer?
        try check(git_tree_lookup(&tree, repository, &treeId), "read new tree")
        defer { git_tree_free(tree) }

        var signature: UnsafeMutablePointer<git_signature>?
        if git_signature_default(&signature, repository) < 0 {
            try check(git_signature_now(&signature, "maifctl", "maifctl@localhost"), "create signature")
        }
        defer { git_signature_free(signature) }

        var text = git_buf()
        try check(git_message_prettify(&text, message, 0, CChar(UInt8(ascii: "#"))), "format commit message")
        defer { git_buf_dispose(&text) }

        var commitId = git_oid()
        var parents: [OpaquePointer?] = parent.map { [$0] } ?? []
        let parentCount = parents.count
        let code = parents.withUnsafeMutableBufferPointer { parents in
            git_commit_create(&commitId, repository, "HEAD", signature, signature, nil, text.ptr, tree, parentCount, parents.baseAddress)
        }
        try check(code, "commit")
        return commitId.hex
    }

    /// The repository's index, reloaded when another process (the user's `git add`) changed it on disk.
    private func repositoryIndex() throws -> OpaquePointer {
        var index: OpaquePointer?
        try check(git_repository_index(&index, repository), "open index")
        guard let index else { throw GitError.invalid("open index", "no index") }
        do {
            try check(git_index_read(index, 0), "read index")
        } catch {
            git_index_free(index)
            throw error
        }
        return index
    }
}

/// Calls `body` for every stage-0 entry of `index` at or below `directory` ("" for all).
private func forEachEntry(of index: OpaquePointer, under directory: String, _ body: (UnsafePointer<git_index_entry>) -> Void) {
    let prefix = directory.isEmpty ? "" : directory + "/"
    var position = 0
    if !prefix.isEmpty, git_index_find_prefix(&position, index, prefix) < 0 { return }
    let count = git_index_entrycount(index)
    while position < count, let entry = git_index_get_byindex(index, position) {
        guard prefix.isEmpty || strncmp(entry.pointee.path, prefix, prefix.utf8.count) == 0 else { break }
        if (entry.pointee.flags >> 12) & 0x3 == 0 { body(entry) }   // GIT_INDEX_ENTRY_STAGE(entry) == 0
        position += 1
    }
}

// MARK: - Reading history

extension GitRepository {
    func headCommitId() throws -> git_oid? {
        var id = git_oid()
        let code = git_reference_name_to_id(&id, repository, "HEAD")
        if code == GIT_ENOTFOUND.rawValue || code == GIT_EUNBORNBRANCH.rawValue { return nil }
        try check(code, "resolve HEAD")
        return id
    }

    /// The tree of a revision (anything `git_revparse_single` understands); the caller frees it.
    private func tree(at revision: String) throws -> OpaquePointer {
        var object: OpaquePointer?
        try check(git_revparse_single(&object, repository, revision), "resolve revision '\(revision)'")
        defer { git_object_free(object) }
        var tree: OpaquePointer?
        try check(git_object_peel(&tree, object, GIT_OBJECT_TREE), "read tree of '\(revision)'")
        guard let tree else { throw GitError.invalid("read tree of '\(revision)'", "no tree") }
        return tree
    }

    /// The entry at a work-tree path below `tree`, nil when there is none; the caller frees it.
    private func treeEntry(_ tree: OpaquePointer, _ path: String) throws -> OpaquePointer? {
        var entry: OpaquePointer?
        let code = git_tree_entry_bypath(&entry, tree, path)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "look up \(path)")
        return entry
    }

    /// The id of what `path` names in a commit's tree, nil when absent.
    private func objectId(in commit: OpaquePointer, at path: String) throws -> String? {
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, commit), "read tree of commit")
        defer { git_tree_free(tree) }
        guard let entry = try treeEntry(tree!, path) else { return nil }
        defer { git_tree_entry_free(entry) }
        return git_tree_entry_id(entry).pointee.hex
    }

    /// Whether a commit changed what is at `path`, compared with its first parent.
    private func touches(_ commit: OpaquePointer, _ path: String) throws -> Bool {
        let mine = try objectId(in: commit, at: path)
        guard git_commit_parentcount(commit) > 0 else { return mine != nil }
        var parent: OpaquePointer?
        try check(git_commit_parent(&parent, commit, 0), "read parent commit")
        defer { git_commit_free(parent) }
        return try mine != objectId(in: parent!, at: path)
    }

    private func describe(_ commit: OpaquePointer) -> GitCommit {
        let author = git_commit_author(commit)
        func text(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
        return GitCommit(
            id: git_commit_id(commit).pointee.hex,
            summary: text(git_commit_summary(commit)),
            message: text(git_commit_message(commit)),
            authorName: text(author?.pointee.name),
            authorEmail: text(author?.pointee.email),
            time: Date(timeIntervalSince1970: TimeInterval(git_commit_time(commit)))
        )
    }

    private func collectFiles(in tree: OpaquePointer, directory: String, into files: inout [String]) throws {
        for position in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, position) else { continue }
            let name = String(cString: git_tree_entry_name(entry))
            let path = directory.isEmpty ? name : directory + "/" + name
            let type = git_tree_entry_type(entry)
            if type == GIT_OBJECT_BLOB {
                files.append(path)
            } else if type == GIT_OBJECT_TREE {
                var subtree: OpaquePointer?
                try check(git_tree_lookup(&subtree, repository, git_tree_entry_id(entry)), "read tree \(path)")
                defer { git_tree_free(subtree) }
                try collectFiles(in: subtree!, directory: path, into: &files)
            }
        }
    }
}

// MARK: - Paths

extension GitRepository {
    /// A path relative to `path` as a path relative to the work tree root ("" for the state directory itself).
    private func pathInWorkTree(_ relative: String) throws -> String {
        let parts = relative.split(separator: "/").filter { $0 != "." }
        guard !relative.hasPrefix("/"), !parts.contains("..") else {
            throw GitError.invalid("resolve path '\(relative)'", "not a relative path inside \(path)")
        }
        return ([prefixInWorkTree].filter { !$0.isEmpty } + parts.map(String.init)).joined(separator: "/")
    }

    private static func resolvedPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else {
            return URL(fileURLWithPath: path).standardizedFileURL.path
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
