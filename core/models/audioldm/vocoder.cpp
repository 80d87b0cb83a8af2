#include "models/audioldm/vocoder.h"

#include "common/error.h"
#include "common/json_reader.h"
#include "models/conv_transpose.h"
#include "models/cpu_features.h"
#include "models/flop_count.h"
#include "weights/module_loader.h"
#include "weights/safetensors.h"

#include <torch/torch.h>

#include <filesystem>

namespace grym::audioldm {

namespace {

// One multi-receptive-field block: pairs of (dilated conv, plain conv) with residual adds.
class HifiGanResidualBlockImpl : public torch::nn::Module {
public:
    HifiGanResidualBlockImpl(int64_t channels, int64_t kernelSize, const std::vector<int64_t>& dilations,
                             double slope)
        : slope_(slope) {
        convs1_ = register_module("convs1", torch::nn::ModuleList());
        convs2_ = register_module("convs2", torch::nn::ModuleList());
        for (int64_t d : dilations) {
            // "same" padding for a dilated kernel
            convs1_->push_back(torch::nn::Conv1d(
                torch::nn::Conv1dOptions(channels, channels, kernelSize).dilation(d).padding((kernelSize * d - d) / 2)));
            convs2_->push_back(
                torch::nn::Conv1d(torch::nn::Conv1dOptions(channels, channels, kernelSize).padding((kernelSize - 1) / 2)));
        }
    }

    // (batch, channels, time) -> same shape. With the convolutions in bfloat16
    // (computeInBFloat16), each pair's input converts to bfloat16 once, the pair runs in
    // bfloat16, and its output adds to the float32 residual stream in the same pass.
    // The residual stream is updated in place: a fresh tensor per add (and per dtype promotion)
    // is fresh memory the kernel has to map, which cost more than the add itself.
    torch::Tensor forward(const torch::Tensor& input) {
        auto h = input.clone();
        for (size_t i = 0; i < convs1_->size(); ++i) {
            auto* conv1 = convs1_[i]->as<torch::nn::Conv1d>();
            auto* conv2 = convs2_[i]->as<torch::nn::Conv1d>();
            auto x = torch::leaky_relu(h.to(conv1->weight.scalar_type()), slope_);
            x = FlopCount::layer(conv1->forward(x), conv1->weight);
            x = torch::leaky_relu_(x, slope_);
            x = FlopCount::layer(conv2->forward(x), conv2->weight);
            h.add_(x);  // in h's dtype
        }
        return h;
    }

    void computeInBFloat16() {
        for (auto* list : {&convs1_, &convs2_})
            for (const auto& conv : **list) conv->to(torch::kBFloat16);
    }

private:
    double slope_;
    torch::nn::ModuleList convs1_{nullptr}, convs2_{nullptr};
};
TORCH_MODULE(HifiGanResidualBlock);

}  // namespace

int64_t VocoderConfig::hopLength() const {
    int64_t hop = 1;
    for (auto r : upsampleRates) hop *= r;
    return hop;
}

VocoderConfig VocoderConfig::fromJson(const nlohmann::json& j, const std::string& source) {
    const JsonReader f(j, source);
    VocoderConfig c;
    c.modelInDim = f.integer("model_in_dim", c.modelInDim);
    c.samplingRate = f.integer("sampling_rate", c.samplingRate);
    c.upsampleInitialChannel = f.integer("upsample_initial_channel", c.upsampleInitialChannel);
    c.upsampleRates = f.integers("upsample_rates", c.upsampleRates);
    c.upsampleKernelSizes = f.integers("upsample_kernel_sizes", c.upsampleKernelSizes);
    c.resblockKernelSizes = f.integers("resblock_kernel_sizes", c.resblockKernelSizes);
    c.resblockDilationSizes = f.integerLists("resblock_dilation_sizes", c.resblockDilationSizes);
    c.leakyReluSlope = f.number("leaky_relu_slope", c.leakyReluSlope);
    c.normalizeBefore = f.boolean("normalize_before", c.normalizeBefore);

    if (c.modelInDim <= 0) f.reject("model_in_dim", "must be positive");
    if (c.upsampleRates.empty() || c.upsampleRates.size() != c.upsampleKernelSizes.size())
        f.reject("upsample_rates", "needs one entry per upsample_kernel_sizes entry, at least one");
    for (size_t i = 0; i < c.upsampleRates.size(); ++i) {
        if (c.upsampleRates[i] <= 0 || c.upsampleKernelSizes[i] < c.upsampleRates[i])
            f.reject("upsample_kernel_sizes", "each kernel must be at least its upsample rate");
    }
    if (c.upsampleInitialChannel >> c.upsampleRates.size() <= 0)
        f.reject("upsample_initial_channel", "too small to halve once per upsampler");
    if (c.resblockKernelSizes.empty() || c.resblockKernelSizes.size() != c.resblockDilationSizes.size())
        f.reject("resblock_dilation_sizes", "needs one list per resblock_kernel_sizes entry");
    return c;
}

VocoderConfig VocoderConfig::fromFile(const std::string& configPath) {
    return fromJson(readJsonFile(configPath), configPath);
}

VocoderImpl::VocoderImpl(const VocoderConfig& config) : config_(config) {
    const int64_t c0 = config.upsampleInitialChannel;
    convPre_ = register_module("conv_pre",
                               torch::nn::Conv1d(torch::nn::Conv1dOptions(config.modelInDim, c0, 7).padding(3)));
    upsampler_ = register_module("upsampler", torch::nn::ModuleList());
    resblocks_ = register_module("resblocks", torch::nn::ModuleList());
    int64_t channels = c0;
    for (size_t i = 0; i < config.upsampleRates.size(); ++i) {
        const int64_t rate = config.upsampleRates[i], kernel = config.upsampleKernelSizes[i];
        upsampler_->push_back(torch::nn::ConvTranspose1d(
            torch::nn::ConvTranspose1dOptions(channels, channels / 2, kernel).stride(rate).padding((kernel - rate) / 2)));
        channels /= 2;
        for (size_t k = 0; k < config.resblockKernelSizes.size(); ++k)
            resblocks_->push_back(HifiGanResidualBlock(channels, config.resblockKernelSizes[k],
                                                       config.resblockDilationSizes[k], config.leakyReluSlope));
    }
    convPost_ = register_module("conv_post", torch::nn::Conv1d(torch::nn::Conv1dOptions(channels, 1, 7).padding(3)));
    // Checkpoints always carry these statistics; they are applied only with normalize_before.
    mean_ = register_buffer("mean", torch::zeros({config.modelInDim}));
    scale_ = register_buffer("scale", torch::ones({config.modelInDim}));
}

torch::Tensor VocoderImpl::forward(const torch::Tensor& spectrogram) {
    const bool batched = spectrogram.dim() == 3;
    if (!batched && spectrogram.dim() != 2)
        throw ModelError("vocoder: expected a (batch, frames, mel) or (frames, mel) spectrogram, got " +
                         std::to_string(spectrogram.dim()) + " dimensions");
    if (spectrogram.size(-1) != config_.modelInDim)
        throw ModelError("vocoder: spectrogram has " + std::to_string(spectrogram.size(-1)) +
                         " mel bands, the model expects " + std::to_string(config_.modelInDim));
    auto x = spectrogram;
    if (config_.normalizeBefore) x = (x - mean_) / scale_;
    if (!batched) x = x.unsqueeze(0);

    auto h = FlopCount::layer(convPre_->forward(x.transpose(1, 2)), convPre_->weight);  // (B, C0, frames)
    const auto kernels = static_cast<int64_t>(config_.resblockKernelSizes.size());
    for (size_t i = 0; i < upsampler_->size(); ++i) {
        h = torch::leaky_relu(h, config_.leakyReluSlope);
        auto* up = upsampler_[i]->as<torch::nn::ConvTranspose1d>();
        // Its weight is [in, out, kernel]: every input entry meets out × kernel weights.
        FlopCount::addScatter(h, up->weight.numel() / up->weight.size(0));
        const int64_t rate = config_.upsampleRates[i], kernel = config_.upsampleKernelSizes[i];
        h = convTranspose1d(h, up->weight, up->bias, rate, (kernel - rate) / 2);  // time *= rate, channels /= 2
        // Average of the parallel residual blocks with different receptive fields.
        torch::Tensor sum;
        for (int64_t k = 0; k < kernels; ++k) {
            auto r = resblocks_[i * kernels + k]->as<HifiGanResidualBlockImpl>()->forward(h);
            sum = k == 0 ? r : sum.add_(r);  // the first block's output is a tensor of its own
        }
        h = sum.div_(static_cast<double>(kernels));
    }
    // The reference uses the functional default slope (0.01) here, not leaky_relu_slope.
    h = torch::leaky_relu(h, 0.01);
    h = torch::tanh(FlopCount::layer(convPost_->forward(h), convPost_->weight));  // (B, 1, samples)
    auto waveform = h.squeeze(1);
    return batched ? waveform : waveform.squeeze(0);
}

bool VocoderImpl::computeConvolutionsInBFloat16() {
    const auto weight = convPre_->weight;
    if (!weight.device().is_cpu() || weight.scalar_type() != torch::kFloat32 || !cpuConvolvesInBFloat16())
        return false;
    torch::NoGradGuard noGrad;
    for (const auto& block : *resblocks_) block->as<HifiGanResidualBlockImpl>()->computeInBFloat16();
    return true;
}

Vocoder Vocoder::load(const std::string& folder, const LoadOptions& options) {
    namespace fs = std::filesystem;
    if (options.precision != WeightQuantization::None)
        throw ModelError(folder + ": the vocoder is not quantised (it stays in the compute dtype)");
    const auto configPath = (fs::path(folder) / "config.json").string();
    Vocoder vocoder(VocoderConfig::fromFile(configPath));
    const auto source = openWeightSource(folder, "model");
    auto weights = source->load();
    foldWeightNorm(weights);
    ModuleWeightOptions mapping;
    mapping.source = source->path();
    loadModuleWeights(*vocoder, weights, mapping);
    vocoder->eval();
    vocoder->to(options.device, options.dtype);
    return vocoder;
}

}  // namespace grym::audioldm
