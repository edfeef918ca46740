import CGit2
import Foundation

/// The write side of `GitRepository`: staging work-tree files and committing them.
extension GitRepository {
    /// Which index entries a commit takes over from the repository's index.
    enum Scope {
        case files([String])
        case directory(String)
    }

    /// Commits HEAD's tree with the entries in `scope` taken from `index`. Anything else staged in the index (the
    /// user's own work when the state directory is inside their repository) stays staged and out of the commit.
    func commitIndex(_ index: OpaquePointer, scope: Scope, message: String) throws -> String? {
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
                for file in files {
                    if let entry = git_index_get_bypath(index, file, 0) {
                        try check(git_index_add(staged, entry), "stage \(file)")
                    } else {
                        _ = git_index_remove(staged, file, 0)   // GIT_ENOTFOUND: it was not in HEAD either
                        try check(git_index_remove_directory(staged, file, 0), "unstage \(file)/")
                    }
                }
            case .directory(let directory):
                try check(git_index_remove_directory(staged, directory, 0), "unstage \(directory)/")
                var failure: Int32 = 0
                forEachEntry(of: index, under: directory) { entry in
                    if failure == 0 { failure = min(0, git_index_add(staged, entry)) }
                }
                try check(failure, "stage \(directory)/")
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
    func repositoryIndex() throws -> OpaquePointer {
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
func forEachEntry(of index: OpaquePointer, under directory: String, _ body: (UnsafePointer<git_index_entry>) -> Void) {
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

/// Stages work-tree files into an index as `git add` does, in a few system calls per file: `git_index_add_bypath`
/// resolves attributes and real paths for every file, which made 10,000 files take seconds. Contents are stored as
/// they are on disk (no clean filters such as autocrlf or LFS): maifctl writes canonical LF JSON.
final class WorkTreeStager {
    private let repository: OpaquePointer
    private let index: OpaquePointer
    private let workTree: String
    /// Loose objects only: a repository's own object database re-reads its pack folder after every miss.
    private let objects: OpaquePointer
    /// When the index file was last written; entries modified since then may be "racily clean" and get re-read.
    private let indexWritten: timespec?

    init(repository: OpaquePointer, index: OpaquePointer, workTree: String) throws {
        self.repository = repository
        self.index = index
        self.workTree = workTree
        var database: OpaquePointer?
        try check(git_odb_new(&database), "open object database")
        guard let database else { throw GitError.invalid("open object database", "no database") }
        do {
            var loose: OpaquePointer?
            let directory = String(cString: git_repository_commondir(repository)) + "objects"
            try check(git_odb_backend_loose(&loose, directory, -1, 0, 0, 0), "open \(directory)")
            try check(git_odb_add_backend(database, loose, 1), "open \(directory)")
        } catch {
            git_odb_free(database)
            throw error
        }
        objects = database
        var info = stat()
        indexWritten = stat(git_index_path(index), &info) == 0 ? info.modificationTime : nil
    }

    deinit { git_odb_free(objects) }

    /// Brings the index entry for `file` (work-tree relative) up to date with the disk: added or updated when the
    /// file exists, removed (with anything below it) when it does not.
    func stage(_ file: String) throws {
        var info = stat()
        guard lstat(workTree + "/" + file, &info) == 0 else {
            guard errno == ENOENT || errno == ENOTDIR else { throw Self.systemError("stage \(file)") }
            try check(git_index_remove_bypath(index, file), "unstage \(file)")
            try check(git_index_remove_directory(index, file, 0), "unstage \(file)/")
            return
        }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR {   // no file here any more; the directory's own files are staged by their paths
            try check(git_index_remove_bypath(index, file), "unstage \(file)")
            return
        }
        guard type == S_IFREG || type == S_IFLNK else {
            throw GitError.invalid("stage \(file)", "not a regular file or symbolic link")
        }
        let mode: UInt32 = type == S_IFLNK ? 0o120000 : (info.st_mode & S_IXUSR != 0 ? 0o100755 : 0o100644)
        if let existing = git_index_get_bypath(index, file, 0), isUnchanged(existing.pointee, info, mode: mode) { return }

        let content = try type == S_IFLNK ? linkTarget(file) : contents(of: file)
        var entry = git_index_entry()
        try content.withUnsafeBytes { bytes in
            try check(git_odb_write(&entry.id, objects, bytes.baseAddress, content.count, GIT_OBJECT_BLOB), "store \(file)")
        }
        entry.ctime = git_index_time(info.changeTime)
        entry.mtime = git_index_time(info.modificationTime)
        entry.dev = UInt32(truncatingIfNeeded: info.st_dev)
        entry.ino = UInt32(truncatingIfNeeded: info.st_ino)
        entry.mode = mode
        entry.uid = info.st_uid
        entry.gid = info.st_gid
        entry.file_size = UInt32(truncatingIfNeeded: info.st_size)
        entry.flags_extended = UInt16(GIT_INDEX_ENTRY_UPTODATE.rawValue)   // just read: no racy-git re-check on write
        try file.withCString { path in
            entry.path = path
            try check(git_index_add(index, &entry), "stage \(file)")
        }
    }

    /// Git's own test: the stat data recorded in the index still matches, and the file was not modified in the same
    /// instant the index was written (when the index cannot tell).
    private func isUnchanged(_ entry: git_index_entry, _ info: stat, mode: UInt32) -> Bool {
        guard let indexWritten, entry.file_size != 0 else { return false }
        let modified = info.modificationTime
        return entry.mode == mode
            && entry.file_size == UInt32(truncatingIfNeeded: info.st_size)
            && entry.ino == UInt32(truncatingIfNeeded: info.st_ino)
            && entry.mtime.isSame(as: git_index_time(modified))
            && entry.ctime.isSame(as: git_index_time(info.changeTime))
            && (modified.tv_sec, modified.tv_nsec) < (indexWritten.tv_sec, indexWritten.tv_nsec)
    }

    /// The files (regular and symbolic links) below `directory` on disk, skipping `.git`, nested repositories and
    /// untracked paths that `.gitignore` excludes.
    func filesOnDisk(under directory: String) throws -> [String] {
        var files: [String] = []
        try collectFiles(under: directory, into: &files)
        return files
    }

    private func collectFiles(under directory: String, into files: inout [String]) throws {
        let full = directory.isEmpty ? workTree : workTree + "/" + directory
        guard let stream = opendir(full) else {
            if errno == ENOENT || errno == ENOTDIR { return }
            throw Self.systemError("read \(directory)")
        }
        defer { closedir(stream) }
        while let item = readdir(stream) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." || name == ".git" { continue }
            let path = directory.isEmpty ? name : directory + "/" + name
            var isDirectory = item.pointee.d_type == UInt8(DT_DIR)
            var isFile = item.pointee.d_type == UInt8(DT_REG) || item.pointee.d_type == UInt8(DT_LNK)
            if item.pointee.d_type == UInt8(DT_UNKNOWN) {
                var info = stat()
                guard lstat(full + "/" + name, &info) == 0 else { continue }
                isDirectory = info.st_mode & S_IFMT == S_IFDIR
                isFile = info.st_mode & S_IFMT == S_IFREG || info.st_mode & S_IFMT == S_IFLNK
            }
            if isDirectory {
                var info = stat()
                if lstat(full + "/" + name + "/.git", &info) == 0 { continue }   // a nested repository is not ours
                if try isIgnored(path + "/") && !hasEntries(under: path) { continue }
                try collectFiles(under: path, into: &files)
            } else if isFile, try git_index_get_bypath(index, path, 0) != nil || !isIgnored(path) {
                files.append(path)
            }
        }
    }

    private func isIgnored(_ path: String) throws -> Bool {
        var ignored: Int32 = 0
        try check(git_ignore_path_is_ignored(&ignored, repository, path), "check .gitignore for \(path)")
        return ignored != 0
    }

    private func hasEntries(under directory: String) -> Bool {
        var position = 0
        return git_index_find_prefix(&position, index, directory + "/") == 0
    }

    private func contents(of file: String) throws -> [UInt8] {
        let descriptor = open(workTree + "/" + file, O_RDONLY)
        guard descriptor >= 0 else { throw Self.systemError("read \(file)") }
        defer { close(descriptor) }
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw Self.systemError("read \(file)") }
            if count == 0 { return content }
            content.append(contentsOf: chunk[0..<count])
        }
    }

    private func linkTarget(_ file: String) throws -> [UInt8] {
        var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = target.withUnsafeMutableBufferPointer { readlink(workTree + "/" + file, $0.baseAddress!, $0.count) }
        guard count >= 0 else { throw Self.systemError("read link \(file)") }
        return target[0..<count].map { UInt8(bitPattern: $0) }
    }

    private static func systemError(_ operation: String) -> GitError {
        GitError(operation: operation, message: String(cString: strerror(errno)), code: GIT_ERROR.rawValue)
    }
}

extension git_index_time {
    init(_ time: timespec) {
        self.init(seconds: Int32(truncatingIfNeeded: time.tv_sec), nanoseconds: UInt32(truncatingIfNeeded: time.tv_nsec))
    }

    func isSame(as other: git_index_time) -> Bool {
        seconds == other.seconds && nanoseconds == other.nanoseconds
    }
}

extension stat {
    var modificationTime: timespec {
        #if canImport(Darwin)
        st_mtimespec
        #else
        st_mtim
        #endif
    }

    var changeTime: timespec {
        #if canImport(Darwin)
        st_ctimespec
        #else
        st_ctim
        #endif
    }
}
