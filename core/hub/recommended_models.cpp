#include "hub/recommended_models.h"

namespace grym::hub {

const std::vector<RecommendedModel>& recommendedModels() {
    static const std::vector<RecommendedModel> models = {
        {"cvssp/audioldm-s-full-v2", "audioldm", "AudioLDM small, text to sound: the quickest, for laptops"},
        {"cvssp/audioldm-m-full", "audioldm", "AudioLDM medium: a larger UNet than small, slower per step"},
        {"cvssp/audioldm-l-full", "audioldm", "AudioLDM large: the largest UNet; best on a GPU"},
        {"facebook/wav2vec2-base-960h", "wav2vec2", "wav2vec2 base, English speech: transcript, segments, embeddings"},
        {"facebook/wav2vec2-large-960h-lv60-self", "wav2vec2", "wav2vec2 large, English speech: a better transcript, slower"},
    };
    return models;
}

std::string defaultRepoFor(const std::string& service) {
    for (const auto& model : recommendedModels())
        if (model.service == service) return model.repoId;
    return {};
}

}  // namespace grym::hub
