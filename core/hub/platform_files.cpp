#include "hub/platform_files.h"

#include "hub/hub_error.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace grym::hub {

namespace {

// A sibling name no other writer will pick: pid and a random number.
fs::path temporarySibling(const fs::path& path) {
    std::random_device random;
    return path.parent_path() /
           (path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
}

}  // namespace

uint64_t availableDiskBytes(const fs::path& path) {
    struct statvfs info {};
    if (::statvfs(path.c_str(), &info) != 0)
        throw HubError(HubErrorKind::Cache,
                       "cannot read the free space of " + path.string() + ": " + std::strerror(errno));
    return static_cast<uint64_t>(info.f_bavail) * static_cast<uint64_t>(info.f_frsize);
}

FileLock::FileLock(const fs::path& lockFile, const std::function<bool()>& cancelled) {
    std::error_code ec;
    fs::create_directories(lockFile.parent_path(), ec);
    descriptor_ = ::open(lockFile.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (descriptor_ < 0)
        throw HubError(HubErrorKind::Cache,
                       "cannot open the lock file " + lockFile.string() + ": " + std::strerror(errno));
    while (::flock(descriptor_, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int error = errno;
            ::close(descriptor_);
            throw HubError(HubErrorKind::Cache,
                           "cannot lock " + lockFile.string() + ": " + std::strerror(error));
        }
        if (cancelled && cancelled()) {
            ::close(descriptor_);
            throw HubError(HubErrorKind::Cancelled,
                           "cancelled while waiting for another download of the same file (" +
                               lockFile.string() + ")");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

FileLock::~FileLock() {
    if (descriptor_ >= 0) ::close(descriptor_);  // closing releases the flock
}

bool FileLock::isFree(const fs::path& lockFile) {
    int fd = ::open(lockFile.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return true;
    bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);
    return free;
}

bool globMatches(const std::string& pattern, const std::string& path) {
    // No FNM_PATHNAME: Python's fnmatch lets `*` match across folders, and users write
    // `unet/*` or `*.json` expecting exactly that.
    return ::fnmatch(pattern.c_str(), path.c_str(), 0) == 0;
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

void writeFileAtomically(const fs::path& path, const std::string& content) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    fs::path staging = temporarySibling(path);
    {
        std::ofstream out(staging, std::ios::binary | std::ios::trunc);
        out << content;
        out.flush();
        if (!out) {
            out.close();
            fs::remove(staging, ec);
            throw HubError(HubErrorKind::Cache, "cannot write " + path.string());
        }
    }
    fs::rename(staging, path, ec);
    if (ec) {
        fs::remove(staging);
        throw HubError(HubErrorKind::Cache, "cannot write " + path.string() + ": " + ec.message());
    }
}

}  // namespace grym::hub
