#pragma once
// Creates the real model services from model folders and adds them to an AudioApi.
// Models are loaded lazily (on the first task), so this is quick.
#include <string>
#include <vector>

namespace grym {

class AudioApi;

struct ModelLocations {
    std::string root;      // default: modelsDirectory() (XDG data dir / %LOCALAPPDATA%)
    std::string wav2vec2;  // default: ROOT/wav2vec2
    std::string audioldm;  // default: ROOT/audioldm
};

// Returns one readable line per service: what was added, or why it was not.
std::vector<std::string> addInstalledServices(AudioApi& api, const ModelLocations& locations);

}  // namespace grym
