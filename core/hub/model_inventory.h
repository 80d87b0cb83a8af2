#pragma once
// Every model on this computer that grym-synth could use, from both places models live: the
// models folder (folders copied by hand: <models>/audioldm, <models>/wav2vec2, ...) and the
// shared Hugging Face cache (pulled here or by diffusers/transformers). `models list` prints
// it and the HTTP API serves it at GET /v1/models, from this one function.
#include "hub/hub_cache.h"
#include "hub/model_support.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace grym::hub {

enum class ModelSource { ModelsFolder, HubCache };

struct InstalledModel {
    std::string name;                    // the repo id (HF cache) or the folder's name (models folder)
    ModelSource source = ModelSource::ModelsFolder;
    std::filesystem::path folder;        // what a loader reads: the folder, or the preferred snapshot
    std::string commit;                  // HF cache: the snapshot's commit
    uint64_t bytes = 0;                  // on disk (HF cache: every blob, partial downloads included)
    uint64_t partialBytes = 0;           // HF cache: in unfinished downloads (a pull resumes them)
    ModelSupport support;
    std::string service;                 // "audioldm" or "wav2vec2" when grym-synth can run it, else ""
    bool recommended = false;            // one of recommendedModels()
};

// The models folder's sub-folders, then the cache's repos, each sorted by name. Folders that do
// not exist give nothing; unreadable entries are listed with the reason in support.reason.
std::vector<InstalledModel> listInstalledModels(const std::filesystem::path& modelsFolder, const HubCache& cache);

// The service a supported model feeds ("audioldm", "wav2vec2"), or "".
std::string serviceForModel(const ModelSupport& support);

const char* modelSourceName(ModelSource source);  // "models-folder", "hf-cache"

nlohmann::json toJson(const InstalledModel& model);

}  // namespace grym::hub
