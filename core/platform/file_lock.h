#pragma once
// Files shared between processes: an advisory lock file (flock / LockFileEx), opening a file by a
// path that may hold any characters (wide on Windows), and telling a full disk from other errors.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>

namespace grym {

// An exclusive advisory lock on a lock file, held for the object's lifetime. Two processes (or
// two threads, each with its own FileLock) locking the same file take turns; the lock dies with
// the process, so a crash never leaves a stale lock behind.
class FileLock {
public:
    // Waits for the lock, calling `cancelled` about ten times a second; when it answers true,
    // throws std::system_error with std::errc::operation_canceled. Creates the lock file and its
    // folders; throws std::system_error when it cannot open or lock it.
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

}  // namespace grym
