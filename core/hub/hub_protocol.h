#pragma once
// The parts of the Hub's HTTP protocol shared by the repo API and file downloads: URLs, what an
// error answer means (X-Error-Code, status), and when to try again.
#include "hub/http_client.h"

#include <chrono>
#include <functional>
#include <string>

namespace grym::hub {

struct HubUrls {
    std::string endpoint;  // e.g. https://huggingface.co

    // {endpoint}/api/models/{repo}/revision/{rev}?blobs=true
    std::string repoInfo(HttpClient& http, const std::string& repoId, const std::string& revision) const;
    // {endpoint}/{repo}/resolve/{rev}/{path}
    std::string resolve(HttpClient& http, const std::string& repoId, const std::string& revision,
                        const std::string& path) const;
    std::string repoPage(const std::string& repoId) const { return endpoint + "/" + repoId; }
};

// What a request was for, so the error can say it in the user's terms.
struct RequestSubject {
    std::string endpoint;
    std::string repoId;
    std::string revision;
    std::string path;       // empty for the repo API
    bool hadToken = false;
};

// Turns a non-2xx answer into the HubError a person understands (unknown repo, gated repo and
// what to do about it, missing revision or file, server trouble).
[[noreturn]] void throwForResponse(const HttpResponse& response, const RequestSubject& subject);

// ETag values arrive quoted and sometimes weak (W/"..."); the cache names blobs without either.
std::string normalizeEtag(std::string etag);

struct RetryPolicy {
    int maxAttempts = 6;  // per request, counting the first; a download that makes progress starts over
    std::chrono::milliseconds firstDelay{1000};
    std::chrono::milliseconds maxDelay{30000};
};

// 5xx, 429 Too Many Requests and 408 Request Timeout are worth another try; other 4xx are not.
bool isRetriableStatus(long status);

// Sleeps the back-off before attempt number `attempt` (2, 3, ...), waking early to throw
// HubError(Cancelled) when `cancelled` answers true.
void waitBeforeRetry(const RetryPolicy& policy, int attempt, const std::function<bool()>& cancelled);

}  // namespace grym::hub
