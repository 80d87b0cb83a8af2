#pragma once
// Writing a file so that nobody ever finds half of it: not a reader, not the user after a crash,
// a full disk or a read-only folder. The content goes to a hidden temporary file beside the
// destination (same folder, so the final rename stays on one file system), is flushed to the
// disk, and only then renamed over the destination. Until that rename an existing file is
// untouched; a failed write removes the temporary file. Every file core writes goes through here
// (audio saves and exports, checkpoints, configs, Hub refs, benchmark reports).
#include "common/error.h"

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace grym {

// A write that failed; the message names the destination and the cause ("No space left on
// device", "Permission denied", ...), and the destination is as it was before. Each layer
// rethrows it as its own error where it needs to (AudioError, HubError, ...).
class FileWriteError : public Error {
public:
    FileWriteError(const std::filesystem::path& destination, const std::string& cause, int errorCode)
        : Error("cannot write " + destination.string() + ": " + cause), cause_(cause), errorCode_(errorCode) {}
    const std::string& cause() const { return cause_; }  // the message without the file's name
    int errorCode() const { return errorCode_; }         // errno of the cause (0 when not a system error)

private:
    std::string cause_;
    int errorCode_;
};

class AtomicFile {
public:
    // Creates the temporary file. Throws FileWriteError when the folder is missing, is not a
    // folder, or refuses new files, and when the destination is a folder.
    explicit AtomicFile(std::filesystem::path destination);
    ~AtomicFile();  // removes the temporary file unless committed
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    const std::filesystem::path& destination() const { return destination_; }
    // For writers that take a descriptor (libsndfile's sf_open_fd): write through it, then commit.
    int descriptor() const;

    void write(const void* data, size_t size);  // throws FileWriteError (disk full, I/O error)
    void write(std::string_view text) { write(text.data(), text.size()); }

    // Flushes to the disk, closes and renames over the destination, keeping an existing file's
    // permissions. Throws FileWriteError, leaving the destination as it was.
    void commit();

private:
    [[noreturn]] void fail(const std::string& what, int errorCode) const;
    [[noreturn]] void failWithErrno(const std::string& what) const;  // the cause from errno

    std::filesystem::path destination_;
    std::filesystem::path temporary_;
    std::FILE* file_ = nullptr;
    bool committed_ = false;
};

// The whole content at once.
void writeFileAtomically(const std::filesystem::path& path, std::string_view content);

}  // namespace grym
