#pragma once
// The few operating-system calls the Hub cache needs, in one place with a POSIX and a Windows
// implementation: free disk space, an advisory lock file (flock / LockFileEx), opening a file by
// its path (wide on Windows), shell-style globs as Python's fnmatch reads them, "symlink, else
// copy". (Atomic writes are common/atomic_file.h's.)
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>

namespace grym::hub {

// Bytes an unprivileged process may still write on the file system holding `path` (which must
// exist). Throws HubError(Cache) when the file system cannot be queried.
uint64_t availableDiskBytes(const std::filesystem::path& path);

// An exclusive advisory lock on a lock file, held for the object's lifetime. Two processes (or
// two threads, each with its own FileLock) locking the same file take turns; the lock dies with
// the process, so a crash never leaves a stale lock behind.
class FileLock {
public:
    // Waits for the lock, calling `cancelled` about ten times a second; when it answers true,
    // throws HubError(Cancelled). Creates the lock file and its folders.
    FileLock(const std::filesystem::path& lockFile, const std::function<bool()>& cancelled);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

    // Tries once without waiting; false when someone else holds it.
    static bool isFree(const std::filesystem::path& lockFile);

private:
    intptr_t handle_ = -1;  // a file descriptor (POSIX) or a HANDLE (Windows)
};

// ENOSPC, or EDQUOT where the system has quotas.
bool isDiskFullError(int error);

// std::fopen for a path that may hold any characters (the wide API on Windows).
std::FILE* openFile(const std::filesystem::path& path, const char* mode);

// Shell-style match as Python's fnmatch does it (`*` also crosses `/`, `?`, `[...]`).
bool globMatches(const std::string& pattern, const std::string& path);

// Creates `link` as a relative symbolic link to `target` (replacing whatever is at `link`,
// atomically); where the file system refuses symbolic links, copies `target` instead.
// Returns true when a link was made, false when a copy was.
bool linkOrCopy(const std::filesystem::path& target, const std::filesystem::path& link);

}  // namespace grym::hub
