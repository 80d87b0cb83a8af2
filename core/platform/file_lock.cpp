#include "platform/file_lock.h"

#ifdef _WIN32
#include "platform/windows_api.h"
#else
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>

namespace fs = std::filesystem;

namespace grym {

bool isDiskFullError(int error) {
#ifdef EDQUOT
    if (error == EDQUOT) return true;
#endif
    return error == ENOSPC;
}

std::FILE* openFile(const fs::path& path, const char* mode) {
#ifdef _WIN32
    const std::wstring wideMode(mode, mode + std::strlen(mode));
    return ::_wfopen(path.c_str(), wideMode.c_str());
#else
    return std::fopen(path.c_str(), mode);
#endif
}

#ifdef _WIN32
// LockFileEx on a handle opened for sharing: the lock, not the open, excludes other writers, and
// it is released when the handle is closed (or the process dies), as flock's is.
FileLock::FileLock(const fs::path& lockFile, const std::function<bool()>& cancelled) {
    std::error_code ec;
    fs::create_directories(lockFile.parent_path(), ec);
    HANDLE handle = ::CreateFileW(lockFile.c_str(), GENERIC_READ | GENERIC_WRITE,
                                  FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_ALWAYS,
                                  FILE_ATTRIBUTE_NORMAL, nullptr);
    if (handle == INVALID_HANDLE_VALUE)
        throw std::system_error(static_cast<int>(::GetLastError()), std::system_category(),
                                "cannot open the lock file " + lockFile.string());
    for (;;) {
        OVERLAPPED whole{};
        if (::LockFileEx(handle, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &whole)) break;
        if (cancelled && cancelled()) {
            ::CloseHandle(handle);
            throw std::system_error(std::make_error_code(std::errc::operation_canceled),
                                    "waiting for the lock file " + lockFile.string());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    handle_ = reinterpret_cast<intptr_t>(handle);
}

FileLock::~FileLock() {
    if (handle_ != -1) ::CloseHandle(reinterpret_cast<HANDLE>(handle_));
}

bool FileLock::isFree(const fs::path& lockFile) {
    HANDLE handle = ::CreateFileW(lockFile.c_str(), GENERIC_READ | GENERIC_WRITE,
                                  FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                                  FILE_ATTRIBUTE_NORMAL, nullptr);
    if (handle == INVALID_HANDLE_VALUE) return true;
    OVERLAPPED whole{};
    const bool free = ::LockFileEx(handle, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &whole) != 0;
    ::CloseHandle(handle);
    return free;
}
#else
FileLock::FileLock(const fs::path& lockFile, const std::function<bool()>& cancelled) {
    std::error_code ec;
    fs::create_directories(lockFile.parent_path(), ec);
    int descriptor = ::open(lockFile.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (descriptor < 0)
        throw std::system_error(errno, std::generic_category(), "cannot open the lock file " + lockFile.string());
    while (::flock(descriptor, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int error = errno;
            ::close(descriptor);
            throw std::system_error(error, std::generic_category(), "cannot lock " + lockFile.string());
        }
        if (cancelled && cancelled()) {
            ::close(descriptor);
            throw std::system_error(std::make_error_code(std::errc::operation_canceled),
                                    "waiting for the lock file " + lockFile.string());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    handle_ = descriptor;
}

FileLock::~FileLock() {
    if (handle_ != -1) ::close(static_cast<int>(handle_));  // closing releases the flock
}

bool FileLock::isFree(const fs::path& lockFile) {
    int fd = ::open(lockFile.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return true;
    bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);
    return free;
}
#endif

}  // namespace grym
