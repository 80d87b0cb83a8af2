#include "common/error.h"
#include "models/wav2vec2/config.h"
#include "models/wav2vec2/ctc_decoder.h"
#include "models/wav2vec2/feature_extractor.h"
#include "models/wav2vec2/model.h"
#include "core/numeric_bounds.h"
#include "weights/module_loader.h"
#include "weights/safetensors.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

const std::string kBaseCase = std::string(GRYM_TEST_DATA_DIR) + "/golden/wav2vec2_base";
const std::string kLargeCase = std::string(GRYM_TEST_DATA_DIR) + "/golden/wav2vec2_large";

nlohmann::json caseConfig(const std::string& dir) {
    std::ifstream in(dir + "/config.json");
    return nlohmann::json::parse(in);
}

// A tiny config in the layout of the golden cases, for tests that build models from scratch.
nlohmann::json tinyConfig() {
    nlohmann::json j = caseConfig(kBaseCase);
    return j;
}

fs::path tempDir(const std::string& name) {
    auto dir = fs::temp_directory_path() / ("grym_wav2vec2_test_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

}  // namespace

TEST_CASE("a config for another architecture is rejected naming model_type", "[wav2vec2]") {
    nlohmann::json j = tinyConfig();
    j["model_type"] = "hubert";
    CHECK_THROWS_WITH(grym::parseWav2vec2Config(j, "config.json"),
                      Catch::Contains("'model_type'") && Catch::Contains("hubert"));
    j = tinyConfig();
    j["architectures"] = {"Wav2Vec2ForSequenceClassification"};
    CHECK_THROWS_WITH(grym::parseWav2vec2Config(j, "config.json"),
                      Catch::Contains("'architectures'") && Catch::Contains("Wav2Vec2ForSequenceClassification"));
}

TEST_CASE("unsupported or inconsistent config values are rejected by field and value", "[wav2vec2]") {
    auto rejects = [](const char* field, nlohmann::json value, const char* text) {
        nlohmann::json j = tinyConfig();
        j[field] = value;
        CHECK_THROWS_WITH(grym::parseWav2vec2Config(j, "config.json"),
                          Catch::Contains(std::string("'") + field + "'") && Catch::Contains(text));
    };
    rejects("feat_extract_norm", "batch", "batch");
    rejects("hidden_act", "mish", "mish");
    rejects("add_adapter", true, "adapter");
    rejects("num_attention_heads", 5, "does not divide");
    rejects("conv_kernel", {10, 3}, "entries");
    rejects("hidden_size", "big", "integer");
    rejects("hidden_size", -4, "positive");
    rejects("do_stable_layer_norm", 1, "true or false");
}

TEST_CASE("the config's frame arithmetic follows the conv stack", "[wav2vec2]") {
    const grym::Wav2vec2Config c = grym::parseWav2vec2Config(tinyConfig(), "config.json");
    CHECK(c.receptiveField() == 400);
    CHECK(c.outputFrames(399) == 0);
    CHECK(c.outputFrames(400) == 1);
    CHECK(c.outputFrames(16000) == 49);
    CHECK(c.outputFrames(c.receptiveField() + 320) == 2);
}

TEST_CASE("the feature extractor normalises each clip over its own samples and pads with zeros", "[wav2vec2]") {
    grym::Wav2vec2PreprocessorConfig pre;
    std::vector<float> a(1000), b(600);
    for (size_t i = 0; i < a.size(); ++i) a[i] = 3.0f + std::sin(0.01f * i);
    for (size_t i = 0; i < b.size(); ++i) b[i] = -1.0f + 0.5f * std::cos(0.03f * i);
    const auto batch = grym::prepareWav2vec2Batch({a, b}, pre);
    REQUIRE(batch.inputValues.sizes().vec() == std::vector<int64_t>{2, 1000});
    auto second = batch.inputValues[1].narrow(0, 0, 600).to(torch::kFloat64);
    // Normalised in float64, stored as float32: each sample within a unit roundoff u of the exact
    // (x - mean) / sqrt(var + floor), whose mean is 0 and whose variance is var / (var + floor).
    const double u = grym::test::unitRoundoff(torch::kFloat32);
    const auto raw = torch::from_blob(b.data(), {600}, torch::kFloat32).to(torch::kFloat64);
    const double var = raw.var(/*unbiased=*/false).item<double>();
    CHECK(std::abs(second.mean().item<double>()) <= u * second.abs().max().item<double>());
    CHECK(second.var(/*unbiased=*/false).item<double>() ==
          Approx(var / (var + grym::kWav2vec2VarianceFloor)).epsilon(4 * u));
    CHECK(batch.inputValues[1].narrow(0, 600, 400).abs().max().item<float>() == 0.0f);
    CHECK(batch.attentionMask[1].sum().item<int64_t>() == 600);
    CHECK_THROWS_AS(grym::prepareWav2vec2Batch({{}}, pre), grym::ModelError);
}

TEST_CASE("greedy CTC decoding collapses repeats, drops blanks and turns the delimiter into spaces", "[wav2vec2]") {
    grym::CtcVocabulary vocab({{0, "<pad>"}, {1, "|"}, {2, "A"}, {3, "B"}}, "<pad>", "|");
    CHECK(vocab.decodeFrameIds({0, 2, 2, 0, 2, 1, 1, 3, 3, 0, 1}) == "AA B");
    CHECK(vocab.decodeFrameIds({0, 0, 0}).empty());
    auto logits = torch::full({4, 4}, -1.0f);
    logits[0][2] = 1.0f;
    logits[1][1] = 1.0f;
    logits[2][3] = 1.0f;
    logits[3][3] = 1.0f;
    CHECK(vocab.greedyDecode(logits) == "A B");
    CHECK(vocab.greedyDecode(logits, 2) == "A");
    CHECK_THROWS_WITH(grym::CtcVocabulary({{1, "A"}}, "<pad>", "|"), Catch::Contains("<pad>"));
}

TEST_CASE("the module tree matches the full-size wav2vec2-base-960h checkpoint layout", "[wav2vec2]") {
    const std::string dir = std::string(GRYM_TEST_DATA_DIR) + "/wav2vec2_full_config";
    const auto config = grym::loadWav2vec2Config(dir + "/config.json");
    std::ifstream in(dir + "/manifest.json");
    const auto manifest = nlohmann::json::parse(in)["wav2vec2"]["tensors"];
    std::map<std::string, std::vector<int64_t>> expected;
    for (auto it = manifest.begin(); it != manifest.end(); ++it) expected[it.key()] = it.value()["shape"].get<std::vector<int64_t>>();
    // The checkpoint stores the positional conv weight-normed; we hold the folded weight.
    const std::string pos = "wav2vec2.encoder.pos_conv_embed.conv.weight";
    expected[pos] = expected[pos + "_v"];
    expected.erase(pos + "_v");
    expected.erase(pos + "_g");

    const grym::Wav2vec2Model model(config, /*withCtcHead=*/true);
    std::map<std::string, std::vector<int64_t>> ours;
    for (const auto& [name, shape] : model.parameterShapes()) ours[name] = shape;
    CHECK(ours == expected);
}

TEST_CASE("a bare Wav2Vec2Model checkpoint (no prefix, no CTC head) gives the same hidden states", "[wav2vec2]") {
    const auto ctc = grym::Wav2vec2Model::load(kBaseCase);
    grym::StateDict bare;
    for (auto& [name, t] : grym::loadSafetensors(kBaseCase + "/model.safetensors"))
        if (name.rfind("wav2vec2.", 0) == 0) bare[name.substr(9)] = t;
    nlohmann::json config = caseConfig(kBaseCase);
    config["architectures"] = {"Wav2Vec2Model"};
    const auto model = grym::Wav2vec2Model::fromWeights(grym::parseWav2vec2Config(config, "config.json"), bare, "bare");
    CHECK_FALSE(model.hasCtcHead());
    CHECK(ctc.hasCtcHead());
    torch::manual_seed(3);
    const auto input = torch::randn({1, 4000});
    const auto a = ctc.forward(input), b = model.forward(input);
    CHECK_FALSE(b.logits.defined());
    CHECK(torch::allclose(a.lastHiddenState, b.lastHiddenState));
    CHECK(b.hiddenStates.size() == 3);
}

TEST_CASE("a CTC checkpoint missing its head, or with a mis-shaped tensor, is refused by key", "[wav2vec2]") {
    const auto config = grym::loadWav2vec2Config(kBaseCase + "/config.json");
    auto weights = grym::loadSafetensors(kBaseCase + "/model.safetensors");
    auto noHead = weights;
    noHead.erase("lm_head.bias");
    CHECK_THROWS_WITH(grym::Wav2vec2Model::fromWeights(config, noHead, "ckpt"), Catch::Contains("lm_head.bias"));
    auto misShaped = weights;
    misShaped["wav2vec2.encoder.layers.1.attention.q_proj.weight"] = torch::zeros({32, 31});
    CHECK_THROWS_WITH(grym::Wav2vec2Model::fromWeights(config, misShaped, "ckpt"),
                      Catch::Contains("wav2vec2.encoder.layers.1.attention.q_proj.weight") && Catch::Contains("shape"));
    auto nonFinite = weights;
    auto t = nonFinite["wav2vec2.feature_projection.projection.weight"].clone();
    t[0][0] = std::numeric_limits<float>::quiet_NaN();
    nonFinite["wav2vec2.feature_projection.projection.weight"] = t;
    CHECK_THROWS_WITH(grym::Wav2vec2Model::fromWeights(config, nonFinite, "ckpt"),
                      Catch::Contains("feature_projection.projection.weight") && Catch::Contains("NaN"));
}

TEST_CASE("audio shorter than the receptive field is a clear error", "[wav2vec2]") {
    const auto model = grym::Wav2vec2Model::load(kBaseCase);
    CHECK_THROWS_WITH(model.forward(torch::zeros({1, 399})), Catch::Contains("too short") && Catch::Contains("400"));
    CHECK(model.forward(torch::zeros({1, 400})).lastHiddenState.size(1) == 1);
}

TEST_CASE("a random model of another shape round-trips through safetensors", "[wav2vec2]") {
    // Odd positional kernel, layer-norm encoder with conv bias, stable layer norm, relu: the other branches.
    nlohmann::json j = tinyConfig();
    j["num_conv_pos_embeddings"] = 5;
    j["num_conv_pos_embedding_groups"] = 2;
    j["feat_extract_norm"] = "layer";
    j["conv_bias"] = true;
    j["do_stable_layer_norm"] = true;
    j["hidden_act"] = "relu";
    j["num_hidden_layers"] = 3;
    j["hidden_size"] = 24;
    j["num_attention_heads"] = 3;
    j["conv_dim"] = {8, 12};
    j["conv_kernel"] = {7, 3};
    j["conv_stride"] = {4, 2};
    j["num_feat_extract_layers"] = 2;
    j["mask_time_prob"] = 0.0;
    const auto config = grym::parseWav2vec2Config(j, "config.json");
    CHECK_FALSE(config.hasMaskedSpecEmbed);
    torch::manual_seed(5);
    const grym::Wav2vec2Model original(config, true);
    const auto dir = tempDir("roundtrip");
    std::ofstream(dir / "config.json") << j.dump();
    const auto input = torch::randn({2, 900});
    const auto mask = torch::ones({2, 900}, torch::kInt64);
    mask[1].narrow(0, 700, 200).zero_();
    const auto before = original.forward(input, mask);
    REQUIRE(before.hiddenStates.size() == 4);
    REQUIRE(before.logits.size(1) == config.outputFrames(900));
    CHECK(before.frameMask[1].sum().item<int64_t>() == config.outputFrames(700));
    CHECK(torch::isfinite(before.logits).all().item<bool>());

    // Store the positional conv weight-normed, as checkpoints do: g is the norm over dims 0 and 1.
    grym::StateDict weights = original.stateDict();
    const std::string pos = "wav2vec2.encoder.pos_conv_embed.conv";
    const auto w = weights.at(pos + ".weight");
    weights.erase(pos + ".weight");
    weights[pos + ".weight_g"] = w.pow(2).sum(std::vector<int64_t>{0, 1}, true).sqrt();
    weights[pos + ".weight_v"] = w * 3.0;
    grym::saveSafetensors((dir / "model.safetensors").string(), weights);
    const auto loaded = grym::Wav2vec2Model::load(dir.string());
    const auto after = loaded.forward(input, mask);
    // Folding g * v / |v| back rounds each weight once more; the rest is the same float32 model.
    std::vector<torch::Tensor> tensors;
    for (const auto& [name, tensor] : original.stateDict()) tensors.push_back(tensor);
    const double bound = grym::test::roundingBound(torch::kFloat32, grym::test::networkSize(tensors));
    CHECK(grym::test::relativeError(after.logits, before.logits) < bound);
    for (size_t i = 0; i < before.hiddenStates.size(); ++i)
        CHECK(grym::test::relativeError(after.hiddenStates[i], before.hiddenStates[i]) < bound);
}
