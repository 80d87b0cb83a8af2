#pragma once
// AudioLDM's denoiser: diffusers' UNet2DConditionModel as AudioLDM configures it. The text
// embedding enters as a class label (class_embed_type "simple_projection") joined to the time
// embedding; the transformer blocks get no encoder states, so their second attention attends to
// the sample itself. Loads a diffusers `unet/` folder (config.json +
// diffusion_pytorch_model.safetensors) with parameter names 1:1 with the checkpoint.
#include "models/activation.h"
#include "models/audioldm/weight_quantization.h"

#include <nlohmann/json_fwd.hpp>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace grym::audioldm {

class UNetModel;

struct UNetConfig {
    int64_t inChannels = 4;
    int64_t outChannels = 4;
    int64_t sampleSize = 0;
    bool centerInputSample = false;
    bool flipSinToCos = true;
    double freqShift = 0.0;
    std::vector<std::string> downBlockTypes;  // "DownBlock2D" | "CrossAttnDownBlock2D"
    std::vector<std::string> upBlockTypes;    // "UpBlock2D" | "CrossAttnUpBlock2D"
    bool hasMidBlock = true;                  // mid_block_type "UNetMidBlock2DCrossAttn" (or null: none)
    std::vector<int64_t> blockOutChannels;
    int64_t layersPerBlock = 2;
    int64_t downsamplePadding = 1;
    double midBlockScaleFactor = 1.0;
    double resnetOutScaleFactor = 1.0;
    Activation actFn = Activation::Silu;
    int64_t normNumGroups = 32;
    double normEps = 1e-5;
    std::vector<int64_t> attentionHeads;             // per down block (diffusers' attention_head_dim quirk)
    std::vector<int64_t> transformerLayersPerBlock;  // per down block
    bool useLinearProjection = false;
    bool upcastAttention = false;
    int64_t convInKernel = 3;
    int64_t convOutKernel = 3;
    int64_t timeEmbedDim = 0;                  // time_embedding_dim or 4 * block_out_channels[0]
    std::optional<Activation> timestepPostAct;     // an activation after linear_2
    std::optional<Activation> timeEmbeddingActFn;  // an activation on the joined embedding
    std::string classEmbedType;                // "" (none) or "simple_projection"
    int64_t projectionClassEmbeddingsInputDim = 0;
    bool classEmbeddingsConcat = false;

    // Parses and validates a diffusers UNet config; throws ModelError naming the first field
    // whose value we do not implement.
    static UNetConfig fromJson(const nlohmann::json& json, const std::string& source);
    static UNetConfig fromFile(const std::string& path);

    // Channels of the time embedding the resnets receive (doubled when the class embedding is
    // concatenated to it).
    int64_t resnetTimeEmbedDim() const;
    // How much the UNet shrinks a latent between its first and its deepest level,
    // 2^(number of up-samplers); latent sizes need not be multiples of it.
    int64_t featureMapDownsampling() const;
};

class UNet {
public:
    // Loads `dir`/config.json and the diffusion_pytorch_model weights (weights/weight_source.h)
    // onto options.device in options.dtype, quantised to options.precision.
    static UNet load(const std::string& dir, const LoadOptions& options = {});
    // A model with the config's shapes and untrained (default-initialised) weights; for tests.
    static UNet randomlyInitialised(const UNetConfig& config, torch::Device device = torch::kCPU,
                                    torch::ScalarType dtype = torch::kFloat32);

    // sample [B, in_channels, H, W] (any H, W >= 1), timestep: scalar or [B] (or [1]),
    // classLabels [B, projection_class_embeddings_input_dim] (required with a class embedding)
    // -> predicted noise [B, out_channels, H, W], in the model's dtype on its device.
    torch::Tensor forward(const torch::Tensor& sample, const torch::Tensor& timestep,
                          const torch::Tensor& classLabels = {}) const;
    torch::Tensor forward(const torch::Tensor& sample, double timestep, const torch::Tensor& classLabels = {}) const;

    const UNetConfig& config() const;
    torch::Device device() const;
    torch::ScalarType dtype() const;
    uint64_t parameterCount() const;
    uint64_t parameterBytes() const;  // memory the weights take on their device

    // Weight-only int8 / int4 for every Linear and Conv2d (see weight_quantization.h;
    // activations stay in the model's dtype). Call after load(); afterwards parameterBytes()
    // counts the integers and scales. Throws ModelError for an unknown level or a model already
    // quantised to another level.
    // int8Arithmetic: LoadOptions::int8Arithmetic (false here: weight-only, as before).
    QuantizationReport quantizeWeights(WeightQuantization level, bool int8Arithmetic = false);

private:
    explicit UNet(std::shared_ptr<UNetModel> model);
    std::shared_ptr<UNetModel> model_;
};

// Sinusoidal timestep embedding as diffusers computes it: [N] -> [N, dim] float32.
// Frequencies exp(-ln(10000) * i / (dim/2 - freqShift)); sin then cos, swapped when flipSinToCos.
torch::Tensor timestepEmbedding(const torch::Tensor& timesteps, int64_t dim, bool flipSinToCos, double freqShift);

}  // namespace grym::audioldm
