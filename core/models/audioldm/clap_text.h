#pragma once
// CLAP's text branch as AudioLDM uses it (transformers' ClapTextModelWithProjection):
// a RoBERTa encoder, a pooler (dense + tanh on the first token) and a projection
// (linear1, activation, linear2). The pipeline conditions the UNet on the L2-normalised
// projection.
#include "models/activation.h"
#include "models/audioldm/weight_quantization.h"

#include <torch/types.h>

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

namespace torch::nn {
class Module;
}

namespace grym::audioldm {

class RobertaTokenizer;

// The text-model fields of a ClapTextConfig (or of the "text_config" inside a full ClapConfig).
struct ClapTextConfig {
    int64_t vocabSize = 50265;
    int64_t hiddenSize = 768;
    int64_t numHiddenLayers = 12;
    int64_t numAttentionHeads = 12;
    int64_t intermediateSize = 3072;
    Activation hiddenAct = Activation::Gelu;
    int64_t maxPositionEmbeddings = 514;
    int64_t typeVocabSize = 1;
    double layerNormEps = 1e-12;
    int64_t padTokenId = 1;
    int64_t projectionDim = 512;
    Activation projectionHiddenAct = Activation::Relu;

    // Parses config.json text (either layout); throws ModelError naming `source`, the field
    // and the value for anything missing, malformed or unsupported. Absent fields keep the
    // reference library's defaults above.
    static ClapTextConfig fromJson(const nlohmann::json& json, const std::string& source);
    static ClapTextConfig fromFile(const std::string& path);
};

struct ClapTextOutput {
    torch::Tensor lastHiddenState;       // [B, L, hidden]
    torch::Tensor poolerOutput;          // [B, hidden]
    torch::Tensor textEmbeds;            // [B, projection_dim]
    torch::Tensor textEmbedsNormalized;  // [B, projection_dim], unit L2 norm per row
    std::vector<torch::Tensor> hiddenStates;  // embeddings output, then each layer's output (if asked)
};

struct ClapTextForwardOptions {
    // Keep every layer's output in ClapTextOutput::hiddenStates.
    bool hiddenStates = false;
    // Run only up to the last position any row attends to. Masked positions receive zero
    // attention weight and RoBERTa position ids only count tokens to the left, so the
    // pooled output and embeddings are unchanged; the hidden states then cover the
    // shortened length only. Rows with no attended token disable trimming.
    bool trimPadding = false;
};

class ClapTextEncoder {
public:
    // Reads config.json and the model weights (weights/weight_source.h) from a text_encoder
    // folder, with the weights on options.device in options.dtype, quantised to options.precision.
    static ClapTextEncoder load(const std::string& folder, const LoadOptions& options = {});

    // A model with the config's shapes and untrained weights (tests, benchmarks).
    ClapTextEncoder(const ClapTextConfig& config, torch::Device device = torch::kCPU,
                    torch::ScalarType dtype = torch::kFloat32);
    ~ClapTextEncoder();
    ClapTextEncoder(ClapTextEncoder&&) noexcept;
    ClapTextEncoder& operator=(ClapTextEncoder&&) noexcept;

    // inputIds, attentionMask: int64 [B, L] (any device). Throws ModelError on bad shapes,
    // ids outside the vocabulary or sequences longer than the position table.
    ClapTextOutput forward(const torch::Tensor& inputIds, const torch::Tensor& attentionMask,
                           const ClapTextForwardOptions& options = {}) const;

    // What AudioLDM's pipeline conditions on: each prompt tokenized as the pipeline does
    // (padded to maxLength, or model_max_length when maxLength <= 0, truncated), encoded,
    // projected and L2-normalised. Returns [prompts.size(), projection_dim] on the model's
    // device and dtype.
    torch::Tensor encodePrompts(const std::vector<std::string>& prompts, const RobertaTokenizer& tokenizer,
                                int64_t maxLength = 0) const;

    const ClapTextConfig& config() const;
    torch::Device device() const;
    torch::ScalarType dtype() const;

    // Weight-only int8 / int4 for every Linear (attention, feed-forward, pooler, projection)
    // and the word-embedding table (the small position and token-type tables stay float).
    // Call after load(); see UNet::quantizeWeights.
    audioldm::QuantizationReport quantizeWeights(audioldm::WeightQuantization level, bool int8Arithmetic = false);

    // The parameter tree, named exactly as the checkpoint keys (text_model.*, text_projection.*).
    torch::nn::Module& module();

private:
    // randomWeights false: linear weights left as placeholders for load() to fill.
    ClapTextEncoder(const ClapTextConfig& config, torch::Device device, torch::ScalarType dtype, bool randomWeights);
    ClapTextOutput run(const torch::Tensor& inputIds, const torch::Tensor& attentionMask,
                       const ClapTextForwardOptions& options) const;

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace grym::audioldm
