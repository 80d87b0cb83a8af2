#pragma once
// The local HTTP/JSON API over AudioApi (cpp-httplib). Loopback only by default; binding to
// any other address requires a token. See openApiDocument() for the routes.
#include "api/model_locations.h"
#include "api/request_guard.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace grym {

class AudioApi;

struct HttpServerConfig {
    std::string host = "127.0.0.1";
    int port = 8765;                           // 0: any free port (see HttpServer::port())
    std::string token;                         // required as "Authorization: Bearer TOKEN" when set
    std::vector<std::string> allowedOrigins;   // web origins that may call the API (CORS); none by default
    size_t maxBodyBytes = 64ull * 1024 * 1024; // uploads and JSON bodies
    size_t maxActiveTasks = 16;                // API tasks queued or running at once
    int threads = 8;                           // connection handler threads
    ModelLocations models;                     // what GET /v1/models lists (the services' own folders)
};

class HttpServer {
public:
    // Throws ApiError when the configuration is unsafe (non-loopback without a token).
    HttpServer(AudioApi& api, HttpServerConfig config);
    ~HttpServer();  // stops
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and serves on a background thread; returns the bound port. Throws ApiError if the
    // address cannot be bound.
    int start();
    void stop();
    bool running() const;
    int port() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The OpenAPI 3 description served at /v1/openapi.json.
nlohmann::json openApiDocument();

}  // namespace grym
