#pragma once
// Shared helpers of the hub tests: a scratch folder, scoped environment variables, file reads
// and a HubClient that talks to a FakeHub with short retry delays.
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

class ScratchFolder {
public:
    ScratchFolder() {
        std::random_device random;
        path_ = std::filesystem::temp_directory_path() / ("grym-hub-test-" + std::to_string(random()));
        std::filesystem::create_directories(path_);
    }
    ~ScratchFolder() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

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

inline std::string readWholeFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

inline void writeWholeFile(const std::filesystem::path& path, const std::string& content) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

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
