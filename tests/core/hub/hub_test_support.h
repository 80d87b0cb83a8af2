#pragma once
// Shared helpers of the hub tests: scoped environment variables and a HubClient that talks to a
// FakeHub with short retry delays (scratch folders and file reads: core/test_files.h).
#include "core/test_files.h"
#include "fake_hub.h"
#include "hub/hub_client.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace grym::test {

// Sets (or, with nullopt, unsets) environment variables and puts the old values back.
class ScopedEnvironment {
public:
    void set(const std::string& name, const std::optional<std::string>& value) {
        const char* old = std::getenv(name.c_str());
        saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
        if (value) ::setenv(name.c_str(), value->c_str(), 1);
        else ::unsetenv(name.c_str());
    }
    ~ScopedEnvironment() {
        for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
            if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
            else ::unsetenv(it->first.c_str());
        }
    }

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

inline hub::HubEnvironment fakeHubEnvironment(const FakeHub& server, const std::filesystem::path& cache,
                                              const std::string& token = {}) {
    hub::HubEnvironment environment;
    environment.endpoint = server.endpoint();
    environment.cacheDirectory = cache;
    environment.token = token;
    return environment;
}

inline hub::HubClientOptions quickRetries() {
    hub::HubClientOptions options;
    options.retry.firstDelay = std::chrono::milliseconds(5);
    options.retry.maxDelay = std::chrono::milliseconds(20);
    options.retry.maxAttempts = 4;
    options.http.connectTimeout = std::chrono::seconds(5);
    options.http.stallWindow = std::chrono::seconds(10);
    return options;
}

// A fake Hub, an empty cache folder, and clients of the one for the other.
struct FakeHubSession {
    FakeHub server;
    ScratchFolder scratch;
    hub::HubClient newClient(const std::string& token = {}) const {
        return hub::HubClient(fakeHubEnvironment(server, scratch.path(), token), quickRetries());
    }
};

// Deterministic bytes that are not all alike, so a misplaced range would change the hash.
inline std::string patternedBytes(size_t size, unsigned seed) {
    std::mt19937 generator(seed);
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(generator() & 0xff);
    return bytes;
}

}  // namespace grym::test
