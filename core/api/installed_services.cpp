#include "api/installed_services.h"

#include "analysis/wav2vec2_analysis_service.h"
#include "api/audio_api.h"
#include "common/error.h"
#include "common/paths.h"
#include "models/audioldm/audioldm_service.h"
#include "models/audioldm/pipeline.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace grym {

std::vector<std::string> addInstalledServices(AudioApi& api, const ModelLocations& locations) {
    std::vector<std::string> lines;
    const fs::path root = locations.root.empty() ? modelsDirectory() : fs::path(locations.root);
    const fs::path w2v = locations.wav2vec2.empty() ? root / "wav2vec2" : fs::path(locations.wav2vec2);
    const fs::path ldm = locations.audioldm.empty() ? root / "audioldm" : fs::path(locations.audioldm);

    // Without a model folder the analysis service still gives every DSP feature.
    Wav2vec2ServiceOptions analysis;
    if (fs::is_directory(w2v)) {
        analysis.modelDir = w2v.string();
        lines.push_back("wav2vec2: " + w2v.string() + " (loaded on the first analysis)");
    } else {
        lines.push_back("wav2vec2: no model at " + w2v.string() + "; analysis gives DSP features only");
    }
    api.addService(std::make_shared<Wav2vec2AnalysisService>(analysis));

    // Registered even without a model folder: a generation then fails with a message that
    // says where the model belongs, instead of "no generation service".
    audioldm::AudioLdmServiceOptions generation;
    generation.modelPath = ldm.string();
    try {
        audioldm::validatePipelineFolder(ldm.string());
        lines.push_back("audioldm: " + ldm.string() + " (loaded on the first generation)");
    } catch (const Error& e) {
        lines.push_back(std::string("audioldm: ") + e.what());
    }
    api.addService(std::make_shared<audioldm::AudioLdmService>(generation));
    return lines;
}

}  // namespace grym
