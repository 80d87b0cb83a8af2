#include "models/audioldm/clap_text.h"

#include "models/flop_count.h"

#include "common/error.h"
#include "common/json_reader.h"
#include "models/audioldm/blocks.h"
#include "models/audioldm/tokenizer.h"
#include "weights/module_loader.h"
#include "weights/safetensors.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

namespace fs = std::filesystem;

namespace grym::audioldm {

namespace {

// --- module tree; member names are the checkpoint's key segments --------------------------

struct RobertaEmbeddings : torch::nn::Module {
    audioldm::QuantEmbedding wordEmbeddings{nullptr};
    torch::nn::Embedding positionEmbeddings{nullptr}, tokenTypeEmbeddings{nullptr};
    torch::nn::LayerNorm layerNorm{nullptr};
    int64_t padId;

    explicit RobertaEmbeddings(const ClapTextConfig& c) : padId(c.padTokenId) {
        wordEmbeddings = register_module("word_embeddings", audioldm::QuantEmbedding(c.vocabSize, c.hiddenSize));
        positionEmbeddings =
            register_module("position_embeddings", torch::nn::Embedding(c.maxPositionEmbeddings, c.hiddenSize));
        tokenTypeEmbeddings = register_module("token_type_embeddings", torch::nn::Embedding(c.typeVocabSize, c.hiddenSize));
        layerNorm = register_module(
            "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hiddenSize}).eps(c.layerNormEps)));
    }

    // ids [B, L] -> [B, L, hidden]
    torch::Tensor forward(const torch::Tensor& ids) {
        // RoBERTa numbers real tokens padId+1, padId+2, ... from the left; pads sit at padId.
        // Each position depends only on the tokens to its left.
        const auto isToken = ids.ne(padId).to(torch::kInt64);
        const auto positions = isToken.cumsum(1) * isToken + padId;
        // Every token has token type 0 (the reference's all-zero token_type_ids buffer).
        auto x = wordEmbeddings->forward(ids) + tokenTypeEmbeddings->weight[0];
        x = x + positionEmbeddings->forward(positions);
        return layerNorm->forward(x);
    }
};

struct SelfAttention : torch::nn::Module {
    audioldm::QuantLinear query{nullptr}, key{nullptr}, value{nullptr};
    int64_t heads, headDim;

    explicit SelfAttention(const ClapTextConfig& c)
        : heads(c.numAttentionHeads), headDim(c.hiddenSize / c.numAttentionHeads) {
        query = register_module("query", audioldm::QuantLinear(c.hiddenSize, c.hiddenSize));
        key = register_module("key", audioldm::QuantLinear(c.hiddenSize, c.hiddenSize));
        value = register_module("value", audioldm::QuantLinear(c.hiddenSize, c.hiddenSize));
    }

    // x [B, L, hidden], maskBias [B, 1, 1, L] (0 to attend, most negative value to ignore)
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& maskBias) {
        const int64_t batch = x.size(0), length = x.size(1);
        const auto split = [&](const torch::Tensor& t) {  // [B, L, hidden] -> [B, heads, L, headDim]
            return t.view({batch, length, heads, headDim}).transpose(1, 2);
        };
        const auto q = split(query->forward(x));
        const auto k = split(key->forward(x));
        const auto v = split(value->forward(x));
#if TORCH_VERSION_MAJOR >= 2
        // softmax(q k^T / sqrt(headDim) + maskBias) v in one fused call (flash / memory-efficient
        // kernels on CUDA); the same arithmetic as the explicit form below.
        const auto context = at::scaled_dot_product_attention(q, k, v, maskBias);
#else
        auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(headDim));
        const auto weights = torch::softmax(scores + maskBias, -1);      // [B, heads, L, L]
        const auto context = torch::matmul(weights, v);
#endif
        // q·kᵀ and weights·v: B·heads·L·L·headDim multiply-adds each, `length` per output entry.
        FlopCount::addProducts(context, 2 * length);
        return context.transpose(1, 2).reshape({batch, length, heads * headDim});
    }
};

// dense, then LayerNorm of (result + residual): the post-LN sublayer ending.
struct DenseResidualNorm : torch::nn::Module {
    audioldm::QuantLinear dense{nullptr};
    torch::nn::LayerNorm layerNorm{nullptr};

    DenseResidualNorm(int64_t in, const ClapTextConfig& c) {
        dense = register_module("dense", audioldm::QuantLinear(in, c.hiddenSize));
        layerNorm = register_module(
            "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hiddenSize}).eps(c.layerNormEps)));
    }

    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual) {
        return layerNorm->forward(dense->forward(x) + residual);
    }
};

struct Attention : torch::nn::Module {
    std::shared_ptr<SelfAttention> self;
    std::shared_ptr<DenseResidualNorm> output;

    explicit Attention(const ClapTextConfig& c) {
        self = register_module("self", std::make_shared<SelfAttention>(c));
        output = register_module("output", std::make_shared<DenseResidualNorm>(c.hiddenSize, c));
    }

    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& maskBias) {
        return output->forward(self->forward(x, maskBias), x);
    }
};

struct Intermediate : torch::nn::Module {
    audioldm::QuantLinear dense{nullptr};
    Activation act;

    explicit Intermediate(const ClapTextConfig& c) : act(c.hiddenAct) {
        dense = register_module("dense", audioldm::QuantLinear(c.hiddenSize, c.intermediateSize));
    }

    torch::Tensor forward(const torch::Tensor& x) { return activate(dense->forward(x), act); }
};

struct EncoderLayer : torch::nn::Module {
    std::shared_ptr<Attention> attention;
    std::shared_ptr<Intermediate> intermediate;
    std::shared_ptr<DenseResidualNorm> output;

    explicit EncoderLayer(const ClapTextConfig& c) {
        attention = register_module("attention", std::make_shared<Attention>(c));
        intermediate = register_module("intermediate", std::make_shared<Intermediate>(c));
        output = register_module("output", std::make_shared<DenseResidualNorm>(c.intermediateSize, c));
    }

    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& maskBias) {
        const auto attended = attention->forward(x, maskBias);
        return output->forward(intermediate->forward(attended), attended);
    }
};

struct Encoder : torch::nn::Module {
    torch::nn::ModuleList layerList{nullptr};
    std::vector<std::shared_ptr<EncoderLayer>> layers;

    explicit Encoder(const ClapTextConfig& c) {
        layerList = register_module("layer", torch::nn::ModuleList());
        for (int64_t i = 0; i < c.numHiddenLayers; ++i) {
            layers.push_back(std::make_shared<EncoderLayer>(c));
            layerList->push_back(layers.back());
        }
    }
};

struct Pooler : torch::nn::Module {
    audioldm::QuantLinear dense{nullptr};

    explicit Pooler(const ClapTextConfig& c) {
        dense = register_module("dense", audioldm::QuantLinear(c.hiddenSize, c.hiddenSize));
    }

    // hidden [B, L, hidden] -> [B, hidden] from the first (<s>) token
    torch::Tensor forward(const torch::Tensor& hidden) { return torch::tanh(dense->forward(hidden.select(1, 0))); }
};

struct TextModel : torch::nn::Module {
    std::shared_ptr<RobertaEmbeddings> embeddings;
    std::shared_ptr<Encoder> encoder;
    std::shared_ptr<Pooler> pooler;

    explicit TextModel(const ClapTextConfig& c) {
        embeddings = register_module("embeddings", std::make_shared<RobertaEmbeddings>(c));
        encoder = register_module("encoder", std::make_shared<Encoder>(c));
        pooler = register_module("pooler", std::make_shared<Pooler>(c));
    }
};

struct Projection : torch::nn::Module {
    audioldm::QuantLinear linear1{nullptr}, linear2{nullptr};
    Activation act;

    explicit Projection(const ClapTextConfig& c) : act(c.projectionHiddenAct) {
        linear1 = register_module("linear1", audioldm::QuantLinear(c.hiddenSize, c.projectionDim));
        linear2 = register_module("linear2", audioldm::QuantLinear(c.projectionDim, c.projectionDim));
    }

    torch::Tensor forward(const torch::Tensor& pooled) { return linear2->forward(activate(linear1->forward(pooled), act)); }
};

struct ClapTextWithProjection : torch::nn::Module {
    std::shared_ptr<TextModel> textModel;
    std::shared_ptr<Projection> textProjection;

    explicit ClapTextWithProjection(const ClapTextConfig& c) {
        textModel = register_module("text_model", std::make_shared<TextModel>(c));
        textProjection = register_module("text_projection", std::make_shared<Projection>(c));
    }
};

double lowestValue(torch::ScalarType dtype) {
    switch (dtype) {
    case torch::kFloat64: return std::numeric_limits<double>::lowest();
    case torch::kFloat16: return -65504.0;
    case torch::kBFloat16: return -3.3895313892515355e38;
    default: return std::numeric_limits<float>::lowest();
    }
}

// Length that covers every attended position of every row, or the full length when some
// row attends to nothing (the reference then spreads attention over all positions).
int64_t attendedLength(const torch::Tensor& mask) {
    const int64_t length = mask.size(1);
    const auto attended = mask.ne(0);
    if (!attended.any(1).all().item<bool>()) return length;
    const auto positions = torch::arange(1, length + 1, torch::TensorOptions().dtype(torch::kInt64).device(mask.device()));
    return (attended.to(torch::kInt64) * positions).max().item<int64_t>();
}

}  // namespace

// --- config ---------------------------------------------------------------------------

ClapTextConfig ClapTextConfig::fromJson(const nlohmann::json& json, const std::string& source) {
    const JsonReader top(json, source);
    // A full ClapConfig describes the text model in text_config and the projection size and
    // activation at the top level (which the reference copies into it).
    const bool fullConfig = top.has("text_config");
    if (!fullConfig && top.string("model_type", "clap_text_model") != "clap_text_model")
        top.reject("model_type", "not a CLAP text model (expected 'clap_text_model' or a ClapConfig with text_config)");
    const JsonReader t = fullConfig ? top.object("text_config") : top;

    ClapTextConfig c;
    c.vocabSize = t.positive("vocab_size", c.vocabSize);
    c.hiddenSize = t.positive("hidden_size", c.hiddenSize);
    c.numHiddenLayers = t.positive("num_hidden_layers", c.numHiddenLayers);
    c.numAttentionHeads = t.positive("num_attention_heads", c.numAttentionHeads);
    c.intermediateSize = t.positive("intermediate_size", c.intermediateSize);
    c.hiddenAct = readActivation(t, "hidden_act", c.hiddenAct, ActivationNames::Transformers);
    c.maxPositionEmbeddings = t.positive("max_position_embeddings", c.maxPositionEmbeddings);
    c.typeVocabSize = t.positive("type_vocab_size", c.typeVocabSize);
    c.projectionDim = t.positive("projection_dim", c.projectionDim);
    c.projectionHiddenAct = readActivation(t, "projection_hidden_act", c.projectionHiddenAct, ActivationNames::Transformers);
    if (fullConfig) {
        c.projectionDim = top.positive("projection_dim", c.projectionDim);
        c.projectionHiddenAct =
            readActivation(top, "projection_hidden_act", c.projectionHiddenAct, ActivationNames::Transformers);
    }
    c.layerNormEps = t.number("layer_norm_eps", c.layerNormEps);
    if (!(c.layerNormEps > 0)) t.reject("layer_norm_eps", "must be a positive number");
    c.padTokenId = t.integer("pad_token_id", c.padTokenId);
    if (c.padTokenId < 0) t.reject("pad_token_id", "must be a non-negative integer");

    if (c.hiddenSize % c.numAttentionHeads != 0)
        t.reject("num_attention_heads", "does not divide hidden_size " + std::to_string(c.hiddenSize));
    if (c.padTokenId >= c.vocabSize)
        t.reject("pad_token_id", "is outside vocab_size " + std::to_string(c.vocabSize));
    if (c.padTokenId + 2 > c.maxPositionEmbeddings)
        t.reject("max_position_embeddings", "leaves no position after pad_token_id " + std::to_string(c.padTokenId));
    t.requireOneOf("position_embedding_type", {"absolute"});
    if (t.boolean("is_decoder", false)) t.reject("is_decoder", "not supported (encoder only)");
    if (t.boolean("add_cross_attention", false)) t.reject("add_cross_attention", "not supported (encoder only)");
    return c;
}

ClapTextConfig ClapTextConfig::fromFile(const std::string& path) { return fromJson(readJsonFile(path), path); }

// --- encoder --------------------------------------------------------------------------

struct ClapTextEncoder::Impl {
    ClapTextConfig config;
    std::shared_ptr<ClapTextWithProjection> model;
    torch::Device device = torch::kCPU;
    torch::ScalarType dtype = torch::kFloat32;
};

ClapTextEncoder::ClapTextEncoder(const ClapTextConfig& config, torch::Device device, torch::ScalarType dtype)
    : ClapTextEncoder(config, device, dtype, /*randomWeights=*/true) {}

ClapTextEncoder::ClapTextEncoder(const ClapTextConfig& config, torch::Device device, torch::ScalarType dtype,
                                 bool randomWeights)
    : impl_(std::make_unique<Impl>()) {
    if (!torch::isFloatingType(dtype)) throw ModelError("CLAP text encoder: the weight dtype must be floating point");
    impl_->config = config;
    impl_->model = std::make_shared<ClapTextWithProjection>(config);
    impl_->model->eval();
    if (randomWeights) audioldm::initialiseLinearLayers(*impl_->model);
    impl_->model->to(device, dtype);
    impl_->device = device;
    impl_->dtype = dtype;
}

ClapTextEncoder::~ClapTextEncoder() = default;
ClapTextEncoder::ClapTextEncoder(ClapTextEncoder&&) noexcept = default;
ClapTextEncoder& ClapTextEncoder::operator=(ClapTextEncoder&&) noexcept = default;

ClapTextEncoder ClapTextEncoder::load(const std::string& folder, const LoadOptions& loadOptions) {
    ClapTextEncoder encoder(ClapTextConfig::fromFile((fs::path(folder) / "config.json").string()), loadOptions.device,
                            loadOptions.dtype, /*randomWeights=*/false);
    const auto source = openWeightSource(folder, "model");
    StateDict weights = source->load();
    // A full ClapModel checkpoint also carries the audio branch, which text encoding never uses.
    for (auto it = weights.begin(); it != weights.end();) {
        const std::string& key = it->first;
        const bool audioBranch = key.rfind("audio_model.", 0) == 0 || key.rfind("audio_projection.", 0) == 0 ||
                                 key == "logit_scale_a" || key == "logit_scale_t";
        it = audioBranch ? weights.erase(it) : std::next(it);
    }
    ModuleWeightOptions options;
    options.ignoredKeySuffixes = {"position_ids", "token_type_ids"};
    options.source = source->path();
    options.takeTensor = audioldm::linearWeightsToInt8WhileLoading(*encoder.impl_->model, loadOptions, options.source);
    loadModuleWeights(*encoder.impl_->model, weights, options);
    checkFinite(*encoder.impl_->model, options.source);
    encoder.quantizeWeights(loadOptions.precision, loadOptions.int8Arithmetic);
    return encoder;
}

ClapTextOutput ClapTextEncoder::forward(const torch::Tensor& inputIds, const torch::Tensor& attentionMask,
                                        const ClapTextForwardOptions& options) const {
    try {
        return run(inputIds, attentionMask, options);
    } catch (const c10::Error& e) {
        // e.g. a kernel this libtorch lacks for the chosen device and dtype (float16 LayerNorm
        // on the CPU in libtorch 1.x).
        std::ostringstream os;
        os << "CLAP text encoder on " << impl_->device << " in " << impl_->dtype << " failed: " << e.what_without_backtrace();
        throw ModelError(os.str());
    }
}

ClapTextOutput ClapTextEncoder::run(const torch::Tensor& inputIds, const torch::Tensor& attentionMask,
                                    const ClapTextForwardOptions& options) const {
    const ClapTextConfig& c = impl_->config;
    if (inputIds.dim() != 2 || !attentionMask.sizes().equals(inputIds.sizes()))
        throw ModelError("CLAP text encoder: input_ids and attention_mask must both be [batch, length]");
    if (inputIds.size(0) == 0 || inputIds.size(1) == 0)
        throw ModelError("CLAP text encoder: empty input (batch or length is 0)");
    if (inputIds.is_floating_point()) throw ModelError("CLAP text encoder: input_ids must be integer token ids");
    torch::NoGradGuard noGrad;
    auto ids = inputIds.to(impl_->device, torch::kInt64);
    auto mask = attentionMask.to(impl_->device, torch::kInt64);
    if (ids.min().item<int64_t>() < 0 || ids.max().item<int64_t>() >= c.vocabSize)
        throw ModelError("CLAP text encoder: a token id lies outside the vocabulary of " + std::to_string(c.vocabSize));

    if (options.trimPadding) {
        const int64_t length = attendedLength(mask);
        ids = ids.narrow(1, 0, length);
        mask = mask.narrow(1, 0, length);
    }
    const int64_t maxTokens = c.maxPositionEmbeddings - c.padTokenId - 1;
    if (ids.ne(c.padTokenId).sum(1).max().item<int64_t>() > maxTokens)
        throw ModelError("CLAP text encoder: a sequence holds more than " + std::to_string(maxTokens) +
                         " tokens, the most max_position_embeddings allows");

    // 0 where attended, the dtype's most negative value where masked (as the reference):
    // softmax then gives those keys exactly zero weight.
    const auto maskBias = (1 - mask.to(impl_->dtype)).mul(lowestValue(impl_->dtype)).view({mask.size(0), 1, 1, mask.size(1)});

    ClapTextOutput out;
    const TextModel& text = *impl_->model->textModel;
    auto hidden = text.embeddings->forward(ids);  // [B, L, hidden]
    if (options.hiddenStates) out.hiddenStates.push_back(hidden);
    for (const auto& layer : text.encoder->layers) {
        hidden = layer->forward(hidden, maskBias);
        if (options.hiddenStates) out.hiddenStates.push_back(hidden);
    }
    out.lastHiddenState = hidden;
    out.poolerOutput = text.pooler->forward(hidden);                                // [B, hidden]
    out.textEmbeds = impl_->model->textProjection->forward(out.poolerOutput);       // [B, projection_dim]
    const auto norm = out.textEmbeds.norm(2, -1, /*keepdim=*/true).clamp_min(1e-12);
    out.textEmbedsNormalized = out.textEmbeds / norm;
    return out;
}

torch::Tensor ClapTextEncoder::encodePrompts(const std::vector<std::string>& prompts,
                                             const RobertaTokenizer& tokenizer, int64_t maxLength) const {
    if (prompts.empty()) throw ModelError("CLAP text encoder: encodePrompts needs at least one prompt");
    const TokenBatch batch = tokenizer.encodeBatch(prompts, maxLength);
    ClapTextForwardOptions options;
    options.trimPadding = true;
    return forward(batch.inputIds, batch.attentionMask, options).textEmbedsNormalized;
}

const ClapTextConfig& ClapTextEncoder::config() const { return impl_->config; }
torch::Device ClapTextEncoder::device() const { return impl_->device; }
torch::ScalarType ClapTextEncoder::dtype() const { return impl_->dtype; }

audioldm::QuantizationReport ClapTextEncoder::quantizeWeights(audioldm::WeightQuantization level, bool int8Arithmetic) {
    return audioldm::quantizeModuleWeights(*impl_->model, level, int8Arithmetic);
}
torch::nn::Module& ClapTextEncoder::module() { return *impl_->model; }

}  // namespace grym::audioldm
