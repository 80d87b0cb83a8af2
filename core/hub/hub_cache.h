#pragma once
// The Hugging Face cache layout, as huggingface_hub writes it, so that models are shared with
// diffusers/transformers in both directions:
//
//   <cache>/models--ORG--NAME/blobs/<etag>                 file contents, named by sha256 (LFS) or git blob id
//   <cache>/models--ORG--NAME/blobs/<etag>.incomplete      a download in progress (resumable)
//   <cache>/models--ORG--NAME/snapshots/<commit>/<path>    relative symlinks into blobs/
//   <cache>/models--ORG--NAME/refs/<revision>              the commit a branch or tag pointed at
//   <cache>/.locks/models--ORG--NAME/<etag>.lock           held while a blob is being written
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace grym::hub {

// Throw HubError(InvalidArgument) naming the value when it is not a valid repo id (`NAME` or
// `ORG/NAME`), revision, or repo-relative file path (no `..`, no absolute paths: a server
// cannot make us write outside the snapshot folder).
void validateRepoId(const std::string& repoId);
void validateRevision(const std::string& revision);
void validateRepoFilePath(const std::string& path);

// True when `text` looks like `ORG/NAME` rather than a folder on disk.
bool looksLikeRepoId(const std::string& text);

// A full 40-hex commit id (a revision that needs no refs/ lookup).
bool isCommitHash(const std::string& revision);

// The repo-relative paths ("unet/config.json") of every file in a snapshot folder, sorted; the
// links are listed as files, never followed to their blob names.
std::vector<std::string> snapshotFiles(const std::filesystem::path& snapshot);

class HubCache {
public:
    explicit HubCache(std::filesystem::path directory);
    const std::filesystem::path& directory() const { return directory_; }

    static std::string folderNameFor(const std::string& repoId);                         // models--ORG--NAME
    static std::optional<std::string> repoIdFromFolderName(const std::string& folderName);

    std::filesystem::path repoFolder(const std::string& repoId) const;
    std::filesystem::path blobsFolder(const std::string& repoId) const;
    std::filesystem::path blobPath(const std::string& repoId, const std::string& etag) const;
    std::filesystem::path incompletePath(const std::string& repoId, const std::string& etag) const;
    std::filesystem::path snapshotFolder(const std::string& repoId, const std::string& commit) const;
    std::filesystem::path lockFolder(const std::string& repoId) const;
    std::filesystem::path lockPath(const std::string& repoId, const std::string& etag) const;

    // The commit refs/<revision> names, if the file exists.
    std::optional<std::string> readRef(const std::string& repoId, const std::string& revision) const;
    // Records that `revision` points at `commit` (atomically; nothing for a commit-hash revision).
    void writeRef(const std::string& repoId, const std::string& revision, const std::string& commit) const;

    // The snapshot folder of `revision` (a branch, tag or commit) when it is in the cache.
    std::optional<std::filesystem::path> snapshotFor(const std::string& repoId, const std::string& revision) const;

    // Makes snapshots/<commit>/<path> point at blobs/<etag> (a relative symlink, or a copy).
    void linkSnapshotFile(const std::string& repoId, const std::string& commit, const std::string& path,
                          const std::string& etag) const;

private:
    std::filesystem::path directory_;
};

}  // namespace grym::hub
