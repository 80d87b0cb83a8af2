#pragma once
// Pulls a model repo from the Hugging Face Hub into the shared HF cache, the way
// `huggingface-cli download` would, but only the files grym-synth needs (file_selection.h), every
// blob verified against the Hub's hash, resumable, and refusing an architecture grym-synth
// cannot run before the weights are fetched.
//
//   HubClient client(HubEnvironment::fromProcessEnvironment());
//   PullOptions options;  options.progress = ...;  options.cancelled = ...;
//   PullResult result = client.pull("cvssp/audioldm-s-full-v2", options);
//   // result.snapshotFolder is a diffusers folder AudioLdmPipeline loads
//
// A HubClient uses one connection; use it from one thread at a time (one per pull is cheap).
#include "hub/blob_downloader.h"
#include "hub/hub_cache.h"
#include "hub/hub_environment.h"
#include "hub/hub_protocol.h"
#include "hub/http_client.h"
#include "hub/model_support.h"
#include "hub/repo_info.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace grym::hub {

struct PullProgress {
    std::string repoId;
    std::string file;            // the file being fetched now
    uint64_t bytesDone = 0;      // of bytesTotal; bytes already in the cache count as done
    uint64_t bytesTotal = 0;     // of every selected file
    double bytesPerSecond = 0;   // network rate, smoothed over the last seconds
    double secondsLeft = -1;     // -1 until a rate is known
    size_t filesDone = 0;
    size_t filesTotal = 0;
};
using PullProgressCallback = std::function<void(const PullProgress&)>;

struct PullOptions {
    std::string revision = "main";     // branch, tag or commit
    std::vector<std::string> include;  // shell globs; when given, exactly the matching files (no architecture check)
    bool allowUnsupported = false;     // fetch even an architecture grym-synth cannot run
    uint64_t reserveFreeBytes = 0;     // disk space to leave free beyond the download itself
    PullProgressCallback progress;     // called on the pulling thread, at most about ten times a second
    std::function<bool()> cancelled;   // polled often; true stops the pull (partial files are kept)
};

struct PullResult {
    std::string repoId;
    std::string revision;
    std::string commit;
    std::filesystem::path snapshotFolder;
    std::vector<std::string> files;    // repo-relative paths in the snapshot
    uint64_t bytesTotal = 0;           // size of those files
    uint64_t bytesDownloaded = 0;      // fetched over the network by this pull
    size_t filesDownloaded = 0;
    bool fromCacheOnly = false;        // offline, or the Hub unreachable and the snapshot already there
    ModelSupport support;
};

struct HubClientOptions {
    HttpOptions http;
    RetryPolicy retry;
};

class HubClient {
public:
    explicit HubClient(HubEnvironment environment, HubClientOptions options = {});

    const HubEnvironment& environment() const { return environment_; }
    const HubCache& cache() const { return cache_; }

    // The repo API answer for `revision` (retried on network errors and 5xx).
    RepoInfo fetchRepoInfo(const std::string& repoId, const std::string& revision,
                           const std::function<bool()>& cancelled = {});

    // Downloads what is missing and returns the snapshot. Throws HubError (see hub_error.h).
    PullResult pull(const std::string& repoId, const PullOptions& options = {});

private:
    PullResult answerFromCache(const std::string& repoId, const std::string& revision, const std::filesystem::path& snapshot);
    RepoFile withKnownEtag(const std::string& repoId, const std::string& commit, RepoFile file);

    HubEnvironment environment_;
    HubClientOptions options_;
    HubCache cache_;
    HttpClient http_;
    HubUrls urls_;
};

}  // namespace grym::hub
