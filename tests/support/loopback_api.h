#pragma once
// An AudioApi with the fake generation and analysis services behind an HttpServer on a free
// loopback port: the fixture of the HTTP API tests.
#include "api/audio_api.h"
#include "api/http_server.h"
#include "support/fake_services.h"

#include <httplib.h>

#include <chrono>
#include <memory>

namespace grym::test {

struct LoopbackApi {
    AudioApi api;
    std::unique_ptr<HttpServer> server;
    int port = 0;

    // `stepMillis`: how long each of the fake generator's steps takes.
    explicit LoopbackApi(HttpServerConfig config = {}, int stepMillis = 1) : api(makeConfig()) {
        api.addService(std::make_shared<FakeGenerationService>(std::chrono::milliseconds(stepMillis)));
        api.addService(std::make_shared<FakeAnalysisService>());
        config.port = 0;
        server = std::make_unique<HttpServer>(api, config);
        port = server->start();
    }
    static AudioApiConfig makeConfig() {
        AudioApiConfig c;
        c.sampleMemory = false;
        c.queue.maxQueuedTasks = 256;
        c.limits.minGenerateSeconds = 0.01;  // the fake generator makes tiny clips quickly
        return c;
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(30, 0);
        return c;
    }
};

}  // namespace grym::test
