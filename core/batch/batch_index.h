#pragma once
// DIR/index.jsonl, the record of a batch: one JSON line per finished (or failed) clip, appended
// as it happens, so it can be read while the batch runs. Several shards may append to the same
// file on a shared file system: each line goes out in one write on a file opened for appending
// (O_APPEND; FILE_APPEND_DATA on Windows), so lines never interleave mid-line.
#include "platform/append_only_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <set>
#include <string>

namespace grym::batch {

class BatchIndex {
public:
    // Opens (creating) the file for appending; throws ApiError naming it when it cannot.
    explicit BatchIndex(std::filesystem::path path);

    const std::filesystem::path& path() const { return path_; }

    // Appends `record` as one line in a single write; throws ApiError when the write fails or
    // is short.
    void append(const nlohmann::json& record);

    // The "file" of every "done" record in the index at `path` (none when it does not exist).
    // Lines that are not JSON objects are passed over.
    static std::set<std::string> finishedFiles(const std::filesystem::path& path);

private:
    std::filesystem::path path_;
    std::unique_ptr<AppendOnlyFile> file_;
};

}  // namespace grym::batch
