#include "models/wav2vec2/config.h"

#include "common/error.h"
#include "common/json_reader.h"

#include <nlohmann/json.hpp>

namespace grym {

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
    const JsonReader r(j, source);
    Wav2vec2Config c;

    const std::string modelType = r.string("model_type", "");
    if (modelType != "wav2vec2")
        r.reject("model_type", modelType.empty() ? std::string("expected \"wav2vec2\"")
                                                 : "another architecture; this loader runs \"wav2vec2\" only");
    if (r.has("architectures")) {
        const auto architectures = r.strings("architectures");
        if (architectures.empty()) r.reject("architectures", "expected a list of class names");
        const std::string& arch = architectures.front();
        if (arch == "Wav2Vec2ForCTC") c.architecture = Wav2vec2Architecture::ForCtc;
        else if (arch == "Wav2Vec2Model") c.architecture = Wav2vec2Architecture::BareModel;
        else if (arch == "Wav2Vec2ForPreTraining") c.architecture = Wav2vec2Architecture::ForPreTraining;
        else
            r.reject("architectures", "not supported (supported: Wav2Vec2ForCTC, Wav2Vec2Model, Wav2Vec2ForPreTraining)");
    }

    c.hiddenSize = r.positive("hidden_size", c.hiddenSize);
    c.numHiddenLayers = r.positive("num_hidden_layers", c.numHiddenLayers);
    c.numAttentionHeads = r.positive("num_attention_heads", c.numAttentionHeads);
    c.intermediateSize = r.positive("intermediate_size", c.intermediateSize);
    c.hiddenAct = readActivation(r, "hidden_act", Activation::Gelu, ActivationNames::Transformers);
    c.layerNormEps = r.number("layer_norm_eps", c.layerNormEps);
    if (!(c.layerNormEps > 0 && c.layerNormEps < 1)) r.reject("layer_norm_eps", "must lie in (0, 1)");
    if (c.hiddenSize % c.numAttentionHeads != 0)
        r.reject("num_attention_heads", "does not divide hidden_size " + std::to_string(c.hiddenSize));

    c.featExtractNorm = r.choice<FeatureEncoderNorm>(
        "feat_extract_norm", {{"group", FeatureEncoderNorm::Group}, {"layer", FeatureEncoderNorm::Layer}},
        FeatureEncoderNorm::Group);
    c.featExtractActivation =
        readActivation(r, "feat_extract_activation", Activation::Gelu, ActivationNames::Transformers);
    const auto sizes = [&](const char* field, const std::vector<int64_t>& fallback) {
        const auto list = r.integers(field, fallback);
        if (list.empty()) r.reject(field, "expected a non-empty list of integers");
        for (int64_t n : list)
            if (n <= 0 || n > (int64_t(1) << 24)) r.reject(field, "must hold positive integers");
        return list;
    };
    c.convDim = sizes("conv_dim", c.convDim);
    c.convKernel = sizes("conv_kernel", c.convKernel);
    c.convStride = sizes("conv_stride", c.convStride);
    if (c.convKernel.size() != c.convDim.size())
        r.reject("conv_kernel", "has " + std::to_string(c.convKernel.size()) + " entries but conv_dim has " + std::to_string(c.convDim.size()));
    if (c.convStride.size() != c.convDim.size())
        r.reject("conv_stride", "has " + std::to_string(c.convStride.size()) + " entries but conv_dim has " + std::to_string(c.convDim.size()));
    const int64_t layers = r.positive("num_feat_extract_layers", static_cast<int64_t>(c.convDim.size()));
    if (layers != static_cast<int64_t>(c.convDim.size()))
        r.reject("num_feat_extract_layers", "differs from the " + std::to_string(c.convDim.size()) + " entries of conv_dim");
    c.convBias = r.boolean("conv_bias", c.convBias);

    c.numConvPosEmbeddings = r.positive("num_conv_pos_embeddings", c.numConvPosEmbeddings);
    c.numConvPosEmbeddingGroups = r.positive("num_conv_pos_embedding_groups", c.numConvPosEmbeddingGroups);
    if (c.hiddenSize % c.numConvPosEmbeddingGroups != 0)
        r.reject("num_conv_pos_embedding_groups", "does not divide hidden_size " + std::to_string(c.hiddenSize));
    c.doStableLayerNorm = r.boolean("do_stable_layer_norm", c.doStableLayerNorm);

    c.vocabSize = r.positive("vocab_size", c.vocabSize);
    c.padTokenId = r.integer("pad_token_id", c.padTokenId);
    c.hasMaskedSpecEmbed = r.number("mask_time_prob", 0.05) > 0.0 || r.number("mask_feature_prob", 0.0) > 0.0;

    // Options that change the network and that this implementation does not run.
    if (r.boolean("add_adapter", false)) r.reject("add_adapter", "not supported (adapter layers after the encoder)");
    if (!r.string("position_embeddings_type", "").empty())
        r.reject("position_embeddings_type", "not supported (conformer models)");
    return c;
}

Wav2vec2Config loadWav2vec2Config(const std::string& path) { return parseWav2vec2Config(readJsonFile(path), path); }

Wav2vec2PreprocessorConfig parseWav2vec2PreprocessorConfig(const nlohmann::json& j, const std::string& source) {
    const JsonReader r(j, source);
    Wav2vec2PreprocessorConfig p;
    r.requireOneOf("feature_extractor_type", {"Wav2Vec2FeatureExtractor"});
    if (r.positive("feature_size", 1) != 1) r.reject("feature_size", "not supported (raw mono audio: 1)");
    r.requireOneOf("padding_side", {"right"});
    p.doNormalize = r.boolean("do_normalize", p.doNormalize);
    p.samplingRate = static_cast<int>(r.positive("sampling_rate", p.samplingRate));
    p.paddingValue = static_cast<float>(r.number("padding_value", p.paddingValue));
    p.returnAttentionMask = r.boolean("return_attention_mask", p.returnAttentionMask);
    return p;
}

Wav2vec2PreprocessorConfig loadWav2vec2PreprocessorConfig(const std::string& path) {
    return parseWav2vec2PreprocessorConfig(readJsonFile(path), path);
}

}  // namespace grym
