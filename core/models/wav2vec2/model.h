#pragma once
// wav2vec2 in libtorch: conv feature encoder -> feature projection -> positional conv
// embedding -> transformer encoder (post-LN "base" or stable pre-LN "large") -> optional CTC
// head. The module tree's parameter names are the checkpoint keys of transformers'
// Wav2Vec2ForCTC ("wav2vec2.*", "lm_head.*") or of a bare Wav2Vec2Model.
#include "models/load_options.h"
#include "models/wav2vec2/config.h"
#include "weights/safetensors.h"

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace grym {

struct Wav2vec2Output {
    torch::Tensor extractFeatures;            // (batch, conv_dim[-1], frames): the conv encoder's output
    std::vector<torch::Tensor> hiddenStates;  // num_hidden_layers + 1 tensors (batch, frames, hidden), when asked
    torch::Tensor lastHiddenState;            // (batch, frames, hidden)
    torch::Tensor logits;                     // (batch, frames, vocab); undefined without a CTC head
    torch::Tensor frameMask;                  // (batch, frames) bool: frames that see real audio
};

class Wav2vec2Network;  // the torch::nn module tree (model.cpp)

class Wav2vec2Model {
public:
    // A model with freshly initialised (random) weights: for benchmarks and tests (quantised to
    // runtime.precision).
    Wav2vec2Model(const Wav2vec2Config& config, bool withCtcHead, const LoadOptions& runtime = {});
    ~Wav2vec2Model();
    Wav2vec2Model(Wav2vec2Model&&) noexcept;
    Wav2vec2Model& operator=(Wav2vec2Model&&) noexcept;

    // Loads config.json and the model weights (weights/weight_source.h) from a transformers
    // folder. The CTC head is present exactly when the checkpoint holds "lm_head.*".
    // CPU runs float32; CUDA runs float32, float16 or bfloat16. Precision int8 (CPU, float32):
    // the linear layers compute in int8 (models/int8_linear.h), quantised while loading.
    static Wav2vec2Model load(const std::string& folder, const LoadOptions& runtime = {});
    // Builds the network for `config` and loads `weights` into it (weight norm folded here).
    static Wav2vec2Model fromWeights(const Wav2vec2Config& config, StateDict weights, const std::string& source,
                                     const LoadOptions& runtime = {});

    // inputValues: (batch, samples) as the feature extractor makes them. attentionMask:
    // (batch, samples), nonzero on real samples; leave undefined for an unpadded batch.
    Wav2vec2Output forward(const torch::Tensor& inputValues, const torch::Tensor& attentionMask = {},
                           bool allHiddenStates = true) const;

    const Wav2vec2Config& config() const { return config_; }
    bool hasCtcHead() const { return hasCtcHead_; }
    const LoadOptions& runtime() const { return runtime_; }
    int64_t parameterCount() const;
    int64_t parameterBytes() const;
    // Every parameter under its checkpoint key, as float32 on the CPU (weight norm folded).
    StateDict stateDict() const;
    // Checkpoint-style names and shapes of every parameter (for tests and diagnostics).
    std::vector<std::pair<std::string, std::vector<int64_t>>> parameterShapes() const;

private:
    Wav2vec2Model(const Wav2vec2Config& config, bool withCtcHead, const LoadOptions& runtime, bool initialise);
    // Quantises the linear layers to runtime_.precision (nothing at None).
    void quantize();
    Wav2vec2Config config_;
    bool hasCtcHead_ = false;
    LoadOptions runtime_;
    std::shared_ptr<Wav2vec2Network> net_;
};

// Throws ModelError when `runtime` cannot run here (CUDA absent, half precision on the CPU,
// int4, or int8 other than on the CPU in float32).
void checkWav2vec2Runtime(const LoadOptions& runtime);

}  // namespace grym
