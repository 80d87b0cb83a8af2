#pragma once
// A file that is only ever appended to, by several processes at once (a log or record on a shared
// file system): it is opened for appending only (O_APPEND; FILE_APPEND_DATA on Windows), so each
// write lands whole at the end of the file, never inside another process's write.
#include <cstdint>
#include <filesystem>
#include <string>

namespace grym {

class AppendOnlyFile {
public:
    // Opens (creating) the file; throws std::system_error naming it when it cannot.
    explicit AppendOnlyFile(const std::filesystem::path& path);
    ~AppendOnlyFile();
    AppendOnlyFile(const AppendOnlyFile&) = delete;
    AppendOnlyFile& operator=(const AppendOnlyFile&) = delete;

    // Appends `bytes` in one write; throws std::system_error when it fails or is short (a full disk).
    void append(const std::string& bytes);

private:
    intptr_t handle_ = -1;  // a file descriptor (POSIX) or a HANDLE (Windows)
};

}  // namespace grym
