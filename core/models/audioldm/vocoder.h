#pragma once
// SpeechT5 HiFi-GAN generator, the vocoder AudioLDM uses to turn a log-mel spectrogram
// into a 16 kHz waveform (transformers' SpeechT5HifiGan layout: conv_pre, upsampler.i,
// resblocks.j.convs1/convs2.k, conv_post, mean/scale buffers).
#include "models/load_options.h"

#include <nlohmann/json_fwd.hpp>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace grym::audioldm {

struct VocoderConfig {
    int64_t modelInDim = 64;  // mel bands
    int64_t samplingRate = 16000;
    int64_t upsampleInitialChannel = 512;
    std::vector<int64_t> upsampleRates{4, 4, 4, 4};
    std::vector<int64_t> upsampleKernelSizes{8, 8, 8, 8};
    std::vector<int64_t> resblockKernelSizes{3, 7, 11};
    std::vector<std::vector<int64_t>> resblockDilationSizes{{1, 3, 5}, {1, 3, 5}, {1, 3, 5}};
    double leakyReluSlope = 0.1;
    bool normalizeBefore = true;

    // Waveform samples produced per spectrogram frame: the product of the upsample rates.
    int64_t hopLength() const;

    // Throws ModelError naming the field for missing, mistyped or unsupported values.
    static VocoderConfig fromJson(const nlohmann::json& j, const std::string& source);
    static VocoderConfig fromFile(const std::string& configPath);
};

class VocoderImpl : public torch::nn::Module {
public:
    explicit VocoderImpl(const VocoderConfig& config);

    // (batch, frames, mel) -> (batch, samples), or (frames, mel) -> (samples). samples is
    // frames * hopLength when each upsampler's kernel minus rate is even; otherwise the
    // transposed convolutions add a sample or so per stage (the reference behaves the same).
    torch::Tensor forward(const torch::Tensor& spectrogram);

    const VocoderConfig& config() const { return config_; }
    // On a CPU with native bfloat16 (cpuConvolvesInBFloat16), for a float32 vocoder there: the
    // residual blocks' convolutions (nearly all of its arithmetic) compute in bfloat16 from then
    // on, at twice float32's rate, with their weights and biases in bfloat16; the residual
    // stream between the blocks, the up-sampling and the first and last convolutions stay
    // float32. False, and nothing changes, elsewhere. --precision int8 turns it on
    // (AudioLdmPipeline::load).
    bool computeConvolutionsInBFloat16();

private:
    VocoderConfig config_;
    torch::nn::Conv1d convPre_{nullptr};
    torch::nn::ModuleList upsampler_{nullptr};
    torch::nn::ModuleList resblocks_{nullptr};
    torch::nn::Conv1d convPost_{nullptr};
    torch::Tensor mean_, scale_;
};

// TORCH_MODULE(Vocoder) spelled out, to hold the loader.
class Vocoder : public torch::nn::ModuleHolder<VocoderImpl> {
public:
    using torch::nn::ModuleHolder<VocoderImpl>::ModuleHolder;
    using Impl = VocoderImpl;

    // Loads config.json + the model weights (weights/weight_source.h) from a
    // diffusers/transformers vocoder folder onto options.device in options.dtype. Weight norm, in
    // either stored form, is folded into plain weights. The vocoder is not quantised: a
    // precision other than None is a ModelError.
    static Vocoder load(const std::string& folder, const LoadOptions& options = {});
};

}  // namespace grym::audioldm
