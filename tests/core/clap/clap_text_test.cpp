#include "common/error.h"
#include "golden/golden_case.h"
#include "models/audioldm/clap_text.h"
#include "models/audioldm/tokenizer.h"
#include "core/quantization_bounds.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

const std::string kClapCase = std::string(GRYM_TEST_DATA_DIR) + "/golden/clap_text_a";

using grym::test::relativeError;

// Two float32 runs of the encoder that sum in other orders (another sequence length, batch or
// kernel): each output sums at most max(intermediate size, positions) products, through six
// matrix products per layer plus the pooler and projection (numeric_bounds.h).
double encoderRoundingBound(const grym::audioldm::ClapTextConfig& c, int64_t positions,
                            torch::ScalarType dtype = torch::kFloat32) {
    const int64_t terms = std::max({c.hiddenSize, c.intermediateSize, positions});
    return grym::test::roundingBound(dtype, terms, 6 * c.numHiddenLayers + 3);
}

std::string messageOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const grym::ModelError& e) {
        return e.what();
    }
    return "(no error)";
}

nlohmann::json smallTextConfig() {
    return nlohmann::json{{"model_type", "clap_text_model"}, {"vocab_size", 50},  {"hidden_size", 8},
                          {"num_hidden_layers", 1},          {"num_attention_heads", 2}, {"intermediate_size", 12},
                          {"max_position_embeddings", 40},   {"projection_dim", 6}};
}

}  // namespace

TEST_CASE("the CLAP text encoder reproduces the golden case, every hidden state included", "[clap][golden]") {
    const grym::GoldenReport report = grym::runGoldenCase(kClapCase);
    INFO(report.error);
    for (const auto& c : report.comparisons) {
        INFO(c.output << ": rel " << c.relativeL2 << " abs " << c.maxAbs << " " << c.note);
        CHECK(c.passed);
    }
    CHECK(report.comparisons.size() >= 8);
    CHECK(report.passed());
}

TEST_CASE("running only up to the last attended token gives the fully padded result", "[clap]") {
    const auto encoder = grym::audioldm::ClapTextEncoder::load(kClapCase);
    const grym::GoldenCase golden(kClapCase);
    // The golden rows (a short and a longer prompt) padded out to the pipeline's 512 tokens.
    const auto ids32 = golden.tensor("input_ids");
    const auto mask32 = golden.tensor("attention_mask");
    const int64_t padId = encoder.config().padTokenId;
    const auto ids = torch::cat({ids32, torch::full({2, 512 - 32}, padId, torch::kInt64)}, 1);
    const auto mask = torch::cat({mask32, torch::zeros({2, 512 - 32}, torch::kInt64)}, 1);

    grym::audioldm::ClapTextForwardOptions fullOptions, trimOptions;
    fullOptions.hiddenStates = trimOptions.hiddenStates = true;
    trimOptions.trimPadding = true;
    const auto full = encoder.forward(ids, mask, fullOptions);
    const auto trimmed = encoder.forward(ids, mask, trimOptions);

    // The longer row attends to its first 10 tokens, so 10 positions are all that run.
    CHECK(trimmed.lastHiddenState.size(1) == 10);
    CHECK(full.lastHiddenState.size(1) == 512);
    const double bound = encoderRoundingBound(encoder.config(), 512);
    CHECK(relativeError(trimmed.poolerOutput, full.poolerOutput) < bound);
    CHECK(relativeError(trimmed.textEmbeds, full.textEmbeds) < bound);
    CHECK(relativeError(trimmed.textEmbedsNormalized, full.textEmbedsNormalized) < bound);
    // Every position that ran (attended or not) agrees with the full run: position ids
    // only count tokens to their left and masked keys get zero weight.
    for (size_t i = 0; i < full.hiddenStates.size(); ++i)
        CHECK(relativeError(trimmed.hiddenStates[i], full.hiddenStates[i].narrow(1, 0, 10)) < bound);
    // And both agree with the reference, which ran on 32 positions, within the case's tolerance.
    CHECK(relativeError(full.textEmbedsNormalized, golden.tensor("text_embeds_normalized")) <
          golden.toleranceRelativeL2());
    CHECK(relativeError(full.lastHiddenState.narrow(1, 0, 32), golden.tensor("last_hidden_state")) <
          golden.toleranceRelativeL2());
}

TEST_CASE("trimming keeps attended tokens that follow a masked gap", "[clap]") {
    const auto encoder = grym::audioldm::ClapTextEncoder::load(kClapCase);
    auto ids = torch::full({1, 64}, encoder.config().padTokenId, torch::kInt64);
    auto mask = torch::zeros({1, 64}, torch::kInt64);
    for (int64_t i = 0; i < 12; ++i) ids[0][i] = 5 + 7 * i;
    mask.narrow(1, 0, 4).fill_(1);
    mask.narrow(1, 8, 4).fill_(1);  // attended again after four masked (but real) tokens
    grym::audioldm::ClapTextForwardOptions trim;
    trim.trimPadding = true;
    const auto full = encoder.forward(ids, mask);
    const auto trimmed = encoder.forward(ids, mask, trim);
    CHECK(trimmed.lastHiddenState.size(1) == 12);
    CHECK(relativeError(trimmed.textEmbedsNormalized, full.textEmbedsNormalized) <
          encoderRoundingBound(encoder.config(), 64));

    // A row with nothing attended: the reference spreads attention over every position, so
    // nothing may be trimmed.
    const auto untrimmed = encoder.forward(ids, torch::zeros({1, 64}, torch::kInt64), trim);
    CHECK(untrimmed.lastHiddenState.size(1) == 64);
}

TEST_CASE("encodePrompts tokenizes like the pipeline and returns unit-length embeddings", "[clap]") {
    const auto tokenizer = grym::audioldm::RobertaTokenizer::load(std::string(GRYM_TEST_DATA_DIR) + "/tokenizer");
    auto json = smallTextConfig();
    json["vocab_size"] = tokenizer.vocabSize();
    json["max_position_embeddings"] = 514;
    torch::manual_seed(3);
    const grym::audioldm::ClapTextEncoder encoder(grym::audioldm::ClapTextConfig::fromJson(json, "test config"));

    const std::vector<std::string> prompts{"a dog barking", "", "rain on a tin roof"};
    const auto embeds = encoder.encodePrompts(prompts, tokenizer);
    REQUIRE(embeds.sizes() == torch::IntArrayRef({3, 6}));
    // A norm of 6 squares and one division: a few unit roundoffs from 1.
    CHECK(torch::allclose(embeds.norm(2, -1), torch::ones({3}), 0.0,
                          grym::test::roundingBound(torch::kFloat32, 6, 2)));

    const auto batch = tokenizer.encodeBatch(prompts);
    const auto padded = encoder.forward(batch.inputIds, batch.attentionMask).textEmbedsNormalized;
    CHECK(relativeError(embeds, padded) < encoderRoundingBound(encoder.config(), batch.inputIds.size(1)));
}

TEST_CASE("a full ClapConfig is read through its text_config with the top-level projection", "[clap]") {
    nlohmann::json full{{"model_type", "clap"},
                        {"projection_dim", 24},
                        {"projection_hidden_act", "relu"},
                        {"text_config", smallTextConfig()},
                        {"audio_config", {{"model_type", "clap_audio_model"}}}};
    full["text_config"]["projection_dim"] = 6;
    const auto c = grym::audioldm::ClapTextConfig::fromJson(full, "config.json");
    CHECK(c.projectionDim == 24);
    CHECK(c.hiddenSize == 8);
    CHECK(c.vocabSize == 50);
    CHECK(c.layerNormEps == Approx(1e-12));  // the reference default when absent
}

TEST_CASE("unsupported text config values are rejected by field name and value", "[clap]") {
    const auto rejects = [](const char* field, nlohmann::json value) {
        auto json = smallTextConfig();
        json[field] = value;
        return messageOf([&] { grym::audioldm::ClapTextConfig::fromJson(json, "cfg.json"); });
    };
    CHECK_THAT(rejects("position_embedding_type", "relative_key"),
               Catch::Contains("position_embedding_type") && Catch::Contains("relative_key"));
    CHECK_THAT(rejects("hidden_act", "mish"), Catch::Contains("hidden_act") && Catch::Contains("mish"));
    CHECK_THAT(rejects("projection_hidden_act", "elu"), Catch::Contains("projection_hidden_act"));
    CHECK_THAT(rejects("num_attention_heads", 3), Catch::Contains("num_attention_heads"));
    CHECK_THAT(rejects("hidden_size", -4), Catch::Contains("hidden_size"));
    CHECK_THAT(rejects("is_decoder", true), Catch::Contains("is_decoder"));
    CHECK_THAT(rejects("model_type", "bert"), Catch::Contains("bert"));
}

TEST_CASE("a checkpoint that does not fit its config names the mismatched tensor", "[clap]") {
    const fs::path dir = fs::temp_directory_path() / "grym_clap_mismatch";
    fs::create_directories(dir);
    fs::copy_file(fs::path(kClapCase) / "model.safetensors", dir / "model.safetensors",
                  fs::copy_options::overwrite_existing);
    std::ifstream in(fs::path(kClapCase) / "config.json");
    auto json = nlohmann::json::parse(in);
    json["intermediate_size"] = 40;
    std::ofstream(dir / "config.json") << json.dump();
    CHECK_THAT(messageOf([&] { grym::audioldm::ClapTextEncoder::load(dir.string()); }), Catch::Contains("intermediate.dense"));
}

TEST_CASE("bad encoder inputs are errors, not crashes", "[clap]") {
    const auto encoder = grym::audioldm::ClapTextEncoder::load(kClapCase);
    const auto ok = torch::ones({1, 4}, torch::kInt64);
    CHECK_THROWS_AS(encoder.forward(torch::full({1, 4}, 5000, torch::kInt64), ok), grym::ModelError);
    CHECK_THROWS_AS(encoder.forward(ok, torch::ones({1, 5}, torch::kInt64)), grym::ModelError);
    CHECK_THROWS_AS(encoder.forward(torch::full({1, 600}, 7, torch::kInt64), torch::ones({1, 600}, torch::kInt64)),
                    grym::ModelError);
}

TEST_CASE("the encoder runs in the dtype it was loaded in", "[clap]") {
    const grym::GoldenCase golden(kClapCase);
    const auto ref = golden.tensor("text_embeds_normalized");
    const auto f64 = grym::audioldm::ClapTextEncoder::load(kClapCase, {torch::kCPU, torch::kFloat64});
    const auto out64 = f64.forward(golden.tensor("input_ids"), golden.tensor("attention_mask"));
    CHECK(out64.textEmbedsNormalized.scalar_type() == torch::kFloat64);
    // float64 is exact next to the float32 reference: the reference's own rounding is the bound.
    CHECK(relativeError(out64.textEmbedsNormalized, ref) < golden.toleranceRelativeL2());

    const auto bf16 = grym::audioldm::ClapTextEncoder::load(kClapCase, {torch::kCPU, torch::kBFloat16});
    const auto out16 = bf16.forward(golden.tensor("input_ids"), golden.tensor("attention_mask"));
    CHECK(out16.textEmbedsNormalized.scalar_type() == torch::kBFloat16);
    // bfloat16 weights and activations: the rounding bound of the whole encoder in bfloat16.
    CHECK(relativeError(out16.textEmbedsNormalized, ref) <
          encoderRoundingBound(bf16.config(), golden.tensor("input_ids").size(1), torch::kBFloat16));
    CHECK(bf16.dtype() == torch::kBFloat16);
}

TEST_CASE("a weight-quantised text encoder stays close to float and its linear weights shrink", "[clap][quantization]") {
    using grym::audioldm::WeightQuantization;
    const auto level = GENERATE(WeightQuantization::Int8, WeightQuantization::Int4);
    INFO(grym::audioldm::toString(level));
    auto encoder = grym::audioldm::ClapTextEncoder::load(kClapCase);
    torch::manual_seed(8);
    const auto ids = torch::randint(3, encoder.config().vocabSize, {2, 12}, torch::kInt64);
    const auto mask = torch::ones({2, 12}, torch::kInt64);
    const auto reference = encoder.forward(ids, mask);

    const auto report = encoder.quantizeWeights(level);
    // Every layer's query/key/value, attention output, intermediate and output dense, plus the
    // pooler's dense, the projection's two linears and the word embeddings.
    CHECK(report.layers == static_cast<uint64_t>(6 * encoder.config().numHiddenLayers + 4));
    CHECK(report.bytesSaved() > 0);
    CHECK(report.layerBytesAfter * 3 < report.layerBytesBefore);
    const auto quantised = encoder.forward(ids, mask);
    const double error = relativeError(quantised.textEmbeds, reference.textEmbeds);
    // Derived from the weights' own quantisation noise (quantization_bounds.h); measured 0.003
    // (int8) and 0.08 (int4) on the golden checkpoint.
    const double noise = grym::test::largestWeightNoise(grym::loadCheckpoint(kClapCase, "model"), level);
    INFO("relative L2 " << error << ", weight noise " << noise);
    CHECK(error > 0.0);
    CHECK(error < grym::test::quantisedOutputBound(noise, report.layers) + encoderRoundingBound(encoder.config(), 12));
    CHECK_THROWS_AS(encoder.quantizeWeights(level == WeightQuantization::Int8 ? WeightQuantization::Int4
                                                                                : WeightQuantization::Int8),
                    grym::ModelError);
}
