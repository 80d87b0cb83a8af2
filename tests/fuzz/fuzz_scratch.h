#pragma once
// A scratch folder for fuzz targets whose parsers read files by path: created once per process
// under the system temp folder, removed at exit. Each input is written over the same files.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace grym::fuzz {

class ScratchFolder {
public:
    ScratchFolder() {
        std::string pattern = (std::filesystem::temp_directory_path() / "grym-fuzz-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) std::abort();
        path_ = pattern;
    }
    ~ScratchFolder() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    ScratchFolder(const ScratchFolder&) = delete;
    ScratchFolder& operator=(const ScratchFolder&) = delete;

    const std::filesystem::path& path() const { return path_; }

    // Writes (replacing) `name` in the folder and returns its path.
    std::string write(const std::string& name, const uint8_t* data, size_t size) const {
        const auto file = path_ / name;
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
        if (!out) std::abort();  // the scratch disk, not the input, is at fault
        return file.string();
    }

private:
    std::filesystem::path path_;
};

}  // namespace grym::fuzz
