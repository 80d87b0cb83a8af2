#include "api/audio_api.h"
#include "api/http_server.h"
#include "api/installed_services.h"
#include "cli/commands.h"

#include <csignal>
#include <iostream>
#include <thread>

namespace grym::cli {

namespace {

volatile std::sig_atomic_t stopRequested = 0;

void onSignal(int) { stopRequested = 1; }

}  // namespace

int runServe(const Args& args) {
    HttpServerConfig config;
    ModelLocations models;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= args.size()) throw ApiError(a + " needs a value");
            return args[++i];
        };
        if (a == "--host") config.host = value();
        else if (a == "--port") config.port = std::stoi(value());
        else if (a == "--token") config.token = value();
        else if (a == "--max-body-mb") config.maxBodyBytes = std::stoull(value()) * 1024 * 1024;
        else if (a == "--max-tasks") config.maxActiveTasks = std::stoull(value());
        else if (a == "--models") models.root = value();
        else if (a == "--wav2vec2") models.wav2vec2 = value();
        else if (a == "--audioldm") models.audioldm = value();
        else if (a == "-h" || a == "--help") {
            std::cout << "usage: grym-synth-cli serve [--host 127.0.0.1] [--port 8765] [--token T]\n"
                         "                            [--models DIR] [--wav2vec2 DIR] [--audioldm DIR]\n"
                         "                            [--max-body-mb N] [--max-tasks N]\n"
                         "Serves the local HTTP API; see /v1/openapi.json. A token is required off loopback.\n";
            return 0;
        } else {
            std::cerr << "serve: unknown option '" << a << "'\n";
            return 2;
        }
    }
    AudioApi api;
    for (const auto& line : addInstalledServices(api, models)) std::cerr << "serve: " << line << "\n";
    HttpServer server(api, config);
    const int port = server.start();
    std::cout << "grym-synth API listening on http://" << config.host << ":" << port << "/v1/ (Ctrl+C stops)"
              << std::endl;
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    while (!stopRequested && server.running()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server.stop();
    return 0;
}

}  // namespace grym::cli
