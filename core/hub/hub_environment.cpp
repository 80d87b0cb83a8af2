#include "hub/hub_environment.h"

#include "hub/hub_error.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

namespace fs = std::filesystem;

namespace grym::hub {

namespace {

std::string environmentValue(const char* name) {
    const char* value = std::getenv(name);
    return value ? std::string(value) : std::string();
}

std::string trimmed(std::string text) {
    auto notSpace = [](unsigned char c) { return !std::isspace(c); };
    text.erase(text.begin(), std::find_if(text.begin(), text.end(), notSpace));
    text.erase(std::find_if(text.rbegin(), text.rend(), notSpace).base(), text.end());
    return text;
}

// huggingface_hub's truthy spellings for boolean variables.
bool isTruthy(std::string value) {
    value = trimmed(value);
    std::transform(value.begin(), value.end(), value.begin(), [](unsigned char c) { return std::toupper(c); });
    return value == "1" || value == "ON" || value == "YES" || value == "TRUE";
}

fs::path defaultHfHome() {
    std::string xdgCache = environmentValue("XDG_CACHE_HOME");
    if (!xdgCache.empty() && fs::path(xdgCache).is_absolute()) return fs::path(xdgCache) / "huggingface";
#ifdef _WIN32
    std::string home = environmentValue("USERPROFILE");
#else
    std::string home = environmentValue("HOME");
#endif
    if (home.empty())
        throw HubError(HubErrorKind::Cache,
                       "cannot find the Hugging Face cache: HF_HOME, HF_HUB_CACHE and HOME are all unset");
    return fs::path(home) / ".cache" / "huggingface";
}

std::string readTokenFile(const fs::path& path) {
    std::ifstream in(path);
    if (!in) return {};
    std::string token;
    std::getline(in, token);
    return trimmed(token);
}

}  // namespace

HubEnvironment HubEnvironment::fromProcessEnvironment() {
    HubEnvironment env;
    std::string endpoint = trimmed(environmentValue("HF_ENDPOINT"));
    if (!endpoint.empty()) env.endpoint = endpoint;
    while (!env.endpoint.empty() && env.endpoint.back() == '/') env.endpoint.pop_back();

    std::string hfHomeValue = environmentValue("HF_HOME");
    // HF_HUB_CACHE alone must not force a home folder to exist, so resolve HF_HOME lazily.
    auto hfHome = [&]() { return hfHomeValue.empty() ? defaultHfHome() : fs::path(hfHomeValue); };

    std::string cache = environmentValue("HF_HUB_CACHE");
    if (cache.empty()) cache = environmentValue("HUGGINGFACE_HUB_CACHE");
    env.cacheDirectory = cache.empty() ? hfHome() / "hub" : fs::path(cache);

    env.token = trimmed(environmentValue("HF_TOKEN"));
    if (env.token.empty()) env.token = trimmed(environmentValue("HUGGING_FACE_HUB_TOKEN"));
    if (env.token.empty()) {
        std::string tokenPath = environmentValue("HF_TOKEN_PATH");
        if (!tokenPath.empty()) {
            env.token = readTokenFile(tokenPath);
        } else if (!hfHomeValue.empty() || !environmentValue("HOME").empty() ||
                   !environmentValue("XDG_CACHE_HOME").empty()) {
            env.token = readTokenFile(hfHome() / "token");
        }
    }
    env.offline = isTruthy(environmentValue("HF_HUB_OFFLINE"));
    return env;
}

}  // namespace grym::hub
