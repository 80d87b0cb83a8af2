#include "hub/hub_protocol.h"

#include "hub/hub_error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <thread>

namespace grym::hub {

namespace {

// Escapes each segment of a repo path but keeps the "/" between them.
std::string escapePath(HttpClient& http, const std::string& path) {
    std::string result;
    size_t start = 0;
    while (true) {
        size_t slash = path.find('/', start);
        result += http.escape(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) break;
        result += '/';
        start = slash + 1;
    }
    return result;
}

// The server's own words: X-Error-Message, else the "error" field of a JSON body.
std::string serverMessage(const HttpResponse& response) {
    std::string message = response.headerAnywhere("X-Error-Message");
    if (!message.empty()) return message;
    nlohmann::json body = nlohmann::json::parse(response.errorBody, nullptr, false);
    if (body.is_object() && body.contains("error") && body["error"].is_string()) return body["error"].get<std::string>();
    return {};
}

}  // namespace

std::string HubUrls::repoInfo(HttpClient& http, const std::string& repoId, const std::string& revision) const {
    return endpoint + "/api/models/" + repoId + "/revision/" + http.escape(revision) + "?blobs=true";
}

std::string HubUrls::resolve(HttpClient& http, const std::string& repoId, const std::string& revision,
                             const std::string& path) const {
    return endpoint + "/" + repoId + "/resolve/" + http.escape(revision) + "/" + escapePath(http, path);
}

void throwForResponse(const HttpResponse& response, const RequestSubject& subject) {
    std::string code = response.headerAnywhere("X-Error-Code");
    std::string detail = serverMessage(response);
    std::string said = detail.empty() ? std::string() : " (the server said: " + detail + ")";
    long status = response.status;
    std::string page = subject.endpoint + "/" + subject.repoId;
    std::string what = subject.path.empty() ? subject.repoId : subject.path + " of " + subject.repoId;

    if (code == "GatedRepo" || ((status == 401 || status == 403) && code != "RepoNotFound" && code != "RepositoryNotFound")) {
        if (!subject.hadToken)
            throw HubError(HubErrorKind::Unauthorized,
                           subject.repoId + " is gated or private: open " + page +
                               " while logged in and accept its licence, then create a read token at " +
                               subject.endpoint + "/settings/tokens and set HF_TOKEN to it (or save it in the file "
                               "$HF_HOME/token)" + said);
        throw HubError(HubErrorKind::Unauthorized,
                       "the Hub refused the access token for " + subject.repoId + ": accept the licence on " + page +
                           " with the account the token belongs to, and check that the token (HF_TOKEN or "
                           "$HF_HOME/token) has read access" + said);
    }
    if (code == "RepoNotFound" || code == "RepositoryNotFound" || (status == 401 && code.empty()) ||
        (status == 404 && code.empty() && subject.path.empty())) {
        std::string hint = subject.hadToken ? "" : "; if it is private, set HF_TOKEN to a token that can read it";
        throw HubError(HubErrorKind::RepoNotFound,
                       "there is no model repo " + subject.repoId + " on " + subject.endpoint +
                           ": check the name (ORG/NAME, e.g. cvssp/audioldm-s-full-v2)" + hint + said);
    }
    if (code == "RevisionNotFound")
        throw HubError(HubErrorKind::RevisionNotFound,
                       subject.repoId + " has no revision '" + subject.revision + "' (branch, tag or commit)" + said);
    if (code == "EntryNotFound" || status == 404)
        throw HubError(HubErrorKind::EntryNotFound,
                       "the Hub has no file " + what + " at revision " + subject.revision + said);
    if (status >= 500 || status == 429 || status == 408)
        throw HubError(HubErrorKind::Network, "the Hub (" + subject.endpoint + ") answered HTTP " + std::to_string(status) +
                                                  " for " + what + "; try again later" + said);
    throw HubError(HubErrorKind::Protocol,
                   "unexpected HTTP " + std::to_string(status) + " from " + response.effectiveUrl + " for " + what + said);
}

std::string normalizeEtag(std::string etag) {
    if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
    etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
    return etag;
}

bool isRetriableStatus(long status) { return status >= 500 || status == 429 || status == 408; }

void waitBeforeRetry(const RetryPolicy& policy, int attempt, const std::function<bool()>& cancelled) {
    auto delay = policy.firstDelay;
    for (int i = 2; i < attempt && delay < policy.maxDelay; ++i) delay *= 2;
    delay = std::min(delay, policy.maxDelay);
    auto until = std::chrono::steady_clock::now() + delay;
    while (std::chrono::steady_clock::now() < until) {
        if (cancelled && cancelled()) throw HubError(HubErrorKind::Cancelled, "cancelled while waiting to retry");
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
    }
}

}  // namespace grym::hub
