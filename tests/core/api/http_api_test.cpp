#include "api/audio_api.h"
#include "api/clip_provenance.h"
#include "api/http_server.h"
#include "api/installed_services.h"
#include "audio/audio_file.h"
#include "support/loopback_api.h"
#include "support/memory_growth.h"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace grym;
namespace fs = std::filesystem;

namespace {

using ApiFixture = test::LoopbackApi;

nlohmann::json body(const httplib::Result& r) { return nlohmann::json::parse(r->body); }

std::string wavBytes(double seconds) {
    AudioBuffer a;
    a.sampleRate = 16000;
    a.channels = 1;
    a.samples.assign(static_cast<size_t>(seconds * a.sampleRate), 0.1f);
    const auto path = fs::temp_directory_path() / "grym_http_upload.wav";
    saveAudioFile(path.string(), a);
    std::ifstream in(path, std::ios::binary);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

nlohmann::json waitForTask(httplib::Client& c, uint64_t id) {
    for (int i = 0; i < 1000; ++i) {
        auto r = c.Get(("/v1/tasks/" + std::to_string(id)).c_str());
        REQUIRE(r);
        auto j = body(r);
        const std::string state = j["state"];
        if (state == "succeeded" || state == "failed" || state == "cancelled") return j;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL("task did not finish");
    return {};
}


}  // namespace

TEST_CASE("HTTP: generate, poll, download the audio", "[http]") {
    ApiFixture f;
    auto c = f.client();
    auto r = c.Post("/v1/generate", R"({"prompt":"a bell","duration":0.25,"steps":3,"seed":1})", "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 202);
    const uint64_t id = body(r)["id"];
    auto done = waitForTask(c, id);
    CHECK(done["state"] == "succeeded");
    CHECK(done["audio"]["duration"].get<double>() == Approx(0.25));

    for (std::string format : {"wav", "flac"}) {
        auto audio = c.Get(("/v1/tasks/" + std::to_string(id) + "/audio?format=" + format).c_str());
        REQUIRE(audio);
        REQUIRE(audio->status == 200);
        const auto path = fs::temp_directory_path() / ("grym_http_download." + format);
        std::ofstream(path, std::ios::binary) << audio->body;
        AudioBuffer back = loadAudioFile(path.string());
        CHECK(back.frames() == 4000);
        CHECK(back.sampleRate == 16000);
        // The download carries the request's settings inside the file.
        const auto settings = readProvenance(path.string());
        REQUIRE(settings);
        CHECK(settings->prompt == "a bell");
        CHECK(settings->seed == 1);
        CHECK(settings->steps == 3);
        CHECK(settings->modelId == "audioldm");
    }
}

TEST_CASE("HTTP: variations become one task each with consecutive seeds", "[http]") {
    ApiFixture f;
    auto c = f.client();
    auto r = c.Post("/v1/generate", R"({"prompt":"a bell","duration":0.25,"steps":2,"seed":40,"variations":3})",
                    "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 202);
    const auto ids = body(r)["ids"];
    REQUIRE(ids.size() == 3);
    CHECK(body(r)["id"] == ids[0]);
    for (size_t i = 0; i < ids.size(); ++i) {
        auto done = waitForTask(c, ids[i].get<uint64_t>());
        CHECK(done["state"] == "succeeded");
        CHECK(done["request"]["seed"] == 40 + static_cast<int>(i));
    }
}

TEST_CASE("HTTP: analyze an upload, status, openapi and progress events", "[http]") {
    ApiFixture f;
    auto c = f.client();
    auto r = c.Post("/v1/analyze", wavBytes(0.5), "audio/wav");
    REQUIRE(r);
    REQUIRE(r->status == 202);
    auto done = waitForTask(c, body(r)["id"]);
    CHECK(done["state"] == "succeeded");
    CHECK(done["result"]["features"]["duration"].get<double>() == Approx(0.5));

    httplib::MultipartFormDataItems items = {{"file", wavBytes(0.25), "clip.wav", "audio/wav"}};
    auto m = c.Post("/v1/analyze", items);
    REQUIRE(m);
    CHECK(m->status == 202);

    auto s = c.Get("/v1/status");
    REQUIRE(s);
    CHECK(s->status == 200);
    CHECK(body(s).contains("memory"));
    CHECK(body(s)["wav2vec2"]["status"] == "ready");

    auto o = c.Get("/v1/openapi.json");
    REQUIRE(o);
    CHECK(body(o)["paths"].contains("/v1/generate"));

    auto g = c.Post("/v1/generate", R"({"prompt":"x","steps":5,"duration":0.1})", "application/json");
    const uint64_t id = body(g)["id"];
    auto events = c.Get(("/v1/tasks/" + std::to_string(id) + "/events").c_str());
    REQUIRE(events);
    CHECK_THAT(events->body, Catch::Contains("event: done"));
}

TEST_CASE("HTTP: cancel a running task", "[http]") {
    ApiFixture f({}, 20);
    auto c = f.client();
    auto r = c.Post("/v1/generate", R"({"prompt":"slow","steps":400,"duration":0.1})", "application/json");
    const uint64_t id = body(r)["id"];
    auto d = c.Delete(("/v1/tasks/" + std::to_string(id)).c_str());
    REQUIRE(d);
    CHECK(d->status == 200);
    CHECK(waitForTask(c, id)["state"] == "cancelled");
    auto audio = c.Get(("/v1/tasks/" + std::to_string(id) + "/audio").c_str());
    CHECK(audio->status == 409);
}

TEST_CASE("HTTP: bad requests answer 4xx with an error naming the cause", "[http]") {
    HttpServerConfig cfg;
    cfg.maxBodyBytes = 64 * 1024;
    ApiFixture f(cfg);
    auto c = f.client();
    auto expect = [](const httplib::Result& r, int status, const std::string& field) {
        REQUIRE(r);
        CHECK(r->status == status);
        auto j = nlohmann::json::parse(r->body);
        CHECK(j["error"]["message"].is_string());
        if (!field.empty()) CHECK(j["error"]["field"] == field);
    };
    expect(c.Post("/v1/generate", "{not json", "application/json"), 400, "body");
    expect(c.Post("/v1/generate", R"({"prompt": 5})", "application/json"), 400, "prompt");
    expect(c.Post("/v1/generate", R"({"prompt": "a", "steps": "many"})", "application/json"), 400, "steps");
    expect(c.Post("/v1/generate", R"({"prompt": "a", "volume": 11})", "application/json"), 400, "volume");
    expect(c.Post("/v1/analyze", "this is not audio at all", "application/octet-stream"), 422, "file");
    expect(c.Post("/v1/analyze", "", "application/octet-stream"), 400, "file");
    expect(c.Post("/v1/analyze", std::string(200 * 1024, 'x'), "application/octet-stream"), 413, "");
    expect(c.Get("/v1/tasks/999999"), 404, "id");
    expect(c.Get("/v1/tasks/abc"), 400, "id");
    expect(c.Get("/v1/nothing"), 404, "");
}

TEST_CASE("HTTP: a token is required when set, and non-loopback binding needs one", "[http]") {
    HttpServerConfig cfg;
    cfg.token = "s3cret";
    ApiFixture f(cfg);
    auto c = f.client();
    auto denied = c.Get("/v1/status");
    REQUIRE(denied);
    CHECK(denied->status == 401);
    c.set_bearer_token_auth("s3cret");
    auto ok = c.Get("/v1/status");
    REQUIRE(ok);
    CHECK(ok->status == 200);

    AudioApi api(ApiFixture::makeConfig());
    HttpServerConfig open;
    open.host = "0.0.0.0";
    CHECK_THROWS_WITH(HttpServer(api, open), Catch::Contains("without a token"));
    CHECK(isLoopbackAddress("127.0.0.1"));
    CHECK_FALSE(isLoopbackAddress("192.168.1.4"));
}

TEST_CASE("HTTP: a client that disconnects mid-stream does not break the server", "[http]") {
    ApiFixture f({}, 20);
    {
        httplib::Client c("127.0.0.1", f.port);
        c.set_read_timeout(0, 100000);  // give up on the event stream after 100 ms
        auto r = c.Post("/v1/generate", R"({"prompt":"slow","steps":20,"duration":0.1})", "application/json");
        const uint64_t id = body(r)["id"];
        c.Get(("/v1/tasks/" + std::to_string(id) + "/events").c_str());
    }
    auto c = f.client();
    auto s = c.Get("/v1/status");
    REQUIRE(s);
    CHECK(s->status == 200);
}

TEST_CASE("HTTP: 200 requests from 8 concurrent clients all succeed without memory growth", "[http][load]") {
    HttpServerConfig cfg;
    cfg.maxActiveTasks = 256;  // a round submits 128 tasks: none may be turned away
    ApiFixture f(cfg);
    const std::string upload = wavBytes(0.1);
    auto round = [&](int perClient) {
        std::atomic<int> failures{0};
        std::vector<std::thread> clients;
        for (int t = 0; t < 8; ++t) {
            clients.emplace_back([&, t] {
                auto c = f.client();
                for (int i = 0; i < perClient; ++i) {
                    httplib::Result r = (i % 3 == 0) ? c.Get("/v1/status")
                                        : (i % 3 == 1)
                                            ? c.Post("/v1/generate", R"({"prompt":"tick","steps":1,"duration":0.05})", "application/json")
                                            : c.Post("/v1/analyze", upload, "audio/wav");
                    if (!r || (r->status != 200 && r->status != 202)) {
                        ++failures;
                        if (!r) WARN("request " << i << ": no answer (" << httplib::to_string(r.error()) << ")");
                        else WARN("request " << i << ": " << r->status << " " << r->body);
                    }
                }
            });
        }
        for (auto& th : clients) th.join();
        // Let the queue drain.
        for (int i = 0; i < 500 && (f.api.queue().queuedCount() || f.api.queue().runningCount()); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return failures.load();
    };
    CHECK(round(25) == 0);  // warm-up: 200 requests
    const uint64_t before = test::residentBytes();
    CHECK(round(25) == 0);  // measured: 200 more
    // Finished tasks are remembered up to a fixed bound, so memory must settle, not grow per request.
    CHECK(test::residentGrowthWithin(before, 32ull * 1024 * 1024));
}

TEST_CASE("HTTP: the installed services analyse with a real (tiny) wav2vec2 model, and DSP-only without one", "[http][installed]") {
    const fs::path empty = fs::temp_directory_path() / ("grym_no_models_" + std::to_string(::getpid()));
    fs::create_directories(empty);
    for (const bool withModel : {false, true}) {
        CAPTURE(withModel);
        AudioApi api(ApiFixture::makeConfig());
        ModelLocations locations;
        locations.root = empty.string();
        if (withModel) locations.wav2vec2 = std::string(GRYM_TEST_DATA_DIR) + "/golden/wav2vec2_base";
        addInstalledServices(api, locations);
        HttpServerConfig config;
        config.port = 0;
        HttpServer server(api, config);
        httplib::Client c("127.0.0.1", server.start());
        c.set_read_timeout(60, 0);

        auto r = c.Post("/v1/analyze", wavBytes(1.0), "audio/wav");
        REQUIRE(r);
        REQUIRE(r->status == 202);
        auto done = waitForTask(c, body(r)["id"]);
        REQUIRE(done["state"] == "succeeded");
        const auto& features = done["result"]["features"];
        CHECK(features["duration_s"].get<double>() == Approx(1.0));
        CHECK(features.value("wav2vec2", nlohmann::json()).is_object() == withModel);
        if (withModel) CHECK(features["wav2vec2"]["frames"].get<int64_t>() > 0);

        auto s = c.Get("/v1/status");
        REQUIRE(s);
        CHECK(body(s)["wav2vec2"]["status"] == "ready");
        CHECK(body(s).contains("audioldm"));
    }
    fs::remove_all(empty);
}

TEST_CASE("HTTP: GET /v1/models lists the models folder's models, the folders the services use, and the recommended ones",
          "[http][installed]") {
    const fs::path scratch = fs::temp_directory_path() / ("grym_models_api_" + std::to_string(::getpid()));
    fs::remove_all(scratch);
    const fs::path models = scratch / "models", cache = scratch / "hf-cache";
    fs::create_directories(models / "wav2vec2");
    fs::create_directories(cache);
    const fs::path golden = fs::path(GRYM_TEST_DATA_DIR) / "golden" / "wav2vec2_base";
    for (const char* file : {"config.json", "model.safetensors", "preprocessor_config.json", "vocab.json"})
        fs::copy_file(golden / file, models / "wav2vec2" / file);

    AudioApi api(ApiFixture::makeConfig());
    HttpServerConfig config;
    config.port = 0;
    config.models.root = models.string();
    config.models.hubCache = cache.string();
    HttpServer server(api, config);
    httplib::Client c("127.0.0.1", server.start());
    auto r = c.Get("/v1/models");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    const auto answer = body(r);
    CHECK(answer["modelsFolder"] == models.string());
    CHECK(answer["hubCache"] == cache.string());
    REQUIRE(answer["models"].size() == 1);
    CHECK(answer["models"][0]["name"] == "wav2vec2");
    CHECK(answer["models"][0]["source"] == "models-folder");
    CHECK(answer["models"][0]["supported"].get<bool>());
    CHECK(answer["models"][0]["service"] == "wav2vec2");
    CHECK(answer["services"]["wav2vec2"]["folder"] == (models / "wav2vec2").string());
    CHECK(answer["services"]["audioldm"]["folder"] == (models / "audioldm").string());
    REQUIRE(answer["recommended"].size() >= 2);
    for (const auto& model : answer["recommended"]) CHECK_FALSE(model["installed"].get<bool>());
    CHECK(openApiDocument()["paths"].contains("/v1/models"));
    fs::remove_all(scratch);
}

TEST_CASE("HTTP: a cross-site simple POST, a foreign Host and a foreign Origin are refused and start nothing",
          "[http][security]") {
    HttpServerConfig cfg;
    cfg.allowedOrigins = {"http://localhost:3000"};
    ApiFixture f(cfg);
    auto c = f.client();
    const std::string generate = R"({"prompt":"a bell","duration":0.25,"steps":3,"seed":1})";

    auto plain = c.Post("/v1/generate", generate, "text/plain");
    REQUIRE(plain);
    CHECK(plain->status == 415);
    CHECK_THAT(body(plain)["error"]["message"].get<std::string>(), Catch::Contains("application/json"));

    auto foreign = c.Post("/v1/generate", httplib::Headers{{"Origin", "http://evil.example"}}, generate, "application/json");
    REQUIRE(foreign);
    CHECK(foreign->status == 403);
    CHECK_FALSE(foreign->has_header("Access-Control-Allow-Origin"));

    auto rebound = c.Get("/v1/status", httplib::Headers{{"Host", "evil.example:8765"}});
    REQUIRE(rebound);
    CHECK(rebound->status == 403);
    CHECK(f.api.tasks().empty());

    const std::string ownOrigin = "http://127.0.0.1:" + std::to_string(f.port);
    auto own = c.Post("/v1/generate", httplib::Headers{{"Origin", ownOrigin}}, generate, "application/json");
    REQUIRE(own);
    CHECK(own->status == 202);

    auto preflight = c.Options("/v1/generate", httplib::Headers{{"Origin", "http://localhost:3000"},
                                                                {"Access-Control-Request-Method", "POST"}});
    REQUIRE(preflight);
    CHECK(preflight->status == 204);
    CHECK(preflight->get_header_value("Access-Control-Allow-Origin") == "http://localhost:3000");
    CHECK_THAT(preflight->get_header_value("Access-Control-Allow-Headers"), Catch::Contains("Authorization"));
    auto refusedPreflight = c.Options("/v1/generate", httplib::Headers{{"Origin", "http://evil.example"}});
    REQUIRE(refusedPreflight);
    CHECK(refusedPreflight->status == 403);

    auto allowed = c.Get("/v1/status", httplib::Headers{{"Origin", "http://localhost:3000"}});
    REQUIRE(allowed);
    CHECK(allowed->status == 200);
    CHECK(allowed->get_header_value("Access-Control-Allow-Origin") == "http://localhost:3000");
}

TEST_CASE("HTTP: inpaint a range of a finished clip, continue it and ask for a loop", "[http][edit]") {
    ApiFixture f;
    auto c = f.client();
    auto first = c.Post("/v1/generate", R"({"prompt":"a bell","duration":1.0,"steps":2,"seed":1,"loop":true})",
                        "application/json");
    REQUIRE(first);
    REQUIRE(first->status == 202);
    const uint64_t source = body(first)["id"];
    auto done = waitForTask(c, source);
    REQUIRE(done["state"] == "succeeded");
    CHECK(done["request"]["loop"] == true);

    const std::string inpaint = R"({"prompt":"a gong","steps":2,"inpaint":)" + std::to_string(source) + R"(,"range":"0.25:0.5"})";
    auto edited = c.Post("/v1/generate", inpaint, "application/json");
    REQUIRE(edited);
    REQUIRE(edited->status == 202);
    auto editDone = waitForTask(c, body(edited)["id"]);
    CHECK(editDone["state"] == "succeeded");
    CHECK(editDone["kind"] == "inpaint");
    CHECK(editDone["request"]["range_start"] == 0.25);
    CHECK(editDone["request"]["range_end"] == 0.5);

    const std::string more = R"({"prompt":"a gong","steps":2,"duration":0.5,"continue":)" + std::to_string(source) + "}";
    auto continued = c.Post("/v1/generate", more, "application/json");
    REQUIRE(continued);
    REQUIRE(continued->status == 202);
    CHECK(waitForTask(c, body(continued)["id"])["kind"] == "continue");

    // Mistakes name the field.
    auto outside = c.Post("/v1/generate", R"({"prompt":"a gong","inpaint":)" + std::to_string(source) + R"(,"range":"0.5:3"})",
                          "application/json");
    REQUIRE(outside);
    CHECK(outside->status == 400);
    CHECK(body(outside)["error"]["field"] == "range");
    auto noRange = c.Post("/v1/generate", R"({"prompt":"a gong","inpaint":)" + std::to_string(source) + "}", "application/json");
    REQUIRE(noRange);
    CHECK(body(noRange)["error"]["field"] == "range");
    auto badRange = c.Post("/v1/generate", R"({"prompt":"a gong","inpaint":)" + std::to_string(source) + R"(,"range":"late"})",
                           "application/json");
    REQUIRE(badRange);
    CHECK(body(badRange)["error"]["field"] == "range");
    auto unknown = c.Post("/v1/generate", R"({"prompt":"a gong","continue":999999})", "application/json");
    REQUIRE(unknown);
    CHECK(unknown->status == 400);
    CHECK(body(unknown)["error"]["field"] == "continue");
    auto stray = c.Post("/v1/generate", R"({"prompt":"a gong","range":"0:1"})", "application/json");
    REQUIRE(stray);
    CHECK(body(stray)["error"]["field"] == "range");
}
