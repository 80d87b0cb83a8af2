#include "api/installed_services.h"

#include "analysis/wav2vec2_analysis_service.h"
#include "api/audio_api.h"
#include "common/error.h"
#include "hub/recommended_models.h"
#include "models/audioldm/audioldm_service.h"
#include "models/audioldm/pipeline.h"
#include "models/cpu_threads.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace grym {

namespace {

// How to get the recommended model of a service, for the lines that say one is missing.
std::string pullHint(const std::string& service) {
    return "or get one with: grym-synth-cli models pull " + hub::defaultRepoFor(service);
}

}  // namespace

std::vector<std::string> addInstalledServices(AudioApi& api, const ModelLocations& locations) {
    useOneCpuThreadPool();  // before any model runs (models/cpu_threads.h says why)
    std::vector<std::string> lines;
    const ModelChoice w2v = chooseModelFolder(locations, "wav2vec2");
    const ModelChoice ldm = chooseModelFolder(locations, "audioldm");

    // Without a model folder the analysis service still gives every DSP feature.
    Wav2vec2ServiceOptions analysis;
    std::error_code ec;
    if (!w2v.problem.empty()) {
        lines.push_back("wav2vec2: " + w2v.problem + "; analysis gives DSP features only");
    } else if (fs::is_directory(w2v.folder, ec)) {
        analysis.modelDir = w2v.folder;
        const std::string where = w2v.origin.empty() ? w2v.folder : w2v.origin + ": " + w2v.folder;
        lines.push_back("wav2vec2: " + where + " (loaded on the first analysis)");
    } else {
        lines.push_back("wav2vec2: no model at " + w2v.folder + "; analysis gives DSP features only (" +
                        pullHint("wav2vec2") + ")");
    }
    api.addService(std::make_shared<Wav2vec2AnalysisService>(analysis));

    // Registered even without a model folder: a generation then fails with a message that
    // says where the model belongs, instead of "no generation service".
    audioldm::AudioLdmServiceOptions generation;
    generation.modelPath = ldm.folder;
    if (!ldm.problem.empty()) {
        lines.push_back("audioldm: " + ldm.problem);
    } else {
        try {
            audioldm::validatePipelineFolder(ldm.folder);
            const std::string where = ldm.origin.empty() ? ldm.folder : ldm.origin + ": " + ldm.folder;
            lines.push_back("audioldm: " + where + " (loaded on the first generation)");
        } catch (const Error& e) {
            lines.push_back(std::string("audioldm: ") + e.what() + " (" + pullHint("audioldm") + ")");
        }
    }
    api.addService(std::make_shared<audioldm::AudioLdmService>(generation));
    return lines;
}

}  // namespace grym
