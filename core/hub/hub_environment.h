#pragma once
// Where the Hub is and where its cache lives, read from the environment the way the Python
// huggingface_hub reads it, so that both tools share one cache and one login:
//
//   HF_ENDPOINT     the server (default https://huggingface.co)
//   HF_HOME         ~/.cache/huggingface (or $XDG_CACHE_HOME/huggingface)
//   HF_HUB_CACHE    $HF_HOME/hub (HUGGINGFACE_HUB_CACHE is the older name, still honoured)
//   HF_TOKEN        the access token; else the file HF_TOKEN_PATH, default $HF_HOME/token
//   HF_HUB_OFFLINE  1/ON/YES/TRUE: never touch the network, answer from the cache only
//
// Callers may build a HubEnvironment by hand (tests, the app's settings); nothing here is global.
#include <filesystem>
#include <string>

namespace grym::hub {

struct HubEnvironment {
    std::string endpoint = "https://huggingface.co";  // no trailing slash
    std::filesystem::path cacheDirectory;             // the folder holding models--ORG--NAME
    std::string token;                                // empty: anonymous
    bool offline = false;

    // Reads the variables above. Throws HubError(Cache) when no home folder is known.
    static HubEnvironment fromProcessEnvironment();
};

}  // namespace grym::hub
