#pragma once
// The published models grym-synth is made for, offered by `models list` and the Model Manager
// before anything is installed. The service says which model service a download feeds.
#include <string>
#include <vector>

namespace grym::hub {

struct RecommendedModel {
    std::string repoId;       // ORG/NAME on the Hugging Face Hub
    std::string service;      // "audioldm" or "wav2vec2": the models-folder entry it stands for
    std::string description;  // one line for a person choosing between them
};

// In the order a new user should consider them: the first of each service is the default.
const std::vector<RecommendedModel>& recommendedModels();

// The default repo for `service` ("audioldm", "wav2vec2"); empty for another name.
std::string defaultRepoFor(const std::string& service);

}  // namespace grym::hub
