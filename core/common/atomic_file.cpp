#include "common/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <random>

#ifdef _WIN32
#include <io.h>
#else
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace fs = std::filesystem;

namespace grym {

namespace {

std::string describeError(int errorCode) { return errorCode ? std::strerror(errorCode) : "unknown error"; }

// ".name.tmp-<random>" beside the destination: hidden, and never mistaken for the real file.
fs::path temporaryNameFor(const fs::path& destination) {
    std::random_device random;
    const uint64_t tag = (static_cast<uint64_t>(random()) << 32) ^ random();
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(tag));
    return destination.parent_path() / ("." + destination.filename().string() + ".tmp-" + hex);
}

// Opens a new file exclusively (never an existing one).
std::FILE* createExclusively(const fs::path& path) {
#ifdef _WIN32
    return ::_wfopen(path.c_str(), L"wbx");
#else
    return std::fopen(path.c_str(), "wbx");
#endif
}

}  // namespace

AtomicFile::AtomicFile(fs::path destination) : destination_(std::move(destination)) {
    fs::path folder = destination_.parent_path();
    if (folder.empty()) {
        folder = ".";
        destination_ = folder / destination_;
    }
    std::error_code ec;
    const auto status = fs::status(folder, ec);
    if (ec || !fs::exists(status)) fail("the folder '" + folder.string() + "' does not exist", ENOENT);
    if (!fs::is_directory(status)) fail("'" + folder.string() + "' is not a folder", ENOTDIR);
    if (fs::is_directory(fs::status(destination_, ec))) fail("the path is a folder", EISDIR);
    for (int attempt = 0; attempt < 8 && !file_; ++attempt) {
        temporary_ = temporaryNameFor(destination_);
        errno = 0;
        file_ = createExclusively(temporary_);
        if (!file_ && errno != EEXIST) break;
    }
    if (!file_) {
        const int error = errno;
        fail("cannot create a file in '" + folder.string() + "' (" + describeError(error) + ")", error);
    }
#ifndef _WIN32
    // Keep an existing file's permissions; a new file gets the usual rw-r--r--.
    struct stat existing {};
    ::fchmod(descriptor(), ::stat(destination_.c_str(), &existing) == 0 ? (existing.st_mode & 07777) : 0644);
#endif
}

AtomicFile::~AtomicFile() {
    if (file_) std::fclose(file_);
    if (!committed_ && !temporary_.empty()) {
        std::error_code ec;
        fs::remove(temporary_, ec);
    }
}

int AtomicFile::descriptor() const {
#ifdef _WIN32
    return ::_fileno(file_);
#else
    return ::fileno(file_);
#endif
}

void AtomicFile::write(const void* data, size_t size) {
    if (!file_) fail("the file is already closed", 0);
    errno = 0;
    if (size > 0 && std::fwrite(data, 1, size, file_) != size) failWithErrno("writing failed");
}

void AtomicFile::commit() {
    if (!file_) fail("the file is already closed", 0);
    errno = 0;
    if (std::fflush(file_) != 0) failWithErrno("writing failed");
#ifdef _WIN32
    const int synced = ::_commit(descriptor());
#else
    const int synced = ::fsync(descriptor());
#endif
    if (synced != 0) failWithErrno("flushing to the disk failed");
    std::FILE* file = file_;
    file_ = nullptr;
    if (std::fclose(file) != 0) failWithErrno("closing failed");
    std::error_code ec;
    fs::rename(temporary_, destination_, ec);
    if (ec) fail("replacing it failed (" + ec.message() + ")", ec.value());
    committed_ = true;
}

void AtomicFile::fail(const std::string& what, int errorCode) const {
    throw FileWriteError(destination_, what, errorCode);
}

void AtomicFile::failWithErrno(const std::string& what) const {
    const int error = errno;
    fail(what + " (" + describeError(error) + ")", error);
}

void writeFileAtomically(const fs::path& path, std::string_view content) {
    AtomicFile file(path);
    file.write(content);
    file.commit();
}

}  // namespace grym
