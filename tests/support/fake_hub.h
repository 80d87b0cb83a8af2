#pragma once
// A loopback server that answers like the Hugging Face Hub, for the hub client's tests:
//   GET  /api/models/{repo}/revision/{rev}?blobs=true   commit, siblings (size, blobId, lfs.sha256)
//   GET|HEAD /{repo}/resolve/{rev}/{path}               small files: 200 with ETag = git blob id;
//                                                        LFS files: 302 to the blob store, with
//                                                        X-Linked-Etag, X-Linked-Size, X-Repo-Commit
//   a second server (another port, like the Hub's CDN) serves LFS blobs by sha256, with Range.
// Gated repos answer 401 + X-Error-Code GatedRepo unless "Authorization: Bearer <token>"
// matches; unknown repos 404 + RepoNotFound. Faults (a dropped connection, corrupt bytes, 5xx,
// slow serving) and counters (requests, bytes sent, Range headers) let tests prove resume and
// caching. Hashes are computed here with OpenSSL's one-shot EVP_Digest, independently of the
// client's incremental ContentDigest.
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace grym::test {

// Hashes as the Hub publishes them, computed with OpenSSL's one-shot EVP_Digest.
std::string sha256Hex(const std::string& content);
std::string gitBlobIdHex(const std::string& content);

struct FakeRepoFile {
    std::string path;
    std::string content;
    bool lfs = false;
    std::string sha256;  // of content
    std::string gitOid;  // git blob id of content
};

struct FakeRepo {
    std::string id;
    std::string commit;
    std::string requiredToken;  // non-empty: gated
    std::vector<FakeRepoFile> files;
    const FakeRepoFile* find(const std::string& path) const;
};

// What the servers saw for one file (keyed by repo path).
struct FakeFileStats {
    size_t requests = 0;
    uint64_t bytesSent = 0;
    std::vector<std::string> ranges;  // the Range header of every GET ("" when none)
    std::vector<uint64_t> bytesPerRequest;  // body bytes sent for each of those GETs
};

class FakeHub {
public:
    FakeHub();
    ~FakeHub();
    FakeHub(const FakeHub&) = delete;
    FakeHub& operator=(const FakeHub&) = delete;

    std::string endpoint() const;  // http://127.0.0.1:<port>

    // Files ending .safetensors/.bin/.onnx/.msgpack/.h5/.ckpt/.pt or over 64 KiB are LFS files.
    FakeRepo& addRepo(const std::string& id, const std::map<std::string, std::string>& files);
    FakeRepo& addRepoFromFolder(const std::string& id, const std::filesystem::path& folder);
    void setGated(const std::string& id, const std::string& token);

    // The next `times` GETs of `path` send `bytes` of the body, then close the connection.
    void dropConnectionAfter(const std::string& path, uint64_t bytes, int times = 1);
    // Every GET of `path` sends the content with one byte changed (the listing keeps the true hash).
    void corrupt(const std::string& path);
    // The next `times` GETs of `path` answer `status`.
    void failWith(const std::string& path, int status, int times);
    // Bodies of `path` are sent in `chunk`-byte pieces with `pause` between them.
    void throttle(const std::string& path, size_t chunk, std::chrono::milliseconds pause);

    FakeFileStats stats(const std::string& path) const;
    size_t apiRequests() const { return apiRequests_; }
    size_t resolveRequests() const { return resolveRequests_; }
    size_t storeRequests() const { return storeRequests_; }
    size_t authorizationHeadersAtStore() const { return storeAuthorizations_; }
    void resetCounters();

private:
    struct Faults {
        uint64_t dropAfter = 0;
        int dropTimes = 0;
        bool corrupt = false;
        int failStatus = 0;
        int failTimes = 0;
        size_t chunk = 0;
        std::chrono::milliseconds pause{0};
    };

    const FakeRepo* findRepo(const std::string& id) const;
    // The repo a request names, or null after answering 404 (repo, revision) or 401 (gated).
    const FakeRepo* repoForRequest(const httplib::Request& req, httplib::Response& res) const;
    bool refuseUnauthorised(const FakeRepo& repo, const httplib::Request& req, httplib::Response& res) const;
    void serveApi(const httplib::Request& req, httplib::Response& res);
    void serveResolve(const httplib::Request& req, httplib::Response& res);
    void serveStore(const httplib::Request& req, httplib::Response& res);
    void serveContent(const FakeRepoFile& file, const httplib::Request& req, httplib::Response& res);

    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<FakeRepo>> repos_;
    std::map<std::string, Faults> faults_;
    std::map<std::string, FakeFileStats> stats_;
    // Counters of the responses in flight, so a response still sending after resetCounters()
    // counts only toward its own request.
    std::map<std::string, std::vector<std::shared_ptr<uint64_t>>> responseBytes_;
    std::atomic<size_t> apiRequests_{0}, resolveRequests_{0}, storeRequests_{0}, storeAuthorizations_{0};
    httplib::Server hub_, store_;
    int hubPort_ = 0, storePort_ = 0;
    std::thread hubThread_, storeThread_;
};

}  // namespace grym::test
