#pragma once
// Puts one verified blob into the cache: blobs/<etag>, downloaded into blobs/<etag>.incomplete
// under the lock .locks/<repo>/<etag>.lock, resumed with a Range request after a dropped
// connection or a restart, retried with back-off, checked against the Hub's hash (sha256 for
// LFS files, the git blob id for the others) and only then renamed into place.
#include "hub/hub_cache.h"
#include "hub/hub_protocol.h"
#include "hub/http_client.h"
#include "hub/repo_info.h"

#include <cstdint>
#include <functional>
#include <string>

namespace grym::hub {

struct BlobRequest {
    std::string repoId;
    std::string commit;   // the file is fetched at this commit, so every file comes from one tree
    RepoFile file;        // path, size and hashes from the repo API
    std::string etag;     // the blob's name in the cache
};

class BlobDownloader {
public:
    BlobDownloader(HttpClient& http, const HubCache& cache, HubUrls urls, std::string token, RetryPolicy retry);

    // Returns the bytes fetched over the network (0 when the blob was already there).
    // `onBytes` is told about every chunk written (fromNetwork true), and once at the start
    // about the part of a partial file kept from before (fromNetwork false), so progress can
    // count resumed bytes as done without counting them in the download rate; about the whole
    // size (fromNetwork false) when another pull completed the blob first.
    // Throws HubError: Cancelled (the partial file stays for a resume), ChecksumMismatch (the
    // partial file is deleted), DiskFull, Network after the last retry, or the Hub's refusal.
    uint64_t ensureBlob(const BlobRequest& request, const std::function<bool()>& cancelled,
                        const std::function<void(uint64_t bytes, bool fromNetwork)>& onBytes);

private:
    HttpClient& http_;
    const HubCache& cache_;
    HubUrls urls_;
    std::string token_;
    RetryPolicy retry_;
};

}  // namespace grym::hub
