#include "batch/batch_index.h"

#include "common/error.h"

#include <fstream>
#include <system_error>

namespace grym::batch {

BatchIndex::BatchIndex(std::filesystem::path path) : path_(std::move(path)) {
    try {
        file_ = std::make_unique<AppendOnlyFile>(path_);
    } catch (const std::system_error& e) {
        throw ApiError(std::string("batch index: ") + e.what());
    }
}

void BatchIndex::append(const nlohmann::json& record) {
    try {
        file_->append(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    } catch (const std::system_error& e) {
        throw ApiError("cannot append to " + path_.string() + ": " + e.what());
    }
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
