import CGit2
import Crypto
import Foundation

/// Stages work-tree files into a repository's index as `git add` does, in a few system calls per file.
///
/// `git_index_add_bypath` resolves attributes and real paths and writes a loose object for every file, which made
/// 10,000 files take seconds. Here an unchanged file costs one `lstat`; changed files are read and hashed, and their
/// blobs are stored together at `finish()`: loose for a few, one packfile for many. Contents are stored as they are
/// on disk (no clean filters such as autocrlf or LFS): maifctl writes canonical LF JSON.
final class WorkTreeStager {
    /// From this many new blobs on, they go into one packfile instead of as many loose object files.
    static let packThreshold = 128

    private let repository: OpaquePointer
    private let index: OpaquePointer
    private let workTree: String
    private let objects: OpaquePointer
    /// When the index file was last written; entries modified since then may be "racily clean" and get re-read.
    private let indexWritten: timespec?
    /// Entries whose blobs are stored at `finish()`, before the index takes them (it checks that blobs exist).
    private var pending: [(path: String, entry: git_index_entry)] = []
    private var newBlobs: [(id: git_oid, content: [UInt8])] = []
    private var newBlobIds: Set<String> = []

    init(repository: OpaquePointer, index: OpaquePointer, workTree: String) throws {
        self.repository = repository
        self.index = index
        self.workTree = workTree
        var objects: OpaquePointer?
        try check(git_repository_odb(&objects, repository), "open object database")
        self.objects = objects!
        var info = stat()
        indexWritten = stat(git_index_path(index), &info) == 0 ? info.modificationTime : nil
    }

    deinit { git_odb_free(objects) }

    /// Brings the index entry for `file` (work-tree relative) up to date with the disk: updated when the file exists
    /// (at `finish()`), removed (with anything below it) when it does not.
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
            try check(git_odb_hash(&entry.id, bytes.baseAddress, bytes.count, GIT_OBJECT_BLOB), "hash \(file)")
        }
        let idText = entry.id.hex
        if !newBlobIds.contains(idText), git_odb_exists_ext(objects, &entry.id, GIT_ODB_LOOKUP_NO_REFRESH.rawValue) == 0 {
            newBlobIds.insert(idText)
            newBlobs.append((entry.id, content))
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
        pending.append((file, entry))
    }

    /// Stores the new blobs, then puts the staged entries into the index.
    func finish() throws {
        if newBlobs.count >= Self.packThreshold {
            try storeAsPack()
        } else {
            for blob in newBlobs {
                var id = git_oid()
                try blob.content.withUnsafeBytes { bytes in
                    try check(git_odb_write(&id, objects, bytes.baseAddress, bytes.count, GIT_OBJECT_BLOB), "store blob \(blob.id.hex)")
                }
            }
        }
        newBlobs = []
        for (path, entry) in pending {
            var entry = entry
            try path.withCString { cPath in
                entry.path = cPath
                try check(git_index_add(index, &entry), "stage \(path)")
            }
        }
        pending = []
    }

    private func storeAsPack() throws {
        let pack = Packfile.blobs(newBlobs.map(\.content))
        let directory = String(cString: git_repository_commondir(repository)) + "objects/pack"
        var options = git_indexer_options()
        try check(git_indexer_options_init(&options, UInt32(GIT_INDEXER_OPTIONS_VERSION)), "write pack")
        var indexer: OpaquePointer?
        try check(git_indexer_new(&indexer, directory, 0, nil, &options), "write pack in \(directory)")
        defer { git_indexer_free(indexer) }
        var progress = git_indexer_progress()
        try pack.withUnsafeBytes { bytes in
            try check(git_indexer_append(indexer, bytes.baseAddress, bytes.count, &progress), "write pack")
        }
        try check(git_indexer_commit(indexer, &progress), "write pack")
        try check(git_odb_refresh(objects), "load the new pack")
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

/// A version 2 packfile of whole blobs: what libgit2's indexer takes in to write `objects/pack/pack-*.{pack,idx}`.
/// Blobs are deflated as "stored" blocks (libgit2 exposes no zlib) and the trailer is the SHA-1 of the pack
/// (libgit2 exposes no raw hash); `git gc` recompresses them.
enum Packfile {
    static func blobs(_ contents: [[UInt8]]) -> [UInt8] {
        var pack: [UInt8] = Array("PACK".utf8)
        appendBigEndian(UInt32(2), to: &pack)
        appendBigEndian(UInt32(contents.count), to: &pack)
        for content in contents {
            var size = content.count
            var byte = UInt8(3 << 4) | UInt8(size & 0x0f)   // type 3: blob
            size >>= 4
            while size > 0 {
                pack.append(byte | 0x80)
                byte = UInt8(size & 0x7f)
                size >>= 7
            }
            pack.append(byte)
            appendStoredZlib(content, to: &pack)
        }
        pack.append(contentsOf: sha1(pack))
        return pack
    }

    /// A zlib stream of uncompressed deflate blocks (RFC 1950/1951).
    static func appendStoredZlib(_ data: [UInt8], to out: inout [UInt8]) {
        out.append(contentsOf: [0x78, 0x01])
        var offset = 0
        repeat {
            let count = min(65_535, data.count - offset)
            out.append(offset + count == data.count ? 1 : 0)
            out.append(contentsOf: [UInt8(count & 0xff), UInt8(count >> 8), UInt8(~count & 0xff), UInt8((~count >> 8) & 0xff)])
            out.append(contentsOf: data[offset..<offset + count])
            offset += count
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for start in stride(from: 0, to: data.count, by: 5_552) {   // the longest run that cannot overflow
            for byte in data[start..<min(start + 5_552, data.count)] {
                a &+= UInt32(byte)
                b &+= a
            }
            a %= 65_521
            b %= 65_521
        }
        appendBigEndian(b << 16 | a, to: &out)
    }

    /// The pack trailer: SHA-1 (git's object format), from swift-crypto.
    static func sha1(_ message: [UInt8]) -> [UInt8] {
        Array(Insecure.SHA1.hash(data: message))
    }

    private static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)])
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
