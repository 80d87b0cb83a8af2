#include "hub/model_support.h"

#include <algorithm>
#include <fstream>

namespace fs = std::filesystem;

namespace grym::hub {

namespace {

constexpr const char* kPipelineClass = "AudioLDMPipeline";
const char* const kWav2vec2Architectures[] = {"Wav2Vec2ForCTC", "Wav2Vec2Model"};

std::string stringField(const nlohmann::json& object, const char* name) {
    auto it = object.find(name);
    return (it != object.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

// A verdict of `kind`, not yet supported; says so when the config is not even an object.
ModelSupport startAssessment(RepoKind kind, const nlohmann::json& config, const char* fileName) {
    ModelSupport support;
    support.kind = kind;
    if (!config.is_object()) support.reason = std::string(fileName) + " is not a JSON object";
    return support;
}

}  // namespace

const char* repoKindName(RepoKind kind) {
    switch (kind) {
        case RepoKind::DiffusersPipeline: return "diffusers";
        case RepoKind::Transformers: return "transformers";
        case RepoKind::Unknown: break;
    }
    return "unknown";
}

ModelSupport assessDiffusersPipeline(const nlohmann::json& modelIndex) {
    ModelSupport support = startAssessment(RepoKind::DiffusersPipeline, modelIndex, "model_index.json");
    if (!support.reason.empty()) return support;
    support.architecture = stringField(modelIndex, "_class_name");
    support.supported = support.architecture == kPipelineClass;
    if (!support.supported)
        support.reason = "it is a diffusers " + (support.architecture.empty() ? std::string("pipeline without _class_name")
                                                                              : support.architecture) +
                         "; grym-synth runs " + kPipelineClass + " pipelines and wav2vec2 models";
    return support;
}

ModelSupport assessTransformersModel(const nlohmann::json& config) {
    ModelSupport support = startAssessment(RepoKind::Transformers, config, "config.json");
    if (!support.reason.empty()) return support;
    std::string modelType = stringField(config, "model_type");
    auto architectures = config.find("architectures");
    if (architectures != config.end() && architectures->is_array()) {
        for (const auto& entry : *architectures) {
            if (!entry.is_string()) continue;
            std::string name = entry.get<std::string>();
            if (support.architecture.empty()) support.architecture = name;
            if (std::find(std::begin(kWav2vec2Architectures), std::end(kWav2vec2Architectures), name) !=
                std::end(kWav2vec2Architectures)) {
                support.architecture = name;
                support.supported = true;
            }
        }
    }
    // A bare wav2vec2 config without `architectures` is still one the loader reads.
    if (!support.supported && modelType == "wav2vec2" &&
        (architectures == config.end() || !architectures->is_array() || architectures->empty())) {
        support.supported = true;
        support.architecture = "wav2vec2";
    }
    if (!support.supported) {
        std::string what = !support.architecture.empty() ? support.architecture
                           : !modelType.empty()           ? "model_type " + modelType
                                                          : "a model without architectures or model_type";
        support.reason = "it is a transformers " + what + "; grym-synth runs wav2vec2 (Wav2Vec2ForCTC, "
                         "Wav2Vec2Model) and AudioLDMPipeline models";
    }
    return support;
}

ModelSupport assessModelFolder(const fs::path& folder) {
    auto readJson = [](const fs::path& path, nlohmann::json& out, std::string& error) {
        std::ifstream in(path);
        if (!in) {
            error = "cannot read " + path.string();
            return false;
        }
        out = nlohmann::json::parse(in, nullptr, false);
        if (out.is_discarded()) {
            error = path.string() + " is not valid JSON";
            return false;
        }
        return true;
    };
    std::error_code ec;
    nlohmann::json json;
    std::string error;
    for (auto [file, kind] : {std::pair{"model_index.json", RepoKind::DiffusersPipeline},
                              std::pair{"config.json", RepoKind::Transformers}}) {
        fs::path path = folder / file;
        if (!fs::exists(path, ec)) continue;
        if (!readJson(path, json, error)) {
            ModelSupport broken;
            broken.kind = kind;
            broken.reason = error;
            return broken;
        }
        return kind == RepoKind::DiffusersPipeline ? assessDiffusersPipeline(json) : assessTransformersModel(json);
    }
    ModelSupport unknown;
    unknown.reason = "neither model_index.json (diffusers) nor config.json (transformers) is in " + folder.string();
    return unknown;
}

}  // namespace grym::hub
