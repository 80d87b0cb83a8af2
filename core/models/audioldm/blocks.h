#pragma once
// Building blocks shared by the AudioLDM UNet and VAE, with the parameter names diffusers
// gives them so checkpoints load 1:1: ResnetBlock2D, Downsample2D, Upsample2D and the
// multi-head Attention (the UNet's transformer attention and the VAE's spatial attention).
// Heavy header: include it from .cpp files only.
#include "models/activation.h"
#include "models/int8_linear.h"
#include "models/audioldm/weight_quantization.h"
#include "weights/module_loader.h"

#include <torch/torch.h>

#include <functional>
#include <optional>
#include <string>

namespace grym {
class JsonReader;
}

namespace grym::audioldm {

torch::Tensor firstParameter(const torch::nn::Module& module);  // throws if it has none
// Quantised weights count with the size they had before quantising.
uint64_t countParameters(const torch::nn::Module& module);
// Bytes the module's weights take: its parameters and buffers (grym::moduleParameterBytes) plus
// the int8 weights its QuantLinear layers handed to the quantized engine.
uint64_t modelBytes(const torch::nn::Module& module);

// Multi-head scaled-dot-product attention.
// q: [B, Nq, heads*D], k, v: [B, Nk, heads*D] -> [B, Nq, heads*D].
// The score matrix is built in query chunks so long latents (long clips) stay within a fixed
// memory budget; softmax runs in float32 when `upcastSoftmax` or the inputs are half precision.
torch::Tensor multiHeadAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 int64_t heads, bool upcastSoftmax);

// Throws ModelError unless `groups` divides `channels` (GroupNorm would fail later, less clearly).
void checkGroups(const JsonReader& config, const std::string& field, int64_t groups, int64_t channels);

// Linear and Conv2d whose weight can be switched to weight-only int8 or int4 (see
// weight_quantization.h): the float weight is freed and the integers and scales are registered
// as buffers (weight_quantized, weight_scale), dequantised into the input's dtype on every call.
// Parameter names stay "weight"/"bias", so checkpoints load before quantising.
// A QuantLinear quantised to int8 on the CPU in float32 computes in int8 (int8_linear.h): its
// integers and scales live in the quantized engine (`int8`), not in buffers.
// QuantLinear has torch::nn::Linear's parameters and arithmetic, but its weight starts as a
// placeholder of its shape with no memory behind it: loadModuleWeights allocates it when the
// checkpoint's tensor arrives, and a weight quantised while loading
// (linearWeightsToInt8WhileLoading) is never allocated in float at all. Models built with random
// weights call initialiseLinearLayers. (wav2vec2 uses it too.)
class QuantLinearImpl : public torch::nn::Cloneable<QuantLinearImpl> {
public:
    QuantLinearImpl(int64_t inFeatures, int64_t outFeatures)
        : QuantLinearImpl(torch::nn::LinearOptions(inFeatures, outFeatures)) {}
    explicit QuantLinearImpl(const torch::nn::LinearOptions& linearOptions);
    void reset() override;
    // torch::nn::Linear's initialisation: Kaiming-uniform weight, uniform bias in ±1/sqrt(in).
    void reset_parameters();
    torch::Tensor forward(const torch::Tensor& x);
    void pretty_print(std::ostream& stream) const override;

    torch::nn::LinearOptions options;
    torch::Tensor weight, bias;
    QuantizedWeight quantized;
    Int8Linear int8;
    // Quantised to int8 while loading, waiting for quantizeModuleWeights to pack it (its bias
    // may be read after its weight).
    bool int8PackPending = false;
};
TORCH_MODULE(QuantLinear);

// Gives every QuantLinear below `module` torch::nn::Linear's random initialisation.
void initialiseLinearLayers(torch::nn::Module& module);

// For ModuleWeightOptions::takeTensor while loading `module` with `options`: when its linear
// layers will compute in int8 (int8 precision with int8Arithmetic, CPU, float32, and a quantized
// engine), each QuantLinear weight is quantised to int8 straight from the checkpoint tensor
// (converted to float32 one tensor at a time) and the layer's float weight is never allocated,
// so peak memory while loading is the int8 model plus one tensor. A layer is packed for the
// engine as soon as its bias is in (checkpoint order puts ".bias" before ".weight"); any other,
// quantizeModuleWeights packs. Checks each such tensor for NaN and Inf (checkFinite cannot see it later),
// naming `source`. Returns an empty function for every other option.
std::function<bool(const std::string&, const torch::Tensor&)> linearWeightsToInt8WhileLoading(
    torch::nn::Module& module, const LoadOptions& options, const std::string& source);

class QuantConv2dImpl : public torch::nn::Conv2dImpl {
public:
    using torch::nn::Conv2dImpl::Conv2dImpl;
    torch::Tensor forward(const torch::Tensor& x);
    QuantizedWeight quantized;
    // int8 with int8Arithmetic: on a CPU with native bfloat16 (cpuConvolvesInBFloat16) the
    // weight decodes to bfloat16 and the convolution runs in bfloat16, twice float32's rate;
    // elsewhere, or without it, the weight decodes to the input's dtype (weight-only).
    bool bfloat16Arithmetic = false;
};
TORCH_MODULE(QuantConv2d);

// An embedding table that can be quantised the same way (one scale per row, or per group of a
// row): a lookup decodes only the rows it reads, in the table's original dtype. Layers with
// max_norm are left float (their lookup rewrites the table).
class QuantEmbeddingImpl : public torch::nn::EmbeddingImpl {
public:
    using torch::nn::EmbeddingImpl::EmbeddingImpl;
    torch::Tensor forward(const torch::Tensor& indices);
    QuantizedWeight quantized;
};
TORCH_MODULE(QuantEmbedding);

// Quantises the weight of every QuantLinear / QuantConv2d / QuantEmbedding below `module` (after loading, and
// after moving it to its device and dtype: a later dtype change would convert the integers).
// At int8 with int8Arithmetic, linear layers held in float32 on the CPU compute in int8 when this libtorch has a
// quantized engine (Int8Linear::engine()), and convolutions compute in bfloat16 from their int8
// weights where the CPU has native bfloat16 (QuantConv2dImpl::bfloat16Arithmetic); every other
// layer, and every layer without int8Arithmetic, keeps weight-only int8.
// Quantising again to the same level changes nothing; to another level (or back to None) throws
// ModelError, as does an unknown level, before anything is changed.
// int8Arithmetic: see LoadOptions::int8Arithmetic (false: every layer weight-only).
QuantizationReport quantizeModuleWeights(torch::nn::Module& module, WeightQuantization level,
                                         bool int8Arithmetic = false);

struct ResnetOptions {
    int64_t inChannels = 0;
    int64_t outChannels = 0;
    int64_t timeEmbedChannels = 0;  // 0: the block takes no time embedding (the VAE's)
    int64_t groups = 32;
    double eps = 1e-6;
    Activation act = Activation::Silu;
    double outputScale = 1.0;
};

// GroupNorm -> act -> conv1 (+ projected time embedding) -> GroupNorm -> act -> conv2, added to
// the input (through a 1x1 conv_shortcut when the channel count changes), divided by outputScale.
class ResnetBlock2DImpl : public torch::nn::Module {
public:
    explicit ResnetBlock2DImpl(const ResnetOptions& options);
    // x: [B, in, H, W], timeEmbedding: [B, timeEmbedChannels] or undefined -> [B, out, H, W]
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& timeEmbedding = {});

private:
    ResnetOptions options_;
    torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
    QuantConv2d conv1_{nullptr}, conv2_{nullptr}, convShortcut_{nullptr};
    QuantLinear timeEmbProj_{nullptr};
};
TORCH_MODULE(ResnetBlock2D);

// Stride-2 3x3 conv. padding 1 (UNet) pads symmetrically; padding 0 (VAE encoder) pads one
// row/column at the bottom/right first, as diffusers does.
class Downsample2DImpl : public torch::nn::Module {
public:
    Downsample2DImpl(int64_t channels, int64_t padding);
    torch::Tensor forward(const torch::Tensor& x);

private:
    int64_t padding_;
    QuantConv2d conv_{nullptr};
};
TORCH_MODULE(Downsample2D);

// Nearest-neighbour up-sampling then a 3x3 conv. The output size is given when known (the UNet
// passes its skip connection's size, so heights that are not multiples of 2^levels round-trip);
// otherwise it doubles.
class Upsample2DImpl : public torch::nn::Module {
public:
    explicit Upsample2DImpl(int64_t channels);
    torch::Tensor forward(const torch::Tensor& x, std::optional<std::pair<int64_t, int64_t>> size = std::nullopt);

private:
    QuantConv2d conv_{nullptr};
};
TORCH_MODULE(Upsample2D);

struct AttentionOptions {
    int64_t queryDim = 0;
    int64_t heads = 1;
    bool qkvBias = false;
    int64_t groupNormGroups = 0;  // > 0: a GroupNorm named group_norm before the projections (VAE)
    double groupNormEps = 1e-6;
    bool upcastSoftmax = false;
};

// diffusers' Attention as the UNet and VAE use it: to_q/to_k/to_v, to_out.0 (with bias).
// Keys and values come from the same input (self-attention; AudioLDM passes no encoder states).
class AttentionImpl : public torch::nn::Module {
public:
    explicit AttentionImpl(const AttentionOptions& options);
    // Tokens: x [B, N, C] -> [B, N, C], no residual.
    torch::Tensor forward(const torch::Tensor& x);
    // Feature map: x [B, C, H, W] -> group_norm -> attention over H*W -> + x.
    torch::Tensor forwardSpatial(const torch::Tensor& x);

private:
    AttentionOptions options_;
    torch::nn::GroupNorm groupNorm_{nullptr};
    QuantLinear toQ_{nullptr}, toK_{nullptr}, toV_{nullptr}, toOut_{nullptr};
};
TORCH_MODULE(Attention);

}  // namespace grym::audioldm
