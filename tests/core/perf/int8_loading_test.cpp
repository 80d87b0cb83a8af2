// Loading at int8 quantises each linear weight as it is read (blocks.h:
// linearWeightsToInt8WhileLoading): the float weights never sit in memory all at once, and the
// model computes exactly what quantising after a float load computed.
#include "core/quantization_bounds.h"
#include "core/test_files.h"
#include "models/audioldm/blocks.h"
#include "models/audioldm/clap_text.h"
#include "models/int8_linear.h"
#include "platform/process_memory.h"
#include "weights/safetensors.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <tuple>

using namespace grym;
using audioldm::ClapTextEncoder;

namespace {

const std::string kClapCase = std::string(GRYM_TEST_DATA_DIR) + "/golden/clap_text_a";
const std::string kPickledClapCase = std::string(GRYM_TEST_DATA_DIR) + "/golden_pickled/clap_text_a";

// Float bytes of every linear weight below `module`, and of the largest one.
std::pair<uint64_t, uint64_t> linearWeightBytes(torch::nn::Module& module) {
    uint64_t total = 0, largest = 0;
    for (const auto& m : module.modules(/*include_self=*/false))
        if (const auto* linear = m->as<audioldm::QuantLinearImpl>()) {
            const auto bytes = static_cast<uint64_t>(linear->options.in_features() * linear->options.out_features()) * 4;
            total += bytes;
            largest = std::max(largest, bytes);
        }
    return {total, largest};
}

}  // namespace

TEST_CASE("quantising while loading gives exactly the model that quantising after a float load gave", "[int8]") {
    if (!Int8Linear::engine()) {
        WARN("this libtorch has no quantized engine: nothing to check");
        return;
    }
    // Both weight readers: the memory-mapped safetensors and the pickled .bin.
    const std::string dir = GENERATE(kClapCase, kPickledClapCase);
    INFO(dir);
    ClapTextEncoder afterwards = ClapTextEncoder::load(dir);
    const auto report = afterwards.quantizeWeights(WeightQuantization::Int8, /*int8Arithmetic=*/true);
    ClapTextEncoder whileLoading = ClapTextEncoder::load(dir, test::int8LoadOptions());
    REQUIRE(report.int8ComputeLayers > 0);
    CHECK(audioldm::modelBytes(whileLoading.module()) == report.bytesAfter);

    torch::manual_seed(7);
    const auto ids = torch::randint(3, afterwards.config().vocabSize, {2, 12}, torch::kInt64);
    const auto mask = torch::ones({2, 12}, torch::kInt64);
    const auto expected = afterwards.forward(ids, mask);
    const auto got = whileLoading.forward(ids, mask);
    CHECK(torch::equal(got.lastHiddenState, expected.lastHiddenState));
    CHECK(torch::equal(got.textEmbeds, expected.textEmbeds));
}

TEST_CASE("an int8 load peaks at about the int8 model plus one tensor, a float load at the float model",
          "[int8][memory]") {
    if (!Int8Linear::engine()) {
        WARN("this libtorch has no quantized engine: nothing to check");
        return;
    }
    // A text encoder that is nearly all linear weights: 3 layers of width 1024 hold 38 M of them
    // (151 MiB in float32, the largest 16 MiB), the embedding tables 0.6 M.
    const nlohmann::json config{{"model_type", "clap_text_model"}, {"vocab_size", 512},
                                {"hidden_size", 1024},             {"num_hidden_layers", 3},
                                {"num_attention_heads", 8},        {"intermediate_size", 4096},
                                {"max_position_embeddings", 40},   {"projection_dim", 512}};
    const test::ScratchFolder scratch;
    uint64_t linearBytes = 0, largestLinear = 0;
    {
        torch::manual_seed(11);
        ClapTextEncoder random(audioldm::ClapTextConfig::fromJson(config, "test config"));
        std::tie(linearBytes, largestLinear) = linearWeightBytes(random.module());
        StateDict weights;
        for (const auto& p : random.module().named_parameters()) weights[p.key()] = p.value().detach();
        saveSafetensors((scratch.path() / "model.safetensors").string(), weights);
        std::ofstream(scratch.path() / "config.json") << config.dump();
    }
    const std::string dir = scratch.path().string();
    // One load of each kind first: libtorch's and oneDNN's one-time set-up is not the model's.
    ClapTextEncoder::load(dir);
    ClapTextEncoder::load(dir, test::int8LoadOptions());

    auto peakOfLoad = [&dir](const LoadOptions& options, uint64_t& modelBytes, std::string& method) {
        const ResidentPeakProbe probe;
        ClapTextEncoder encoder = ClapTextEncoder::load(dir, options);
        modelBytes = audioldm::modelBytes(encoder.module());
        method = probe.method();
        return probe.peakIncreaseBytes();
    };
    uint64_t floatModel = 0, int8Model = 0;
    std::string method;
    const uint64_t floatPeak = peakOfLoad(LoadOptions{}, floatModel, method);
    const uint64_t int8Peak = peakOfLoad(test::int8LoadOptions(), int8Model, method);
    const double mib = 1024.0 * 1024.0;
    WARN("peak resident increase while loading (" << method << "): float32 " << floatPeak / mib << " MiB (model "
         << floatModel / mib << " MiB), int8 " << int8Peak / mib << " MiB (model " << int8Model / mib << " MiB)");

    // The float load writes every float weight.
    CHECK(floatPeak >= linearBytes);
    // The int8 load holds the int8 model (the engine's packed copy and the int8 original it keeps),
    // plus the tensor being read (its mapped pages, at most the largest weight in float32), plus
    // heap memory the allocator still holds from recent layers (measured: about two of the
    // largest weights, with malloc_trim after each layer), plus quantisation's 4 MiB blocks,
    // oneDNN's packing scratch and the allocator's rounding: 24 MiB for those.
    CHECK(int8Peak <= int8Model + 3 * largestLinear + 24 * 1024 * 1024);
    CHECK(int8Peak < floatPeak * 3 / 4);
}
