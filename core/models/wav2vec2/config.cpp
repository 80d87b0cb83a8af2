#include "models/wav2vec2/config.h"

#include "common/error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace grym {

namespace {

// Field readers: absent fields keep the transformers default; present fields must have the
// right type and a usable value.
class FieldReader {
public:
    FieldReader(const nlohmann::json& j, const std::string& source) : j_(j), source_(source) {}

    [[noreturn]] void reject(const std::string& field, const std::string& why) const {
        throw ModelError(source_ + ": field '" + field + "' " + why);
    }
    std::string shown(const std::string& field) const { return j_.at(field).dump(); }

    bool has(const std::string& field) const { return j_.contains(field) && !j_.at(field).is_null(); }

    int64_t positiveInt(const std::string& field, int64_t fallback) const {
        if (!has(field)) return fallback;
        const auto& v = j_.at(field);
        if (!v.is_number_integer()) reject(field, "must be an integer, got " + shown(field));
        const int64_t n = v.get<int64_t>();
        if (n <= 0) reject(field, "must be positive, got " + shown(field));
        if (n > (int64_t(1) << 24)) reject(field, "value " + shown(field) + " is implausibly large");
        return n;
    }
    int64_t integer(const std::string& field, int64_t fallback) const {
        if (!has(field)) return fallback;
        if (!j_.at(field).is_number_integer()) reject(field, "must be an integer, got " + shown(field));
        return j_.at(field).get<int64_t>();
    }
    double number(const std::string& field, double fallback) const {
        if (!has(field)) return fallback;
        if (!j_.at(field).is_number()) reject(field, "must be a number, got " + shown(field));
        return j_.at(field).get<double>();
    }
    bool boolean(const std::string& field, bool fallback) const {
        if (!has(field)) return fallback;
        if (!j_.at(field).is_boolean()) reject(field, "must be true or false, got " + shown(field));
        return j_.at(field).get<bool>();
    }
    std::string string(const std::string& field, const std::string& fallback) const {
        if (!has(field)) return fallback;
        if (!j_.at(field).is_string()) reject(field, "must be a string, got " + shown(field));
        return j_.at(field).get<std::string>();
    }
    std::vector<int64_t> positiveIntList(const std::string& field, const std::vector<int64_t>& fallback) const {
        if (!has(field)) return fallback;
        const auto& v = j_.at(field);
        if (!v.is_array() || v.empty()) reject(field, "must be a non-empty list of integers, got " + shown(field));
        std::vector<int64_t> out;
        for (const auto& e : v) {
            if (!e.is_number_integer() || e.get<int64_t>() <= 0 || e.get<int64_t>() > (int64_t(1) << 24))
                reject(field, "must hold positive integers, got " + shown(field));
            out.push_back(e.get<int64_t>());
        }
        return out;
    }
    Activation activation(const std::string& field) const {
        const std::string name = string(field, "gelu");
        if (name == "gelu") return Activation::Gelu;
        if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return Activation::GeluTanh;
        if (name == "relu") return Activation::Relu;
        if (name == "silu" || name == "swish") return Activation::Silu;
        reject(field, "value \"" + name + "\" is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish)");
    }

private:
    const nlohmann::json& j_;
    std::string source_;
};

}  // namespace

const char* toString(Activation a) {
    switch (a) {
    case Activation::Gelu: return "gelu";
    case Activation::GeluTanh: return "gelu_tanh";
    case Activation::Relu: return "relu";
    case Activation::Silu: return "silu";
    }
    return "?";
}

int64_t Wav2vec2Config::outputFrames(int64_t samples) const {
    int64_t n = samples;
    for (size_t i = 0; i < convKernel.size(); ++i) {
        if (n < convKernel[i]) return 0;
        n = (n - convKernel[i]) / convStride[i] + 1;
    }
    return n;
}

int64_t Wav2vec2Config::receptiveField() const {
    // Walk back from one output frame: a layer needs (n - 1) * stride + kernel inputs for n outputs.
    int64_t n = 1;
    for (size_t i = convKernel.size(); i-- > 0;) n = (n - 1) * convStride[i] + convKernel[i];
    return n;
}

Wav2vec2Config parseWav2vec2Config(const nlohmann::json& j, const std::string& source) {
    if (!j.is_object()) throw ModelError(source + ": is not a JSON object");
    FieldReader r(j, source);
    Wav2vec2Config c;

    const std::string modelType = r.string("model_type", "");
    if (modelType != "wav2vec2")
        r.reject("model_type", modelType.empty() ? std::string("is missing (expected \"wav2vec2\")")
                                                 : "value \"" + modelType + "\" is another architecture; this loader runs \"wav2vec2\" only");
    if (r.has("architectures")) {
        const auto& a = j.at("architectures");
        if (!a.is_array() || a.empty() || !a[0].is_string())
            r.reject("architectures", "must be a list of class names, got " + a.dump());
        const std::string arch = a[0].get<std::string>();
        if (arch == "Wav2Vec2ForCTC") c.architecture = Wav2vec2Architecture::ForCtc;
        else if (arch == "Wav2Vec2Model") c.architecture = Wav2vec2Architecture::BareModel;
        else if (arch == "Wav2Vec2ForPreTraining") c.architecture = Wav2vec2Architecture::ForPreTraining;
        else
            r.reject("architectures", "value \"" + arch +
                                          "\" is not supported (supported: Wav2Vec2ForCTC, Wav2Vec2Model, Wav2Vec2ForPreTraining)");
    }

    c.hiddenSize = r.positiveInt("hidden_size", c.hiddenSize);
    c.numHiddenLayers = r.positiveInt("num_hidden_layers", c.numHiddenLayers);
    c.numAttentionHeads = r.positiveInt("num_attention_heads", c.numAttentionHeads);
    c.intermediateSize = r.positiveInt("intermediate_size", c.intermediateSize);
    c.hiddenAct = r.activation("hidden_act");
    c.layerNormEps = r.number("layer_norm_eps", c.layerNormEps);
    if (!(c.layerNormEps > 0 && c.layerNormEps < 1)) r.reject("layer_norm_eps", "must lie in (0, 1), got " + r.shown("layer_norm_eps"));
    if (c.hiddenSize % c.numAttentionHeads != 0)
        r.reject("num_attention_heads", "value " + std::to_string(c.numAttentionHeads) + " does not divide hidden_size " +
                                            std::to_string(c.hiddenSize));

    const std::string norm = r.string("feat_extract_norm", "group");
    if (norm == "group") c.featExtractNorm = FeatureEncoderNorm::Group;
    else if (norm == "layer") c.featExtractNorm = FeatureEncoderNorm::Layer;
    else r.reject("feat_extract_norm", "value \"" + norm + "\" is not supported (supported: group, layer)");
    c.featExtractActivation = r.activation("feat_extract_activation");
    c.convDim = r.positiveIntList("conv_dim", c.convDim);
    c.convKernel = r.positiveIntList("conv_kernel", c.convKernel);
    c.convStride = r.positiveIntList("conv_stride", c.convStride);
    if (c.convKernel.size() != c.convDim.size())
        r.reject("conv_kernel", "has " + std::to_string(c.convKernel.size()) + " entries but conv_dim has " + std::to_string(c.convDim.size()));
    if (c.convStride.size() != c.convDim.size())
        r.reject("conv_stride", "has " + std::to_string(c.convStride.size()) + " entries but conv_dim has " + std::to_string(c.convDim.size()));
    const int64_t layers = r.positiveInt("num_feat_extract_layers", static_cast<int64_t>(c.convDim.size()));
    if (layers != static_cast<int64_t>(c.convDim.size()))
        r.reject("num_feat_extract_layers", "value " + std::to_string(layers) + " differs from the " +
                                                std::to_string(c.convDim.size()) + " entries of conv_dim");
    c.convBias = r.boolean("conv_bias", c.convBias);

    c.numConvPosEmbeddings = r.positiveInt("num_conv_pos_embeddings", c.numConvPosEmbeddings);
    c.numConvPosEmbeddingGroups = r.positiveInt("num_conv_pos_embedding_groups", c.numConvPosEmbeddingGroups);
    if (c.hiddenSize % c.numConvPosEmbeddingGroups != 0)
        r.reject("num_conv_pos_embedding_groups", "value " + std::to_string(c.numConvPosEmbeddingGroups) +
                                                      " does not divide hidden_size " + std::to_string(c.hiddenSize));
    c.doStableLayerNorm = r.boolean("do_stable_layer_norm", c.doStableLayerNorm);

    c.vocabSize = r.positiveInt("vocab_size", c.vocabSize);
    c.padTokenId = r.integer("pad_token_id", c.padTokenId);
    c.hasMaskedSpecEmbed = r.number("mask_time_prob", 0.05) > 0.0 || r.number("mask_feature_prob", 0.0) > 0.0;

    // Options that change the network and that this implementation does not run.
    if (r.boolean("add_adapter", false))
        r.reject("add_adapter", "value true is not supported (adapter layers after the encoder)");
    const std::string pos = r.string("position_embeddings_type", "");
    if (!pos.empty()) r.reject("position_embeddings_type", "value \"" + pos + "\" is not supported (conformer models)");
    return c;
}

nlohmann::json readWav2vec2Json(const std::string& path) {
    if (!std::filesystem::exists(path)) throw ModelError(path + ": file is missing");
    std::ifstream in(path);
    if (!in) throw ModelError(path + ": cannot open");
    try {
        return nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        throw ModelError(path + ": not valid JSON (" + e.what() + ")");
    }
}

Wav2vec2Config loadWav2vec2Config(const std::string& path) { return parseWav2vec2Config(readWav2vec2Json(path), path); }

Wav2vec2PreprocessorConfig parseWav2vec2PreprocessorConfig(const nlohmann::json& j, const std::string& source) {
    if (!j.is_object()) throw ModelError(source + ": is not a JSON object");
    FieldReader r(j, source);
    Wav2vec2PreprocessorConfig p;
    const std::string type = r.string("feature_extractor_type", "Wav2Vec2FeatureExtractor");
    if (type != "Wav2Vec2FeatureExtractor")
        r.reject("feature_extractor_type", "value \"" + type + "\" is not supported (expected Wav2Vec2FeatureExtractor)");
    if (r.positiveInt("feature_size", 1) != 1) r.reject("feature_size", "value " + r.shown("feature_size") + " is not supported (raw mono audio: 1)");
    const std::string side = r.string("padding_side", "right");
    if (side != "right") r.reject("padding_side", "value \"" + side + "\" is not supported (right)");
    p.doNormalize = r.boolean("do_normalize", p.doNormalize);
    p.samplingRate = static_cast<int>(r.positiveInt("sampling_rate", p.samplingRate));
    p.paddingValue = static_cast<float>(r.number("padding_value", p.paddingValue));
    p.returnAttentionMask = r.boolean("return_attention_mask", p.returnAttentionMask);
    return p;
}

Wav2vec2PreprocessorConfig loadWav2vec2PreprocessorConfig(const std::string& path) {
    return parseWav2vec2PreprocessorConfig(readWav2vec2Json(path), path);
}

}  // namespace grym
