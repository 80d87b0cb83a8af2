#include "batch/batch_index.h"

#include "common/error.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#ifdef _WIN32
#include "common/windows_api.h"
#else
#include <fcntl.h>
#include <unistd.h>
#endif

namespace grym::batch {

BatchIndex::BatchIndex(std::filesystem::path path) : path_(std::move(path)) {
#ifdef _WIN32
    // FILE_APPEND_DATA without FILE_WRITE_DATA: every write goes to the end, atomically.
    HANDLE file = CreateFileW(path_.wstring().c_str(), FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                              nullptr, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE)
        throw ApiError("cannot open " + path_.string() + " for appending (error " + std::to_string(GetLastError()) + ")");
    handle_ = reinterpret_cast<intptr_t>(file);
#else
    const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw ApiError("cannot open " + path_.string() + " for appending: " + std::strerror(errno));
    handle_ = fd;
#endif
}

BatchIndex::~BatchIndex() {
#ifdef _WIN32
    CloseHandle(reinterpret_cast<HANDLE>(handle_));
#else
    ::close(static_cast<int>(handle_));
#endif
}

void BatchIndex::append(const nlohmann::json& record) {
    const std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
#ifdef _WIN32
    DWORD written = 0;
    const bool ok = WriteFile(reinterpret_cast<HANDLE>(handle_), line.data(), static_cast<DWORD>(line.size()), &written, nullptr);
    if (!ok || written != line.size())
        throw ApiError("cannot append to " + path_.string() + " (error " + std::to_string(GetLastError()) + ")");
#else
    ssize_t written;
    do {
        written = ::write(static_cast<int>(handle_), line.data(), line.size());
    } while (written < 0 && errno == EINTR);
    if (written < 0) throw ApiError("cannot append to " + path_.string() + ": " + std::strerror(errno));
    if (static_cast<size_t>(written) != line.size())
        throw ApiError("cannot append to " + path_.string() + ": only " + std::to_string(written) + " of " +
                       std::to_string(line.size()) + " bytes were written (is the disk full?)");
#endif
}

std::set<std::string> BatchIndex::finishedFiles(const std::filesystem::path& path) {
    std::set<std::string> files;
    std::ifstream in(path, std::ios::binary);
    for (std::string line; std::getline(in, line);) {
        const auto record = nlohmann::json::parse(line, nullptr, false);
        if (!record.is_object()) continue;
        const auto status = record.find("status");
        const auto file = record.find("file");
        if (status != record.end() && *status == "done" && file != record.end() && file->is_string())
            files.insert(file->get<std::string>());
    }
    return files;
}

}  // namespace grym::batch
