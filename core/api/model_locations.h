#pragma once
// Where the model services' folders are: given folders, Hugging Face repo ids looked up in the
// HF cache (never on the network), ROOT/<service>, or a cached recommended repo. Needs no torch,
// so the HTTP server's model listing builds without the models (and under ThreadSanitizer).
//
// Each model is a folder or a Hugging Face repo id (ORG/NAME). Without either, ROOT/<service> is
// used, and when that is missing too the first recommended repo of that service found in the HF
// cache (hub/recommended_models.h), so a model pulled by `grym-synth-cli models pull` or by
// diffusers/transformers is found at once.
#include <nlohmann/json.hpp>

#include <string>

namespace grym {

struct ModelLocations {
    std::string root;      // default: modelsDirectory() (XDG data dir / %LOCALAPPDATA%)
    std::string wav2vec2;  // folder or repo id; default: ROOT/wav2vec2, else a cached recommended repo
    std::string audioldm;  // folder or repo id; default: ROOT/audioldm, else a cached recommended repo
    std::string hubCache;  // default: the HF cache of the environment (HF_HUB_CACHE, HF_HOME, ...)
};

// Where a service's model is, by the rules above: the folder to load, and how it was found
// ("" when nothing was found; `folder` is then the ROOT/<service> path a model belongs in).
struct ModelChoice {
    std::string folder;
    std::string origin;  // e.g. "cvssp/audioldm-s-full-v2 in the Hugging Face cache"
    std::string problem; // why a given folder or repo id could not be used; empty when fine
};
ModelChoice chooseModelFolder(const ModelLocations& locations, const std::string& service);

// What GET /v1/models and `models list --json` answer: {modelsFolder, hubCache, services:
// {audioldm|wav2vec2: ModelChoice}, models: [hub::InstalledModel...], recommended: [{repoId,
// service, description, installed}]}.
nlohmann::json installedModelsJson(const ModelLocations& locations);

}  // namespace grym
