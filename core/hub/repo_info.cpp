#include "hub/repo_info.h"

#include "hub/content_digest.h"
#include "hub/hub_cache.h"
#include "hub/hub_error.h"

namespace grym::hub {

namespace {

[[noreturn]] void fail(const std::string& repoId, const std::string& what) {
    throw HubError(HubErrorKind::Protocol, "the Hub's answer about " + repoId + " is not valid: " + what);
}

uint64_t sizeField(const std::string& repoId, const nlohmann::json& object, const std::string& where) {
    auto it = object.find("size");
    if (it == object.end() || it->is_null()) return 0;
    if (!it->is_number_unsigned()) fail(repoId, where + ".size is not a non-negative integer");
    return it->get<uint64_t>();
}

}  // namespace

const RepoFile* RepoInfo::find(const std::string& path) const {
    for (const RepoFile& file : files)
        if (file.path == path) return &file;
    return nullptr;
}

std::vector<std::string> RepoInfo::paths() const {
    std::vector<std::string> result;
    result.reserve(files.size());
    for (const RepoFile& file : files) result.push_back(file.path);
    return result;
}

RepoInfo parseRepoInfo(const std::string& repoId, const nlohmann::json& json) {
    if (!json.is_object()) fail(repoId, "it is not a JSON object");
    RepoInfo info;
    info.repoId = repoId;
    auto sha = json.find("sha");
    if (sha == json.end() || !sha->is_string() || !isCommitHash(sha->get<std::string>()))
        fail(repoId, "\"sha\" is missing or not a 40-digit commit id");
    info.commit = sha->get<std::string>();
    auto siblings = json.find("siblings");
    if (siblings == json.end() || !siblings->is_array()) fail(repoId, "\"siblings\" (the file list) is missing");
    for (size_t i = 0; i < siblings->size(); ++i) {
        const nlohmann::json& entry = (*siblings)[i];
        std::string where = "siblings[" + std::to_string(i) + "]";
        if (!entry.is_object() || !entry.contains("rfilename") || !entry["rfilename"].is_string())
            fail(repoId, where + ".rfilename is missing");
        RepoFile file;
        file.path = entry["rfilename"].get<std::string>();
        validateRepoFilePath(file.path);
        file.size = sizeField(repoId, entry, where);
        if (entry.contains("blobId") && entry["blobId"].is_string()) {
            file.blobId = entry["blobId"].get<std::string>();
            if (!isHexDigest(file.blobId, 40)) fail(repoId, where + ".blobId is not a 40-digit git object id");
        }
        auto lfs = entry.find("lfs");
        if (lfs != entry.end() && lfs->is_object()) {
            auto hash = lfs->find("sha256");
            if (hash == lfs->end() || !hash->is_string() || !isHexDigest(hash->get<std::string>(), 64))
                fail(repoId, where + ".lfs.sha256 is not a 64-digit sha256");
            file.lfsSha256 = hash->get<std::string>();
            uint64_t lfsSize = sizeField(repoId, *lfs, where + ".lfs");
            if (lfsSize > 0) file.size = lfsSize;
        }
        info.files.push_back(std::move(file));
    }
    return info;
}

}  // namespace grym::hub
