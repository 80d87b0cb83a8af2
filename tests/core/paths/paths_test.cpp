#include "common/error.h"
#include "common/paths.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <string>

#ifndef _WIN32

namespace {

// Sets (or unsets) one environment variable for the lifetime of the guard, then restores it.
class ScopedEnv {
public:
    ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) previous_ = old;
        if (value)
            ::setenv(name, value->c_str(), 1);
        else
            ::unsetenv(name);
    }
    ~ScopedEnv() {
        if (previous_)
            ::setenv(name_, previous_->c_str(), 1);
        else
            ::unsetenv(name_);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> previous_;
};

}  // namespace

TEST_CASE("user data lives under XDG_DATA_HOME when it is an absolute path") {
    ScopedEnv xdg("XDG_DATA_HOME", "/srv/data home");
    CHECK(grym::userDataDirectory() == "/srv/data home/grym-synth");
    CHECK(grym::modelsDirectory() == "/srv/data home/grym-synth/models");
    CHECK(grym::historyDirectory() == "/srv/data home/grym-synth/history");
}

TEST_CASE("user data falls back to ~/.local/share without XDG_DATA_HOME") {
    ScopedEnv home("HOME", "/home/ada");
    for (std::optional<std::string> unusable : {std::optional<std::string>(), std::optional<std::string>(""),
                                                std::optional<std::string>("relative/share")}) {
        ScopedEnv xdg("XDG_DATA_HOME", unusable);
        CHECK(grym::userDataDirectory() == "/home/ada/.local/share/grym-synth");
        CHECK(grym::modelsDirectory() == "/home/ada/.local/share/grym-synth/models");
    }
}

TEST_CASE("user data without any home folder is a readable error") {
    ScopedEnv xdg("XDG_DATA_HOME", std::nullopt);
    ScopedEnv home("HOME", std::nullopt);
    CHECK_THROWS_WITH(grym::userDataDirectory(), Catch::Contains("HOME"));
}

#endif
