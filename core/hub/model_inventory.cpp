#include "hub/model_inventory.h"

#include "hub/cache_inventory.h"
#include "hub/recommended_models.h"

#include <algorithm>

namespace fs = std::filesystem;

namespace grym::hub {

namespace {

uint64_t bytesUnder(const fs::path& folder) {
    uint64_t total = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        std::error_code sizeError;
        if (it->is_regular_file(sizeError)) {
            const uint64_t size = it->file_size(sizeError);
            if (!sizeError) total += size;
        }
    }
    return total;
}

bool isRecommended(const std::string& repoId) {
    const auto& models = recommendedModels();
    return std::any_of(models.begin(), models.end(), [&](const RecommendedModel& m) { return m.repoId == repoId; });
}

std::vector<InstalledModel> modelsFolderEntries(const fs::path& modelsFolder) {
    std::vector<InstalledModel> models;
    std::error_code ec;
    for (fs::directory_iterator it(modelsFolder, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code typeError;
        if (!it->is_directory(typeError)) continue;
        InstalledModel model;
        model.name = it->path().filename().string();
        model.source = ModelSource::ModelsFolder;
        model.folder = it->path();
        model.bytes = bytesUnder(it->path());
        model.support = assessModelFolder(it->path());
        model.service = serviceForModel(model.support);
        models.push_back(std::move(model));
    }
    std::sort(models.begin(), models.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return models;
}

}  // namespace

std::string serviceForModel(const ModelSupport& support) {
    if (!support.supported) return {};
    switch (support.kind) {
        case RepoKind::DiffusersPipeline: return "audioldm";
        case RepoKind::Transformers: return "wav2vec2";
        case RepoKind::Unknown: break;
    }
    return {};
}

const char* modelSourceName(ModelSource source) {
    return source == ModelSource::HubCache ? "hf-cache" : "models-folder";
}

std::vector<InstalledModel> listInstalledModels(const fs::path& modelsFolder, const HubCache& cache) {
    std::vector<InstalledModel> models = modelsFolderEntries(modelsFolder);
    for (const CachedRepo& repo : listCachedRepos(cache)) {
        InstalledModel model;
        model.name = repo.repoId;
        model.source = ModelSource::HubCache;
        if (const CachedRevision* revision = repo.preferred()) {
            model.folder = revision->snapshotFolder;
            model.commit = revision->commit;
        }
        model.bytes = repo.bytesOnDisk;
        model.partialBytes = repo.partialBytes;
        model.support = repo.support;
        model.service = serviceForModel(model.support);
        model.recommended = isRecommended(repo.repoId);
        models.push_back(std::move(model));
    }
    return models;
}

nlohmann::json toJson(const InstalledModel& model) {
    return {{"name", model.name},
            {"source", modelSourceName(model.source)},
            {"folder", model.folder.string()},
            {"commit", model.commit},
            {"bytes", model.bytes},
            {"partialBytes", model.partialBytes},
            {"kind", repoKindName(model.support.kind)},
            {"architecture", model.support.architecture},
            {"supported", model.support.supported},
            {"reason", model.support.reason},
            {"service", model.service},
            {"recommended", model.recommended}};
}

}  // namespace grym::hub
