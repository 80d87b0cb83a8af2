#include "api/request_guard.h"

#include <algorithm>
#include <cctype>

namespace grym {

namespace {

std::string lowerCase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

bool listensOnEveryAddress(const std::string& address) { return address == "0.0.0.0" || address == "::" || address.empty(); }

// The media type without parameters: "application/json; charset=utf-8" -> "application/json".
std::string mediaType(const std::string& contentType) {
    std::string type = lowerCase(contentType.substr(0, contentType.find(';')));
    while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.pop_back();
    return type;
}

bool acceptsBodyType(const std::string& path, const std::string& type) {
    if (path == "/v1/analyze")
        return type == "multipart/form-data" || type == "application/octet-stream" || type.rfind("audio/", 0) == 0;
    return type == "application/json";
}

std::string expectedBodyTypes(const std::string& path) {
    return path == "/v1/analyze" ? "multipart/form-data, application/octet-stream or audio/*" : "application/json";
}

}  // namespace

bool isLoopbackAddress(const std::string& host) {
    if (host == "localhost" || host == "::1") return true;
    // 127.x.y.z exactly: four numbers up to 255, so a name like 127.0.0.1.evil.example is not one.
    if (host.rfind("127.", 0) != 0) return false;
    int parts = 0;
    size_t start = 0;
    while (start <= host.size()) {
        const size_t dot = std::min(host.find('.', start), host.size());
        const std::string part = host.substr(start, dot - start);
        if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), ::isdigit) || std::stoi(part) > 255)
            return false;
        ++parts;
        start = dot + 1;
    }
    return parts == 4;
}

std::string hostNameOf(const std::string& hostHeader) {
    std::string host = lowerCase(hostHeader);
    if (!host.empty() && host.front() == '[') {
        const size_t close = host.find(']');
        return close == std::string::npos ? host : host.substr(1, close - 1);
    }
    return host.substr(0, host.find(':'));
}

GuardVerdict checkRequest(const RequestFacts& request, const RequestPolicy& policy) {
    GuardVerdict verdict;
    if (request.host.empty()) {
        verdict.status = 400;
        verdict.message = "the request has no Host header";
        return verdict;
    }
    const std::string host = hostNameOf(request.host);
    const bool knownHost = listensOnEveryAddress(policy.listenAddress) || isLoopbackAddress(host) ||
                           host == lowerCase(policy.listenAddress);
    if (!knownHost) {
        verdict.status = 403;
        verdict.message = "Host '" + request.host + "' does not name this server (use " + policy.listenAddress +
                          " or localhost)";
        return verdict;
    }

    const std::string origin = lowerCase(request.origin);
    const bool allowedCrossOrigin =
        !origin.empty() && std::find(policy.allowedOrigins.begin(), policy.allowedOrigins.end(), request.origin) !=
                               policy.allowedOrigins.end();
    const bool sameOrigin = origin == "http://" + lowerCase(request.host) || origin == "https://" + lowerCase(request.host);
    if (!origin.empty() && !sameOrigin && !allowedCrossOrigin) {
        verdict.status = 403;
        verdict.message = "requests from the web page at " + request.origin +
                          " are refused (grym-synth-cli serve --allow-origin " + request.origin + " allows them)";
        return verdict;
    }
    if (allowedCrossOrigin) verdict.allowOrigin = request.origin;

    if (request.method == "OPTIONS") {
        if (!allowedCrossOrigin) {
            verdict.status = 403;
            verdict.message = "cross-origin requests are refused unless their origin is allowed (--allow-origin)";
            return verdict;
        }
        verdict.answeredPreflight = true;
        return verdict;
    }

    if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
        const std::string type = mediaType(request.contentType);
        if (!acceptsBodyType(request.path, type)) {
            verdict.status = 415;
            verdict.message = "Content-Type '" + request.contentType + "' is not accepted here: send " +
                              expectedBodyTypes(request.path);
            return verdict;
        }
    }

    if (!request.contentLength.empty()) {
        const std::string& length = request.contentLength;
        if (!std::all_of(length.begin(), length.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            verdict.status = 400;
            verdict.message = "Content-Length '" + length + "' is not a byte count";
            return verdict;
        }
        const size_t digits = length.size() - std::min(length.find_first_not_of('0'), length.size());
        const bool tooLarge = policy.maxBodyBytes > 0 &&
                              (digits > 19 || std::stoull(length) > policy.maxBodyBytes);
        if (tooLarge) {
            verdict.status = 413;
            verdict.message = "the request announces a " + length + "-byte body; this server takes at most " +
                              std::to_string(policy.maxBodyBytes) + " bytes";
            return verdict;
        }
    }
    return verdict;
}

bool secretsEqual(const std::string& presented, const std::string& expected) {
    // Every byte of the expected secret is visited whatever the presented one holds.
    unsigned difference = presented.size() == expected.size() ? 0u : 1u;
    for (size_t i = 0; i < expected.size(); ++i) {
        const unsigned char a = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0u;
        difference |= a ^ static_cast<unsigned char>(expected[i]);
    }
    return difference == 0;
}

}  // namespace grym
