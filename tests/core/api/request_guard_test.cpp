// The local API's gatekeeping rules, one by one, without sockets (request_guard.h).
#include "api/request_guard.h"

#include <catch2/catch.hpp>

using namespace grym;

namespace {

RequestFacts request(std::string method, std::string path, std::string host, std::string origin = {},
                     std::string contentType = {}) {
    return {std::move(method), std::move(path), std::move(host), std::move(origin), std::move(contentType)};
}

const RequestPolicy kLoopback{"127.0.0.1", {}};

}  // namespace

TEST_CASE("the Host header must name this server, so a DNS-rebinding page is refused", "[api][security]") {
    CHECK(checkRequest(request("GET", "/v1/status", "127.0.0.1:8765"), kLoopback).status == 0);
    CHECK(checkRequest(request("GET", "/v1/status", "localhost:8765"), kLoopback).status == 0);
    CHECK(checkRequest(request("GET", "/v1/status", "LOCALHOST"), kLoopback).status == 0);
    CHECK(checkRequest(request("GET", "/v1/status", "[::1]:8765"), kLoopback).status == 0);
    const GuardVerdict rebound = checkRequest(request("GET", "/v1/status", "evil.example:8765"), kLoopback);
    CHECK(rebound.status == 403);
    CHECK_THAT(rebound.message, Catch::Contains("evil.example"));
    CHECK(checkRequest(request("GET", "/v1/status", "127.0.0.1.evil.example"), kLoopback).status == 403);
    CHECK(checkRequest(request("GET", "/v1/status", ""), kLoopback).status == 400);

    const RequestPolicy lan{"192.168.1.20", {}};
    CHECK(checkRequest(request("GET", "/v1/status", "192.168.1.20:8765"), lan).status == 0);
    CHECK(checkRequest(request("GET", "/v1/status", "evil.example"), lan).status == 403);
    // Listening on every address, the machine's names cannot be listed: the token guards it.
    CHECK(checkRequest(request("GET", "/v1/status", "studio-pc.local:8765"), RequestPolicy{"0.0.0.0", {}}).status == 0);
}

TEST_CASE("a request from another web page's origin is refused unless that origin is allowed", "[api][security]") {
    const GuardVerdict foreign =
        checkRequest(request("POST", "/v1/generate", "127.0.0.1:8765", "http://evil.example", "application/json"), kLoopback);
    CHECK(foreign.status == 403);
    CHECK_THAT(foreign.message, Catch::Contains("http://evil.example") && Catch::Contains("--allow-origin"));
    CHECK(checkRequest(request("GET", "/v1/status", "127.0.0.1:8765", "null"), kLoopback).status == 403);

    // The API's own page is same-origin.
    const GuardVerdict own =
        checkRequest(request("POST", "/v1/generate", "127.0.0.1:8765", "http://127.0.0.1:8765", "application/json"), kLoopback);
    CHECK(own.status == 0);
    CHECK(own.allowOrigin.empty());

    const RequestPolicy withAllowed{"127.0.0.1", {"http://localhost:3000"}};
    const GuardVerdict allowed = checkRequest(
        request("POST", "/v1/generate", "127.0.0.1:8765", "http://localhost:3000", "application/json"), withAllowed);
    CHECK(allowed.status == 0);
    CHECK(allowed.allowOrigin == "http://localhost:3000");
}

TEST_CASE("CORS preflights are answered only for allowed origins", "[api][security]") {
    const RequestPolicy withAllowed{"127.0.0.1", {"http://localhost:3000"}};
    const GuardVerdict preflight =
        checkRequest(request("OPTIONS", "/v1/generate", "127.0.0.1:8765", "http://localhost:3000"), withAllowed);
    CHECK(preflight.status == 0);
    CHECK(preflight.answeredPreflight);
    CHECK(preflight.allowOrigin == "http://localhost:3000");
    CHECK(checkRequest(request("OPTIONS", "/v1/generate", "127.0.0.1:8765", "http://evil.example"), withAllowed).status ==
          403);
    CHECK(checkRequest(request("OPTIONS", "/v1/generate", "127.0.0.1:8765"), withAllowed).status == 403);
}

TEST_CASE("POST bodies must declare what they are, so a simple cross-site text/plain POST starts nothing",
          "[api][security]") {
    CHECK(checkRequest(request("POST", "/v1/generate", "localhost", {}, "application/json"), kLoopback).status == 0);
    CHECK(checkRequest(request("POST", "/v1/generate", "localhost", {}, "application/json; charset=UTF-8"), kLoopback)
              .status == 0);
    const GuardVerdict plain = checkRequest(request("POST", "/v1/generate", "localhost", {}, "text/plain"), kLoopback);
    CHECK(plain.status == 415);
    CHECK_THAT(plain.message, Catch::Contains("text/plain") && Catch::Contains("application/json"));
    CHECK(checkRequest(request("POST", "/v1/generate", "localhost", {}, ""), kLoopback).status == 415);
    CHECK(checkRequest(request("POST", "/v1/generate", "localhost", {}, "application/x-www-form-urlencoded"), kLoopback)
              .status == 415);
    for (const char* upload : {"multipart/form-data; boundary=x", "application/octet-stream", "audio/wav", "audio/flac"})
        CHECK(checkRequest(request("POST", "/v1/analyze", "localhost", {}, upload), kLoopback).status == 0);
    CHECK(checkRequest(request("POST", "/v1/analyze", "localhost", {}, "text/plain"), kLoopback).status == 415);
}

TEST_CASE("tokens are compared whole: any differing byte or length is unequal", "[api][security]") {
    CHECK(secretsEqual("Bearer abc", "Bearer abc"));
    CHECK_FALSE(secretsEqual("Bearer abd", "Bearer abc"));
    CHECK_FALSE(secretsEqual("Bearer ab", "Bearer abc"));
    CHECK_FALSE(secretsEqual("Bearer abcd", "Bearer abc"));
    CHECK_FALSE(secretsEqual("", "Bearer abc"));
    CHECK(hostNameOf("[::1]:8765") == "::1");
    CHECK(hostNameOf("LocalHost:80") == "localhost");
}

TEST_CASE("loopback addresses are exactly 127.x.y.z, ::1 and localhost", "[api][security]") {
    for (const char* yes : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) CHECK(isLoopbackAddress(yes));
    for (const char* no : {"127.0.0.1.evil.example", "127.0.0", "127.0.0.256", "127..0.1", "192.168.1.4", "0.0.0.0", ""})
        CHECK_FALSE(isLoopbackAddress(no));
}

TEST_CASE("a body announced over the size limit is refused from its Content-Length, before any of it is read",
          "[api][security]") {
    const RequestPolicy limited{"127.0.0.1", {}, 1000};
    auto withLength = [](std::string length) {
        RequestFacts facts = request("POST", "/v1/analyze", "127.0.0.1:8765", {}, "application/octet-stream");
        facts.contentLength = std::move(length);
        return facts;
    };
    CHECK(checkRequest(withLength("1000"), limited).status == 0);
    CHECK(checkRequest(withLength("0001000"), limited).status == 0);
    CHECK(checkRequest(withLength(""), limited).status == 0);
    const GuardVerdict tooLarge = checkRequest(withLength("1001"), limited);
    CHECK(tooLarge.status == 413);
    CHECK(tooLarge.message.find("1001") != std::string::npos);
    CHECK(tooLarge.message.find("1000") != std::string::npos);
    CHECK(checkRequest(withLength("10000000000"), limited).status == 413);
    CHECK(checkRequest(withLength("99999999999999999999999999"), limited).status == 413);  // beyond 64 bits
    CHECK(checkRequest(withLength("12a"), limited).status == 400);
    CHECK(checkRequest(withLength("-5"), limited).status == 400);
    // Without a limit in the policy only the form of the number is checked.
    CHECK(checkRequest(withLength("99999999999999999999999999"), kLoopback).status == 0);
}
