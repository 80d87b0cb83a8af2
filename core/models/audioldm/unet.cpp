#include "models/audioldm/unet.h"

#include "common/error.h"
#include "common/json_reader.h"
#include "models/audioldm/blocks.h"
#include "weights/module_loader.h"
#include "weights/safetensors.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

namespace grym::audioldm {

// ---------------------------------------------------------------------------------------------
// Config

UNetConfig UNetConfig::fromJson(const nlohmann::json& json, const std::string& source) {
    const JsonReader r(json, source);
    UNetConfig c;
    r.requireOneOf("_class_name", {"UNet2DConditionModel"});

    c.inChannels = r.integer("in_channels", 4);
    c.outChannels = r.integer("out_channels", 4);
    c.sampleSize = r.integer("sample_size", 0);
    c.centerInputSample = r.boolean("center_input_sample", false);
    c.flipSinToCos = r.boolean("flip_sin_to_cos", true);
    c.freqShift = r.number("freq_shift", 0.0);
    c.blockOutChannels = r.integers("block_out_channels");
    c.downBlockTypes = r.strings("down_block_types");
    c.upBlockTypes = r.strings("up_block_types");
    const size_t levels = c.blockOutChannels.size();
    if (levels == 0) r.reject("block_out_channels", "at least one block is needed");
    if (c.downBlockTypes.size() != levels)
        r.reject("down_block_types", "needs one entry per block_out_channels entry");
    if (c.upBlockTypes.size() != levels) r.reject("up_block_types", "needs one entry per block_out_channels entry");
    for (const auto& t : c.downBlockTypes)
        if (t != "DownBlock2D" && t != "CrossAttnDownBlock2D")
            r.reject("down_block_types", "block type '" + t + "' is not supported (supported: DownBlock2D, CrossAttnDownBlock2D)");
    for (const auto& t : c.upBlockTypes)
        if (t != "UpBlock2D" && t != "CrossAttnUpBlock2D")
            r.reject("up_block_types", "block type '" + t + "' is not supported (supported: UpBlock2D, CrossAttnUpBlock2D)");
    r.requireOneOf("mid_block_type", {"UNetMidBlock2DCrossAttn"});
    c.hasMidBlock = r.has("mid_block_type") || !r.contains("mid_block_type");  // explicit null: no mid block

    c.layersPerBlock = r.integer("layers_per_block", 2);
    if (c.layersPerBlock < 1) r.reject("layers_per_block", "must be at least 1");
    c.downsamplePadding = r.integer("downsample_padding", 1);
    if (c.downsamplePadding != 0 && c.downsamplePadding != 1) r.reject("downsample_padding", "must be 0 or 1");
    c.midBlockScaleFactor = r.number("mid_block_scale_factor", 1.0);
    c.resnetOutScaleFactor = r.number("resnet_out_scale_factor", 1.0);
    c.actFn = readActivation(r, "act_fn", Activation::Silu, ActivationNames::Diffusers);
    c.normNumGroups = r.integer("norm_num_groups", 32);
    if (!r.has("norm_num_groups")) r.reject("norm_num_groups", "the model without GroupNorm is not implemented");
    c.normEps = r.number("norm_eps", 1e-5);
    for (auto ch : c.blockOutChannels) checkGroups(r, "norm_num_groups", c.normNumGroups, ch);

    // diffusers names the head *count* attention_head_dim (a historical quirk it keeps for
    // compatibility): num_attention_heads, when given, wins; otherwise attention_head_dim is the
    // number of heads per block.
    c.attentionHeads = r.has("num_attention_heads") ? r.integersPerBlock("num_attention_heads", levels)
                                                    : r.integersPerBlock("attention_head_dim", levels);
    c.transformerLayersPerBlock =
        r.has("transformer_layers_per_block") ? r.integersPerBlock("transformer_layers_per_block", levels)
                                              : std::vector<int64_t>(levels, 1);
    for (size_t i = 0; i < levels; ++i) {
        const bool hasAttention = c.downBlockTypes[i] == "CrossAttnDownBlock2D" ||
                                  c.upBlockTypes[levels - 1 - i] == "CrossAttnUpBlock2D" ||
                                  (i + 1 == levels && c.hasMidBlock);
        if (!hasAttention) continue;
        if (c.attentionHeads[i] < 1 || c.blockOutChannels[i] % c.attentionHeads[i] != 0)
            r.reject(r.has("num_attention_heads") ? "num_attention_heads" : "attention_head_dim",
                     "the head count must divide the block's channels (" + std::to_string(c.blockOutChannels[i]) + ")");
        if (c.transformerLayersPerBlock[i] < 1) r.reject("transformer_layers_per_block", "must be at least 1");
    }
    // Without encoder states the second attention's keys come from the sample itself, so its
    // key/value input width must be the block's own width.
    if (r.has("cross_attention_dim")) {
        const auto crossDims = r.integersPerBlock("cross_attention_dim", levels);
        for (size_t i = 0; i < levels; ++i)
            if (crossDims[i] != c.blockOutChannels[i])
                r.reject("cross_attention_dim",
                         "AudioLDM's UNet runs without encoder states, so each block's cross_attention_dim must equal "
                         "its channels (block " + std::to_string(i) + " has " +
                             std::to_string(c.blockOutChannels[i]) + ")");
    }
    c.useLinearProjection = r.boolean("use_linear_projection", false);
    c.upcastAttention = r.boolean("upcast_attention", false);
    c.convInKernel = r.integer("conv_in_kernel", 3);
    c.convOutKernel = r.integer("conv_out_kernel", 3);
    if (c.convInKernel < 1 || c.convInKernel % 2 == 0) r.reject("conv_in_kernel", "must be an odd size");
    if (c.convOutKernel < 1 || c.convOutKernel % 2 == 0) r.reject("conv_out_kernel", "must be an odd size");

    r.requireOneOf("time_embedding_type", {"positional"});
    c.timeEmbedDim = r.integer("time_embedding_dim", c.blockOutChannels[0] * 4);
    if (r.has("timestep_post_act"))
        c.timestepPostAct = readActivation(r, "timestep_post_act", Activation::Silu, ActivationNames::Diffusers);
    if (r.has("time_embedding_act_fn"))
        c.timeEmbeddingActFn = readActivation(r, "time_embedding_act_fn", Activation::Silu, ActivationNames::Diffusers);
    if (r.has("class_embed_type")) {
        r.requireOneOf("class_embed_type", {"simple_projection"});
        c.classEmbedType = r.string("class_embed_type");
        c.projectionClassEmbeddingsInputDim = r.integer("projection_class_embeddings_input_dim");
        if (c.projectionClassEmbeddingsInputDim < 1)
            r.reject("projection_class_embeddings_input_dim", "must be positive");
    }
    r.requireNull("num_class_embeds", "class-id embeddings (nn.Embedding) are not implemented");
    c.classEmbeddingsConcat = r.boolean("class_embeddings_concat", false);

    r.requireNull("time_cond_proj_dim", "timestep conditioning projections are not implemented");
    r.requireNull("addition_embed_type", "additional (text/image/time) embeddings are not implemented");
    r.requireNull("encoder_hid_dim", "AudioLDM's UNet takes no encoder states");
    r.requireNull("encoder_hid_dim_type", "AudioLDM's UNet takes no encoder states");
    r.requireNull("cross_attention_norm", "normalised cross attention is not implemented");
    r.requireNull("reverse_transformer_layers_per_block", "asymmetric transformer depths are not implemented");
    r.requireFalse("dual_cross_attention", "dual cross attention is not implemented");
    r.requireFalse("only_cross_attention", "cross-attention-only blocks are not implemented");
    r.requireFalse("mid_block_only_cross_attention", "cross-attention-only blocks are not implemented");
    r.requireFalse("resnet_skip_time_act", "skipping the time activation is not implemented");
    r.requireOneOf("resnet_time_scale_shift", {"default"});
    r.requireOneOf("attention_type", {"default"});
    return c;
}

UNetConfig UNetConfig::fromFile(const std::string& path) {
    return fromJson(readJsonFile(path), path);
}

int64_t UNetConfig::resnetTimeEmbedDim() const {
    return classEmbeddingsConcat && !classEmbedType.empty() ? 2 * timeEmbedDim : timeEmbedDim;
}

int64_t UNetConfig::featureMapDownsampling() const {
    return int64_t{1} << (blockOutChannels.size() - 1);
}

// ---------------------------------------------------------------------------------------------
// Time embedding

torch::Tensor timestepEmbedding(const torch::Tensor& timesteps, int64_t dim, bool flipSinToCos, double freqShift) {
    const int64_t half = dim / 2;
    auto options = torch::TensorOptions().dtype(torch::kFloat32).device(timesteps.device());
    auto exponent = torch::arange(0, half, options) * (-std::log(10000.0)) / (static_cast<double>(half) - freqShift);
    auto angles = timesteps.to(torch::kFloat32).unsqueeze(1) * exponent.exp().unsqueeze(0);  // [N, half]
    auto sin = angles.sin(), cos = angles.cos();
    auto emb = flipSinToCos ? torch::cat({cos, sin}, 1) : torch::cat({sin, cos}, 1);
    if (dim % 2 == 1) emb = torch::constant_pad_nd(emb, {0, 1});
    return emb;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Transformer

// GEGLU: one projection to twice the width, split into value and gate; value * gelu(gate).
class GegluImpl : public torch::nn::Module {
public:
    GegluImpl(int64_t dim, int64_t inner) {
        proj_ = register_module("proj", QuantLinear(dim, inner * 2));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        auto parts = proj_(x).chunk(2, -1);
        return parts[0] * torch::gelu(parts[1]);
    }

private:
    QuantLinear proj_{nullptr};
};
TORCH_MODULE(Geglu);

// diffusers' FeedForward: net = [GEGLU, Dropout, Linear]; its inner width is 4 * dim.
class FeedForwardImpl : public torch::nn::Module {
public:
    explicit FeedForwardImpl(int64_t dim) {
        const int64_t inner = dim * 4;
        geglu_ = Geglu(dim, inner);
        out_ = QuantLinear(inner, dim);
        auto net = torch::nn::ModuleList();
        net->push_back(geglu_);
        net->push_back(torch::nn::Identity());  // dropout slot (inference)
        net->push_back(out_);
        register_module("net", net);
    }
    torch::Tensor forward(const torch::Tensor& x) { return out_(geglu_(x)); }

private:
    Geglu geglu_{nullptr};
    QuantLinear out_{nullptr};
};
TORCH_MODULE(FeedForward);

// LayerNorm -> self-attention, LayerNorm -> second attention (no encoder states, so it attends
// to the sample too), LayerNorm -> GEGLU feed-forward; each added to its input.
class BasicTransformerBlockImpl : public torch::nn::Module {
public:
    BasicTransformerBlockImpl(int64_t dim, int64_t heads, bool upcast) {
        auto norm = [&] { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)); };
        AttentionOptions a;
        a.queryDim = dim;
        a.heads = heads;
        a.upcastSoftmax = upcast;
        norm1_ = register_module("norm1", norm());
        attn1_ = register_module("attn1", Attention(a));
        norm2_ = register_module("norm2", norm());
        attn2_ = register_module("attn2", Attention(a));
        norm3_ = register_module("norm3", norm());
        ff_ = register_module("ff", FeedForward(dim));
    }
    // x: [B, N, C]
    torch::Tensor forward(torch::Tensor x) {
        x = attn1_(norm1_(x)) + x;
        x = attn2_(norm2_(x)) + x;
        return ff_(norm3_(x)) + x;
    }

private:
    torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr}, norm3_{nullptr};
    Attention attn1_{nullptr}, attn2_{nullptr};
    FeedForward ff_{nullptr};
};
TORCH_MODULE(BasicTransformerBlock);

// Transformer2DModel on a feature map: GroupNorm, proj_in (1x1 conv or linear), transformer
// blocks over the H*W tokens, proj_out, plus the input.
class Transformer2DImpl : public torch::nn::Module {
public:
    Transformer2DImpl(const UNetConfig& c, int64_t channels, int64_t heads, int64_t layers) : linear_(c.useLinearProjection) {
        // diffusers fixes this GroupNorm's eps at 1e-6, whatever norm_eps says.
        norm_ = register_module(
            "norm", torch::nn::GroupNorm(torch::nn::GroupNormOptions(c.normNumGroups, channels).eps(1e-6)));
        if (linear_) {
            projInLinear_ = register_module("proj_in", QuantLinear(channels, channels));
        } else {
            projInConv_ = register_module("proj_in", QuantConv2d(torch::nn::Conv2dOptions(channels, channels, 1)));
        }
        auto list = torch::nn::ModuleList();
        for (int64_t i = 0; i < layers; ++i) {
            blocks_.push_back(BasicTransformerBlock(channels, heads, c.upcastAttention));
            list->push_back(blocks_.back());
        }
        register_module("transformer_blocks", list);
        if (linear_) {
            projOutLinear_ = register_module("proj_out", QuantLinear(channels, channels));
        } else {
            projOutConv_ = register_module("proj_out", QuantConv2d(torch::nn::Conv2dOptions(channels, channels, 1)));
        }
    }
    // x: [B, C, H, W] -> [B, C, H, W]
    torch::Tensor forward(const torch::Tensor& x) {
        const int64_t batch = x.size(0), channels = x.size(1), height = x.size(2), width = x.size(3);
        auto h = norm_(x);
        if (!linear_) h = projInConv_(h);
        h = h.permute({0, 2, 3, 1}).reshape({batch, height * width, channels});  // [B, H*W, C]
        if (linear_) h = projInLinear_(h);
        for (auto& block : blocks_) h = block(h);
        if (linear_) h = projOutLinear_(h);
        h = h.reshape({batch, height, width, channels}).permute({0, 3, 1, 2}).contiguous();
        if (!linear_) h = projOutConv_(h);
        return h + x;
    }

private:
    bool linear_;
    torch::nn::GroupNorm norm_{nullptr};
    QuantConv2d projInConv_{nullptr}, projOutConv_{nullptr};
    QuantLinear projInLinear_{nullptr}, projOutLinear_{nullptr};
    std::vector<BasicTransformerBlock> blocks_;
};
TORCH_MODULE(Transformer2D);

ResnetOptions resnetOptions(const UNetConfig& c, int64_t in, int64_t out, double scale) {
    ResnetOptions o;
    o.inChannels = in;
    o.outChannels = out;
    o.timeEmbedChannels = c.resnetTimeEmbedDim();
    o.groups = c.normNumGroups;
    o.eps = c.normEps;
    o.act = c.actFn;
    o.outputScale = scale;
    return o;
}

// ---------------------------------------------------------------------------------------------
// Down, mid and up blocks

// DownBlock2D (resnets only) or CrossAttnDownBlock2D (each resnet followed by a transformer),
// then an optional stride-2 down-sampler. Every intermediate output is kept as a skip.
class DownBlockImpl : public torch::nn::Module {
public:
    DownBlockImpl(const UNetConfig& c, size_t level, int64_t in, int64_t out, bool attention, bool downsample) {
        auto resnets = torch::nn::ModuleList(), attentions = torch::nn::ModuleList();
        for (int64_t j = 0; j < c.layersPerBlock; ++j) {
            resnets_.push_back(ResnetBlock2D(resnetOptions(c, j == 0 ? in : out, out, c.resnetOutScaleFactor)));
            resnets->push_back(resnets_.back());
            if (attention) {
                attentions_.push_back(Transformer2D(c, out, c.attentionHeads[level], c.transformerLayersPerBlock[level]));
                attentions->push_back(attentions_.back());
            }
        }
        if (attention) register_module("attentions", attentions);
        register_module("resnets", resnets);
        if (downsample) {
            downsampler_ = Downsample2D(out, c.downsamplePadding);
            auto list = torch::nn::ModuleList();
            list->push_back(downsampler_);
            register_module("downsamplers", list);
        }
    }
    torch::Tensor forward(torch::Tensor h, const torch::Tensor& temb, std::vector<torch::Tensor>& skips) {
        for (size_t j = 0; j < resnets_.size(); ++j) {
            h = resnets_[j](h, temb);
            if (!attentions_.empty()) h = attentions_[j](h);
            skips.push_back(h);
        }
        if (downsampler_) {
            h = downsampler_(h);
            skips.push_back(h);
        }
        return h;
    }

private:
    std::vector<ResnetBlock2D> resnets_;
    std::vector<Transformer2D> attentions_;
    Downsample2D downsampler_{nullptr};
};
TORCH_MODULE(DownBlock);

// UNetMidBlock2DCrossAttn with one layer: resnet, transformer, resnet.
class MidBlockImpl : public torch::nn::Module {
public:
    MidBlockImpl(const UNetConfig& c, int64_t channels) {
        const size_t last = c.blockOutChannels.size() - 1;
        auto resnets = torch::nn::ModuleList(), attentions = torch::nn::ModuleList();
        for (int i = 0; i < 2; ++i) {
            resnets_.push_back(ResnetBlock2D(resnetOptions(c, channels, channels, c.midBlockScaleFactor)));
            resnets->push_back(resnets_.back());
        }
        attention_ = Transformer2D(c, channels, c.attentionHeads[last], c.transformerLayersPerBlock[last]);
        attentions->push_back(attention_);
        register_module("attentions", attentions);
        register_module("resnets", resnets);
    }
    torch::Tensor forward(torch::Tensor h, const torch::Tensor& temb) {
        h = resnets_[0](h, temb);
        h = attention_(h);
        return resnets_[1](h, temb);
    }

private:
    std::vector<ResnetBlock2D> resnets_;
    Transformer2D attention_{nullptr};
};
TORCH_MODULE(MidBlock);

// UpBlock2D / CrossAttnUpBlock2D: each resnet takes the running features concatenated with one
// skip (last in, first out), then an optional up-sampler to the next skip's size.
class UpBlockImpl : public torch::nn::Module {
public:
    UpBlockImpl(const UNetConfig& c, size_t levelFromTop, int64_t prevOut, int64_t in, int64_t out, bool attention,
                bool upsample) {
        const int64_t layers = c.layersPerBlock + 1;
        auto resnets = torch::nn::ModuleList(), attentions = torch::nn::ModuleList();
        for (int64_t j = 0; j < layers; ++j) {
            const int64_t skipChannels = j == layers - 1 ? in : out;
            const int64_t runningChannels = j == 0 ? prevOut : out;
            resnets_.push_back(
                ResnetBlock2D(resnetOptions(c, runningChannels + skipChannels, out, c.resnetOutScaleFactor)));
            resnets->push_back(resnets_.back());
            if (attention) {
                attentions_.push_back(Transformer2D(c, out, c.attentionHeads[levelFromTop],
                                                    c.transformerLayersPerBlock[levelFromTop]));
                attentions->push_back(attentions_.back());
            }
        }
        if (attention) register_module("attentions", attentions);
        register_module("resnets", resnets);
        if (upsample) {
            upsampler_ = Upsample2D(out);
            auto list = torch::nn::ModuleList();
            list->push_back(upsampler_);
            register_module("upsamplers", list);
        }
    }
    size_t skipCount() const { return resnets_.size(); }
    torch::Tensor forward(torch::Tensor h, const torch::Tensor& temb, std::vector<torch::Tensor>& skips) {
        for (size_t j = 0; j < resnets_.size(); ++j) {
            h = torch::cat({h, skips.back()}, 1);
            skips.pop_back();
            h = resnets_[j](h, temb);
            if (!attentions_.empty()) h = attentions_[j](h);
        }
        if (upsampler_) {
            // The next block's first skip has the size this level had on the way down.
            const auto& next = skips.back();
            h = upsampler_(h, std::make_pair(next.size(2), next.size(3)));
        }
        return h;
    }

private:
    std::vector<ResnetBlock2D> resnets_;
    std::vector<Transformer2D> attentions_;
    Upsample2D upsampler_{nullptr};
};
TORCH_MODULE(UpBlock);

// TimestepEmbedding: linear_1 -> act -> linear_2 (-> optional post activation).
class TimeEmbeddingImpl : public torch::nn::Module {
public:
    TimeEmbeddingImpl(const UNetConfig& c)
        : act_(c.actFn), postAct_(c.timestepPostAct) {
        linear1_ = register_module("linear_1", QuantLinear(c.blockOutChannels[0], c.timeEmbedDim));
        linear2_ = register_module("linear_2", QuantLinear(c.timeEmbedDim, c.timeEmbedDim));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        auto h = linear2_(activate(linear1_(x), act_));
        return postAct_ ? activate(h, *postAct_) : h;
    }

private:
    Activation act_;
    std::optional<Activation> postAct_;
    QuantLinear linear1_{nullptr}, linear2_{nullptr};
};
TORCH_MODULE(TimeEmbedding);

}  // namespace

// ---------------------------------------------------------------------------------------------
// The model

class UNetModel : public torch::nn::Module {
public:
    explicit UNetModel(const UNetConfig& c) : config(c) {
        const auto& ch = c.blockOutChannels;
        const size_t levels = ch.size();
        convIn_ = register_module("conv_in", QuantConv2d(torch::nn::Conv2dOptions(c.inChannels, ch[0], c.convInKernel)
                                                                   .padding((c.convInKernel - 1) / 2)));
        timeEmbedding_ = register_module("time_embedding", TimeEmbedding(c));
        if (!c.classEmbedType.empty())
            classEmbedding_ = register_module(
                "class_embedding", QuantLinear(c.projectionClassEmbeddingsInputDim, c.timeEmbedDim));

        auto downList = torch::nn::ModuleList();
        int64_t out = ch[0];
        for (size_t i = 0; i < levels; ++i) {
            const int64_t in = out;
            out = ch[i];
            downBlocks_.push_back(DownBlock(c, i, in, out, c.downBlockTypes[i] == "CrossAttnDownBlock2D", i + 1 < levels));
            downList->push_back(downBlocks_.back());
        }
        register_module("down_blocks", downList);
        if (c.hasMidBlock) midBlock_ = register_module("mid_block", MidBlock(c, ch.back()));

        auto upList = torch::nn::ModuleList();
        out = ch.back();
        for (size_t i = 0; i < levels; ++i) {
            const size_t level = levels - 1 - i;  // the down level this up block mirrors
            const int64_t prevOut = out;
            out = ch[level];
            const int64_t in = ch[level == 0 ? 0 : level - 1];
            upBlocks_.push_back(UpBlock(c, level, prevOut, in, out, c.upBlockTypes[i] == "CrossAttnUpBlock2D", i + 1 < levels));
            upList->push_back(upBlocks_.back());
        }
        register_module("up_blocks", upList);
        convNormOut_ = register_module(
            "conv_norm_out", torch::nn::GroupNorm(torch::nn::GroupNormOptions(c.normNumGroups, ch[0]).eps(c.normEps)));
        convOut_ = register_module("conv_out", QuantConv2d(torch::nn::Conv2dOptions(ch[0], c.outChannels, c.convOutKernel)
                                                                     .padding((c.convOutKernel - 1) / 2)));
    }

    // sample [B, Cin, H, W], timesteps [B], classLabels [B, D] -> [B, Cout, H, W]
    torch::Tensor forward(torch::Tensor sample, const torch::Tensor& timesteps, const torch::Tensor& classLabels) {
        const auto dtype = convIn_->weight.scalar_type();
        auto emb = timeEmbedding_(
            timestepEmbedding(timesteps, config.blockOutChannels[0], config.flipSinToCos, config.freqShift).to(dtype));
        if (classEmbedding_) {
            auto classEmb = classEmbedding_(classLabels.to(dtype));
            emb = config.classEmbeddingsConcat ? torch::cat({emb, classEmb}, -1) : emb + classEmb;
        }
        if (config.timeEmbeddingActFn) emb = activate(emb, *config.timeEmbeddingActFn);

        if (config.centerInputSample) sample = 2 * sample - 1.0;
        auto h = convIn_(sample);
        std::vector<torch::Tensor> skips{h};
        for (auto& block : downBlocks_) h = block(h, emb, skips);
        if (midBlock_) h = midBlock_(h, emb);
        for (auto& block : upBlocks_) h = block(h, emb, skips);
        return convOut_(activate(convNormOut_(h), config.actFn));
    }

    const UNetConfig config;

private:
    QuantConv2d convIn_{nullptr}, convOut_{nullptr};
    TimeEmbedding timeEmbedding_{nullptr};
    QuantLinear classEmbedding_{nullptr};
    std::vector<DownBlock> downBlocks_;
    MidBlock midBlock_{nullptr};
    std::vector<UpBlock> upBlocks_;
    torch::nn::GroupNorm convNormOut_{nullptr};
};

// ---------------------------------------------------------------------------------------------
// Public wrapper

UNet::UNet(std::shared_ptr<UNetModel> model) : model_(std::move(model)) {}

UNet UNet::randomlyInitialised(const UNetConfig& config, torch::Device device, torch::ScalarType dtype) {
    auto model = std::make_shared<UNetModel>(config);
    initialiseLinearLayers(*model);
    model->eval();
    model->to(device, dtype);
    return UNet(model);
}

UNet UNet::load(const std::string& dir, const LoadOptions& options) {
    namespace fs = std::filesystem;
    const auto config = UNetConfig::fromFile((fs::path(dir) / "config.json").string());
    auto model = std::make_shared<UNetModel>(config);
    model->eval();
    const auto source = openWeightSource(dir, "diffusion_pytorch_model");
    ModuleWeightOptions mapping;
    mapping.source = source->path();
    mapping.takeTensor = linearWeightsToInt8WhileLoading(*model, options, mapping.source);
    loadModuleWeights(*model, source->load(), mapping);
    checkFinite(*model, mapping.source);
    model->to(options.device, options.dtype);
    UNet unet(model);
    unet.quantizeWeights(options.precision, options.int8Arithmetic);
    return unet;
}

torch::Tensor UNet::forward(const torch::Tensor& sample, const torch::Tensor& timestep,
                            const torch::Tensor& classLabels) const {
    const auto& c = model_->config;
    if (sample.dim() != 4 || sample.size(1) != c.inChannels)
        throw ModelError("UNet: sample must be [batch, " + std::to_string(c.inChannels) + ", height, width], got " +
                         std::to_string(sample.dim()) + " dimensions" +
                         (sample.dim() >= 2 ? " with " + std::to_string(sample.size(1)) + " channels" : std::string()));
    const int64_t batch = sample.size(0);
    if (batch < 1 || sample.size(2) < 1 || sample.size(3) < 1) throw ModelError("UNet: sample is empty");
    if (!timestep.defined() || (timestep.numel() != 1 && timestep.numel() != batch))
        throw ModelError("UNet: timestep must be a scalar or hold one value per batch entry (" +
                         std::to_string(batch) + ")");
    if (!c.classEmbedType.empty()) {
        if (!classLabels.defined())
            throw ModelError("UNet: this model has a class embedding (class_embed_type '" + c.classEmbedType +
                             "'), so class labels (the text embedding) are required");
        if (classLabels.dim() != 2 || classLabels.size(0) != batch ||
            classLabels.size(1) != c.projectionClassEmbeddingsInputDim)
            throw ModelError("UNet: class labels must be [" + std::to_string(batch) + ", " +
                             std::to_string(c.projectionClassEmbeddingsInputDim) + "]");
    }
    torch::NoGradGuard noGrad;
    const auto device = this->device();
    auto timesteps = timestep.reshape({-1}).to(device).expand({batch});
    auto labels = classLabels.defined() ? classLabels.to(device) : classLabels;
    return model_->forward(sample.to(device, dtype()), timesteps, labels);
}

torch::Tensor UNet::forward(const torch::Tensor& sample, double timestep, const torch::Tensor& classLabels) const {
    return forward(sample, torch::tensor(timestep, torch::kFloat64), classLabels);
}

const UNetConfig& UNet::config() const { return model_->config; }

torch::Device UNet::device() const { return firstParameter(*model_).device(); }
torch::ScalarType UNet::dtype() const { return firstParameter(*model_).scalar_type(); }
uint64_t UNet::parameterCount() const { return countParameters(*model_); }
uint64_t UNet::parameterBytes() const { return modelBytes(*model_); }
QuantizationReport UNet::quantizeWeights(WeightQuantization level, bool int8Arithmetic) {
    return quantizeModuleWeights(*model_, level, int8Arithmetic);
}

}  // namespace grym::audioldm
