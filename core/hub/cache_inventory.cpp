#include "hub/cache_inventory.h"

#include "hub/content_digest.h"
#include "hub/hub_error.h"
#include "hub/cache_files.h"
#include "platform/file_lock.h"

#include <algorithm>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace grym::hub {

namespace {

uint64_t sizeOrZero(const fs::path& path) {
    std::error_code ec;
    uint64_t size = fs::file_size(path, ec);
    return ec ? 0 : size;
}

// refs/ may hold nested names (refs/pr/1): collect every file under it as revision -> commit.
std::map<std::string, std::string> readRefs(const HubCache& cache, const std::string& repoId) {
    std::map<std::string, std::string> refs;
    fs::path folder = cache.repoFolder(repoId) / "refs";
    std::error_code ec;
    for (fs::recursive_directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        std::string name = it->path().lexically_relative(folder).generic_string();
        if (auto commit = cache.readRef(repoId, name)) refs[name] = *commit;
    }
    return refs;
}

std::string hashForCheck(const fs::path& file, bool gitBlobId, std::map<std::string, std::string>& memo) {
    std::string key = (gitBlobId ? "git:" : "sha256:") + fs::weakly_canonical(file).string();
    auto it = memo.find(key);
    if (it != memo.end()) return it->second;
    std::string hash = gitBlobId ? gitBlobIdOfFile(file) : sha256OfFile(file);
    memo[key] = hash;
    return hash;
}

}  // namespace

const CachedRevision* CachedRepo::preferred(const std::string& ref) const {
    for (const CachedRevision& revision : revisions)
        if (std::find(revision.refs.begin(), revision.refs.end(), ref) != revision.refs.end()) return &revision;
    return revisions.empty() ? nullptr : &revisions.front();
}

std::vector<CachedRepo> listCachedRepos(const HubCache& cache) {
    std::vector<CachedRepo> repos;
    std::error_code ec;
    for (fs::directory_iterator it(cache.directory(), ec), end; !ec && it != end; it.increment(ec)) {
        std::optional<std::string> repoId = HubCache::repoIdFromFolderName(it->path().filename().string());
        if (!repoId || !it->is_directory(ec)) continue;
        CachedRepo repo;
        repo.repoId = *repoId;
        repo.folder = it->path();
        std::error_code blobError;
        for (fs::directory_iterator blob(cache.blobsFolder(*repoId), blobError), blobEnd; !blobError && blob != blobEnd;
             blob.increment(blobError)) {
            uint64_t size = sizeOrZero(blob->path());
            repo.bytesOnDisk += size;
            if (blob->path().extension() == ".incomplete") repo.partialBytes += size;
        }
        std::map<std::string, std::string> refs = readRefs(cache, *repoId);
        std::vector<std::pair<fs::file_time_type, CachedRevision>> dated;
        std::error_code snapshotError;
        for (fs::directory_iterator snapshot(repo.folder / "snapshots", snapshotError), snapshotEnd;
             !snapshotError && snapshot != snapshotEnd; snapshot.increment(snapshotError)) {
            if (!snapshot->is_directory(snapshotError)) continue;
            CachedRevision revision;
            revision.commit = snapshot->path().filename().string();
            revision.snapshotFolder = snapshot->path();
            for (const auto& [name, commit] : refs)
                if (commit == revision.commit) revision.refs.push_back(name);
            revision.files = snapshotFiles(snapshot->path());
            for (const std::string& file : revision.files) revision.bytes += sizeOrZero(snapshot->path() / file);
            std::error_code timeError;
            dated.emplace_back(fs::last_write_time(snapshot->path(), timeError), std::move(revision));
        }
        std::sort(dated.begin(), dated.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
        for (auto& entry : dated) repo.revisions.push_back(std::move(entry.second));
        if (const CachedRevision* chosen = repo.preferred()) repo.support = assessModelFolder(chosen->snapshotFolder);
        else repo.support.reason = "no snapshot has been downloaded yet";
        repos.push_back(std::move(repo));
    }
    std::sort(repos.begin(), repos.end(), [](const auto& a, const auto& b) { return a.repoId < b.repoId; });
    return repos;
}

size_t VerifyReport::count(BlobCheck::Status status) const {
    return static_cast<size_t>(std::count_if(files.begin(), files.end(), [&](const BlobCheck& check) { return check.status == status; }));
}

VerifyReport verifyCachedRepo(const HubCache& cache, const std::string& repoId, const RepoInfo* info) {
    validateRepoId(repoId);
    std::error_code ec;
    fs::path snapshots = cache.repoFolder(repoId) / "snapshots";
    if (!fs::is_directory(snapshots, ec))
        throw HubError(HubErrorKind::Cache, repoId + " is not in the Hugging Face cache " + cache.directory().string());
    VerifyReport report;
    report.repoId = repoId;
    std::map<std::string, std::string> memo;
    for (fs::directory_iterator snapshot(snapshots, ec), end; !ec && snapshot != end; snapshot.increment(ec)) {
        std::string commit = snapshot->path().filename().string();
        const RepoInfo* described = (info && info->commit == commit) ? info : nullptr;
        for (const std::string& path : snapshotFiles(snapshot->path())) {
            const fs::path location = snapshot->path() / path;
            BlobCheck check;
            check.path = path;
            check.commit = commit;
            std::error_code existsError;
            if (!fs::exists(location, existsError)) {  // a link whose blob is gone
                check.status = BlobCheck::Status::Missing;
                check.detail = "the blob it points at is missing";
                report.files.push_back(check);
                continue;
            }
            // What the file must hash to: the API's word, else the blob's own name.
            std::string expected;
            bool gitBlobId = false;
            if (described) {
                if (const RepoFile* file = described->find(path)) {
                    expected = file->inLfs() ? file->lfsSha256 : file->blobId;
                    gitBlobId = !file->inLfs();
                }
            }
            if (expected.empty() && fs::is_symlink(location, existsError)) {
                std::string blobName = fs::read_symlink(location, existsError).filename().string();
                if (isHexDigest(blobName, 64)) expected = blobName;
                else if (isHexDigest(blobName, 40)) {
                    expected = blobName;
                    gitBlobId = true;
                }
            }
            if (expected.empty()) {
                check.status = BlobCheck::Status::Unverifiable;
                check.detail = "no published hash to compare with (a copied file, or a blob not named by its hash)";
                report.files.push_back(check);
                continue;
            }
            std::string actual = hashForCheck(location, gitBlobId, memo);
            check.status = actual == expected ? BlobCheck::Status::Ok : BlobCheck::Status::Corrupt;
            check.detail = std::string(gitBlobId ? "git blob id " : "sha256 ") + actual +
                           (actual == expected ? "" : ", expected " + expected);
            report.files.push_back(check);
        }
    }
    return report;
}

void removeCachedRepo(const HubCache& cache, const std::string& repoId) {
    validateRepoId(repoId);
    fs::path folder = cache.repoFolder(repoId);
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
        throw HubError(HubErrorKind::Cache, repoId + " is not in the Hugging Face cache " + cache.directory().string());
    fs::path locks = cache.lockFolder(repoId);
    for (fs::directory_iterator it(locks, ec), end; !ec && it != end; it.increment(ec))
        if (!FileLock::isFree(it->path()))
            throw HubError(HubErrorKind::Cache, repoId + " is being downloaded right now (" + it->path().string() +
                                                    " is locked); cancel that pull first");
    fs::remove_all(folder, ec);
    if (ec) throw HubError(HubErrorKind::Cache, "cannot remove " + folder.string() + ": " + ec.message());
    fs::remove_all(locks, ec);
}

fs::path resolveModelFolder(const std::string& folderOrRepoId, const HubEnvironment& environment,
                            const std::string& revision) {
    std::error_code ec;
    if (fs::is_directory(folderOrRepoId, ec)) return fs::path(folderOrRepoId);
    if (!looksLikeRepoId(folderOrRepoId))
        throw HubError(HubErrorKind::InvalidArgument,
                       "'" + folderOrRepoId + "' is neither a model folder nor a Hugging Face repo id (ORG/NAME)");
    HubCache cache(environment.cacheDirectory);
    if (auto snapshot = cache.snapshotFor(folderOrRepoId, revision)) return *snapshot;
    std::string how = environment.offline ? "unset HF_HUB_OFFLINE and run `grym-synth-cli models pull " + folderOrRepoId + "`"
                                          : "run `grym-synth-cli models pull " + folderOrRepoId + "` first";
    throw HubError(environment.offline ? HubErrorKind::Offline : HubErrorKind::Cache,
                   "there is no folder '" + folderOrRepoId + "', and the repo " + folderOrRepoId + " (revision " + revision +
                       ") is not in the Hugging Face cache " + cache.directory().string() + ": " + how);
}

}  // namespace grym::hub
