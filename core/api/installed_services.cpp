#include "api/installed_services.h"

#include "analysis/wav2vec2_analysis_service.h"
#include "api/audio_api.h"
#include "common/error.h"
#include "common/paths.h"
#include "hub/cache_inventory.h"
#include "hub/hub_error.h"
#include "hub/model_inventory.h"
#include "hub/recommended_models.h"
#include "models/audioldm/audioldm_service.h"
#include "models/audioldm/pipeline.h"

#include <filesystem>
#include <optional>

namespace fs = std::filesystem;

namespace grym {

namespace {

// The hub environment with the locations' cache folder; nullopt when no cache can be named
// (no home folder and no HF_HUB_CACHE).
std::optional<hub::HubEnvironment> hubEnvironment(const ModelLocations& locations) {
    hub::HubEnvironment environment;
    try {
        environment = hub::HubEnvironment::fromProcessEnvironment();
    } catch (const HubError&) {
        if (locations.hubCache.empty()) return std::nullopt;
    }
    if (!locations.hubCache.empty()) environment.cacheDirectory = locations.hubCache;
    return environment;
}

// How to get the recommended model of a service, for the lines that say one is missing.
std::string pullHint(const std::string& service) {
    return "or get one with: grym-synth-cli models pull " + hub::defaultRepoFor(service);
}

}  // namespace

ModelChoice chooseModelFolder(const ModelLocations& locations, const std::string& service) {
    const fs::path root = locations.root.empty() ? modelsDirectory() : fs::path(locations.root);
    const std::string& given = service == "wav2vec2" ? locations.wav2vec2 : locations.audioldm;
    const auto environment = hubEnvironment(locations);
    ModelChoice choice;
    std::error_code ec;
    if (!given.empty()) {
        choice.folder = given;
        if (fs::is_directory(given, ec) || !hub::looksLikeRepoId(given)) return choice;
        if (!environment) {
            choice.problem = given + " looks like a Hugging Face repo id, but no Hugging Face cache folder is known (set HF_HOME)";
            return choice;
        }
        try {
            const fs::path snapshot = hub::resolveModelFolder(given, *environment);
            choice.folder = snapshot.string();
            choice.origin = given + " in the Hugging Face cache";
        } catch (const HubError& e) {
            choice.problem = e.what();
        }
        return choice;
    }
    const fs::path inRoot = root / service;
    choice.folder = inRoot.string();
    if (fs::is_directory(inRoot, ec)) return choice;
    if (!environment) return choice;
    const hub::HubCache cache(environment->cacheDirectory);
    for (const hub::RecommendedModel& model : hub::recommendedModels()) {
        if (model.service != service) continue;
        if (auto snapshot = cache.snapshotFor(model.repoId, "main")) {
            choice.folder = snapshot->string();
            choice.origin = model.repoId + " in the Hugging Face cache";
            return choice;
        }
    }
    return choice;
}

nlohmann::json installedModelsJson(const ModelLocations& locations) {
    const fs::path root = locations.root.empty() ? modelsDirectory() : fs::path(locations.root);
    const auto environment = hubEnvironment(locations);
    const fs::path cacheFolder = environment ? environment->cacheDirectory : fs::path();
    nlohmann::json answer = {{"modelsFolder", root.string()}, {"hubCache", cacheFolder.string()}};
    for (const char* service : {"audioldm", "wav2vec2"}) {
        const ModelChoice choice = chooseModelFolder(locations, service);
        answer["services"][service] = {{"folder", choice.folder}, {"origin", choice.origin}, {"problem", choice.problem}};
    }
    answer["models"] = nlohmann::json::array();
    const std::vector<hub::InstalledModel> installed =
        hub::listInstalledModels(root, hub::HubCache(cacheFolder.empty() ? root / ".no-hf-cache" : cacheFolder));
    for (const hub::InstalledModel& model : installed) answer["models"].push_back(hub::toJson(model));
    answer["recommended"] = nlohmann::json::array();
    for (const hub::RecommendedModel& model : hub::recommendedModels()) {
        bool isInstalled = false;
        for (const hub::InstalledModel& m : installed)
            isInstalled |= m.source == hub::ModelSource::HubCache && m.name == model.repoId && !m.commit.empty();
        answer["recommended"].push_back({{"repoId", model.repoId},
                                         {"service", model.service},
                                         {"description", model.description},
                                         {"installed", isInstalled}});
    }
    return answer;
}

std::vector<std::string> addInstalledServices(AudioApi& api, const ModelLocations& locations) {
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
