#pragma once
// What the Hub's repo API (`GET /api/models/{repo}/revision/{rev}?blobs=true`) says about one
// commit of a model repo: its commit id and every file with its size and identity.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace grym::hub {

struct RepoFile {
    std::string path;       // repo-relative, "/"-separated ("unet/config.json")
    uint64_t size = 0;      // bytes of the real content (the LFS object, not its pointer)
    std::string blobId;     // git blob id (40 hex), empty when the server did not send it
    std::string lfsSha256;  // sha256 of the content for LFS files (64 hex), empty otherwise

    bool inLfs() const { return !lfsSha256.empty(); }
    // The name of this file's blob in the cache, as the Hub's ETag would give it:
    // the sha256 for LFS files, the git blob id for the others; empty when unknown.
    std::string etag() const { return inLfs() ? lfsSha256 : blobId; }
};

struct RepoInfo {
    std::string repoId;
    std::string commit;  // 40 hex
    std::vector<RepoFile> files;

    const RepoFile* find(const std::string& path) const;
    std::vector<std::string> paths() const;
};

// Parses the API's JSON. Throws HubError(Protocol) naming the field when the answer is not one
// the Hub gives (missing sha, a sibling without rfilename, an unsafe path, a malformed hash).
RepoInfo parseRepoInfo(const std::string& repoId, const nlohmann::json& json);

}  // namespace grym::hub
