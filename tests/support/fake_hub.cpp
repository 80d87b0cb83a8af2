#include "fake_hub.h"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <fstream>
#include <optional>
#include <sstream>

namespace fs = std::filesystem;

namespace grym::test {

namespace {

std::string hexDigest(const EVP_MD* md, const std::string& data) {
    unsigned char bytes[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), bytes, &length, md, nullptr);
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
        char pair[3];
        std::snprintf(pair, sizeof pair, "%02x", bytes[i]);
        hex += pair;
    }
    return hex;
}

bool storedInLfs(const std::string& path, size_t size) {
    for (const char* ext : {".safetensors", ".bin", ".onnx", ".msgpack", ".h5", ".ckpt", ".pt"}) {
        std::string e(ext);
        if (path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0) return true;
    }
    return size > 64 * 1024;
}

void startServer(httplib::Server& server, int& port, std::thread& thread) {
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([&server] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

}  // namespace

std::string sha256Hex(const std::string& content) { return hexDigest(EVP_sha256(), content); }

std::string gitBlobIdHex(const std::string& content) {
    return hexDigest(EVP_sha1(), "blob " + std::to_string(content.size()) + std::string(1, '\0') + content);
}

const FakeRepoFile* FakeRepo::find(const std::string& path) const {
    for (const FakeRepoFile& file : files)
        if (file.path == path) return &file;
    return nullptr;
}

FakeHub::FakeHub() {
    hub_.Get(R"(/api/models/([^/]+)/([^/]+)/revision/(.+))",
             [this](const httplib::Request& req, httplib::Response& res) { serveApi(req, res); });
    hub_.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))",
             [this](const httplib::Request& req, httplib::Response& res) { serveResolve(req, res); });
    store_.Get(R"(/lfs-store/([0-9a-f]{64}))",
               [this](const httplib::Request& req, httplib::Response& res) { serveStore(req, res); });
    startServer(hub_, hubPort_, hubThread_);
    startServer(store_, storePort_, storeThread_);
}

FakeHub::~FakeHub() {
    hub_.stop();
    store_.stop();
    hubThread_.join();
    storeThread_.join();
}

std::string FakeHub::endpoint() const { return "http://127.0.0.1:" + std::to_string(hubPort_); }

FakeRepo& FakeHub::addRepo(const std::string& id, const std::map<std::string, std::string>& files) {
    auto repo = std::make_unique<FakeRepo>();
    repo->id = id;
    std::string listing;
    for (const auto& [path, content] : files) {
        FakeRepoFile file;
        file.path = path;
        file.content = content;
        file.lfs = storedInLfs(path, content.size());
        file.sha256 = sha256Hex(content);
        file.gitOid = gitBlobIdHex(content);
        listing += path + " " + file.sha256 + "\n";
        repo->files.push_back(std::move(file));
    }
    repo->commit = hexDigest(EVP_sha1(), id + "\n" + listing);
    std::lock_guard<std::mutex> lock(mutex_);
    FakeRepo& stored = *repo;
    repos_[id] = std::move(repo);
    return stored;
}

FakeRepo& FakeHub::addRepoFromFolder(const std::string& id, const fs::path& folder) {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(folder)) {
        if (!entry.is_regular_file()) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::ostringstream content;
        content << in.rdbuf();
        files[fs::relative(entry.path(), folder).generic_string()] = content.str();
    }
    return addRepo(id, files);
}

void FakeHub::setGated(const std::string& id, const std::string& token) {
    std::lock_guard<std::mutex> lock(mutex_);
    repos_.at(id)->requiredToken = token;
}

void FakeHub::dropConnectionAfter(const std::string& path, uint64_t bytes, int times) {
    std::lock_guard<std::mutex> lock(mutex_);
    faults_[path].dropAfter = bytes;
    faults_[path].dropTimes = times;
}

void FakeHub::corrupt(const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    faults_[path].corrupt = true;
}

void FakeHub::failWith(const std::string& path, int status, int times) {
    std::lock_guard<std::mutex> lock(mutex_);
    faults_[path].failStatus = status;
    faults_[path].failTimes = times;
}

void FakeHub::throttle(const std::string& path, size_t chunk, std::chrono::milliseconds pause) {
    std::lock_guard<std::mutex> lock(mutex_);
    faults_[path].chunk = chunk;
    faults_[path].pause = pause;
}

FakeFileStats FakeHub::stats(const std::string& path) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = stats_.find(path);
    FakeFileStats stats = it == stats_.end() ? FakeFileStats{} : it->second;
    auto counters = responseBytes_.find(path);
    if (counters != responseBytes_.end())
        for (const auto& counter : counters->second) stats.bytesPerRequest.push_back(*counter);
    return stats;
}

void FakeHub::resetCounters() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.clear();
    responseBytes_.clear();
    apiRequests_ = resolveRequests_ = storeRequests_ = storeAuthorizations_ = 0;
}

const FakeRepo* FakeHub::findRepo(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = repos_.find(id);
    return it == repos_.end() ? nullptr : it->second.get();
}

bool FakeHub::refuseUnauthorised(const FakeRepo& repo, const httplib::Request& req, httplib::Response& res) const {
    if (repo.requiredToken.empty() || req.get_header_value("Authorization") == "Bearer " + repo.requiredToken)
        return false;
    res.status = 401;
    res.set_header("X-Error-Code", "GatedRepo");
    res.set_header("X-Error-Message", "Access to model " + repo.id + " is restricted. You must be authenticated to access it.");
    return true;
}

const FakeRepo* FakeHub::repoForRequest(const httplib::Request& req, httplib::Response& res) const {
    const FakeRepo* repo = findRepo(req.matches[1].str() + "/" + req.matches[2].str());
    if (!repo) {
        res.status = 404;
        res.set_header("X-Error-Code", "RepoNotFound");
        res.set_header("X-Error-Message", "Repository not found");
        return nullptr;
    }
    if (refuseUnauthorised(*repo, req, res)) return nullptr;
    std::string revision = req.matches[3];
    if (revision != "main" && revision != repo->commit) {
        res.status = 404;
        res.set_header("X-Error-Code", "RevisionNotFound");
        res.set_header("X-Error-Message", "Invalid rev id: " + revision);
        return nullptr;
    }
    return repo;
}

void FakeHub::serveApi(const httplib::Request& req, httplib::Response& res) {
    ++apiRequests_;
    const FakeRepo* repo = repoForRequest(req, res);
    if (!repo) return;
    nlohmann::json siblings = nlohmann::json::array();
    for (const FakeRepoFile& file : repo->files) {
        nlohmann::json entry = {{"rfilename", file.path}, {"size", file.content.size()}, {"blobId", file.gitOid}};
        if (file.lfs) entry["lfs"] = {{"sha256", file.sha256}, {"size", file.content.size()}, {"pointerSize", 134}};
        siblings.push_back(entry);
    }
    nlohmann::json body = {{"id", repo->id}, {"sha", repo->commit}, {"private", false},
                           {"gated", repo->requiredToken.empty() ? nlohmann::json(false) : nlohmann::json("manual")},
                           {"siblings", siblings}};
    res.set_content(body.dump(), "application/json");
}

void FakeHub::serveResolve(const httplib::Request& req, httplib::Response& res) {
    ++resolveRequests_;
    const FakeRepo* repo = repoForRequest(req, res);
    if (!repo) return;
    const FakeRepoFile* file = repo->find(req.matches[4]);
    if (!file) {
        res.status = 404;
        res.set_header("X-Error-Code", "EntryNotFound");
        return;
    }
    res.set_header("X-Repo-Commit", repo->commit);
    if (file->lfs) {
        res.status = 302;
        res.set_header("Location", "http://127.0.0.1:" + std::to_string(storePort_) + "/lfs-store/" + file->sha256);
        res.set_header("X-Linked-Etag", "\"" + file->sha256 + "\"");
        res.set_header("X-Linked-Size", std::to_string(file->content.size()));
        res.set_header("ETag", "\"" + file->gitOid + "\"");
        return;
    }
    res.set_header("ETag", "\"" + file->gitOid + "\"");
    serveContent(*file, req, res);
}

void FakeHub::serveStore(const httplib::Request& req, httplib::Response& res) {
    ++storeRequests_;
    if (req.has_header("Authorization")) ++storeAuthorizations_;
    std::string sha = req.matches[1];
    std::optional<FakeRepoFile> found;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& entry : repos_)
            for (const FakeRepoFile& file : entry.second->files)
                if (file.lfs && file.sha256 == sha) found = file;
    }
    if (found) serveContent(*found, req, res);
    else res.status = 404;
}

void FakeHub::serveContent(const FakeRepoFile& file, const httplib::Request& req, httplib::Response& res) {
    Faults faults;
    auto sentHere = std::make_shared<uint64_t>(0);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        Faults& stored = faults_[file.path];
        faults = stored;
        if (stored.dropTimes > 0) --stored.dropTimes;
        if (stored.failTimes > 0) --stored.failTimes;
        FakeFileStats& stats = stats_[file.path];
        ++stats.requests;
        stats.ranges.push_back(req.get_header_value("Range"));
        responseBytes_[file.path].push_back(sentHere);
    }
    if (faults.failTimes > 0) {
        res.status = faults.failStatus;
        return;
    }
    auto body = std::make_shared<std::string>(file.content);
    if (faults.corrupt && !body->empty()) (*body)[body->size() / 2] ^= 0x5a;
    uint64_t dropAt = faults.dropTimes > 0 ? faults.dropAfter : UINT64_MAX;
    std::string path = file.path;
    // httplib answers a Range request itself (206 + Content-Range) and asks this provider only
    // for the requested bytes; the provider decides how many to send before a drop.
    res.set_content_provider(body->size(), "application/octet-stream",
                             [this, body, dropAt, sentHere, faults, path](size_t offset, size_t length,
                                                                          httplib::DataSink& sink) {
                                 if (*sentHere > 0 && faults.pause.count() > 0) std::this_thread::sleep_for(faults.pause);
                                 size_t piece = faults.chunk ? std::min(faults.chunk, length) : length;
                                 bool drop = *sentHere + piece >= dropAt;
                                 if (drop) piece = static_cast<size_t>(dropAt - *sentHere);
                                 if (piece > 0 && !sink.write(body->data() + offset, piece)) return false;
                                 {
                                     std::lock_guard<std::mutex> lock(mutex_);
                                     *sentHere += piece;
                                     stats_[path].bytesSent += piece;
                                 }
                                 return !drop;
                             });
}

}  // namespace grym::test
