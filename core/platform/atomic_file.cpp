#include "platform/atomic_file.h"

#ifdef _WIN32
#include "platform/windows_api.h"
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#endif

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <system_error>

namespace fs = std::filesystem;

namespace grym {

fs::path temporarySiblingPath(const fs::path& path) {
    std::random_device random;
    const uint64_t tag = (static_cast<uint64_t>(random()) << 32) ^ random();
    return path.parent_path() / (path.filename().string() + ".tmp-" + std::to_string(tag));
}

#ifdef _WIN32

namespace {

[[noreturn]] void throwLastError(const std::string& step) {
    throw std::system_error(static_cast<int>(::GetLastError()), std::system_category(), step);
}

}  // namespace

void writeFileAtomically(const fs::path& path, const void* data, std::size_t size) {
    const fs::path staging = temporarySiblingPath(path);
    HANDLE file = ::CreateFileW(staging.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE) throwLastError("cannot create a file in '" + path.parent_path().string() + "'");
    const auto abandon = [&](const std::string& step) {
        const DWORD error = ::GetLastError();
        ::CloseHandle(file);
        ::DeleteFileW(staging.c_str());
        throw std::system_error(static_cast<int>(error), std::system_category(), step);
    };
    const auto* bytes = static_cast<const char*>(data);
    while (size > 0) {
        const DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(size, 1u << 30));
        DWORD written = 0;
        if (!::WriteFile(file, bytes, chunk, &written, nullptr)) abandon("writing failed");
        bytes += written;
        size -= written;
    }
    if (!::FlushFileBuffers(file)) abandon("flushing to disk failed");
    ::CloseHandle(file);
    if (!::MoveFileExW(staging.c_str(), path.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
        const DWORD error = ::GetLastError();
        ::DeleteFileW(staging.c_str());
        throw std::system_error(static_cast<int>(error), std::system_category(), "renaming the temporary file failed");
    }
}

#else

void writeFileAtomically(const fs::path& path, const void* data, std::size_t size) {
    const fs::path staging = temporarySiblingPath(path);
    const int fd = ::open(staging.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        throw std::system_error(errno, std::generic_category(),
                                "cannot create a file in '" + path.parent_path().string() + "'");
    const auto abandon = [&](const std::string& step) {
        const int error = errno;
        ::close(fd);
        ::unlink(staging.c_str());
        throw std::system_error(error, std::generic_category(), step);
    };
    // Keep an existing file's permissions; a new file gets 0644 rather than open's 0600.
    struct stat existing {};
    if (::fchmod(fd, ::stat(path.c_str(), &existing) == 0 ? (existing.st_mode & 07777) : 0644) != 0)
        abandon("setting the file's permissions failed");
    const auto* bytes = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t written = ::write(fd, bytes, size);
        if (written < 0) {
            if (errno == EINTR) continue;
            abandon("writing failed");
        }
        bytes += written;
        size -= static_cast<std::size_t>(written);
    }
    if (::fsync(fd) != 0) abandon("flushing to disk failed");
    if (::close(fd) != 0) {
        const int error = errno;
        ::unlink(staging.c_str());
        throw std::system_error(error, std::generic_category(), "closing the file failed");
    }
    if (::rename(staging.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(staging.c_str());
        throw std::system_error(error, std::generic_category(), "renaming the temporary file failed");
    }
}

#endif

}  // namespace grym
