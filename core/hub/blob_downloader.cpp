#include "hub/blob_downloader.h"

#include "hub/cache_files.h"
#include "hub/content_digest.h"
#include "hub/hub_error.h"
#include "platform/file_lock.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <system_error>

namespace fs = std::filesystem;

namespace grym::hub {

namespace {

struct FileCloser {
    void operator()(std::FILE* file) const {
        if (file) std::fclose(file);
    }
};

// How a finished download proves it is the file the Hub published.
struct ExpectedDigest {
    DigestAlgorithm algorithm = DigestAlgorithm::Sha256;
    std::string hex;           // empty: only the size can be checked
    std::string prefix;        // bytes hashed before the content (git's "blob <size>\0")
    const char* name = "sha256";
};

ExpectedDigest expectedDigestFor(const BlobRequest& request) {
    ExpectedDigest expected;
    if (request.file.inLfs()) {
        expected.hex = request.file.lfsSha256;
    } else if (!request.file.blobId.empty()) {
        expected.algorithm = DigestAlgorithm::Sha1;
        expected.hex = request.file.blobId;
        expected.prefix = "blob " + std::to_string(request.file.size);
        expected.prefix.push_back('\0');
        expected.name = "git blob id";
    } else if (isHexDigest(request.etag, 64)) {
        expected.hex = request.etag;  // an LFS ETag is the content's sha256
    }
    return expected;
}

uint64_t fileSizeOrZero(const fs::path& path) {
    std::error_code ec;
    uint64_t size = fs::file_size(path, ec);
    return ec ? 0 : size;
}

// The blob's lock file, waited for; the platform's errors said as the Hub client's.
FileLock lockBlob(const fs::path& lockFile, const std::function<bool()>& cancelled) {
    try {
        return FileLock(lockFile, cancelled);
    } catch (const std::system_error& e) {
        if (e.code() == std::errc::operation_canceled)
            throw HubError(HubErrorKind::Cancelled,
                           "cancelled while waiting for another download of the same file (" + lockFile.string() + ")");
        throw HubError(HubErrorKind::Cache, e.what());
    }
}

}  // namespace

BlobDownloader::BlobDownloader(HttpClient& http, const HubCache& cache, HubUrls urls, std::string token, RetryPolicy retry)
    : http_(http), cache_(cache), urls_(std::move(urls)), token_(std::move(token)), retry_(retry) {}

uint64_t BlobDownloader::ensureBlob(const BlobRequest& request, const std::function<bool()>& cancelled,
                                    const std::function<void(uint64_t, bool)>& onBytes) {
    const std::string& path = request.file.path;
    const uint64_t size = request.file.size;
    fs::path blob = cache_.blobPath(request.repoId, request.etag);
    // Complete already (another pull finished it meanwhile): all of it counts as done, or a pull
    // that waited for another's download ended with its progress short of its total
    // (hub_concurrency_test.cpp).
    const auto alreadyComplete = [&] {
        if (onBytes) onBytes(size, false);
        return uint64_t{0};
    };
    std::error_code ec;
    if (fs::exists(blob, ec)) return alreadyComplete();

    fs::create_directories(blob.parent_path(), ec);
    // Another process (or window) may be writing the same blob: wait for it, then look again.
    const FileLock lock = lockBlob(cache_.lockPath(request.repoId, request.etag), cancelled);
    if (fs::exists(blob, ec)) return alreadyComplete();

    fs::path partial = cache_.incompletePath(request.repoId, request.etag);
    uint64_t offset = fileSizeOrZero(partial);
    if (offset > size) {  // not a prefix of this file: start over
        fs::remove(partial, ec);
        offset = 0;
    }
    ExpectedDigest expected = expectedDigestFor(request);
    ContentDigest digest(expected.algorithm);
    auto restartDigest = [&] {
        digest.reset();
        digest.update(expected.prefix);
    };
    restartDigest();
    if (offset > 0) {
        digestFilePrefix(partial, offset, digest);
        if (onBytes) onBytes(offset, false);
    }

    RequestSubject subject{urls_.endpoint, request.repoId, request.commit, path, !token_.empty()};
    std::string url = urls_.resolve(http_, request.repoId, request.commit, path);
    uint64_t fetched = 0;
    int attempt = 0;
    std::string lastProblem;
    // An empty file needs no request: the loop is skipped and the empty partial file is verified.
    if (size == 0) std::ofstream(partial, std::ios::binary | std::ios::app).close();
    while (offset < size) {
        ++attempt;
        if (attempt > retry_.maxAttempts)
            throw HubError(HubErrorKind::Network, "could not download " + path + " of " + request.repoId + " after " +
                                                      std::to_string(retry_.maxAttempts) + " attempts (" + lastProblem +
                                                      "); " + std::to_string(offset) + " of " + std::to_string(size) +
                                                      " bytes are kept and the next pull resumes from there");
        if (attempt > 1) waitBeforeRetry(retry_, attempt, cancelled);

        std::unique_ptr<std::FILE, FileCloser> out(openFile(partial, "ab"));
        if (!out) throw HubError(HubErrorKind::Cache, "cannot write " + partial.string() + ": " + std::strerror(errno));
        bool diskFull = false;
        std::string writeError;
        HubErrorKind writeErrorKind = HubErrorKind::Cache;
        bool rangeMismatch = false;
        const uint64_t offsetBefore = offset;

        HttpRequest get;
        get.url = url;
        get.bearerToken = token_;
        get.rangeStart = offset;
        auto onStart = [&](const HttpHop& hop) {
            // 200 instead of 206: the server sent the whole file, so the partial one goes.
            if (offset > 0 && hop.status == 200) {
                std::fflush(out.get());
                fs::resize_file(partial, 0, ec);
                std::fseek(out.get(), 0, SEEK_SET);
                offset = 0;
                restartDigest();
            }
            // 206 must continue exactly where the partial file ends ("bytes START-END/TOTAL").
            if (hop.status == 206) {
                auto range = hop.headers.find("content-range");
                std::string expectedStart = "bytes " + std::to_string(offset) + "-";
                if (range == hop.headers.end() || range->second.rfind(expectedStart, 0) != 0) {
                    writeError = "the server answered the resume request with the wrong range (" +
                                 (range == hop.headers.end() ? std::string("none") : range->second) + ")";
                    writeErrorKind = HubErrorKind::Protocol;
                    rangeMismatch = true;
                }
            }
        };
        auto sink = [&](const char* data, size_t length) {
            if (rangeMismatch) return false;
            if (offset + length > size) {  // more than the Hub listed: refuse, never overgrow the blob
                writeError = "the server sent more than the " + std::to_string(size) + " bytes the Hub lists";
                writeErrorKind = HubErrorKind::Protocol;
                return false;
            }
            if (std::fwrite(data, 1, length, out.get()) != length) {
                diskFull = isDiskFullError(errno);
                writeError = std::strerror(errno);
                return false;
            }
            digest.update(data, length);
            offset += length;
            fetched += length;
            if (onBytes) onBytes(length, true);
            return true;
        };
        HttpResponse response = http_.perform(get, sink, cancelled, onStart);
        if (std::fclose(out.release()) != 0 && isDiskFullError(errno)) diskFull = true;

        if (diskFull)
            throw HubError(HubErrorKind::DiskFull, "the disk is full while writing " + path + " of " + request.repoId +
                                                       " to " + partial.string() + "; free some space and pull again to resume");
        if (response.transport == HttpResponse::Transport::Cancelled)
            throw HubError(HubErrorKind::Cancelled, "download of " + path + " cancelled; " + std::to_string(offset) +
                                                        " of " + std::to_string(size) + " bytes are kept for a resume");
        if (response.transport == HttpResponse::Transport::SinkRefused)
            throw HubError(writeErrorKind, "cannot store " + path + " of " + request.repoId + ": " + writeError);
        if (offset > offsetBefore) attempt = 0;  // progress was made: the retry budget starts over
        if (response.transport == HttpResponse::Transport::Failed) {
            lastProblem = response.transportError;
            continue;
        }
        if (response.status == 416) {  // our offset is past what the server has: start over
            fs::resize_file(partial, 0, ec);
            offset = 0;
            restartDigest();
            lastProblem = "HTTP 416 for a resumed range";
            continue;
        }
        if (isRetriableStatus(response.status)) {
            lastProblem = "HTTP " + std::to_string(response.status);
            continue;
        }
        if (response.status < 200 || response.status >= 300) throwForResponse(response, subject);
        if (offset < size) lastProblem = "the connection closed early";
    }

    std::string actual = digest.finishHex();
    if (!expected.hex.empty() && actual != expected.hex) {
        fs::remove(partial, ec);
        throw HubError(HubErrorKind::ChecksumMismatch,
                       "the download of " + path + " of " + request.repoId + " is corrupt: its " + expected.name + " is " +
                           actual + " but the Hub published " + expected.hex +
                           "; the damaged file was deleted, run the pull again");
    }
    fs::rename(partial, blob, ec);
    if (ec) throw HubError(HubErrorKind::Cache, "cannot move " + partial.string() + " into place: " + ec.message());
    return fetched;
}

}  // namespace grym::hub
