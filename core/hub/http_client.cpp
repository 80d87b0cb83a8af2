#include "hub/http_client.h"

#include "hub/hub_error.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>

namespace grym::hub {

namespace {

#ifndef GRYM_VERSION
#define GRYM_VERSION "dev"
#endif

constexpr size_t kErrorBodyLimit = 64 * 1024;

std::string lowercase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

std::string trimmedValue(const std::string& text) {
    size_t begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) return {};
    size_t end = text.find_last_not_of(" \t\r\n");
    return text.substr(begin, end - begin + 1);
}

// What one perform() call collects from libcurl's callbacks.
struct TransferState {
    HttpResponse* response = nullptr;
    const BodySink* sink = nullptr;
    const std::function<bool()>* cancelled = nullptr;
    const BodyStart* bodyStart = nullptr;
    bool bodyStarted = false;
    bool sinkRefused = false;
};

size_t onHeaderLine(char* data, size_t size, size_t count, void* user) {
    auto* state = static_cast<TransferState*>(user);
    std::string line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {
        // A status line starts a new response (after a redirect, or a 100 Continue).
        HttpHop hop;
        size_t space = line.find(' ');
        if (space != std::string::npos) hop.status = std::strtol(line.c_str() + space + 1, nullptr, 10);
        state->response->hops.push_back(std::move(hop));
        state->response->errorBody.clear();
        state->bodyStarted = false;
        return size * count;
    }
    size_t colon = line.find(':');
    if (colon != std::string::npos && !state->response->hops.empty())
        state->response->hops.back().headers[lowercase(trimmedValue(line.substr(0, colon)))] =
            trimmedValue(line.substr(colon + 1));
    return size * count;
}

size_t onBodyBytes(char* data, size_t size, size_t count, void* user) {
    auto* state = static_cast<TransferState*>(user);
    size_t bytes = size * count;
    long status = state->response->hops.empty() ? 0 : state->response->hops.back().status;
    if (status >= 200 && status < 300) {
        if (!state->bodyStarted) {
            state->bodyStarted = true;
            if (*state->bodyStart) (*state->bodyStart)(state->response->hops.back());
        }
        if (*state->sink && !(*state->sink)(data, bytes)) {
            state->sinkRefused = true;
            return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
        }
        return bytes;
    }
    std::string& errorBody = state->response->errorBody;
    if (errorBody.size() < kErrorBodyLimit) errorBody.append(data, std::min(bytes, kErrorBodyLimit - errorBody.size()));
    return bytes;
}

int onTransferProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* state = static_cast<TransferState*>(user);
    return (*state->cancelled && (*state->cancelled)()) ? 1 : 0;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
    if (hops.empty()) return {};
    auto it = hops.back().headers.find(lowercase(name));
    return it == hops.back().headers.end() ? std::string() : it->second;
}

std::string HttpResponse::headerAnywhere(const std::string& name) const {
    std::string key = lowercase(name);
    for (const HttpHop& hop : hops) {
        auto it = hop.headers.find(key);
        if (it != hop.headers.end()) return it->second;
    }
    return {};
}

struct HttpClient::Impl {
    CURL* handle = nullptr;
    HttpOptions options;
};

HttpClient::HttpClient(HttpOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
    // curl_easy_init also initialises libcurl itself (thread-safe since 7.84).
    impl_->handle = curl_easy_init();
    if (!impl_->handle) throw HubError(HubErrorKind::Network, "libcurl could not start (curl_easy_init failed)");
    // The version from curl_version_info's constant data: curl_version() rewrites one static
    // buffer on every call, a data race when two pulls start at once (found by ThreadSanitizer,
    // hub_concurrency_test.cpp).
    if (impl_->options.userAgent.empty())
        impl_->options.userAgent = std::string("grym-synth/") + GRYM_VERSION + " libcurl/" +
                                   curl_version_info(CURLVERSION_NOW)->version;
}

HttpClient::~HttpClient() { curl_easy_cleanup(impl_->handle); }

std::string HttpClient::escape(const std::string& text) const {
    char* escaped = curl_easy_escape(impl_->handle, text.c_str(), static_cast<int>(text.size()));
    std::string result = escaped ? escaped : "";
    curl_free(escaped);
    return result;
}

HttpResponse HttpClient::perform(const HttpRequest& request, const BodySink& sink,
                                 const std::function<bool()>& cancelled, const BodyStart& bodyStart) {
    HttpResponse response;
    TransferState state{&response, &sink, &cancelled, &bodyStart};
    CURL* curl = impl_->handle;
    const HttpOptions& options = impl_->options;
    // reset() keeps the connection cache, so consecutive files reuse one TLS session.
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, options.userAgent.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(options.connectTimeout.count()));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, options.stallBytesPerSecond);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.stallWindow.count()));
    if (request.headOnly) curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    std::string range;
    if (request.rangeStart > 0) {
        range = std::to_string(request.rangeStart) + "-";
        curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str());
    }

    curl_slist* headers = nullptr;
    std::string authorization;
    if (!request.bearerToken.empty()) {
        authorization = "Authorization: Bearer " + request.bearerToken;
        headers = curl_slist_append(headers, authorization.c_str());
    }
    for (const std::string& header : request.extraHeaders) headers = curl_slist_append(headers, header.c_str());
    if (headers) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeaderLine);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &state);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBodyBytes);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, onTransferProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &state);
    char errorText[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errorText);

    CURLcode code = curl_easy_perform(curl);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);  // the buffer lives on this stack frame
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(headers);

    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.status = status;
    char* effective = nullptr;
    if (curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective)
        response.effectiveUrl = effective;

    if (code == CURLE_OK) {
        response.transport = HttpResponse::Transport::Completed;
    } else if (code == CURLE_ABORTED_BY_CALLBACK) {
        response.transport = HttpResponse::Transport::Cancelled;
    } else if (state.sinkRefused) {
        response.transport = HttpResponse::Transport::SinkRefused;
    } else {
        response.transport = HttpResponse::Transport::Failed;
        response.transportError = errorText[0] ? std::string(errorText) : curl_easy_strerror(code);
    }
    return response;
}

HttpResponse HttpClient::get(const HttpRequest& request, std::string& body, const std::function<bool()>& cancelled) {
    body.clear();
    return perform(request, [&body](const char* data, size_t size) {
        body.append(data, size);
        return true;
    }, cancelled);
}

}  // namespace grym::hub
