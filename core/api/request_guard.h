#pragma once
// Who may use the local HTTP API. Any web page the user visits can send requests to
// 127.0.0.1; these checks keep such pages out while the user's own tools (curl, the CLI, the
// API's own browser page) get in:
//   - Host must name this server (a loopback name, or the address it listens on), so a
//     DNS-rebinding page whose name now points at 127.0.0.1 is refused;
//   - a request carrying an Origin is refused unless it is the server's own origin or one
//     allowed explicitly (`serve --allow-origin`); CORS preflights are answered only for those;
//   - POST bodies must say what they are (application/json; audio uploads as multipart,
//     octet-stream or audio/*), so a page cannot start work with a "simple" text/plain POST;
//   - a body announced (Content-Length) over the size limit is refused from the header, before
//     any of it is read or skipped, so a client cannot hold a worker until the read timeout.
// Pure functions over the request's facts, so each rule is tested without sockets.
#include <cstdint>
#include <string>
#include <vector>

namespace grym {

struct RequestPolicy {
    std::string listenAddress;                 // what the server is bound to ("127.0.0.1", "0.0.0.0", ...)
    std::vector<std::string> allowedOrigins;   // exact origins, e.g. "http://localhost:3000"
    uint64_t maxBodyBytes = 0;                 // the largest body taken; 0: no limit here
};

struct RequestFacts {
    std::string method;       // "GET", "POST", "OPTIONS", ...
    std::string path;
    std::string host;         // the Host header ("" when absent)
    std::string origin;       // the Origin header ("" when absent)
    std::string contentType;  // the Content-Type header
    std::string contentLength;  // the Content-Length header ("" when absent)
};

struct GuardVerdict {
    int status = 0;              // 0: let the request through; else answer with this status
    std::string message;         // why it was refused, for the error body
    std::string allowOrigin;     // an allowed cross-origin caller to name in Access-Control-Allow-Origin
    bool answeredPreflight = false;  // an allowed CORS preflight: answer 204 with the CORS headers
};

GuardVerdict checkRequest(const RequestFacts& request, const RequestPolicy& policy);

// True for names and addresses of this machine's loopback interface (127.x.y.z, ::1, localhost).
bool isLoopbackAddress(const std::string& host);

// The host name of a Host header: "[::1]:8765" -> "::1", "LocalHost:80" -> "localhost".
std::string hostNameOf(const std::string& hostHeader);

// Compares a presented secret with the expected one in time that does not depend on where they
// differ, so the token cannot be guessed byte by byte from response times.
bool secretsEqual(const std::string& presented, const std::string& expected);

}  // namespace grym
