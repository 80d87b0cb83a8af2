#include "api/installed_services.h"

#include "api/audio_api.h"
#include "common/paths.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace grym {

std::vector<std::string> addInstalledServices(AudioApi& api, const ModelLocations& locations) {
    std::vector<std::string> lines;
    const fs::path root = locations.root.empty() ? modelsDirectory() : fs::path(locations.root);
    const fs::path w2v = locations.wav2vec2.empty() ? root / "wav2vec2" : fs::path(locations.wav2vec2);
    const fs::path ldm = locations.audioldm.empty() ? root / "audioldm" : fs::path(locations.audioldm);
    lines.push_back("wav2vec2 folder: " + w2v.string() + (fs::exists(w2v) ? "" : " (missing)"));
    lines.push_back("audioldm folder: " + ldm.string() + (fs::exists(ldm) ? "" : " (missing)"));
    lines.push_back("model services are not wired into this build yet: requests will answer 400");
    return lines;
}

}  // namespace grym
