#include "api/model_locations.h"

#include "common/paths.h"
#include "hub/cache_inventory.h"
#include "hub/hub_error.h"
#include "hub/model_inventory.h"
#include "hub/recommended_models.h"

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

}  // namespace grym
