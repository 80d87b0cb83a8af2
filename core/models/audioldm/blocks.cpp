#include "models/audioldm/blocks.h"

#include "common/error.h"
#include "common/json_reader.h"
#include "models/cpu_features.h"
#include "models/dense_linear.h"
#include "models/flop_count.h"

#include <torch/version.h>

#include <cmath>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <map>
#include <memory>

namespace grym::audioldm {

namespace F = torch::nn::functional;

torch::Tensor firstParameter(const torch::nn::Module& module) {
    auto params = module.parameters();
    if (params.empty()) throw ModelError("model has no parameters");
    return params.front();
}

namespace {

// The quantised weight of a QuantLinear / QuantConv2d / QuantEmbedding, or null for any other
// module (and for embeddings with max_norm, which stay float).
const QuantizedWeight* quantizedWeightOf(const torch::nn::Module& module) {
    if (const auto* linear = module.as<QuantLinearImpl>()) return &linear->quantized;
    if (const auto* conv = module.as<QuantConv2dImpl>()) return &conv->quantized;
    if (const auto* embedding = module.as<QuantEmbeddingImpl>())
        return embedding->options.max_norm() ? nullptr : &embedding->quantized;
    return nullptr;
}

// `module` and everything below it (Module::modules(true) needs the module in a shared_ptr).
std::vector<torch::nn::Module*> selfAndDescendants(torch::nn::Module& module) {
    std::vector<torch::nn::Module*> all{&module};
    for (const auto& m : module.modules(/*include_self=*/false)) all.push_back(m.get());
    return all;
}

}  // namespace

uint64_t countParameters(const torch::nn::Module& module) {
    uint64_t n = 0;
    for (const auto& p : module.parameters()) n += static_cast<uint64_t>(p.numel());
    if (const auto* q = quantizedWeightOf(module)) n += static_cast<uint64_t>(q->numel());
    for (const auto& m : module.modules(/*include_self=*/false))
        if (const auto* q = quantizedWeightOf(*m)) n += static_cast<uint64_t>(q->numel());
    return n;
}

uint64_t modelBytes(const torch::nn::Module& module) {
    uint64_t n = moduleParameterBytes(module);
    auto addPacked = [&n](const torch::nn::Module& m) {
        if (const auto* linear = m.as<QuantLinearImpl>()) n += linear->int8.bytes();
    };
    addPacked(module);
    for (const auto& m : module.modules(/*include_self=*/false)) addPacked(*m);
    return n;
}

namespace {

// Where weight-only layers decode their weight on each call (QuantizedWeight::dequantizeInto):
// one buffer per thread, as large as the largest weight it has decoded, reused by every layer
// that thread runs (a layer consumes its decoded weight before the next layer decodes), so the
// float weights never exist all at once and no call pays for mapping fresh memory.
torch::Tensor& decodeWorkspace() {
    thread_local torch::Tensor workspace;
    return workspace;
}

}  // namespace

QuantLinearImpl::QuantLinearImpl(const torch::nn::LinearOptions& linearOptions) : options(linearOptions) { reset(); }

void QuantLinearImpl::reset() {
    // A placeholder of the weight's shape over one element: the loader allocates the weight when
    // its tensor arrives (loadModuleWeights), or never, when it is quantised while loading. (An
    // allocated but unwritten weight is not enough: the C heap may hand out memory that is
    // already resident.)
    weight = register_parameter("weight", torch::empty({1}).expand({options.out_features(), options.in_features()}));
    bias = options.bias() ? register_parameter("bias", torch::empty({options.out_features()}))
                          : register_parameter("bias", {}, /*requires_grad=*/false);
}

void QuantLinearImpl::reset_parameters() {
    torch::NoGradGuard noGrad;
    weight.set_data(torch::empty(weight.sizes(), weight.options()));
    torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (bias.defined() && options.in_features() > 0) {
        const double bound = 1.0 / std::sqrt(static_cast<double>(options.in_features()));
        torch::nn::init::uniform_(bias, -bound, bound);
    }
}

void QuantLinearImpl::pretty_print(std::ostream& stream) const {
    stream << "QuantLinear(in_features=" << options.in_features() << ", out_features=" << options.out_features()
           << ", bias=" << std::boolalpha << options.bias() << ")";
}

torch::Tensor QuantLinearImpl::forward(const torch::Tensor& x) {
    torch::Tensor y;
    if (int8.defined())
        y = x.device().is_cpu() && x.scalar_type() == torch::kFloat32 ? int8.forward(x)
                                                                       : F::linear(x, int8.weight().to(x.options()), bias);
    else if (!quantized.defined()) y = denseLinear(x, weight, bias);
    else y = denseLinear(x, quantized.dequantizeInto(decodeWorkspace(), x.scalar_type()), bias);
    FlopCount::addProducts(y, options.in_features());
    return y;
}

void initialiseLinearLayers(torch::nn::Module& module) {
    for (auto* m : selfAndDescendants(module))
        if (auto* linear = m->as<QuantLinearImpl>()) linear->reset_parameters();
}

std::function<bool(const std::string&, const torch::Tensor&)> linearWeightsToInt8WhileLoading(
    torch::nn::Module& module, const LoadOptions& options, const std::string& source) {
    if (options.precision != WeightQuantization::Int8 || !options.int8Arithmetic || !options.device.is_cpu() ||
        options.dtype != torch::kFloat32 || !Int8Linear::engine())
        return {};
    // Per layer (by module path): the layer, and whether its bias is in (or it has none).
    auto layers = std::make_shared<std::map<std::string, std::pair<QuantLinearImpl*, bool>>>();
    for (const auto& named : module.named_modules(/*name_prefix=*/"", /*include_self=*/false))
        if (auto* linear = named.value()->as<QuantLinearImpl>())
            (*layers)[named.key()] = {linear, !linear->options.bias()};
    return [layers, source](const std::string& key, const torch::Tensor& tensor) {
        const auto dot = key.rfind('.');
        if (dot == std::string::npos) return false;
        const auto it = layers->find(key.substr(0, dot));
        if (it == layers->end()) return false;
        const std::string field = key.substr(dot + 1);
        auto& [layerPointer, biasIn] = it->second;
        QuantLinearImpl& layer = *layerPointer;
        if (field == "bias") {
            biasIn = true;  // the loader copies it in as soon as this returns
            return false;
        }
        if (field != "weight" || layer.quantized.defined()) return false;
        torch::NoGradGuard noGrad;
        const auto weight = tensor.to(torch::kFloat32);  // the checkpoint's own memory when already float32
        if (!torch::isfinite(weight).all().item<bool>())
            throw ModelError(source + ": tensor '" + key + "' holds NaN or Inf values (corrupt checkpoint)");
        layer.quantized = QuantizedWeight::quantize(weight, WeightQuantization::Int8);
        // The placeholder goes: this layer's weight lives in `quantized` from now on.
        layer.weight.set_data(torch::empty({0}, layer.weight.options()));
        if (biasIn) {
            // Packed at once, so the integers are freed while the next layer's are made (memory
            // freed now is reused; freed all at the end it would have grown the heap).
            layer.int8 = Int8Linear::pack(layer.quantized.values(), layer.quantized.scales(), layer.bias);
            layer.quantized.releaseValues();
#if defined(__GLIBC__)
            // glibc keeps freed heap memory (this layer's temporaries and integers) resident and,
            // fragmented between the packed layers, largely unused; returning it now keeps the
            // load's peak near the int8 model instead of near the float one.
            malloc_trim(0);
#endif
        } else {
            layer.int8PackPending = true;  // its bias comes later: quantizeModuleWeights packs it
        }
        return true;
    };
}

namespace {

// Convolution options keep padding and padding mode in a variant: c10's up to libtorch 2.0,
// std's after it (c10/util/variant.h went with the switch).
template <typename Alternative, typename Variant>
const Alternative* alternativeOf(const Variant& v) {
#if __has_include(<c10/util/variant.h>)
    return c10::get_if<Alternative>(&v);
#else
    return std::get_if<Alternative>(&v);
#endif
}

// An int8 convolution with bfloat16Arithmetic on a CPU with native bfloat16: the weight decodes
// straight to bfloat16 and the convolution runs in bfloat16 at twice float32's
// rate; the bias is added in float32. Undefined when the layer cannot go that way.
torch::Tensor convolveInBFloat16(const QuantConv2dImpl& layer, const torch::Tensor& x,
                                 const torch::Tensor& bias) {
    const auto& o = layer.options;
    const auto* padding = alternativeOf<torch::ExpandingArray<2>>(o.padding());
    if (!padding || !alternativeOf<torch::enumtype::kZeros>(o.padding_mode()) || !x.device().is_cpu() ||
        x.scalar_type() != torch::kFloat32 || !layer.bfloat16Arithmetic ||
        layer.quantized.level() != WeightQuantization::Int8 || !cpuConvolvesInBFloat16())
        return {};
    const auto weight = layer.quantized.dequantizeInto(decodeWorkspace(), torch::kBFloat16);
    auto y = torch::conv2d(x.to(torch::kBFloat16), weight, {}, *o.stride(), **padding, *o.dilation(), o.groups())
                 .to(torch::kFloat32);
    if (bias.defined()) y.add_(bias.view({1, -1, 1, 1}));
    return y;
}

}  // namespace

torch::Tensor QuantConv2dImpl::forward(const torch::Tensor& x) {
    torch::Tensor y;
    if (!quantized.defined()) {
        y = Conv2dImpl::forward(x);
    } else {
        y = convolveInBFloat16(*this, x, bias);
        if (!y.defined()) y = _conv_forward(x, quantized.dequantizeInto(decodeWorkspace(), x.scalar_type()));
    }
    const auto& o = options;
    FlopCount::addProducts(y, o.in_channels() / o.groups() * (*o.kernel_size())[0] * (*o.kernel_size())[1]);
    return y;
}

torch::Tensor QuantEmbeddingImpl::forward(const torch::Tensor& indices) {
    if (!quantized.defined()) return EmbeddingImpl::forward(indices);
    return quantized.dequantizeRows(indices, quantized.scales().scalar_type());
}

QuantizationReport quantizeModuleWeights(torch::nn::Module& module, WeightQuantization level, bool int8Arithmetic) {
    if (level != WeightQuantization::None && level != WeightQuantization::Int8 && level != WeightQuantization::Int4)
        throw ModelError("unknown weight quantisation level " + std::to_string(static_cast<int>(level)));
    // Check every layer before changing any, so a refused call leaves the model as it was.
    std::vector<std::pair<torch::nn::Module*, QuantizedWeight*>> layers;
    for (auto* m : selfAndDescendants(module)) {
        auto* q = const_cast<QuantizedWeight*>(quantizedWeightOf(*m));
        if (!q) continue;
        if (q->defined() && q->level() != level)
            throw ModelError(std::string("the model's weights are already quantised to ") + toString(q->level()) +
                             "; load it again to use " + toString(level));
        layers.emplace_back(m, q);
    }
    QuantizationReport report;
    report.level = level;
    report.bytesBefore = modelBytes(module);
    const bool int8Engine = int8Arithmetic && level == WeightQuantization::Int8 && Int8Linear::engine().has_value();
    torch::NoGradGuard noGrad;
    for (auto [layer, quantized] : layers) {
        auto* linear = layer->as<QuantLinearImpl>();
        const bool packPending = linear && linear->int8PackPending;  // quantised while loading
        if (level == WeightQuantization::None || (quantized->defined() && !packPending)) continue;
        auto weight = layer->named_parameters(/*recurse=*/false)["weight"];
        if (packPending) {
            report.layerBytesBefore += static_cast<uint64_t>(quantized->numel()) * sizeof(float);
        } else {
            report.layerBytesBefore += static_cast<uint64_t>(weight.nbytes());
            *quantized = QuantizedWeight::quantize(weight, level);
        }
        ++report.layers;
        if (linear && (packPending || (int8Engine && weight.device().is_cpu() && weight.scalar_type() == torch::kFloat32))) {
            // The engine keeps its own copy of the integers: ours would only double them.
            linear->int8 = Int8Linear::pack(quantized->values(), quantized->scales(), linear->bias);
            linear->int8PackPending = false;
            quantized->releaseValues();
            report.layerBytesAfter += linear->int8.bytes();
            ++report.int8ComputeLayers;
            weight.set_data(torch::empty({0}, weight.options()));
            continue;
        }
        report.layerBytesAfter += quantized->bytes();
        if (auto* conv = layer->as<QuantConv2dImpl>()) conv->bfloat16Arithmetic = int8Arithmetic && level == WeightQuantization::Int8;
        // The buffers share their tensors with `quantized`, so moving the layer moves both.
        layer->register_buffer("weight_quantized", quantized->values());
        layer->register_buffer("weight_scale", quantized->scales());
        // Every handle to the float weight (the layer's member included) now sees an empty tensor.
        weight.set_data(torch::empty({0}, weight.options()));
    }
    report.bytesAfter = modelBytes(module);
    return report;
}

void checkGroups(const JsonReader& config, const std::string& field, int64_t groups, int64_t channels) {
    if (groups <= 0 || channels % groups != 0)
        config.reject(field, "GroupNorm needs it to divide every block's channel count (" + std::to_string(channels) +
                                 ")");
}

namespace {

// Largest score matrix (elements) built at once; 2^26 floats = 256 MiB.
constexpr int64_t kAttentionScoreBudget = int64_t{1} << 26;

bool isHalf(const torch::Tensor& t) {
    return t.scalar_type() == torch::kHalf || t.scalar_type() == torch::kBFloat16;
}

}  // namespace

torch::Tensor multiHeadAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 int64_t heads, bool upcastSoftmax) {
    const int64_t batch = q.size(0), queries = q.size(1), channels = q.size(2), keys = k.size(1);
    const int64_t headDim = channels / heads;
    // [B, N, H*D] -> [B, H, N, D]
    auto split = [&](const torch::Tensor& t) { return t.view({batch, -1, heads, headDim}).transpose(1, 2); };
    auto qh = split(q), kh = split(k), vh = split(v);
    torch::Tensor out;
#if TORCH_VERSION_MAJOR >= 2
    if (q.is_cuda()) {
        // Fused (flash / memory-efficient) kernels: no score matrix in memory at all.
        out = at::scaled_dot_product_attention(qh, kh, vh);
    }
#endif
    if (!out.defined()) {
        const double scale = 1.0 / std::sqrt(static_cast<double>(headDim));
        const auto keysT = kh.transpose(-1, -2);  // [B, H, D, Nk]
        const bool upcast = upcastSoftmax || isHalf(q);
        const int64_t chunk = std::max<int64_t>(1, kAttentionScoreBudget / std::max<int64_t>(1, batch * heads * keys));
        std::vector<torch::Tensor> pieces;
        for (int64_t start = 0; start < queries; start += chunk) {
            const int64_t len = std::min(chunk, queries - start);
            auto scores = torch::matmul(qh.narrow(2, start, len), keysT).mul_(scale);  // [B, H, len, Nk]
            auto probs = upcast ? scores.to(torch::kFloat32).softmax(-1).to(q.scalar_type()) : scores.softmax(-1);
            pieces.push_back(torch::matmul(probs, vh));  // [B, H, len, D]
        }
        out = pieces.size() == 1 ? pieces.front() : torch::cat(pieces, 2);
    }
    // q·kᵀ and probs·v: B·H·Nq·Nk·D multiply-adds each, `keys` per entry of the output.
    FlopCount::addProducts(out, 2 * keys);
    return out.transpose(1, 2).reshape({batch, queries, channels});
}

ResnetBlock2DImpl::ResnetBlock2DImpl(const ResnetOptions& o) : options_(o) {
    norm1_ = register_module("norm1", torch::nn::GroupNorm(torch::nn::GroupNormOptions(o.groups, o.inChannels).eps(o.eps)));
    conv1_ = register_module(
        "conv1", QuantConv2d(torch::nn::Conv2dOptions(o.inChannels, o.outChannels, 3).padding(1)));
    if (o.timeEmbedChannels > 0)
        timeEmbProj_ = register_module("time_emb_proj", QuantLinear(o.timeEmbedChannels, o.outChannels));
    norm2_ =
        register_module("norm2", torch::nn::GroupNorm(torch::nn::GroupNormOptions(o.groups, o.outChannels).eps(o.eps)));
    conv2_ = register_module(
        "conv2", QuantConv2d(torch::nn::Conv2dOptions(o.outChannels, o.outChannels, 3).padding(1)));
    if (o.inChannels != o.outChannels)
        convShortcut_ = register_module(
            "conv_shortcut", QuantConv2d(torch::nn::Conv2dOptions(o.inChannels, o.outChannels, 1)));
}

torch::Tensor ResnetBlock2DImpl::forward(const torch::Tensor& x, const torch::Tensor& timeEmbedding) {
    auto h = conv1_(activate(norm1_(x), options_.act));
    if (timeEmbProj_) {
        if (!timeEmbedding.defined()) throw ModelError("ResnetBlock2D: this block needs a time embedding");
        // [B, T] -> [B, out, 1, 1], broadcast over the feature map
        h = h + timeEmbProj_(activate(timeEmbedding, options_.act)).unsqueeze(-1).unsqueeze(-1);
    }
    h = conv2_(activate(norm2_(h), options_.act));
    auto shortcut = convShortcut_ ? convShortcut_(x) : x;
    auto out = shortcut + h;
    return options_.outputScale == 1.0 ? out : out / options_.outputScale;
}

Downsample2DImpl::Downsample2DImpl(int64_t channels, int64_t padding) : padding_(padding) {
    conv_ = register_module(
        "conv", QuantConv2d(torch::nn::Conv2dOptions(channels, channels, 3).stride(2).padding(padding)));
}

torch::Tensor Downsample2DImpl::forward(const torch::Tensor& x) {
    if (padding_ == 0) return conv_(F::pad(x, F::PadFuncOptions({0, 1, 0, 1})));
    return conv_(x);
}

Upsample2DImpl::Upsample2DImpl(int64_t channels) {
    conv_ = register_module("conv", QuantConv2d(torch::nn::Conv2dOptions(channels, channels, 3).padding(1)));
}

torch::Tensor Upsample2DImpl::forward(const torch::Tensor& x, std::optional<std::pair<int64_t, int64_t>> size) {
    const auto outSize = size ? std::vector<int64_t>{size->first, size->second}
                              : std::vector<int64_t>{x.size(2) * 2, x.size(3) * 2};
    // Older CUDA kernels have no bfloat16 nearest up-sampling; it is exact in float32.
    const bool viaFloat = x.scalar_type() == torch::kBFloat16;
    auto up = F::interpolate(viaFloat ? x.to(torch::kFloat32) : x,
                             F::InterpolateFuncOptions().size(outSize).mode(torch::kNearest));
    return conv_(viaFloat ? up.to(x.scalar_type()) : up);
}

AttentionImpl::AttentionImpl(const AttentionOptions& o) : options_(o) {
    if (o.groupNormGroups > 0)
        groupNorm_ = register_module(
            "group_norm", torch::nn::GroupNorm(torch::nn::GroupNormOptions(o.groupNormGroups, o.queryDim).eps(o.groupNormEps)));
    auto projection = [&](bool bias) {
        return QuantLinear(torch::nn::LinearOptions(o.queryDim, o.queryDim).bias(bias));
    };
    toQ_ = register_module("to_q", projection(o.qkvBias));
    toK_ = register_module("to_k", projection(o.qkvBias));
    toV_ = register_module("to_v", projection(o.qkvBias));
    // to_out is a list in diffusers (Linear, Dropout): the Linear is entry 0.
    auto toOut = torch::nn::ModuleList();
    toOut_ = projection(true);
    toOut->push_back(toOut_);
    register_module("to_out", toOut);
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x) {
    return toOut_(multiHeadAttention(toQ_(x), toK_(x), toV_(x), options_.heads, options_.upcastSoftmax));
}

torch::Tensor AttentionImpl::forwardSpatial(const torch::Tensor& x) {
    const int64_t batch = x.size(0), channels = x.size(1), height = x.size(2), width = x.size(3);
    auto h = groupNorm_ ? groupNorm_(x) : x;
    h = h.flatten(2).transpose(1, 2);  // [B, H*W, C]
    h = forward(h);
    return x + h.transpose(1, 2).reshape({batch, channels, height, width});
}

}  // namespace grym::audioldm
