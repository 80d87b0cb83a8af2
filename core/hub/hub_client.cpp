#include "hub/hub_client.h"

#include "hub/content_digest.h"
#include "hub/file_selection.h"
#include "hub/hub_error.h"
#include "hub/cache_files.h"

#include <algorithm>
#include <chrono>
#include <fstream>

namespace fs = std::filesystem;

namespace grym::hub {

namespace {

using Clock = std::chrono::steady_clock;

// Turns byte counts into PullProgress reports: a rate smoothed over a few seconds (so a stall
// shows quickly but one slow packet does not), the time left from it, and at most ten reports
// a second.
class ProgressMeter {
public:
    ProgressMeter(const PullProgressCallback& callback, std::string repoId, uint64_t bytesTotal, size_t filesTotal)
        : callback_(callback) {
        state_.repoId = std::move(repoId);
        state_.bytesTotal = bytesTotal;
        state_.filesTotal = filesTotal;
        windowStart_ = lastReport_ = Clock::now();
    }

    void startFile(const std::string& file) {
        state_.file = file;
        report(true);
    }
    void alreadyPresent(uint64_t bytes) { advance(bytes, false); }
    void received(uint64_t bytes) { advance(bytes, true); }
    void finishFile() {
        ++state_.filesDone;
        report(true);
    }

private:
    void advance(uint64_t bytes, bool overNetwork) {
        state_.bytesDone = std::min(state_.bytesTotal, state_.bytesDone + bytes);
        auto now = Clock::now();
        if (overNetwork) {
            if (windowBytes_ == 0 && state_.bytesPerSecond == 0) windowStart_ = now;  // the rate starts with the first byte
            windowBytes_ += bytes;
        }
        double windowSeconds = std::chrono::duration<double>(now - windowStart_).count();
        if (windowBytes_ > 0 && windowSeconds >= 0.1 && (state_.bytesPerSecond == 0 || windowSeconds >= 0.5)) {
            double sample = windowBytes_ / windowSeconds;
            state_.bytesPerSecond = state_.bytesPerSecond > 0 ? 0.7 * state_.bytesPerSecond + 0.3 * sample : sample;
            windowBytes_ = 0;
            windowStart_ = now;
        }
        if (state_.bytesPerSecond > 0)
            state_.secondsLeft = static_cast<double>(state_.bytesTotal - state_.bytesDone) / state_.bytesPerSecond;
        report(false);
    }
    void report(bool always) {
        auto now = Clock::now();
        if (!callback_ || (!always && now - lastReport_ < std::chrono::milliseconds(100))) return;
        lastReport_ = now;
        callback_(state_);
    }

    const PullProgressCallback& callback_;
    PullProgress state_;
    Clock::time_point windowStart_;
    Clock::time_point lastReport_;
    uint64_t windowBytes_ = 0;
};

nlohmann::json readJsonFile(const fs::path& path, const std::string& repoId) {
    std::ifstream in(path);
    nlohmann::json json = nlohmann::json::parse(in, nullptr, false);
    if (json.is_discarded())
        throw HubError(HubErrorKind::Protocol, path.filename().string() + " of " + repoId + " is not valid JSON");
    return json;
}

bool sameCacheBlobExists(const HubCache& cache, const std::string& repoId, const std::string& etag) {
    std::error_code ec;
    return fs::exists(cache.blobPath(repoId, etag), ec);
}

uint64_t partialBytes(const HubCache& cache, const std::string& repoId, const std::string& etag) {
    std::error_code ec;
    uint64_t size = fs::file_size(cache.incompletePath(repoId, etag), ec);
    return ec ? 0 : size;
}

std::string formatBytes(uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f GB", bytes / 1e9);
    return text;
}

}  // namespace

HubClient::HubClient(HubEnvironment environment, HubClientOptions options)
    : environment_(std::move(environment)),
      options_(std::move(options)),
      cache_(environment_.cacheDirectory),
      http_(options_.http),
      urls_{environment_.endpoint} {}

RepoInfo HubClient::fetchRepoInfo(const std::string& repoId, const std::string& revision,
                                  const std::function<bool()>& cancelled) {
    validateRepoId(repoId);
    validateRevision(revision);
    if (environment_.offline)
        throw HubError(HubErrorKind::Offline, "HF_HUB_OFFLINE is set, so the Hub is not asked about " + repoId);
    HttpRequest request;
    request.url = urls_.repoInfo(http_, repoId, revision);
    request.bearerToken = environment_.token;
    request.extraHeaders = {"Accept: application/json"};
    RequestSubject subject{environment_.endpoint, repoId, revision, "", !environment_.token.empty()};
    std::string lastProblem;
    for (int attempt = 1; attempt <= options_.retry.maxAttempts; ++attempt) {
        if (attempt > 1) waitBeforeRetry(options_.retry, attempt, cancelled);
        std::string body;
        HttpResponse response = http_.get(request, body, cancelled);
        if (response.transport == HttpResponse::Transport::Cancelled)
            throw HubError(HubErrorKind::Cancelled, "cancelled while asking the Hub about " + repoId);
        if (response.transport != HttpResponse::Transport::Completed) {
            lastProblem = response.transportError;
            continue;
        }
        if (isRetriableStatus(response.status)) {
            lastProblem = "HTTP " + std::to_string(response.status);
            continue;
        }
        if (response.status != 200) throwForResponse(response, subject);
        nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
        if (json.is_discarded())
            throw HubError(HubErrorKind::Protocol, "the Hub's answer about " + repoId + " is not JSON (from " + request.url + ")");
        return parseRepoInfo(repoId, json);
    }
    throw HubError(HubErrorKind::Network, "cannot reach the Hub at " + environment_.endpoint + " to look up " + repoId +
                                              " (" + lastProblem + "); check the network, or a proxy in HTTPS_PROXY");
}

RepoFile HubClient::withKnownEtag(const std::string& repoId, const std::string& commit, RepoFile file) {
    if (!file.etag().empty()) return file;
    // An API answer without blob ids: ask the file itself, as huggingface_hub does, with a HEAD
    // that stops at the Hub's redirect (which carries X-Linked-Etag / X-Linked-Size).
    HttpRequest head;
    head.url = urls_.resolve(http_, repoId, commit, file.path);
    head.bearerToken = environment_.token;
    head.headOnly = true;
    head.followRedirects = false;
    HttpResponse response = http_.perform(head, {});
    if (response.transport != HttpResponse::Transport::Completed)
        throw HubError(HubErrorKind::Network, "cannot reach the Hub for " + file.path + " of " + repoId + ": " +
                                                  response.transportError);
    if (response.status >= 400)
        throwForResponse(response, {environment_.endpoint, repoId, commit, file.path, !environment_.token.empty()});
    std::string etag = normalizeEtag(response.header("X-Linked-Etag"));
    if (etag.empty()) etag = normalizeEtag(response.header("ETag"));
    if (etag.empty() || etag.find('/') != std::string::npos || etag.find("..") != std::string::npos)
        throw HubError(HubErrorKind::Protocol, "the Hub sent no usable ETag for " + file.path + " of " + repoId);
    if (isHexDigest(etag, 64)) file.lfsSha256 = etag;
    else file.blobId = isHexDigest(etag, 40) ? etag : std::string();
    std::string size = response.header("X-Linked-Size");
    if (size.empty()) size = response.header("Content-Length");
    if (!size.empty()) file.size = std::stoull(size);
    if (file.etag().empty()) file.blobId = etag;  // an opaque ETag still names the blob, without a hash check
    return file;
}

PullResult HubClient::answerFromCache(const std::string& repoId, const std::string& revision, const fs::path& snapshot) {
    PullResult result;
    result.repoId = repoId;
    result.revision = revision;
    result.commit = snapshot.filename().string();
    result.snapshotFolder = snapshot;
    result.files = snapshotFiles(snapshot);
    std::error_code ec;
    for (const std::string& file : result.files) result.bytesTotal += fs::file_size(snapshot / file, ec);
    result.fromCacheOnly = true;
    result.support = assessModelFolder(snapshot);
    return result;
}

PullResult HubClient::pull(const std::string& repoId, const PullOptions& options) {
    validateRepoId(repoId);
    validateRevision(options.revision);
    const std::string& revision = options.revision;
    if (environment_.offline) {
        if (auto snapshot = cache_.snapshotFor(repoId, revision)) return answerFromCache(repoId, revision, *snapshot);
        throw HubError(HubErrorKind::Offline, "HF_HUB_OFFLINE is set and " + repoId + " (revision " + revision +
                                                  ") is not in the Hugging Face cache " + cache_.directory().string() +
                                                  "; unset HF_HUB_OFFLINE to download it");
    }

    RepoInfo info;
    try {
        info = fetchRepoInfo(repoId, revision, options.cancelled);
    } catch (const HubError& error) {
        // No network, but the revision is already here: use it, as huggingface_hub does.
        if (error.kind() != HubErrorKind::Network) throw;
        if (auto snapshot = cache_.snapshotFor(repoId, revision)) return answerFromCache(repoId, revision, *snapshot);
        throw;
    }

    PullResult result;
    result.repoId = repoId;
    result.revision = revision;
    result.commit = info.commit;
    result.snapshotFolder = cache_.snapshotFolder(repoId, info.commit);
    BlobDownloader downloader(http_, cache_, urls_, environment_.token, options_.retry);

    // Fetches one file into the snapshot; returns the bytes that came over the network.
    auto fetchFile = [&](const RepoFile& listed, ProgressMeter* meter) {
        RepoFile file = withKnownEtag(repoId, info.commit, listed);
        std::string etag = file.etag();
        if (meter) meter->startFile(file.path);
        uint64_t fetched = 0;
        if (sameCacheBlobExists(cache_, repoId, etag)) {
            if (meter) meter->alreadyPresent(file.size);
        } else {
            fetched = downloader.ensureBlob({repoId, info.commit, file, etag}, options.cancelled,
                                          [&](uint64_t bytes, bool fromNetwork) {
                                              if (!meter) return;
                                              if (fromNetwork) meter->received(bytes);
                                              else meter->alreadyPresent(bytes);
                                          });
            if (fetched > 0) ++result.filesDownloaded;
            result.bytesDownloaded += fetched;
        }
        cache_.linkSnapshotFile(repoId, info.commit, file.path, etag);
        if (meter) meter->finishFile();
        return fetched;
    };
    auto listedFile = [&](const std::string& path) -> const RepoFile& {
        const RepoFile* file = info.find(path);
        if (!file) throw HubError(HubErrorKind::EntryNotFound, repoId + " does not list the file " + path);
        return *file;
    };

    std::vector<std::string> selection;
    if (!options.include.empty()) {
        selection = selectIncludedFiles(info.paths(), options.include);
    } else {
        // The small config first: it says what the repo is before any weights are fetched.
        const char* configName = info.find("model_index.json") ? "model_index.json"
                                 : info.find("config.json")    ? "config.json"
                                                               : nullptr;
        if (!configName)
            throw HubError(HubErrorKind::Unsupported,
                           repoId + " is neither a diffusers pipeline (model_index.json) nor a transformers model "
                                    "(config.json); choose files with --include to download it anyway");
        fetchFile(listedFile(configName), nullptr);
        nlohmann::json config = readJsonFile(result.snapshotFolder / configName, repoId);
        bool isPipeline = std::string(configName) == "model_index.json";
        result.support = isPipeline ? assessDiffusersPipeline(config) : assessTransformersModel(config);
        if (!result.support.supported && !options.allowUnsupported)
            throw HubError(HubErrorKind::Unsupported, "grym-synth cannot run " + repoId + ": " + result.support.reason +
                                                          ". Nothing beyond " + configName + " was downloaded.");
        selection = isPipeline ? selectPipelineFiles(info.paths(), config) : selectTransformersFiles(info.paths());
    }

    std::vector<const RepoFile*> files;
    uint64_t stillNeeded = 0;
    for (const std::string& path : selection) {
        const RepoFile& file = listedFile(path);
        files.push_back(&file);
        result.bytesTotal += file.size;
        std::string etag = file.etag();
        if (etag.empty() || !sameCacheBlobExists(cache_, repoId, etag))
            stillNeeded += file.size - std::min(file.size, etag.empty() ? 0 : partialBytes(cache_, repoId, etag));
    }
    fs::path blobs = cache_.blobsFolder(repoId);
    std::error_code ec;
    fs::create_directories(blobs, ec);
    if (ec) throw HubError(HubErrorKind::Cache, "cannot create " + blobs.string() + ": " + ec.message());
    uint64_t available = availableDiskBytes(blobs);
    if (stillNeeded > 0 && available < stillNeeded + options.reserveFreeBytes)
        throw HubError(HubErrorKind::DiskFull,
                       repoId + " needs " + formatBytes(stillNeeded) + " more in " + cache_.directory().string() +
                           (options.reserveFreeBytes ? " (keeping " + formatBytes(options.reserveFreeBytes) + " free)" : "") +
                           " but only " + formatBytes(available) +
                           " is free; free some space or point HF_HUB_CACHE at a larger disk");

    ProgressMeter meter(options.progress, repoId, result.bytesTotal, files.size());
    for (const RepoFile* file : files) fetchFile(*file, &meter);

    // Only a complete snapshot is named by the ref, so an interrupted pull never makes an
    // offline lookup of `revision` land on a half-filled folder.
    cache_.writeRef(repoId, revision, info.commit);
    result.files = selection;
    if (result.support.architecture.empty() && result.support.reason.empty())
        result.support = assessModelFolder(result.snapshotFolder);
    return result;
}

}  // namespace grym::hub
