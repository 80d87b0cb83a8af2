// Several pulls at once, as the Model Manager runs them: each on its own thread, with progress
// read by another thread and cancellation asked for from a third. Built into test_core and, with
// -fsanitize=thread, into test_hub_tsan (tests/CMakeLists.txt), where any data race fails them.
#include "fake_hub.h"
#include "hub_test_support.h"

#include "hub/hub_error.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace grym;
using namespace grym::test;
namespace fs = std::filesystem;

namespace {

// A transformers-layout wav2vec2 repo whose weight file differs per repo (seed).
std::map<std::string, std::string> smallWav2vec2Repo(size_t weightBytes, unsigned seed) {
    return {{"config.json", R"({"model_type": "wav2vec2", "architectures": ["Wav2Vec2ForCTC"]})"},
            {"preprocessor_config.json", R"({"sampling_rate": 16000})"},
            {"vocab.json", R"({"<pad>": 0, "A": 1})"},
            {"model.safetensors", patternedBytes(weightBytes, seed)}};
}

// What a pulling thread reports, read by the test's thread while the pull runs (like a progress
// bar): the latest report, and how the pull ended.
class PullWatch {
public:
    void report(const hub::PullProgress& progress) {
        std::lock_guard<std::mutex> lock(mutex_);
        latest_ = progress;
        ++reports_;
        changed_.notify_all();
    }
    void finish(std::string failure, HubErrorKind kind = HubErrorKind::Protocol) {
        std::lock_guard<std::mutex> lock(mutex_);
        finished_ = true;
        failure_ = std::move(failure);
        kind_ = kind;
        changed_.notify_all();
    }
    // Waits until the pull has fetched more than `bytes` of model.safetensors, or has ended.
    bool waitForWeightBytes(uint64_t bytes, std::chrono::seconds timeout) {
        std::unique_lock<std::mutex> lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] {
            return finished_ || (latest_.file == "model.safetensors" && latest_.bytesDone > bytes);
        }) && !finished_;
    }
    hub::PullProgress latest() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return latest_;
    }
    bool finished() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return finished_;
    }
    size_t reports() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return reports_;
    }
    std::string failure() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return failure_;
    }
    HubErrorKind kind() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return kind_;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    hub::PullProgress latest_;
    size_t reports_ = 0;
    bool finished_ = false;
    std::string failure_;
    HubErrorKind kind_ = HubErrorKind::Protocol;
};

// Pulls `repo` on a new thread, reporting into `watch`; `cancel` stops it when set.
std::thread startPull(const FakeHubSession& session, const std::string& repo, PullWatch& watch,
                      std::atomic<bool>* cancel = nullptr) {
    return std::thread([&session, repo, &watch, cancel] {
        hub::PullOptions options;
        options.progress = [&watch](const hub::PullProgress& progress) { watch.report(progress); };
        if (cancel) options.cancelled = [cancel] { return cancel->load(); };
        try {
            session.newClient().pull(repo, options);
            watch.finish("");
        } catch (const HubError& error) {
            watch.finish(error.what(), error.kind());
        } catch (const std::exception& error) {
            watch.finish(error.what());
        }
    });
}

fs::path snapshotOf(const FakeHubSession& session, const FakeRepo& repo) {
    std::string folder = "models--" + repo.id;
    folder.replace(folder.find('/'), 1, "--");
    return session.scratch.path() / folder / "snapshots" / repo.commit;
}

}  // namespace

TEST_CASE("four pulls at once, two of them of the same repo, each arrive whole with their own progress",
          "[hub][concurrency]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    const size_t size = 1 << 20;
    const std::vector<std::string> ids = {"org/wav2vec2-a", "org/wav2vec2-b", "org/wav2vec2-c"};
    std::vector<const FakeRepo*> repos;
    for (unsigned i = 0; i < ids.size(); ++i) repos.push_back(&server.addRepo(ids[i], smallWav2vec2Repo(size, 11 + i)));
    server.throttle("model.safetensors", 64 << 10, std::chrono::milliseconds(2));

    std::vector<PullWatch> watches(4);
    std::vector<std::thread> pulls;
    for (size_t i = 0; i < watches.size(); ++i) pulls.push_back(startPull(session, ids[i % ids.size()], watches[i]));
    // Read the progress while the pulls write it, as a progress bar does.
    uint64_t lastSeen = 0;
    bool neverBackwards = true;
    while (!watches[1].finished()) {
        const uint64_t done = watches[1].latest().bytesDone;
        neverBackwards &= done >= lastSeen;
        lastSeen = done;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (auto& pull : pulls) pull.join();
    CHECK(neverBackwards);

    for (size_t i = 0; i < watches.size(); ++i) {
        INFO("pull " << i << " of " << ids[i % ids.size()]);
        CHECK(watches[i].failure().empty());
        const hub::PullProgress last = watches[i].latest();
        CHECK(last.repoId == ids[i % ids.size()]);
        CHECK(last.bytesDone == last.bytesTotal);
        CHECK(last.filesDone == last.filesTotal);
    }
    for (const FakeRepo* repo : repos) {
        INFO(repo->id);
        CHECK(readWholeFile(snapshotOf(session, *repo) / "model.safetensors") == repo->find("model.safetensors")->content);
    }
    // The two pulls of org/wav2vec2-a shared its blob through the lock file: fetched once.
    CHECK(server.stats("model.safetensors").bytesSent == size * ids.size());
}

TEST_CASE("a pull cancelled from another thread mid-download stops, the pull beside it goes on, and a "
          "resumed pull fetches only the rest",
          "[hub][concurrency]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    const size_t size = 4 << 20;
    const FakeRepo& cancelled = server.addRepo("org/cancelled", smallWav2vec2Repo(size, 21));
    const FakeRepo& other = server.addRepo("org/other", smallWav2vec2Repo(size / 4, 22));
    server.throttle("model.safetensors", 64 << 10, std::chrono::milliseconds(4));

    std::atomic<bool> cancel{false};
    PullWatch cancelledWatch, otherWatch;
    std::thread first = startPull(session, cancelled.id, cancelledWatch, &cancel);
    std::thread second = startPull(session, other.id, otherWatch);
    // Cancelled from this thread, as the GUI's Cancel button does, once a megabyte has arrived.
    const bool midway = cancelledWatch.waitForWeightBytes(1 << 20, std::chrono::seconds(120));
    cancel = true;
    first.join();
    second.join();

    REQUIRE(midway);
    CHECK(cancelledWatch.kind() == HubErrorKind::Cancelled);
    CHECK_THAT(cancelledWatch.failure(), Catch::Contains("model.safetensors"));
    CHECK(otherWatch.failure().empty());
    CHECK(readWholeFile(snapshotOf(session, other) / "model.safetensors") == other.find("model.safetensors")->content);
    const fs::path partial = session.scratch.path() / "models--org--cancelled" / "blobs" /
                             (cancelled.find("model.safetensors")->sha256 + ".incomplete");
    REQUIRE(fs::exists(partial));
    const uint64_t kept = fs::file_size(partial);
    CHECK(kept > 0);
    CHECK(kept < size);

    // The resumed pull runs on its own thread again and asks only for the rest.
    server.resetCounters();
    PullWatch resumedWatch;
    std::thread resumed = startPull(session, cancelled.id, resumedWatch);
    resumed.join();
    CHECK(resumedWatch.failure().empty());
    const FakeFileStats stats = server.stats("model.safetensors");
    REQUIRE(stats.ranges.size() == 1);
    CHECK(stats.ranges[0] == "bytes=" + std::to_string(kept) + "-");
    // Per request: the cancelled pull's response may still send its last throttled piece after
    // the counters were reset, which the file's total would count.
    REQUIRE(stats.bytesPerRequest.size() == 1);
    CHECK(stats.bytesPerRequest[0] == size - kept);
    CHECK(resumedWatch.latest().bytesDone == resumedWatch.latest().bytesTotal);
    CHECK(resumedWatch.latest().filesDone == resumedWatch.latest().filesTotal);
    CHECK(readWholeFile(snapshotOf(session, cancelled) / "model.safetensors") ==
          cancelled.find("model.safetensors")->content);
}
