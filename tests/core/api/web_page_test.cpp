// The browser page HttpServer serves at / (web/, compiled in), and the variation route it uses.
#include "api/audio_api.h"
#include "api/http_server.h"
#include "api/web_assets.h"
#include "support/fake_services.h"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <regex>
#include <set>
#include <thread>

using namespace grym;

namespace {

struct PageServer {
    AudioApi api{quietConfig()};
    std::unique_ptr<HttpServer> server;
    int port = 0;

    explicit PageServer(std::string token = {}) {
        api.addService(std::make_shared<test::FakeGenerationService>());
        api.addService(std::make_shared<test::FakeAnalysisService>());
        HttpServerConfig config;
        config.port = 0;
        config.token = std::move(token);
        server = std::make_unique<HttpServer>(api, config);
        port = server->start();
    }
    static AudioApiConfig quietConfig() {
        AudioApiConfig c;
        c.sampleMemory = false;
        return c;
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(30, 0);
        return c;
    }
};

std::string mediaTypeOf(const httplib::Result& r) {
    const std::string type = r->get_header_value("Content-Type");
    return type.substr(0, type.find(';'));
}

nlohmann::json finishedTask(httplib::Client& c, uint64_t id) {
    for (int i = 0; i < 2000; ++i) {
        auto r = c.Get(("/v1/tasks/" + std::to_string(id)).c_str());
        REQUIRE(r);
        auto j = nlohmann::json::parse(r->body);
        const std::string state = j["state"];
        if (state == "succeeded" || state == "failed" || state == "cancelled") return j;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL("task " << id << " did not finish");
    return {};
}

uint64_t generateClip(httplib::Client& c, const std::string& body) {
    auto r = c.Post("/v1/generate", body, "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 202);
    const uint64_t id = nlohmann::json::parse(r->body)["id"];
    REQUIRE(finishedTask(c, id)["state"] == "succeeded");
    return id;
}

}  // namespace

TEST_CASE("http: GET / answers the embedded page as HTML", "[http][web]") {
    PageServer s;
    auto c = s.client();
    auto r = c.Get("/");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(mediaTypeOf(r) == "text/html");
    CHECK(r->body.find("<title>grym-synth</title>") != std::string::npos);
    // The same bytes as /index.html, and a policy that lets nothing load from other hosts.
    auto index = c.Get("/index.html");
    REQUIRE(index);
    CHECK(index->body == r->body);
    CHECK(r->get_header_value("Content-Security-Policy").find("default-src 'self'") != std::string::npos);
    CHECK(r->get_header_value("X-Content-Type-Options") == "nosniff");
}

TEST_CASE("http: every page file is served with its content type", "[http][web]") {
    PageServer s;
    auto c = s.client();
    const std::map<std::string, std::string> expected = {{"/index.html", "text/html"},
                                                         {"/app.js", "text/javascript"},
                                                         {"/style.css", "text/css"},
                                                         {"/favicon.svg", "image/svg+xml"}};
    std::set<std::string> served;
    for (const WebAsset& asset : webAssets()) served.insert(std::string(asset.path));
    for (const auto& [path, type] : expected) {
        INFO(path);
        CHECK(served.count(path) == 1);
        auto r = c.Get(path.c_str());
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(mediaTypeOf(r) == type);
        CHECK_FALSE(r->body.empty());
    }
    // Everything the page links to with a root-relative URL is one of the served files.
    const std::string html(c.Get("/")->body);
    const std::regex link(R"re((?:src|href)="(/[^"/][^"]*)")re");
    int links = 0;
    for (auto it = std::sregex_iterator(html.begin(), html.end(), link); it != std::sregex_iterator(); ++it) {
        INFO((*it)[1].str());
        CHECK(served.count((*it)[1].str()) == 1);
        ++links;
    }
    CHECK(links >= 3);
    // A path that is neither a page file nor a route answers the API's 404 JSON.
    auto missing = c.Get("/nothing-here.js");
    REQUIRE(missing);
    CHECK(missing->status == 404);
    CHECK(mediaTypeOf(missing) == "application/json");
    CHECK(nlohmann::json::parse(missing->body)["error"]["message"].get<std::string>().find("/v1/") != std::string::npos);
}

TEST_CASE("http: the page needs no token while the API keeps requiring it", "[http][web]") {
    PageServer s("secret-token");
    auto c = s.client();
    for (const char* path : {"/", "/app.js", "/style.css", "/favicon.svg"}) {
        INFO(path);
        auto r = c.Get(path);
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    auto refused = c.Get("/v1/status");
    REQUIRE(refused);
    CHECK(refused->status == 401);
    auto refusedPost = c.Post("/v1/generate", R"({"prompt":"x"})", "application/json");
    REQUIRE(refusedPost);
    CHECK(refusedPost->status == 401);
    auto allowed = c.Get("/v1/status", httplib::Headers{{"Authorization", "Bearer secret-token"}});
    REQUIRE(allowed);
    CHECK(allowed->status == 200);
}

TEST_CASE("http: POST /v1/tasks/{id}/variation varies a finished clip with its settings", "[http][web]") {
    PageServer s;
    auto c = s.client();
    const uint64_t source = generateClip(c, R"({"prompt":"rain on a tin roof","duration":0.5,"steps":3,"seed":7})");

    auto r = c.Post(("/v1/tasks/" + std::to_string(source) + "/variation").c_str(), R"({"strength":0.4})",
                    "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 202);
    const uint64_t id = nlohmann::json::parse(r->body)["id"];
    const auto task = finishedTask(c, id);
    CHECK(task["state"] == "succeeded");
    CHECK(task["kind"] == "variation");
    CHECK(task["request"]["prompt"] == "rain on a tin roof");
    CHECK(task["request"]["steps"] == 3);
    CHECK(task["request"]["strength"] == Approx(0.4));
    CHECK_FALSE(task["request"].contains("seed"));  // a fresh seed, not the source's
    CHECK(task["audio"]["duration"].get<double>() > 0.0);

    SECTION("the body's fields replace the clip's") {
        auto again = c.Post(("/v1/tasks/" + std::to_string(source) + "/variation").c_str(),
                            R"({"prompt":"rain on a car roof","seed":11})", "application/json");
        REQUIRE(again);
        REQUIRE(again->status == 202);
        const auto other = finishedTask(c, nlohmann::json::parse(again->body)["id"]);
        CHECK(other["request"]["prompt"] == "rain on a car roof");
        CHECK(other["request"]["seed"] == 11);
        CHECK(other["request"]["strength"] == Approx(0.5));
    }
    SECTION("a bad strength names the field") {
        auto bad = c.Post(("/v1/tasks/" + std::to_string(source) + "/variation").c_str(), R"({"strength":3})",
                          "application/json");
        REQUIRE(bad);
        CHECK(bad->status == 400);
        CHECK(nlohmann::json::parse(bad->body)["error"]["field"] == "strength");
    }
    SECTION("an unknown field is refused by name") {
        auto bad = c.Post(("/v1/tasks/" + std::to_string(source) + "/variation").c_str(), R"({"colour":"blue"})",
                          "application/json");
        REQUIRE(bad);
        CHECK(bad->status == 400);
        CHECK(nlohmann::json::parse(bad->body)["error"]["field"] == "colour");
    }
    SECTION("a task without audio cannot be varied") {
        auto none = c.Post("/v1/tasks/999999/variation", "{}", "application/json");
        REQUIRE(none);
        CHECK(none->status == 404);
    }
}
