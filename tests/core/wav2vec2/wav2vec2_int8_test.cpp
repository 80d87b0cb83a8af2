// wav2vec2 with --precision int8: its linear layers (attention projections, feed-forward,
// feature projection, CTC head) compute in int8, the conv feature encoder stays float.
// Tolerance, the same model as the AudioLDM int8 tests (quantization_bounds.h): each int8 layer
// perturbs its output by at most its weights' quantisation noise plus its input's rounding
// noise, independent from layer to layer, so over L layers the relative L2 error of a hidden
// state stays below sqrt(L) · (weight noise + activation noise). The weight noise is the
// checkpoint's worst layer; the activation noise is the worst over the states the layers read
// (the float model's hidden states and conv features), doubled for the feed-forward's second
// layer, whose GELU output is one-sided with a longer tail (about twice the range per RMS).
#include "analysis/wav2vec2_benchmark.h"
#include "common/error.h"
#include "core/numeric_bounds.h"
#include "core/quantization_bounds.h"
#include "golden/golden_case.h"
#include "models/int8_linear.h"
#include "models/wav2vec2/model.h"
#include "weights/weight_source.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

using namespace grym;
namespace fs = std::filesystem;

namespace {

const std::string kGolden = std::string(GRYM_TEST_DATA_DIR) + "/golden/";

// Linear layers an input crosses: the feature projection, six per encoder layer, the CTC head.
uint64_t linearLayers(const Wav2vec2Config& config) { return 2 + 6 * static_cast<uint64_t>(config.numHiddenLayers); }

struct Int8Error {
    double worst = 0.0;   // over every hidden state and the logits
    double last = 0.0;    // the last hidden state
    double bound = 0.0;
};

// Runs both models on `input` and measures the int8 one against the float one.
Int8Error compare(const Wav2vec2Model& exact, const Wav2vec2Model& int8, const StateDict& weights,
                  const torch::Tensor& input, const torch::Tensor& mask) {
    const auto reference = exact.forward(input, mask);
    const auto quantised = int8.forward(input, mask);
    Int8Error e;
    REQUIRE(quantised.hiddenStates.size() == reference.hiddenStates.size());
    double activation = test::activationNoise(reference.extractFeatures);
    for (size_t i = 0; i < reference.hiddenStates.size(); ++i) {
        activation = std::max(activation, test::activationNoise(reference.hiddenStates[i]));
        e.worst = std::max(e.worst, test::relativeError(quantised.hiddenStates[i], reference.hiddenStates[i]));
    }
    if (reference.logits.defined()) e.worst = std::max(e.worst, test::relativeError(quantised.logits, reference.logits));
    e.last = test::relativeError(quantised.lastHiddenState, reference.lastHiddenState);
    const double weightNoise = test::largestWeightNoise(weights, WeightQuantization::Int8);
    e.bound = test::quantisedOutputBound(test::int8LayerBound(weightNoise, 2 * activation), linearLayers(exact.config()));
    return e;
}

}  // namespace

TEST_CASE("int8 wav2vec2 stays within its quantisation bound of float32 on the golden cases", "[wav2vec2][int8]") {
    if (!Int8Linear::engine()) {
        WARN("this libtorch has no quantized engine: nothing to check");
        return;
    }
    const std::string name = GENERATE("wav2vec2_base", "wav2vec2_base_parametrized_wn", "wav2vec2_large");
    const std::string dir = kGolden + name;
    const auto exact = Wav2vec2Model::load(dir);
    const auto int8 = Wav2vec2Model::load(dir, test::int8LoadOptions());
    CHECK(int8.parameterBytes() < exact.parameterBytes());
    CHECK(int8.parameterCount() == exact.parameterCount());
    const GoldenCase golden(dir);
    const auto input = golden.tensor("input_values").to(torch::kFloat32);
    const auto mask = golden.hasTensor("attention_mask") ? golden.tensor("attention_mask") : torch::Tensor();
    const auto e = compare(exact, int8, loadCheckpoint(dir, "model"), input, mask);
    WARN(name << ": int8 against float32, relative L2 of the last hidden state " << e.last << ", worst output "
              << e.worst << " (bound " << e.bound << ")");
    CHECK(e.worst > 0.0);  // it really computed in int8
    CHECK(e.worst < e.bound);
}

TEST_CASE("int8 wav2vec2 stays within its quantisation bound on a larger random model", "[wav2vec2][int8]") {
    if (!Int8Linear::engine()) {
        WARN("this libtorch has no quantized engine: nothing to check");
        return;
    }
    std::ifstream in(kGolden + "wav2vec2_base/config.json");
    nlohmann::json j = nlohmann::json::parse(in);
    j["hidden_size"] = 256;
    j["num_attention_heads"] = 4;
    j["intermediate_size"] = 1024;
    j["num_hidden_layers"] = 4;
    j["conv_dim"] = {64, 64, 64, 64, 64, 64, 64};
    const auto config = parseWav2vec2Config(j, "config.json");
    torch::manual_seed(21);
    const Wav2vec2Model exact(config, true);
    torch::manual_seed(21);  // the same random weights (same seed, same initialisation order)
    const Wav2vec2Model int8(config, true, test::int8LoadOptions());
    torch::manual_seed(22);
    const auto input = torch::randn({1, 16000});
    const auto e = compare(exact, int8, exact.stateDict(), input, {});
    WARN("random wav2vec2 (hidden 256, 4 layers): int8 against float32, relative L2 of the last hidden state "
         << e.last << ", worst output " << e.worst << " (bound " << e.bound << ")");
    CHECK(e.worst > 0.0);
    CHECK(e.worst < e.bound);
}

TEST_CASE("int8 wav2vec2 reads the same model from safetensors and from a pickled .bin", "[wav2vec2][int8]") {
    const auto fromSafetensors = Wav2vec2Model::load(kGolden + "wav2vec2_base", test::int8LoadOptions());
    const auto fromPickle =
        Wav2vec2Model::load(std::string(GRYM_TEST_DATA_DIR) + "/golden_pickled/wav2vec2_base", test::int8LoadOptions());
    torch::manual_seed(3);
    const auto input = torch::randn({1, 4000});
    CHECK(torch::equal(fromSafetensors.forward(input).lastHiddenState, fromPickle.forward(input).lastHiddenState));
}

TEST_CASE("wav2vec2 refuses int4 and int8 off the CPU or outside float32", "[wav2vec2][int8]") {
    LoadOptions int4;
    int4.precision = WeightQuantization::Int4;
    CHECK_THROWS_WITH(checkWav2vec2Runtime(int4), Catch::Contains("int4"));
    LoadOptions half = test::int8LoadOptions();
    half.dtype = torch::kFloat16;
    CHECK_THROWS_AS(checkWav2vec2Runtime(half), ModelError);
    CHECK_NOTHROW(checkWav2vec2Runtime(test::int8LoadOptions()));
}

TEST_CASE("the wav2vec2 benchmark runs at int8 and reports its error against float32", "[wav2vec2][int8][bench]") {
    Wav2vec2BenchmarkOptions options;
    options.configDir = kGolden + "wav2vec2_base";
    options.audioSeconds = 0.5;
    options.repeats = 1;
    options.runtime = test::int8LoadOptions();
    const auto r = runWav2vec2Benchmark(options);
    CHECK(r["precision"] == "int8");
    CHECK(r["best_seconds"].get<double>() > 0.0);
    const double error = r["relative_l2_vs_float32"].get<double>();
    CHECK(error > 0.0);
    CHECK(error < 0.5);  // a sanity check only; the bounds are the tests above
}
