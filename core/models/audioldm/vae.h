#pragma once
// AudioLDM's autoencoder: diffusers' AutoencoderKL with a 1-channel mel spectrogram as its
// "image" ([B, 1, frames, mel_bins]). decode() turns (unscaled) latents into a mel; encode()
// gives the diagonal-Gaussian posterior used for audio-to-audio. Loads a diffusers `vae/`
// folder; the mid-block attention may use either diffusers' current names
// (to_q/to_k/to_v/to_out.0) or the older ones (query/key/value/proj_attn).
#include "models/activation.h"
#include "models/audioldm/weight_quantization.h"

#include <nlohmann/json_fwd.hpp>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace grym::audioldm {

class VaeModel;

struct VaeConfig {
    int64_t inChannels = 1;
    int64_t outChannels = 1;
    int64_t latentChannels = 8;
    std::vector<int64_t> blockOutChannels;
    int64_t layersPerBlock = 1;
    int64_t normNumGroups = 32;
    Activation actFn = Activation::Silu;
    int64_t sampleSize = 0;
    // "scaling_factor": latents are multiplied by it after encoding (unit variance for the UNet)
    // and divided by it before decoding.
    double latentScalingFactor = 0.18215;
    bool useQuantConv = true;
    bool usePostQuantConv = true;
    bool midBlockAddAttention = true;

    static VaeConfig fromJson(const nlohmann::json& json, const std::string& source);
    static VaeConfig fromFile(const std::string& path);

    // Mel frames (and bins) per latent cell along each axis: 2^(levels-1).
    int64_t latentDownsampling() const;
};

// The encoder's diagonal Gaussian over latents; each [B, latent_channels, H/f, W/f].
struct VaePosterior {
    torch::Tensor mean;
    torch::Tensor logvar;  // clamped to [-30, 20], as diffusers does
    torch::Tensor std;     // exp(logvar / 2)
    // mean + std * noise (noise: standard normal of the same shape, from the caller's generator).
    torch::Tensor sample(const torch::Tensor& noise) const;
};

struct VaeDecodeOptions {
    // Decode one batch entry at a time: identical results, peak memory of a single entry.
    bool sliceBatch = true;
    // > 0: decode overlapping windows of this many latent frames (dim 2) and cross-fade them,
    // so a clip of any length fits in memory. The windows see only their own frames (the
    // mid-block attention is global in a full decode), so the output is close to, not equal
    // to, a full decode; see docs. 0: decode the whole length at once.
    int64_t tileLatentFrames = 0;
    // Latent frames shared by neighbouring windows; the decoded overlap is cross-faded linearly.
    int64_t tileOverlapLatentFrames = 8;
};

class Vae {
public:
    // As UNet::load: config.json and the diffusion_pytorch_model weights.
    static Vae load(const std::string& dir, const LoadOptions& options = {});
    static Vae randomlyInitialised(const VaeConfig& config, torch::Device device = torch::kCPU,
                                   torch::ScalarType dtype = torch::kFloat32);

    // latents [B, latent_channels, h, w] (already divided by latentScalingFactor()) -> [B, out, h*f, w*f]
    torch::Tensor decode(const torch::Tensor& latents, const VaeDecodeOptions& options = {}) const;
    // mel [B, in_channels, H, W] -> posterior over [B, latent_channels, ~H/f, ~W/f]
    VaePosterior encode(const torch::Tensor& mel) const;

    double latentScalingFactor() const;
    const VaeConfig& config() const;
    torch::Device device() const;
    torch::ScalarType dtype() const;
    uint64_t parameterCount() const;
    uint64_t parameterBytes() const;
    // Weight-only int8 / int4 for every Linear and Conv2d, encoder and decoder (see
    // UNet::quantizeWeights).
    // int8Arithmetic: LoadOptions::int8Arithmetic (false here: weight-only, as before).
    QuantizationReport quantizeWeights(WeightQuantization level, bool int8Arithmetic = false);

private:
    explicit Vae(std::shared_ptr<VaeModel> model);
    torch::Tensor decodeWhole(const torch::Tensor& latents) const;
    torch::Tensor decodeTiled(const torch::Tensor& latents, int64_t tile, int64_t overlap) const;
    std::shared_ptr<VaeModel> model_;
};

}  // namespace grym::audioldm
