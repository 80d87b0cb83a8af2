#pragma once
// Typed views of a transformers wav2vec2 model folder's JSON files: config.json (the
// network) and preprocessor_config.json (the feature extractor). Parsing rejects every
// value this implementation does not run, naming the field and the value.
#include "models/activation.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace grym {

enum class FeatureEncoderNorm {
    Group,  // "group": GroupNorm (one group per channel) after the first conv only (base models)
    Layer,  // "layer": LayerNorm over channels after every conv (large / lv60 models)
};

enum class Wav2vec2Architecture {
    ForCtc,          // Wav2Vec2ForCTC: keys under "wav2vec2." plus the "lm_head."
    BareModel,       // Wav2Vec2Model: keys at the top level, no CTC head
    ForPreTraining,  // Wav2Vec2ForPreTraining: keys under "wav2vec2."; quantizer heads unused
};

struct Wav2vec2Config {
    Wav2vec2Architecture architecture = Wav2vec2Architecture::ForCtc;
    int64_t hiddenSize = 768;
    int64_t numHiddenLayers = 12;
    int64_t numAttentionHeads = 12;
    int64_t intermediateSize = 3072;
    Activation hiddenAct = Activation::Gelu;
    double layerNormEps = 1e-5;

    FeatureEncoderNorm featExtractNorm = FeatureEncoderNorm::Group;
    Activation featExtractActivation = Activation::Gelu;
    std::vector<int64_t> convDim{512, 512, 512, 512, 512, 512, 512};
    std::vector<int64_t> convKernel{10, 3, 3, 3, 3, 2, 2};
    std::vector<int64_t> convStride{5, 2, 2, 2, 2, 2, 2};
    bool convBias = false;

    int64_t numConvPosEmbeddings = 128;
    int64_t numConvPosEmbeddingGroups = 16;
    bool doStableLayerNorm = false;  // false: post-LN ("base"); true: pre-LN ("large", stable)

    int64_t vocabSize = 32;
    int64_t padTokenId = 0;
    // transformers creates the masked_spec_embed parameter only when SpecAugment masking is on.
    bool hasMaskedSpecEmbed = true;

    // Samples in, frames out, through the conv stack: floor((n - kernel) / stride) + 1 per layer.
    // Returns 0 when the clip is shorter than the receptive field.
    int64_t outputFrames(int64_t samples) const;
    // The fewest samples that give one output frame.
    int64_t receptiveField() const;
};

struct Wav2vec2PreprocessorConfig {
    bool doNormalize = true;
    int samplingRate = 16000;
    float paddingValue = 0.0f;
    bool returnAttentionMask = false;  // true: the model expects a mask with padded batches
};

// `source` names the file in messages. Throw ModelError naming field and value.
Wav2vec2Config parseWav2vec2Config(const nlohmann::json& j, const std::string& source);
Wav2vec2Config loadWav2vec2Config(const std::string& path);
Wav2vec2PreprocessorConfig parseWav2vec2PreprocessorConfig(const nlohmann::json& j, const std::string& source);
Wav2vec2PreprocessorConfig loadWav2vec2PreprocessorConfig(const std::string& path);

}  // namespace grym
