#include "models/audioldm/vae.h"

#include "common/error.h"
#include "common/json_reader.h"
#include "models/audioldm/blocks.h"
#include "weights/module_loader.h"
#include "weights/safetensors.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>

namespace grym::audioldm {

// ---------------------------------------------------------------------------------------------
// Config

VaeConfig VaeConfig::fromJson(const nlohmann::json& json, const std::string& source) {
    const JsonReader r(json, source);
    VaeConfig c;
    r.requireOneOf("_class_name", {"AutoencoderKL"});
    c.inChannels = r.integer("in_channels", 3);
    c.outChannels = r.integer("out_channels", 3);
    c.latentChannels = r.integer("latent_channels", 4);
    c.blockOutChannels = r.integers("block_out_channels", {64});
    const size_t levels = c.blockOutChannels.size();
    if (levels == 0) r.reject("block_out_channels", "at least one block is needed");
    const auto down = r.strings("down_block_types", {"DownEncoderBlock2D"});
    const auto up = r.strings("up_block_types", {"UpDecoderBlock2D"});
    if (down.size() != levels) r.reject("down_block_types", "needs one entry per block_out_channels entry");
    if (up.size() != levels) r.reject("up_block_types", "needs one entry per block_out_channels entry");
    for (const auto& t : down)
        if (t != "DownEncoderBlock2D")
            r.reject("down_block_types", "block type '" + t + "' is not supported (supported: DownEncoderBlock2D)");
    for (const auto& t : up)
        if (t != "UpDecoderBlock2D")
            r.reject("up_block_types", "block type '" + t + "' is not supported (supported: UpDecoderBlock2D)");
    c.layersPerBlock = r.integer("layers_per_block", 1);
    if (c.layersPerBlock < 1) r.reject("layers_per_block", "must be at least 1");
    c.normNumGroups = r.integer("norm_num_groups", 32);
    for (auto ch : c.blockOutChannels) checkGroups(r, "norm_num_groups", c.normNumGroups, ch);
    c.actFn = readActivation(r, "act_fn", Activation::Silu, ActivationNames::Diffusers);
    c.sampleSize = r.integer("sample_size", 32);
    c.latentScalingFactor = r.number("scaling_factor", 0.18215);
    if (!(c.latentScalingFactor > 0)) r.reject("scaling_factor", "must be positive");
    c.useQuantConv = r.boolean("use_quant_conv", true);
    c.usePostQuantConv = r.boolean("use_post_quant_conv", true);
    c.midBlockAddAttention = r.boolean("mid_block_add_attention", true);
    r.requireNull("shift_factor", "shifted latents are not implemented");
    r.requireNull("latents_mean", "per-channel latent statistics are not implemented");
    r.requireNull("latents_std", "per-channel latent statistics are not implemented");
    return c;
}

VaeConfig VaeConfig::fromFile(const std::string& path) {
    return fromJson(readJsonFile(path), path);
}

int64_t VaeConfig::latentDownsampling() const { return int64_t{1} << (blockOutChannels.size() - 1); }

torch::Tensor VaePosterior::sample(const torch::Tensor& noise) const { return mean + std * noise.to(mean.options()); }

namespace {

// The encoder and decoder use a fixed GroupNorm eps of 1e-6 (diffusers hard-codes it).
constexpr double kVaeNormEps = 1e-6;

ResnetOptions vaeResnet(const VaeConfig& c, int64_t in, int64_t out) {
    ResnetOptions o;
    o.inChannels = in;
    o.outChannels = out;
    o.groups = c.normNumGroups;
    o.eps = kVaeNormEps;
    o.act = c.actFn;
    return o;
}

// A list of resnets registered as "resnets"; runs them in order.
std::vector<ResnetBlock2D> registerResnets(torch::nn::Module& owner, const VaeConfig& c, int64_t in, int64_t out,
                                           int64_t count) {
    std::vector<ResnetBlock2D> resnets;
    auto list = torch::nn::ModuleList();
    for (int64_t j = 0; j < count; ++j) {
        resnets.push_back(ResnetBlock2D(vaeResnet(c, j == 0 ? in : out, out)));
        list->push_back(resnets.back());
    }
    owner.register_module("resnets", list);
    return resnets;
}

// UNetMidBlock2D without time embedding: resnet, spatial self-attention (one head over all
// channels), resnet.
class VaeMidBlockImpl : public torch::nn::Module {
public:
    VaeMidBlockImpl(const VaeConfig& c, int64_t channels) {
        resnets_ = registerResnets(*this, c, channels, channels, 2);
        if (c.midBlockAddAttention) {
            AttentionOptions a;
            a.queryDim = channels;
            a.heads = 1;
            a.qkvBias = true;
            a.groupNormGroups = c.normNumGroups;
            a.groupNormEps = kVaeNormEps;
            a.upcastSoftmax = true;
            attention_ = Attention(a);
            auto list = torch::nn::ModuleList();
            list->push_back(attention_);
            register_module("attentions", list);
        }
    }
    torch::Tensor forward(torch::Tensor h) {
        h = resnets_[0](h);
        if (attention_) h = attention_->forwardSpatial(h);
        return resnets_[1](h);
    }

private:
    std::vector<ResnetBlock2D> resnets_;
    Attention attention_{nullptr};
};
TORCH_MODULE(VaeMidBlock);

// DownEncoderBlock2D: resnets, then (except at the last level) a stride-2 conv after padding
// the bottom/right edge.
class DownEncoderBlockImpl : public torch::nn::Module {
public:
    DownEncoderBlockImpl(const VaeConfig& c, int64_t in, int64_t out, bool downsample) {
        resnets_ = registerResnets(*this, c, in, out, c.layersPerBlock);
        if (downsample) {
            downsampler_ = Downsample2D(out, 0);
            auto list = torch::nn::ModuleList();
            list->push_back(downsampler_);
            register_module("downsamplers", list);
        }
    }
    torch::Tensor forward(torch::Tensor h) {
        for (auto& r : resnets_) h = r(h);
        return downsampler_ ? downsampler_(h) : h;
    }

private:
    std::vector<ResnetBlock2D> resnets_;
    Downsample2D downsampler_{nullptr};
};
TORCH_MODULE(DownEncoderBlock);

// UpDecoderBlock2D: layers_per_block + 1 resnets, then (except at the last level) 2x up-sampling.
class UpDecoderBlockImpl : public torch::nn::Module {
public:
    UpDecoderBlockImpl(const VaeConfig& c, int64_t in, int64_t out, bool upsample) {
        resnets_ = registerResnets(*this, c, in, out, c.layersPerBlock + 1);
        if (upsample) {
            upsampler_ = Upsample2D(out);
            auto list = torch::nn::ModuleList();
            list->push_back(upsampler_);
            register_module("upsamplers", list);
        }
    }
    torch::Tensor forward(torch::Tensor h) {
        for (auto& r : resnets_) h = r(h);
        return upsampler_ ? upsampler_(h) : h;
    }

private:
    std::vector<ResnetBlock2D> resnets_;
    Upsample2D upsampler_{nullptr};
};
TORCH_MODULE(UpDecoderBlock);

QuantConv2d conv3x3(int64_t in, int64_t out) {
    return QuantConv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1));
}

torch::nn::GroupNorm outputNorm(const VaeConfig& c, int64_t channels) {
    return torch::nn::GroupNorm(torch::nn::GroupNormOptions(c.normNumGroups, channels).eps(kVaeNormEps));
}

// mel -> conv_in -> down blocks -> mid block -> norm/act -> conv_out: [B, 2*latent, h, w]
// (mean and log-variance stacked along channels).
class EncoderImpl : public torch::nn::Module {
public:
    explicit EncoderImpl(const VaeConfig& c) : act_(c.actFn) {
        const auto& ch = c.blockOutChannels;
        convIn_ = register_module("conv_in", conv3x3(c.inChannels, ch[0]));
        auto list = torch::nn::ModuleList();
        int64_t out = ch[0];
        for (size_t i = 0; i < ch.size(); ++i) {
            const int64_t in = out;
            out = ch[i];
            blocks_.push_back(DownEncoderBlock(c, in, out, i + 1 < ch.size()));
            list->push_back(blocks_.back());
        }
        register_module("down_blocks", list);
        mid_ = register_module("mid_block", VaeMidBlock(c, ch.back()));
        normOut_ = register_module("conv_norm_out", outputNorm(c, ch.back()));
        convOut_ = register_module("conv_out", conv3x3(ch.back(), 2 * c.latentChannels));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        auto h = convIn_(x);
        for (auto& b : blocks_) h = b(h);
        h = mid_(h);
        return convOut_(activate(normOut_(h), act_));
    }

private:
    Activation act_;
    QuantConv2d convIn_{nullptr}, convOut_{nullptr};
    std::vector<DownEncoderBlock> blocks_;
    VaeMidBlock mid_{nullptr};
    torch::nn::GroupNorm normOut_{nullptr};
};
TORCH_MODULE(Encoder);

// latents -> conv_in -> mid block -> up blocks (widest first) -> norm/act -> conv_out: mel.
class DecoderImpl : public torch::nn::Module {
public:
    explicit DecoderImpl(const VaeConfig& c) : act_(c.actFn) {
        const auto& ch = c.blockOutChannels;
        convIn_ = register_module("conv_in", conv3x3(c.latentChannels, ch.back()));
        mid_ = register_module("mid_block", VaeMidBlock(c, ch.back()));
        auto list = torch::nn::ModuleList();
        int64_t out = ch.back();
        for (size_t i = 0; i < ch.size(); ++i) {
            const int64_t in = out;
            out = ch[ch.size() - 1 - i];
            blocks_.push_back(UpDecoderBlock(c, in, out, i + 1 < ch.size()));
            list->push_back(blocks_.back());
        }
        register_module("up_blocks", list);
        normOut_ = register_module("conv_norm_out", outputNorm(c, ch[0]));
        convOut_ = register_module("conv_out", conv3x3(ch[0], c.outChannels));
    }
    torch::Tensor forward(const torch::Tensor& z) {
        auto h = mid_(convIn_(z));
        for (auto& b : blocks_) h = b(h);
        return convOut_(activate(normOut_(h), act_));
    }

private:
    Activation act_;
    QuantConv2d convIn_{nullptr}, convOut_{nullptr};
    VaeMidBlock mid_{nullptr};
    std::vector<UpDecoderBlock> blocks_;
    torch::nn::GroupNorm normOut_{nullptr};
};
TORCH_MODULE(Decoder);

QuantConv2d conv1x1(int64_t channels) { return QuantConv2d(torch::nn::Conv2dOptions(channels, channels, 1)); }

// Older diffusers (and conversions of the original AudioLDM checkpoints) name the mid-block
// attention query/key/value/proj_attn, sometimes as 1x1 conv weights: map them to the
// current names and Linear shapes.
StateDict withCurrentAttentionNames(const StateDict& weights) {
    static const std::pair<const char*, const char*> renames[] = {
        {".query.", ".to_q."}, {".key.", ".to_k."}, {".value.", ".to_v."}, {".proj_attn.", ".to_out.0."}};
    StateDict out;
    for (const auto& [key, tensor] : weights) {
        std::string name = key;
        bool renamed = false;
        if (name.find(".attentions.") != std::string::npos) {
            for (const auto& [from, to] : renames) {
                const auto pos = name.find(from);
                if (pos != std::string::npos) {
                    name.replace(pos, std::string(from).size(), to);
                    renamed = true;
                    break;
                }
            }
        }
        auto t = tensor;
        if (renamed && t.dim() == 4 && t.size(2) == 1 && t.size(3) == 1) t = t.flatten(1);
        out[name] = t;
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The model

class VaeModel : public torch::nn::Module {
public:
    explicit VaeModel(const VaeConfig& c) : config(c) {
        encoder = register_module("encoder", Encoder(c));
        decoder = register_module("decoder", Decoder(c));
        if (c.useQuantConv) quantConv = register_module("quant_conv", conv1x1(2 * c.latentChannels));
        if (c.usePostQuantConv) postQuantConv = register_module("post_quant_conv", conv1x1(c.latentChannels));
    }
    const VaeConfig config;
    Encoder encoder{nullptr};
    Decoder decoder{nullptr};
    QuantConv2d quantConv{nullptr}, postQuantConv{nullptr};
};

Vae::Vae(std::shared_ptr<VaeModel> model) : model_(std::move(model)) {}

Vae Vae::randomlyInitialised(const VaeConfig& config, torch::Device device, torch::ScalarType dtype) {
    auto model = std::make_shared<VaeModel>(config);
    initialiseLinearLayers(*model);
    model->eval();
    model->to(device, dtype);
    return Vae(model);
}

Vae Vae::load(const std::string& dir, const LoadOptions& options) {
    namespace fs = std::filesystem;
    const auto config = VaeConfig::fromFile((fs::path(dir) / "config.json").string());
    auto model = std::make_shared<VaeModel>(config);
    model->eval();
    const auto source = openWeightSource(dir, "diffusion_pytorch_model");
    ModuleWeightOptions mapping;
    mapping.source = source->path();
    mapping.takeTensor = linearWeightsToInt8WhileLoading(*model, options, mapping.source);
    loadModuleWeights(*model, withCurrentAttentionNames(source->load()), mapping);
    checkFinite(*model, mapping.source);
    model->to(options.device, options.dtype);
    Vae vae(model);
    vae.quantizeWeights(options.precision, options.int8Arithmetic);
    return vae;
}

torch::Tensor Vae::decodeWhole(const torch::Tensor& latents) const {
    auto z = model_->postQuantConv ? model_->postQuantConv(latents) : latents;
    return model_->decoder(z);
}

torch::Tensor Vae::decodeTiled(const torch::Tensor& latents, int64_t tile, int64_t overlap) const {
    const int64_t frames = latents.size(2);
    const int64_t f = config().latentDownsampling();
    const int64_t stride = tile - overlap;
    std::vector<int64_t> starts;
    for (int64_t s = 0; s + tile < frames; s += stride) starts.push_back(s);
    starts.push_back(frames - tile);  // the last window ends at the clip's end

    torch::Tensor sum, weightSum;
    const int64_t ramp = overlap * f;
    for (size_t i = 0; i < starts.size(); ++i) {
        auto decoded = decodeWhole(latents.narrow(2, starts[i], tile));  // [B, C, tile*f, W*f]
        const int64_t length = decoded.size(2);
        // Linear fade-in at the start and fade-out at the end of every interior edge; the
        // weights of two overlapping windows sum to one wherever their fades coincide, and
        // the final division handles the last window's larger overlap.
        auto weight = torch::ones({length}, decoded.options().dtype(torch::kFloat32));
        if (ramp > 0) {
            auto up = (torch::arange(ramp, weight.options()) + 0.5) / static_cast<double>(ramp);
            if (i > 0) weight.narrow(0, 0, std::min(ramp, length)).mul_(up.narrow(0, 0, std::min(ramp, length)));
            if (i + 1 < starts.size())
                weight.narrow(0, length - std::min(ramp, length), std::min(ramp, length))
                    .mul_(up.flip({0}).narrow(0, 0, std::min(ramp, length)));
        }
        if (!sum.defined()) {
            auto shape = decoded.sizes().vec();
            shape[2] = frames * f;
            sum = torch::zeros(shape, decoded.options().dtype(torch::kFloat32));
            weightSum = torch::zeros({frames * f}, weight.options());
        }
        const auto w = weight.view({1, 1, length, 1});
        sum.narrow(2, starts[i] * f, length).add_(decoded.to(torch::kFloat32) * w);
        weightSum.narrow(0, starts[i] * f, length).add_(weight);
    }
    return (sum / weightSum.view({1, 1, -1, 1})).to(latents.scalar_type());
}

torch::Tensor Vae::decode(const torch::Tensor& latents, const VaeDecodeOptions& options) const {
    const auto& c = config();
    if (latents.dim() != 4 || latents.size(1) != c.latentChannels)
        throw ModelError("VAE decode: latents must be [batch, " + std::to_string(c.latentChannels) +
                         ", frames, bins]");
    if (latents.size(0) < 1 || latents.size(2) < 1 || latents.size(3) < 1) throw ModelError("VAE decode: latents are empty");
    if (options.tileLatentFrames < 0 || options.tileOverlapLatentFrames < 0)
        throw ModelError("VAE decode: tile sizes must not be negative");
    const bool tiled = options.tileLatentFrames > 0 && options.tileLatentFrames < latents.size(2);
    if (tiled && options.tileOverlapLatentFrames >= options.tileLatentFrames)
        throw ModelError("VAE decode: the tile overlap (" + std::to_string(options.tileOverlapLatentFrames) +
                         " latent frames) must be smaller than the tile (" + std::to_string(options.tileLatentFrames) +
                         ")");
    torch::NoGradGuard noGrad;
    const auto z = latents.to(device(), dtype());
    auto run = [&](const torch::Tensor& x) {
        return tiled ? decodeTiled(x, options.tileLatentFrames, options.tileOverlapLatentFrames) : decodeWhole(x);
    };
    if (!options.sliceBatch || z.size(0) == 1) return run(z);
    std::vector<torch::Tensor> parts;
    for (int64_t b = 0; b < z.size(0); ++b) parts.push_back(run(z.narrow(0, b, 1)));
    return torch::cat(parts, 0);
}

VaePosterior Vae::encode(const torch::Tensor& mel) const {
    const auto& c = config();
    if (mel.dim() != 4 || mel.size(1) != c.inChannels)
        throw ModelError("VAE encode: input must be [batch, " + std::to_string(c.inChannels) + ", frames, bins]");
    if (mel.size(2) < 1 || mel.size(3) < 1) throw ModelError("VAE encode: input is empty");
    torch::NoGradGuard noGrad;
    auto moments = model_->encoder(mel.to(device(), dtype()));
    if (model_->quantConv) moments = model_->quantConv(moments);
    auto halves = moments.chunk(2, 1);
    VaePosterior p;
    p.mean = halves[0];
    p.logvar = halves[1].clamp(-30.0, 20.0);
    p.std = (0.5 * p.logvar).exp();
    return p;
}

double Vae::latentScalingFactor() const { return config().latentScalingFactor; }
const VaeConfig& Vae::config() const { return model_->config; }
torch::Device Vae::device() const { return firstParameter(*model_).device(); }
torch::ScalarType Vae::dtype() const { return firstParameter(*model_).scalar_type(); }
uint64_t Vae::parameterCount() const { return countParameters(*model_); }
uint64_t Vae::parameterBytes() const { return modelBytes(*model_); }
QuantizationReport Vae::quantizeWeights(WeightQuantization level, bool int8Arithmetic) {
    return quantizeModuleWeights(*model_, level, int8Arithmetic);
}

}  // namespace grym::audioldm
