#include "hub/platform_files.h"

#include "hub/hub_error.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#ifdef _WIN32
#include "common/windows_api.h"
#else
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#endif

namespace fs = std::filesystem;

namespace grym::hub {

namespace {

// A sibling name no other writer will pick: 64 random bits.
fs::path temporarySibling(const fs::path& path) {
    std::random_device random;
    const uint64_t tag = (static_cast<uint64_t>(random()) << 32) ^ random();
    return path.parent_path() / (path.filename().string() + ".tmp-" + std::to_string(tag));
}

// The closing ']' of the bracket expression that starts at pattern[open], or npos.
size_t bracketEnd(const std::string& pattern, size_t open) {
    size_t i = open + 1;
    if (i < pattern.size() && pattern[i] == '!') ++i;
    if (i < pattern.size() && pattern[i] == ']') ++i;  // a leading ']' is a literal member
    while (i < pattern.size() && pattern[i] != ']') ++i;
    return i < pattern.size() ? i : std::string::npos;
}

bool bracketMatches(const std::string& pattern, size_t open, size_t close, char c) {
    size_t i = open + 1;
    const bool negated = pattern[i] == '!';
    if (negated) ++i;
    bool found = false;
    for (bool first = true; i < close; first = false) {
        if (!first && pattern[i] == ']') break;
        if (i + 2 < close && pattern[i + 1] == '-') {
            found |= pattern[i] <= c && c <= pattern[i + 2];
            i += 3;
        } else {
            found |= pattern[i] == c;
            ++i;
        }
    }
    return found != negated;
}

}  // namespace

uint64_t availableDiskBytes(const fs::path& path) {
    std::error_code ec;
    const fs::space_info space = fs::space(path, ec);
    if (ec) throw HubError(HubErrorKind::Cache, "cannot read the free space of " + path.string() + ": " + ec.message());
    return static_cast<uint64_t>(space.available);
}

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
        throw HubError(HubErrorKind::Cache, "cannot open the lock file " + lockFile.string() + " (Windows error " +
                                                std::to_string(::GetLastError()) + ")");
    for (;;) {
        OVERLAPPED whole{};
        if (::LockFileEx(handle, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &whole)) break;
        if (cancelled && cancelled()) {
            ::CloseHandle(handle);
            throw HubError(HubErrorKind::Cancelled, "cancelled while waiting for another download of the same file (" +
                                                        lockFile.string() + ")");
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
        throw HubError(HubErrorKind::Cache,
                       "cannot open the lock file " + lockFile.string() + ": " + std::strerror(errno));
    while (::flock(descriptor, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int error = errno;
            ::close(descriptor);
            throw HubError(HubErrorKind::Cache,
                           "cannot lock " + lockFile.string() + ": " + std::strerror(error));
        }
        if (cancelled && cancelled()) {
            ::close(descriptor);
            throw HubError(HubErrorKind::Cancelled,
                           "cancelled while waiting for another download of the same file (" +
                               lockFile.string() + ")");
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

bool globMatches(const std::string& pattern, const std::string& path) {
    // Python's fnmatch rules, on every platform: `*` also crosses folders (users write `unet/*`
    // or `*.json` expecting exactly that), `?` is one character, `[a-z]` / `[!0-9]` a set, and
    // there is no escape character. Backtracking over the last `*` keeps this linear in practice.
    size_t p = 0, s = 0, starAt = std::string::npos, resumeAt = 0;
    while (s < path.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            starAt = p++;
            resumeAt = s;
            continue;
        }
        if (p < pattern.size()) {
            if (pattern[p] == '[') {
                const size_t close = bracketEnd(pattern, p);
                if (close != std::string::npos) {
                    if (bracketMatches(pattern, p, close, path[s])) {
                        p = close + 1;
                        ++s;
                        continue;
                    }
                } else if (path[s] == '[') {  // an unclosed '[' is itself
                    ++p;
                    ++s;
                    continue;
                }
            } else if (pattern[p] == '?' || pattern[p] == path[s]) {
                ++p;
                ++s;
                continue;
            }
        }
        if (starAt == std::string::npos) return false;
        p = starAt + 1;
        s = ++resumeAt;
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

bool linkOrCopy(const fs::path& target, const fs::path& link) {
    fs::create_directories(link.parent_path());
    fs::path staging = temporarySibling(link);
    std::error_code ec;
    fs::create_symlink(fs::relative(target, link.parent_path()), staging, ec);
    bool linked = !ec;
    if (!linked) {
        fs::copy_file(target, staging, fs::copy_options::overwrite_existing, ec);
        if (ec)
            throw HubError(HubErrorKind::Cache,
                           "cannot link or copy " + target.string() + " to " + link.string() + ": " + ec.message());
    }
    fs::rename(staging, link, ec);
    if (ec) {
        fs::remove(staging);
        throw HubError(HubErrorKind::Cache, "cannot create " + link.string() + ": " + ec.message());
    }
    return linked;
}


}  // namespace grym::hub
