#include "platform/append_only_file.h"

#ifdef _WIN32
#include "platform/windows_api.h"
#else
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#endif

#include <system_error>

namespace grym {

#ifdef _WIN32

AppendOnlyFile::AppendOnlyFile(const std::filesystem::path& path) {
    // FILE_APPEND_DATA without FILE_WRITE_DATA: every write goes to the current end, atomically.
    HANDLE file = ::CreateFileW(path.c_str(), FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                nullptr, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE)
        throw std::system_error(static_cast<int>(::GetLastError()), std::system_category(),
                                "cannot open '" + path.string() + "' for appending");
    handle_ = reinterpret_cast<intptr_t>(file);
}

AppendOnlyFile::~AppendOnlyFile() { ::CloseHandle(reinterpret_cast<HANDLE>(handle_)); }

void AppendOnlyFile::append(const std::string& bytes) {
    DWORD written = 0;
    if (!::WriteFile(reinterpret_cast<HANDLE>(handle_), bytes.data(), static_cast<DWORD>(bytes.size()), &written, nullptr))
        throw std::system_error(static_cast<int>(::GetLastError()), std::system_category(), "appending failed");
    if (written != bytes.size())
        throw std::system_error(std::make_error_code(std::errc::no_space_on_device), "appending was cut short");
}

#else

AppendOnlyFile::AppendOnlyFile(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        throw std::system_error(errno, std::generic_category(), "cannot open '" + path.string() + "' for appending");
    handle_ = fd;
}

AppendOnlyFile::~AppendOnlyFile() { ::close(static_cast<int>(handle_)); }

void AppendOnlyFile::append(const std::string& bytes) {
    ssize_t written;
    do {
        written = ::write(static_cast<int>(handle_), bytes.data(), bytes.size());
    } while (written < 0 && errno == EINTR);
    if (written < 0) throw std::system_error(errno, std::generic_category(), "appending failed");
    // A regular file takes the whole write unless the disk (or a quota) is full.
    if (static_cast<size_t>(written) != bytes.size())
        throw std::system_error(std::make_error_code(std::errc::no_space_on_device), "appending was cut short");
}

#endif

}  // namespace grym
