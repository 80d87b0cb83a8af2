#include "models/wav2vec2/model.h"

#include "common/error.h"
#include "models/audioldm/blocks.h"
#include "models/flop_count.h"
#include "weights/module_loader.h"
#include "weights/weight_source.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <filesystem>
#include <limits>

namespace grym {

namespace {

using namespace torch::nn;
// Linear layers that can compute in int8 (--precision int8); the conv feature encoder stays float.
using audioldm::QuantLinear;

// The most negative finite value of `dtype`: added to attention scores of padded keys
// (as transformers does), so a row with no real key still gives a defined softmax.
double lowestFinite(torch::ScalarType dtype) {
    switch (dtype) {
    case torch::kHalf: return -65504.0;
    case torch::kBFloat16: return -3.3895313892515355e38;
    case torch::kDouble: return std::numeric_limits<double>::lowest();
    default: return std::numeric_limits<float>::lowest();
    }
}

// One conv of the feature encoder. Group-norm models normalise after the first conv only
// (one group per channel); layer-norm models normalise channels after every conv.
struct FeatureConvLayerImpl : Module {
    FeatureConvLayerImpl(const Wav2vec2Config& c, size_t index) : activation(c.featExtractActivation) {
        const int64_t in = index == 0 ? 1 : c.convDim[index - 1];
        const int64_t out = c.convDim[index];
        conv = register_module("conv", Conv1d(Conv1dOptions(in, out, c.convKernel[index]).stride(c.convStride[index]).bias(c.convBias)));
        if (c.featExtractNorm == FeatureEncoderNorm::Layer)
            layerNorm = register_module("layer_norm", LayerNorm(LayerNormOptions({out})));
        else if (index == 0)
            groupNorm = register_module("layer_norm", GroupNorm(GroupNormOptions(out, out)));
    }
    // (batch, in, t) -> (batch, out, t')
    torch::Tensor forward(torch::Tensor x) {
        x = FlopCount::layer(conv(x), conv->weight);
        if (layerNorm) x = layerNorm(x.transpose(-2, -1)).transpose(-2, -1);
        else if (groupNorm) x = groupNorm(x);
        return activate(x, activation);
    }
    Conv1d conv{nullptr};
    LayerNorm layerNorm{nullptr};
    GroupNorm groupNorm{nullptr};
    Activation activation;
};
TORCH_MODULE(FeatureConvLayer);

struct FeatureEncoderImpl : Module {
    explicit FeatureEncoderImpl(const Wav2vec2Config& c) {
        ModuleList list;
        for (size_t i = 0; i < c.convDim.size(); ++i) {
            layers.push_back(FeatureConvLayer(c, i));
            list->push_back(layers.back());
        }
        register_module("conv_layers", list);
    }
    // (batch, samples) -> (batch, conv_dim[-1], frames)
    torch::Tensor forward(const torch::Tensor& samples) {
        torch::Tensor x = samples.unsqueeze(1);
        for (auto& layer : layers) x = layer(x);
        return x;
    }
    std::vector<FeatureConvLayer> layers;
};
TORCH_MODULE(FeatureEncoder);

struct FeatureProjectionImpl : Module {
    explicit FeatureProjectionImpl(const Wav2vec2Config& c) {
        layerNorm = register_module("layer_norm", LayerNorm(LayerNormOptions({c.convDim.back()}).eps(c.layerNormEps)));
        projection = register_module("projection", QuantLinear(c.convDim.back(), c.hiddenSize));
    }
    // (batch, frames, conv_dim[-1]) -> (batch, frames, hidden)
    torch::Tensor forward(const torch::Tensor& x) { return projection(layerNorm(x)); }
    LayerNorm layerNorm{nullptr};
    QuantLinear projection{nullptr};
};
TORCH_MODULE(FeatureProjection);

// Relative position information from a wide grouped convolution over time. Its weight is
// weight-normed in checkpoints and folded into a plain weight at load. "Same" padding with
// an even kernel yields one frame too many, which is dropped.
struct PositionalConvEmbeddingImpl : Module {
    explicit PositionalConvEmbeddingImpl(const Wav2vec2Config& c)
        : dropLastFrame(c.numConvPosEmbeddings % 2 == 0), activation(c.featExtractActivation) {
        conv = register_module("conv", Conv1d(Conv1dOptions(c.hiddenSize, c.hiddenSize, c.numConvPosEmbeddings)
                                                  .padding(c.numConvPosEmbeddings / 2)
                                                  .groups(c.numConvPosEmbeddingGroups)));
    }
    // (batch, frames, hidden) -> (batch, frames, hidden)
    torch::Tensor forward(const torch::Tensor& x) {
        torch::Tensor y = FlopCount::layer(conv(x.transpose(1, 2)), conv->weight);
        if (dropLastFrame) y = y.narrow(2, 0, y.size(2) - 1);
        return activate(y, activation).transpose(1, 2);
    }
    Conv1d conv{nullptr};
    bool dropLastFrame;
    Activation activation;
};
TORCH_MODULE(PositionalConvEmbedding);

struct SelfAttentionImpl : Module {
    explicit SelfAttentionImpl(const Wav2vec2Config& c) : heads(c.numAttentionHeads), headDim(c.hiddenSize / c.numAttentionHeads) {
        kProj = register_module("k_proj", QuantLinear(c.hiddenSize, c.hiddenSize));
        vProj = register_module("v_proj", QuantLinear(c.hiddenSize, c.hiddenSize));
        qProj = register_module("q_proj", QuantLinear(c.hiddenSize, c.hiddenSize));
        outProj = register_module("out_proj", QuantLinear(c.hiddenSize, c.hiddenSize));
    }
    // x: (batch, frames, hidden); keyBias: (batch, 1, 1, frames) additive, or undefined.
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& keyBias) {
        const int64_t b = x.size(0), t = x.size(1);
        auto split = [&](const torch::Tensor& y) { return y.view({b, t, heads, headDim}).transpose(1, 2); };
        const torch::Tensor q = split(qProj(x)), k = split(kProj(x)),
                            v = split(vProj(x));  // (b, heads, t, headDim)
#if TORCH_VERSION_MAJOR >= 2
        // (An undefined mask is passed as no mask at all, not as an optional holding nothing.)
        torch::Tensor context = keyBias.defined() ? at::scaled_dot_product_attention(q, k, v, keyBias)
                                                  : at::scaled_dot_product_attention(q, k, v);
#else
        // softmax(q k^T / sqrt(d) + bias) v
        torch::Tensor scores = torch::matmul(q * (1.0 / std::sqrt(static_cast<double>(headDim))), k.transpose(-2, -1));
        if (keyBias.defined()) scores = scores + keyBias;
        torch::Tensor context = torch::matmul(torch::softmax(scores, -1), v);
#endif
        // q·kᵀ and probs·v: b·heads·t·t·headDim multiply-adds each, t per entry of the context.
        FlopCount::addProducts(context, 2 * t);
        return outProj(context.transpose(1, 2).reshape({b, t, heads * headDim}));
    }
    QuantLinear kProj{nullptr}, vProj{nullptr}, qProj{nullptr}, outProj{nullptr};
    int64_t heads, headDim;
};
TORCH_MODULE(SelfAttention);

struct FeedForwardImpl : Module {
    explicit FeedForwardImpl(const Wav2vec2Config& c) : activation(c.hiddenAct) {
        intermediateDense = register_module("intermediate_dense", QuantLinear(c.hiddenSize, c.intermediateSize));
        outputDense = register_module("output_dense", QuantLinear(c.intermediateSize, c.hiddenSize));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        return outputDense(activate(intermediateDense(x), activation));
    }
    QuantLinear intermediateDense{nullptr}, outputDense{nullptr};
    Activation activation;
};
TORCH_MODULE(FeedForward);

struct EncoderLayerImpl : Module {
    explicit EncoderLayerImpl(const Wav2vec2Config& c) : stable(c.doStableLayerNorm) {
        attention = register_module("attention", SelfAttention(c));
        layerNorm = register_module("layer_norm", LayerNorm(LayerNormOptions({c.hiddenSize}).eps(c.layerNormEps)));
        feedForward = register_module("feed_forward", FeedForward(c));
        finalLayerNorm = register_module("final_layer_norm", LayerNorm(LayerNormOptions({c.hiddenSize}).eps(c.layerNormEps)));
    }
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& keyBias) {
        if (stable) {
            // pre-LN: x + attn(LN(x)), then h + ff(LN(h))
            torch::Tensor h = x + attention(layerNorm(x), keyBias);
            return h + feedForward(finalLayerNorm(h));
        }
        // post-LN: LN(x + attn(x)), then LN(h + ff(h))
        torch::Tensor h = layerNorm(x + attention(x, keyBias));
        return finalLayerNorm(h + feedForward(h));
    }
    SelfAttention attention{nullptr};
    LayerNorm layerNorm{nullptr};
    FeedForward feedForward{nullptr};
    LayerNorm finalLayerNorm{nullptr};
    bool stable;
};
TORCH_MODULE(EncoderLayer);

struct EncoderImpl : Module {
    explicit EncoderImpl(const Wav2vec2Config& c) : stable(c.doStableLayerNorm) {
        posConvEmbed = register_module("pos_conv_embed", PositionalConvEmbedding(c));
        layerNorm = register_module("layer_norm", LayerNorm(LayerNormOptions({c.hiddenSize}).eps(c.layerNormEps)));
        ModuleList list;
        for (int64_t i = 0; i < c.numHiddenLayers; ++i) {
            layers.push_back(EncoderLayer(c));
            list->push_back(layers.back());
        }
        register_module("layers", list);
    }
    // x: (batch, frames, hidden); frameMask: (batch, frames) bool or undefined when nothing is padded.
    // Returns the last hidden state; pushes every layer's input and the final output to `states`.
    torch::Tensor forward(torch::Tensor x, const torch::Tensor& frameMask, std::vector<torch::Tensor>* states) {
        torch::Tensor keyBias;
        if (frameMask.defined()) {
            x = x.masked_fill(frameMask.logical_not().unsqueeze(-1), 0.0);
            keyBias = torch::zeros({x.size(0), 1, 1, x.size(1)}, x.options())
                          .masked_fill(frameMask.logical_not().view({x.size(0), 1, 1, x.size(1)}), lowestFinite(x.scalar_type()));
        }
        x = x + posConvEmbed(x);
        if (!stable) x = layerNorm(x);
        for (auto& layer : layers) {
            if (states) states->push_back(x);
            x = layer(x, keyBias);
        }
        if (stable) x = layerNorm(x);
        if (states) states->push_back(x);
        return x;
    }
    PositionalConvEmbedding posConvEmbed{nullptr};
    LayerNorm layerNorm{nullptr};
    std::vector<EncoderLayer> layers;
    bool stable;
};
TORCH_MODULE(Encoder);

// transformers' Wav2Vec2Model.
struct Wav2vec2BackboneImpl : Module {
    explicit Wav2vec2BackboneImpl(const Wav2vec2Config& c) : config(c) {
        featureExtractor = register_module("feature_extractor", FeatureEncoder(c));
        featureProjection = register_module("feature_projection", FeatureProjection(c));
        encoder = register_module("encoder", Encoder(c));
        // Only used to mask frames in training (SpecAugment); kept because checkpoints hold it.
        if (c.hasMaskedSpecEmbed) maskedSpecEmbed = register_parameter("masked_spec_embed", torch::rand({c.hiddenSize}));
    }
    Wav2vec2Config config;
    FeatureEncoder featureExtractor{nullptr};
    FeatureProjection featureProjection{nullptr};
    Encoder encoder{nullptr};
    torch::Tensor maskedSpecEmbed;
};
TORCH_MODULE(Wav2vec2Backbone);

}  // namespace

// Wav2Vec2ForCTC's layout: "wav2vec2" plus an optional "lm_head".
class Wav2vec2Network : public Module {
public:
    Wav2vec2Network(const Wav2vec2Config& c, bool withCtcHead) {
        backbone = register_module("wav2vec2", Wav2vec2Backbone(c));
        if (withCtcHead) lmHead = register_module("lm_head", QuantLinear(c.hiddenSize, c.vocabSize));
    }
    Wav2vec2Backbone backbone{nullptr};
    QuantLinear lmHead{nullptr};
};

void checkWav2vec2Runtime(const LoadOptions& runtime) {
    if (runtime.device.is_cuda()) {
        if (!torch::cuda::is_available())
            throw ModelError("wav2vec2: CUDA was requested but this build of libtorch sees no CUDA device");
        if (runtime.dtype != torch::kFloat32 && runtime.dtype != torch::kFloat16 && runtime.dtype != torch::kBFloat16)
            throw ModelError("wav2vec2: on CUDA the precision must be float32, float16 or bfloat16");
    } else if (runtime.device.is_cpu()) {
        if (runtime.dtype != torch::kFloat32)
            throw ModelError(std::string("wav2vec2: on the CPU only float32 is supported (asked for ") +
                             c10::toString(runtime.dtype) + ")");
    } else {
        throw ModelError("wav2vec2: unsupported device " + runtime.device.str());
    }
    if (runtime.precision == WeightQuantization::Int8 && !(runtime.device.is_cpu() && runtime.dtype == torch::kFloat32))
        throw ModelError("wav2vec2: int8 runs on the CPU in float32 only");
    if (runtime.precision != WeightQuantization::None && runtime.precision != WeightQuantization::Int8)
        throw ModelError("wav2vec2: only int8 quantisation is supported (int4 is not)");
}

Wav2vec2Model::Wav2vec2Model(const Wav2vec2Config& config, bool withCtcHead, const LoadOptions& runtime)
    : Wav2vec2Model(config, withCtcHead, runtime, true) {}

Wav2vec2Model::Wav2vec2Model(const Wav2vec2Config& config, bool withCtcHead, const LoadOptions& runtime, bool initialise)
    : config_(config), hasCtcHead_(withCtcHead), runtime_(runtime) {
    checkWav2vec2Runtime(runtime);
    net_ = std::make_shared<Wav2vec2Network>(config, withCtcHead);
    net_->eval();
    if (initialise) {
        audioldm::initialiseLinearLayers(*net_);
        net_->to(runtime.device, runtime.dtype);
        quantize();
    }
}

void Wav2vec2Model::quantize() {
    // Linear layers only (attention projections, feed-forward, feature projection, CTC head):
    // they hold nearly all the weights and arithmetic of the encoder; the conv feature encoder
    // and the positional conv stay float.
    audioldm::quantizeModuleWeights(*net_, runtime_.precision, runtime_.int8Arithmetic);
}

Wav2vec2Model::~Wav2vec2Model() = default;
Wav2vec2Model::Wav2vec2Model(Wav2vec2Model&&) noexcept = default;
Wav2vec2Model& Wav2vec2Model::operator=(Wav2vec2Model&&) noexcept = default;

Wav2vec2Model Wav2vec2Model::load(const std::string& folder, const LoadOptions& runtime) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(folder)) throw ModelError(folder + ": wav2vec2 model folder does not exist");
    const std::string configPath = (fs::path(folder) / "config.json").string();
    Wav2vec2Config config = loadWav2vec2Config(configPath);
    const auto source = openWeightSource(folder, "model");
    return fromWeights(config, source->load(), source->path(), runtime);
}

Wav2vec2Model Wav2vec2Model::fromWeights(const Wav2vec2Config& configIn, StateDict weights, const std::string& source,
                                         const LoadOptions& runtime) {
    foldWeightNorm(weights);
    auto startsWith = [](const std::string& s, const char* p) { return s.rfind(p, 0) == 0; };
    bool prefixed = false;
    for (const auto& kv : weights) prefixed = prefixed || startsWith(kv.first, "wav2vec2.");
    if (configIn.architecture == Wav2vec2Architecture::ForPreTraining) {
        // The quantizer and contrastive projections serve pre-training only.
        for (auto it = weights.begin(); it != weights.end();)
            it = startsWith(it->first, "quantizer.") || startsWith(it->first, "project_hid.") || startsWith(it->first, "project_q.")
                     ? weights.erase(it)
                     : std::next(it);
    }
    const bool head = weights.count("lm_head.weight") || weights.count("lm_head.bias") ||
                      (prefixed && configIn.architecture == Wav2vec2Architecture::ForCtc);
    Wav2vec2Config config = configIn;
    // SpecAugment's mask vector is unused at inference; follow the checkpoint, not the config.
    config.hasMaskedSpecEmbed = weights.count(prefixed || head ? "wav2vec2.masked_spec_embed" : "masked_spec_embed") != 0;

    Wav2vec2Model model(config, head, runtime, /*initialise=*/false);
    ModuleWeightOptions options;
    options.source = source;
    torch::nn::Module& target = prefixed || head ? static_cast<torch::nn::Module&>(*model.net_) : *model.net_->backbone;
    options.takeTensor = audioldm::linearWeightsToInt8WhileLoading(target, runtime, source);
    loadModuleWeights(target, weights, options);
    weights.clear();  // release the mapping before the copy to the device
    checkFinite(*model.net_, source);
    model.net_->to(runtime.device, runtime.dtype);
    model.quantize();
    return model;
}

Wav2vec2Output Wav2vec2Model::forward(const torch::Tensor& inputValues, const torch::Tensor& attentionMask, bool allHiddenStates) const {
    if (inputValues.dim() != 2)
        throw ModelError("wav2vec2: input must be (batch, samples), got " + std::to_string(inputValues.dim()) + " dimensions");
    const int64_t samples = inputValues.size(1);
    if (config_.outputFrames(samples) < 1)
        throw ModelError("wav2vec2: audio of " + std::to_string(samples) + " samples is too short for the model, which needs at least " +
                         std::to_string(config_.receptiveField()) + " samples (" +
                         std::to_string(config_.receptiveField() * 1000 / 16000) + " ms at 16 kHz)");
    if (attentionMask.defined() && !attentionMask.sizes().equals(inputValues.sizes()))
        throw ModelError("wav2vec2: attention mask shape does not match the input");

    torch::InferenceMode inference;
    const torch::Tensor x = inputValues.to(runtime_.device, runtime_.dtype);
    Wav2vec2Backbone& m = net_->backbone;

    Wav2vec2Output out;
    out.extractFeatures = m->featureExtractor(x);  // (b, c, frames)
    const int64_t frames = out.extractFeatures.size(2);

    torch::Tensor frameMask;
    if (attentionMask.defined()) {
        // Real samples per clip -> real frames per clip, through the same conv arithmetic.
        torch::Tensor lengths = attentionMask.to(torch::kCPU).to(torch::kInt64).ne(0).sum(-1);
        for (size_t i = 0; i < config_.convKernel.size(); ++i)
            lengths = torch::div(lengths - config_.convKernel[i], config_.convStride[i], "floor") + 1;
        lengths = lengths.clamp_min(0);
        frameMask = torch::arange(frames, torch::kInt64).unsqueeze(0).lt(lengths.unsqueeze(1)).to(runtime_.device);
        out.frameMask = frameMask;
    } else {
        out.frameMask = torch::ones({x.size(0), frames}, torch::TensorOptions().dtype(torch::kBool).device(runtime_.device));
    }

    torch::Tensor hidden = m->featureProjection(out.extractFeatures.transpose(1, 2));
    const bool padded = frameMask.defined() && !frameMask.all().item<bool>();
    out.lastHiddenState = m->encoder(hidden, padded ? frameMask : torch::Tensor(), allHiddenStates ? &out.hiddenStates : nullptr);
    if (net_->lmHead) out.logits = net_->lmHead(out.lastHiddenState);
    return out;
}

int64_t Wav2vec2Model::parameterCount() const { return static_cast<int64_t>(audioldm::countParameters(*net_)); }

int64_t Wav2vec2Model::parameterBytes() const { return static_cast<int64_t>(audioldm::modelBytes(*net_)); }

StateDict Wav2vec2Model::stateDict() const {
    StateDict out;
    for (const auto& p : net_->named_parameters()) out[p.key()] = p.value().detach().to(torch::kCPU, torch::kFloat32).clone();
    return out;
}

std::vector<std::pair<std::string, std::vector<int64_t>>> Wav2vec2Model::parameterShapes() const {
    std::vector<std::pair<std::string, std::vector<int64_t>>> out;
    for (const auto& p : net_->named_parameters()) out.emplace_back(p.key(), p.value().sizes().vec());
    return out;
}

}  // namespace grym
