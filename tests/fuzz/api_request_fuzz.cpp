// libFuzzer target for what the local HTTP API reads from a request before any task starts.
// The first byte picks what the rest is:
//   0: a POST /v1/generate (or /variation) JSON body, parsed as the server does and validated
//      against the limits: it must give a request within every limit or a grym::ApiError
//      (FieldError) naming the field;
//   1: the request's facts (method, path, Host, Origin, Content-Type, separated by NUL bytes)
//      for the Host/Origin/Content-Type screen, against a loopback and an allowed-origin policy.
// Audio uploads (POST /v1/analyze) reach the audio loader, fuzzed by fuzz_audio_file; multipart
// framing is cpp-httplib's, exercised over loopback by the `api: HTTP abuse` tests.
// Run: `build-fuzz/tests/fuzz/fuzz_api_request -max_total_time=60 tests/fuzz/corpus_api`.
#include "api/api_requests.h"
#include "api/request_guard.h"
#include "common/error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

void fuzzGenerateBody(const std::string& body) {
    const grym::ApiLimits limits;
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception&) {
        return;  // not JSON (or a number beyond double): the server answers 400 "body: is not valid JSON"
    }
    try {
        const grym::GenerateRequest request = grym::parseGenerateRequest(json, limits);
        // What parsing accepted is within the limits the API advertises.
        if (request.prompt.empty() || request.prompt.size() > 4 * limits.maxPromptChars) std::abort();
        if (!(request.durationSeconds >= limits.minGenerateSeconds && request.durationSeconds <= limits.maxGenerateSeconds))
            std::abort();
        if (request.steps < 1 || request.steps > limits.maxSteps) std::abort();
        if (request.variations < 1 || request.variations > limits.maxVariations) std::abort();
        if (!std::isfinite(request.guidanceScale) || request.guidanceScale > limits.maxGuidance) std::abort();
        if (!request.latentsFile.empty()) std::abort();  // never taken from HTTP
        (void)grym::toTaskParameters(request).dump();
        (void)grym::toJson(request).dump();
    } catch (const grym::ApiError&) {
    }
}

void fuzzRequestScreen(const std::string& facts) {
    std::vector<std::string> fields(6);
    size_t field = 0;
    for (char c : facts) {
        if (c == '\0') {
            if (++field == fields.size()) break;
        } else {
            fields[field] += c;
        }
    }
    const grym::RequestFacts request{fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]};
    for (const grym::RequestPolicy& policy : {grym::RequestPolicy{"127.0.0.1", {}, 1024},
                                              grym::RequestPolicy{"0.0.0.0", {"http://localhost:3000"}, 0}}) {
        const grym::GuardVerdict verdict = grym::checkRequest(request, policy);
        const int status = verdict.status;
        if (status != 0 && status != 400 && status != 403 && status != 413 && status != 415 && status != 421)
            std::abort();
        if (status == 413 && policy.maxBodyBytes == 0) std::abort();  // no limit, nothing too large
        if (status != 0 && verdict.message.empty()) std::abort();  // every refusal says why
        if (verdict.answeredPreflight && status != 0) std::abort();
        // Only an origin the policy allows is ever echoed back for CORS.
        if (!verdict.allowOrigin.empty() && policy.allowedOrigins.empty()) std::abort();
    }
    (void)grym::secretsEqual(fields[0], fields[1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
    if (data[0] % 2 == 0) fuzzGenerateBody(rest);
    else fuzzRequestScreen(rest);
    return 0;
}
