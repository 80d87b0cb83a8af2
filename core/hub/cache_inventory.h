#pragma once
// What is in the Hugging Face cache, for `models list / verify / rm` and the Model Manager, and
// the one place where a repo id given instead of a model folder becomes a folder.
#include "hub/hub_cache.h"
#include "hub/hub_environment.h"
#include "hub/model_support.h"
#include "hub/repo_info.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace grym::hub {

struct CachedRevision {
    std::string commit;
    std::vector<std::string> refs;        // branches/tags recorded for this commit ("main")
    std::filesystem::path snapshotFolder;
    std::vector<std::string> files;       // repo-relative
    uint64_t bytes = 0;                   // of those files (blobs they point at)
};

struct CachedRepo {
    std::string repoId;
    std::filesystem::path folder;             // <cache>/models--ORG--NAME
    std::vector<CachedRevision> revisions;    // newest snapshot first
    uint64_t bytesOnDisk = 0;                 // every blob, each counted once, partial downloads included
    uint64_t partialBytes = 0;                // of that, in *.incomplete (a pull to resume)
    ModelSupport support;                     // of the main (else newest) snapshot

    // The revision `ref` points at ("main"), else the newest snapshot; null when there is none.
    const CachedRevision* preferred(const std::string& ref = "main") const;
};

// Every model repo in the cache, sorted by id. A cache folder that does not exist is empty.
std::vector<CachedRepo> listCachedRepos(const HubCache& cache);

struct BlobCheck {
    enum class Status { Ok, Corrupt, Missing, Unverifiable };
    std::string path;      // repo-relative file in the snapshot
    std::string commit;
    Status status = Status::Ok;
    std::string detail;    // the hashes, or why it could not be checked
};

struct VerifyReport {
    std::string repoId;
    std::vector<BlobCheck> files;
    size_t count(BlobCheck::Status status) const;
    bool ok() const { return count(BlobCheck::Status::Corrupt) == 0 && count(BlobCheck::Status::Missing) == 0; }
};

// Re-hashes every file of every snapshot of the repo: against `info` (the repo API's sha256 /
// git blob id) for the commit it describes, else against the blob's own name when that is a
// sha256 (LFS) or a git blob id. Each blob is read once. Throws HubError(Cache) when the repo
// is not in the cache.
VerifyReport verifyCachedRepo(const HubCache& cache, const std::string& repoId, const RepoInfo* info = nullptr);

// Deletes the repo's cache folder and its lock folder. Throws HubError(Cache) when the repo is
// not there or a download of it is running.
void removeCachedRepo(const HubCache& cache, const std::string& repoId);

// `folderOrRepoId` as a model folder: an existing folder is returned as it is; `ORG/NAME` is
// looked up in the cache (refs/<revision> -> snapshots/<commit>), never on the network. Throws
// HubError naming both readings when it is neither, and saying how to download a repo id that is
// not cached.
std::filesystem::path resolveModelFolder(const std::string& folderOrRepoId, const HubEnvironment& environment,
                                         const std::string& revision = "main");

}  // namespace grym::hub
