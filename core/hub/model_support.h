#pragma once
// Whether grym-synth can run a repo or folder, judged from its small config files only, so the
// answer comes before any weights are downloaded: a diffusers pipeline must be AudioLDMPipeline,
// a transformers model must be wav2vec2 (Wav2Vec2ForCTC or Wav2Vec2Model).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace grym::hub {

enum class RepoKind { DiffusersPipeline, Transformers, Unknown };

struct ModelSupport {
    RepoKind kind = RepoKind::Unknown;
    bool supported = false;
    std::string architecture;  // e.g. "AudioLDMPipeline", "Wav2Vec2ForCTC"; empty when unknown
    std::string reason;        // why not, for a person; empty when supported
};

const char* repoKindName(RepoKind kind);  // "diffusers", "transformers", "unknown"

// `modelIndex` is the repo's model_index.json.
ModelSupport assessDiffusersPipeline(const nlohmann::json& modelIndex);
// `config` is the repo's config.json.
ModelSupport assessTransformersModel(const nlohmann::json& config);
// Reads model_index.json or config.json in `folder` (a snapshot or a models-folder entry).
ModelSupport assessModelFolder(const std::filesystem::path& folder);

}  // namespace grym::hub
