// The HTTP server's request handling from many threads at once: clients submitting, polling,
// streaming events, downloading and cancelling together; the task limit under a burst of
// submissions; and stopping the server while requests and event streams are in flight. The fake
// services run no model, so these also build with -fsanitize=thread into test_http_tsan
// (tests/CMakeLists.txt), where any data race fails them.
#include "api/audio_api.h"
#include "api/http_server.h"
#include "support/fake_services.h"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace grym;

namespace {

// An AudioApi with the fake services behind an HttpServer on a free loopback port. The
// generation service is kept so a test can make its tasks run until cancelled.
struct ConcurrentServer {
    std::shared_ptr<test::FakeGenerationService> generator =
        std::make_shared<test::FakeGenerationService>(std::chrono::milliseconds(1));
    AudioApi api;
    std::unique_ptr<HttpServer> server;
    int port = 0;

    explicit ConcurrentServer(HttpServerConfig config = {}, bool tasksRunUntilCancelled = false) : api(apiConfig()) {
        generator->waitForCancel = tasksRunUntilCancelled;  // set before any task can read it
        api.addService(generator);
        api.addService(std::make_shared<test::FakeAnalysisService>());
        config.port = 0;
        server = std::make_unique<HttpServer>(api, config);
        port = server->start();
        // cpp-httplib's client builds a function-local static regex on its first response; in
        // Debian's uninstrumented libcpp-httplib TSan cannot see that initialisation's guard, so
        // client threads that start together would be reported racing on it. One request from
        // this thread first makes the initialisation happen before they exist.
        client().Get("/v1/status");
    }
    static AudioApiConfig apiConfig() {
        AudioApiConfig c;
        c.sampleMemory = false;
        c.queue.maxQueuedTasks = 256;
        c.limits.minGenerateSeconds = 0.01;
        return c;
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", port);
        c.set_connection_timeout(5, 0);
        c.set_read_timeout(30, 0);
        return c;
    }
    size_t unfinishedTasks() const {
        size_t n = 0;
        for (const ApiTaskRecord& record : api.tasks()) n += isFinished(record.handle.state()) ? 0 : 1;
        return n;
    }
};

// Lets a group of threads start their requests at the same moment.
class StartLine {
public:
    explicit StartLine(int runners) : waiting_(runners) {}
    void arriveAndWait() {
        std::unique_lock<std::mutex> lock(mutex_);
        if (--waiting_ == 0) all_.notify_all();
        all_.wait(lock, [&] { return waiting_ == 0; });
    }

private:
    std::mutex mutex_;
    std::condition_variable all_;
    int waiting_;
};

std::string describe(const httplib::Result& r) {
    return r ? std::to_string(r->status) + " " + r->body : "no answer (" + httplib::to_string(r.error()) + ")";
}

std::string taskPath(uint64_t id, const std::string& tail = "") { return "/v1/tasks/" + std::to_string(id) + tail; }

}  // namespace

TEST_CASE("HTTP concurrency: 8 clients submit, poll, stream events, download and cancel at once, and every "
          "answer is whole",
          "[http][concurrency]") {
    ConcurrentServer f;
    test::RunLog failures;  // what went wrong on the client threads (Catch asserts on this one only)
    std::atomic<int> succeeded{0}, cancelled{0}, streamed{0};
    const int clients = 8, rounds = 4;
    StartLine start(clients);
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t) {
        threads.emplace_back([&, t] {
            auto c = f.client();
            start.arriveAndWait();
            for (int round = 0; round < rounds; ++round) {
                const std::string prompt = "client " + std::to_string(t) + " round " + std::to_string(round);
                auto submitted = c.Post("/v1/generate",
                                        R"({"prompt":")" + prompt + R"(","steps":4,"duration":0.05,"seed":)" +
                                            std::to_string(t * 100 + round) + "}",
                                        "application/json");
                if (!submitted || submitted->status != 202) return failures.add("generate: " + describe(submitted));
                const uint64_t id = nlohmann::json::parse(submitted->body)["id"];
                if (round % 3 == 2) {  // changed our mind: cancel it (it may have finished already)
                    auto d = c.Delete(taskPath(id).c_str());
                    if (!d || d->status != 200) failures.add("cancel: " + describe(d));
                }
                if (t % 2 == 0) {  // half the clients follow the task's event stream to its end
                    auto events = c.Get(taskPath(id, "/events").c_str());
                    if (!events || events->status != 200 || events->body.find("event: done") == std::string::npos)
                        failures.add("events: " + describe(events));
                    else
                        ++streamed;
                }
                std::string state;
                for (int poll = 0; poll < 2000; ++poll) {  // the others (and the streamers, to confirm) poll
                    auto status = c.Get(taskPath(id).c_str());
                    if (!status || status->status != 200) return failures.add("status: " + describe(status));
                    const auto task = nlohmann::json::parse(status->body);
                    state = task["state"];
                    if (state == "succeeded" && task["request"]["prompt"] != prompt)
                        failures.add("task " + std::to_string(id) + " answered with another request: " + status->body);
                    if (state == "succeeded" || state == "failed" || state == "cancelled") break;
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                }
                if (state == "succeeded") {
                    ++succeeded;
                    auto audio = c.Get(taskPath(id, "/audio").c_str());
                    if (!audio || audio->status != 200 || audio->body.compare(0, 4, "RIFF") != 0)
                        failures.add("audio: " + describe(audio));
                } else if (state == "cancelled") {
                    ++cancelled;
                } else {
                    failures.add("task " + std::to_string(id) + " ended " + state);
                }
                auto list = c.Get("/v1/tasks");
                auto service = c.Get("/v1/status");
                if (!list || list->status != 200) failures.add("list: " + describe(list));
                if (!service || service->status != 200) failures.add("service status: " + describe(service));
            }
        });
    }
    for (auto& thread : threads) thread.join();

    for (const std::string& failure : failures.labels()) FAIL_CHECK(failure);
    CHECK(succeeded + cancelled == clients * rounds);
    CHECK(streamed == clients / 2 * rounds);
    CHECK(succeeded >= clients * (rounds - 1));  // only the cancelled round may be lost
}

TEST_CASE("HTTP concurrency: a burst of generate requests never admits more tasks than the limit",
          "[http][concurrency]") {
    HttpServerConfig config;
    config.maxActiveTasks = 4;
    ConcurrentServer f(config, /*tasksRunUntilCancelled=*/true);
    const int clients = 16;
    StartLine start(clients);
    std::atomic<int> admitted{0}, refused{0};
    test::RunLog failures;  // what went wrong on the client threads (Catch asserts on this one only)
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t) {
        threads.emplace_back([&] {
            auto c = f.client();
            start.arriveAndWait();
            // On a loaded machine a few of 16 simultaneous connections were closed before any
            // answer came (httplib's client reports "Read"); such a request is sent again. It may
            // have been admitted already, so only the server's count below is exact.
            const auto submit = [&] {
                return c.Post("/v1/generate", R"({"prompt":"burst","steps":4,"duration":0.05})", "application/json");
            };
            httplib::Result r = submit();
            for (int attempt = 1; attempt < 3 && !r; ++attempt) r = submit();
            if (r && r->status == 202) ++admitted;
            else if (r && r->status == 429) ++refused;
            else failures.add("generate: " + describe(r));
        });
    }
    for (auto& thread : threads) thread.join();

    for (const std::string& failure : failures.labels()) FAIL_CHECK(failure);
    CHECK(f.unfinishedTasks() == 4);  // none of the tasks can finish: exactly the limit got in
    CHECK(admitted <= 4);
    CHECK(admitted + refused == clients);
}

TEST_CASE("HTTP concurrency: stopping the server while event streams and polls are in flight returns promptly",
          "[http][concurrency]") {
    ConcurrentServer f({}, /*tasksRunUntilCancelled=*/true);
    std::vector<uint64_t> ids;
    {
        auto c = f.client();
        for (int i = 0; i < 3; ++i) {
            auto r = c.Post("/v1/generate", R"({"prompt":"endless","steps":4,"duration":0.05})", "application/json");
            REQUIRE(r);
            REQUIRE(r->status == 202);
            ids.push_back(nlohmann::json::parse(r->body)["id"]);
        }
    }
    // Streams of tasks that never finish, and clients polling until the server goes away.
    std::atomic<int> streamsOpen{0}, pollsAnswered{0};
    std::atomic<bool> stopped{false};
    std::vector<std::thread> threads;
    for (uint64_t id : ids) {
        threads.emplace_back([&, id] {
            httplib::Client c("127.0.0.1", f.port);
            c.set_read_timeout(60, 0);
            bool counted = false;
            c.Get(taskPath(id, "/events").c_str(), [&](const char*, size_t) {
                if (!counted) ++streamsOpen;
                counted = true;
                return true;
            });
        });
    }
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&, t] {
            auto c = f.client();
            c.set_read_timeout(5, 0);
            while (!stopped) {
                auto r = c.Get(t == 0 ? "/v1/status" : taskPath(ids[t]).c_str());
                if (!r) break;  // the server stopped under us: that is allowed
                ++pollsAnswered;
            }
        });
    }
    REQUIRE(test::eventually([&] { return streamsOpen == 3 && pollsAnswered > 10; }));

    const auto before = std::chrono::steady_clock::now();
    f.server->stop();
    const auto took = std::chrono::steady_clock::now() - before;
    stopped = true;
    for (auto& thread : threads) thread.join();

    CHECK_FALSE(f.server->running());
    // httplib closes idle keep-alive connections after their 5 s timeout at most; the streams
    // must not hold the server open on top of that.
    CHECK(took < std::chrono::seconds(8));
    auto c = f.client();
    CHECK_FALSE(c.Get("/v1/status"));
    CHECK(f.unfinishedTasks() == 3);  // stopping the server is not cancelling the work
}

TEST_CASE("HTTP concurrency: a client that leaves the event stream of an unfinished task frees its handler thread",
          "[http][concurrency]") {
    HttpServerConfig config;
    config.threads = 1;  // the stream's handler is the only one: nothing else is answered while it is held
    ConcurrentServer f(config, /*tasksRunUntilCancelled=*/true);
    auto c = f.client();
    // The first task runs until cancelled, so the second waits in the queue: its stream goes on
    // (its queued seconds change) until the handler finds the client gone.
    std::vector<uint64_t> ids;
    for (int i = 0; i < 2; ++i) {
        auto submitted = c.Post("/v1/generate", R"({"prompt":"endless","steps":4,"duration":0.05})", "application/json");
        REQUIRE(submitted);
        REQUIRE(submitted->status == 202);
        ids.push_back(nlohmann::json::parse(submitted->body)["id"]);
    }
    {
        httplib::Client leaving("127.0.0.1", f.port);
        std::string firstEvent;
        leaving.Get(taskPath(ids[1], "/events").c_str(), [&](const char* data, size_t size) {
            firstEvent.assign(data, size);
            return false;  // the client goes away after the first event
        });
        CHECK_THAT(firstEvent, Catch::Contains("\"state\":\"queued\""));
    }

    const auto before = std::chrono::steady_clock::now();
    auto status = c.Get("/v1/status");
    const auto waited = std::chrono::steady_clock::now() - before;

    REQUIRE(status);
    CHECK(status->status == 200);
    // The stream's next writes (every 200 ms) find the client gone; the first may still succeed.
    CHECK(waited < std::chrono::seconds(5));
    CHECK(f.unfinishedTasks() == 2);
}
