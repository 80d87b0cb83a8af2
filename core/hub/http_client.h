#pragma once
// HTTP for the Hub client, through libcurl: TLS with the system's CA store, redirects (the Hub
// sends large files to another host), proxies from HTTPS_PROXY / http_proxy / NO_PROXY (libcurl
// reads them itself), connect and stalled-transfer timeouts, HTTP/2 over TLS where the server
// offers it. One HttpClient keeps one connection cache; use it from one thread at a time.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace grym::hub {

struct HttpOptions {
    std::chrono::seconds connectTimeout{10};
    // A transfer slower than this many bytes per second for `stallWindow` is abandoned (and retried).
    long stallBytesPerSecond = 1;
    std::chrono::seconds stallWindow{30};
    std::string userAgent;  // empty: "grym-synth/<version> libcurl/<version>"
};

struct HttpRequest {
    std::string url;
    std::string bearerToken;         // sent as Authorization; libcurl drops it on a redirect to another host
    bool headOnly = false;
    bool followRedirects = true;
    uint64_t rangeStart = 0;         // > 0: ask only for the bytes from this offset on
    std::vector<std::string> extraHeaders;  // "Name: value"
};

// One response in a redirect chain: its status and headers (names lowercased).
struct HttpHop {
    long status = 0;
    std::map<std::string, std::string> headers;
};

struct HttpResponse {
    // The outcome of the transfer itself, before any HTTP status is considered.
    enum class Transport { Completed, Failed, Cancelled, SinkRefused };
    Transport transport = Transport::Completed;
    std::string transportError;  // libcurl's description when Failed
    long status = 0;             // of the last response
    std::vector<HttpHop> hops;   // every response received, redirects first
    std::string effectiveUrl;
    std::string errorBody;       // the start of the body of a non-2xx final response

    // The header of the last response; empty when absent.
    std::string header(const std::string& name) const;
    // The first response in the chain that carries the header (the Hub puts X-Linked-Etag
    // and X-Repo-Commit on the redirect, not on the storage server's answer).
    std::string headerAnywhere(const std::string& name) const;
};

// Receives the body of a 2xx response; returning false aborts the transfer (SinkRefused).
using BodySink = std::function<bool(const char* data, size_t size)>;
// Told the status and headers of a 2xx response just before its first body byte (a downloader
// learns here whether the server honoured its Range request).
using BodyStart = std::function<void(const HttpHop& response)>;

class HttpClient {
public:
    explicit HttpClient(HttpOptions options = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Runs one request. Never throws for network trouble: the result says what happened.
    // `cancelled` is polled while the transfer runs; true aborts it (Transport::Cancelled).
    HttpResponse perform(const HttpRequest& request, const BodySink& sink,
                         const std::function<bool()>& cancelled = {}, const BodyStart& bodyStart = {});

    // GETs a small body (JSON) into a string.
    HttpResponse get(const HttpRequest& request, std::string& body, const std::function<bool()>& cancelled = {});

    // Percent-encodes every byte outside [A-Za-z0-9-._~] (for a revision such as refs/pr/1).
    std::string escape(const std::string& text) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace grym::hub
