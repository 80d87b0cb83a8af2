// `grym-synth-cli serve`: the local HTTP API over the installed model services, until Ctrl+C.
#include "api/audio_api.h"
#include "api/http_server.h"
#include "api/installed_services.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/typed_options.h"

#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

namespace grym::cli {

namespace {

volatile std::sig_atomic_t stopRequested = 0;

void onSignal(int) { stopRequested = 1; }

struct ServeOptions {
    HttpServerConfig server;
    ModelLocations models;
    size_t maxBodyMiB = 0;  // 0: the server's default
};

int runServe(const ServeOptions& options) {
    HttpServerConfig config = options.server;
    config.models = options.models;
    if (options.maxBodyMiB > 0) config.maxBodyBytes = options.maxBodyMiB * 1024 * 1024;
    AudioApi api;
    for (const auto& line : addInstalledServices(api, options.models)) std::cerr << "serve: " << line << "\n";
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

}  // namespace

void addServeCommand(CommandLine& commandLine) {
    auto [command, options] = commandLine.addCommand<ServeOptions>(
        commandLine.program(), "serve", "the local HTTP API (see /v1/openapi.json); a token is required off loopback",
        runServe);
    HttpServerConfig& server = options.server;
    addTextOption(command, "--host", server.host, "address to listen on (default " + server.host + ")", "HOST");
    addWholeNumberOption<int>(command, "--port", server.port,
                              "port (default " + std::to_string(server.port) + "; 0: any free port)", 0, 65535);
    addTextOption(command, "--token", server.token, "required as 'Authorization: Bearer TOKEN'", "TOKEN");
    command
        .add_option("--allow-origin", server.allowedOrigins,
                    "a web origin (http://host:port) whose pages may call the API; repeatable (default: none, "
                    "only the API's own page)")
        ->type_name("ORIGIN");
    addWholeNumberOption(command, "--max-body-mb", options.maxBodyMiB,
                         "largest upload or JSON body in MiB (default " +
                             std::to_string(server.maxBodyBytes / (1024 * 1024)) + ")",
                         size_t{1});
    addWholeNumberOption(command, "--max-tasks", server.maxActiveTasks,
                         "API tasks queued or running at once (default " + std::to_string(server.maxActiveTasks) + ")",
                         size_t{1});
    addTextOption(command, "--models", options.models.root,
                  "models folder (default: $XDG_DATA_HOME/grym-synth/models)", "DIR");
    addTextOption(command, "--wav2vec2", options.models.wav2vec2, "wav2vec2 folder or HF repo id (default: MODELS/wav2vec2, else a cached facebook/wav2vec2-*)",
                  "DIR");
    addTextOption(command, "--audioldm", options.models.audioldm, "AudioLDM folder or HF repo id (default: MODELS/audioldm, else a cached cvssp/audioldm-*)",
                  "DIR");
}

}  // namespace grym::cli
