#include "common/error.h"
#include "models/audioldm/unet.h"
#include "models/audioldm/weight_quantization.h"
#include "core/quantization_bounds.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using grym::audioldm::QuantizationReport;
using grym::audioldm::QuantizedWeight;
using grym::audioldm::UNet;
using grym::audioldm::UNetConfig;
using grym::audioldm::WeightQuantization;

namespace {

const std::string kCaseDir = std::string(GRYM_TEST_DATA_DIR) + "/golden/unet_a";

using grym::test::relativeError;

// One forward pass on fixed random inputs shaped for the golden UNet (odd height on purpose).
torch::Tensor goldenForward(const UNet& unet) {
    torch::manual_seed(6);
    const auto sample = torch::randn({2, 8, 13, 16});
    const auto labels = torch::randn({2, 16});
    return unet.forward(sample, torch::tensor({300, 20}), labels);
}

}  // namespace

TEST_CASE("int4 packing puts two values in a byte and unpacks them exactly", "[unet][quantization]") {
    using grym::audioldm::packInt4;
    using grym::audioldm::unpackInt4;
    const auto every = torch::arange(-8, 8, torch::kInt8);  // all sixteen representable values
    const auto packed = packInt4(every);
    CHECK(packed.scalar_type() == torch::kUInt8);
    CHECK(packed.sizes() == torch::IntArrayRef({8}));
    CHECK(torch::equal(unpackInt4(packed), every));
    // Entry 0 in the low nibble, entry 1 in the high one, each offset by 8: (1+8) + (-2+8)*16.
    CHECK(packInt4(torch::tensor({1, -2}, torch::kInt8))[0].item<int>() == 9 + 6 * 16);

    torch::manual_seed(1);
    const auto random = torch::randint(-8, 8, {5, 3, 10}, torch::kInt8);
    const auto randomPacked = packInt4(random);
    CHECK(randomPacked.sizes() == torch::IntArrayRef({5, 3, 5}));
    CHECK(torch::equal(unpackInt4(randomPacked), random));
}

TEST_CASE("int4 packing refuses what it cannot hold", "[unet][quantization]") {
    using grym::audioldm::packInt4;
    CHECK_THROWS_AS(packInt4(torch::tensor({8, 0}, torch::kInt8)), grym::ModelError);
    CHECK_THROWS_AS(packInt4(torch::tensor({-9, 0}, torch::kInt8)), grym::ModelError);
    CHECK_THROWS_AS(packInt4(torch::zeros({3}, torch::kInt8)), grym::ModelError);    // odd count
    CHECK_THROWS_AS(packInt4(torch::zeros({4}, torch::kFloat32)), grym::ModelError);  // not int8
    CHECK_THROWS_AS(grym::audioldm::unpackInt4(torch::zeros({4}, torch::kInt8)), grym::ModelError);
}

TEST_CASE("weight quantisation levels parse by name and unknown ones are rejected", "[unet][quantization]") {
    using grym::audioldm::parseWeightQuantization;
    CHECK(parseWeightQuantization("none") == WeightQuantization::None);
    CHECK(parseWeightQuantization("int8") == WeightQuantization::Int8);
    CHECK(parseWeightQuantization("8bit") == WeightQuantization::Int8);
    CHECK(parseWeightQuantization("int4") == WeightQuantization::Int4);
    CHECK(parseWeightQuantization("4bit") == WeightQuantization::Int4);
    CHECK_THROWS_WITH(parseWeightQuantization("int3"), Catch::Contains("'int3'"));
    CHECK_THROWS_AS(parseWeightQuantization("INT8"), grym::ModelError);
    CHECK(std::string(grym::audioldm::toString(WeightQuantization::Int4)) == "int4");
}

// "Exactly" up to the float32 roundings between: the weight (one product), the scale (one
// division) and the decoded value (one product), each within a unit roundoff.
const double kExactStepTolerance = 4 * grym::test::unitRoundoff(torch::kFloat32);

TEST_CASE("weights that are multiples of their scale survive quantisation exactly", "[unet][quantization]") {
    torch::manual_seed(2);
    SECTION("int8, one scale per output channel") {
        // Each row: integers in [-127, 127] times a row scale, with 127 present so it sets the scale.
        auto ints = torch::randint(-127, 128, {6, 4, 3, 3}).to(torch::kFloat32);
        ints.select(1, 0).select(1, 0).select(1, 0).fill_(127);
        const auto rowScale = torch::rand({6, 1, 1, 1}) + 0.01;
        const auto weight = ints * rowScale;
        const auto q = QuantizedWeight::quantize(weight, WeightQuantization::Int8);
        CHECK(q.values().scalar_type() == torch::kInt8);
        CHECK(torch::allclose(q.dequantize(torch::kFloat32), weight, kExactStepTolerance, 0.0));
    }
    SECTION("int4, one scale per group of 64 inputs, a partial group padded") {
        // 150 inputs per row: groups of 64, 64 and 22 (padded to 64).
        auto ints = torch::randint(-7, 8, {3, 150}).to(torch::kFloat32);
        for (int64_t start : {0, 64, 128}) ints.select(1, start).fill_(-7);
        auto groupScale = torch::rand({3, 3}) + 0.01;
        const auto perInput = groupScale.repeat_interleave(64, 1).narrow(1, 0, 150);
        const auto weight = ints * perInput;
        const auto q = QuantizedWeight::quantize(weight, WeightQuantization::Int4);
        CHECK(q.values().scalar_type() == torch::kUInt8);
        CHECK(q.values().sizes() == torch::IntArrayRef({3, 96}));  // 192 padded inputs, two per byte
        CHECK(q.scales().sizes() == torch::IntArrayRef({3, 3}));
        CHECK(torch::allclose(q.dequantize(torch::kFloat32), weight, kExactStepTolerance, 0.0));
    }
}

TEST_CASE("quantisation error stays within half a step of each scale", "[unet][quantization]") {
    torch::manual_seed(3);
    // A conv weight whose flattened input (5*3*3 = 45) is shorter than one int4 group.
    const auto weight = torch::randn({7, 5, 3, 3});
    for (auto level : {WeightQuantization::Int8, WeightQuantization::Int4}) {
        const auto q = QuantizedWeight::quantize(weight, level);
        const auto back = q.dequantize(torch::kFloat32);
        REQUIRE(back.sizes() == weight.sizes());
        const double qmax = level == WeightQuantization::Int8 ? 127.0 : 7.0;
        const auto rowMax = weight.abs().flatten(1).amax(1).view({7, 1, 1, 1});
        INFO(grym::audioldm::toString(level));
        // Rounding to the nearest step leaves at most half a step, rowMax / qmax / 2; the scale and
        // the product are float32, adding at most a unit roundoff of the row's largest weight.
        const auto slack = rowMax * grym::test::unitRoundoff(torch::kFloat32) * 2;
        CHECK(((back - weight).abs() <= rowMax / qmax / 2 + slack).all().item<bool>());
        CHECK(q.numel() == weight.numel());
        CHECK(back.dtype() == torch::kFloat32);
        CHECK(q.dequantize(torch::kFloat64).dtype() == torch::kFloat64);
        CHECK_THROWS_AS(q.dequantize(torch::kInt8), grym::ModelError);
    }
    CHECK_THROWS_AS(QuantizedWeight::quantize(weight, WeightQuantization::None), grym::ModelError);
    CHECK_THROWS_AS(QuantizedWeight::quantize(torch::ones({4}), WeightQuantization::Int8), grym::ModelError);
    CHECK_THROWS_AS(QuantizedWeight::quantize(torch::ones({4, 4}, torch::kInt32), WeightQuantization::Int8),
                    grym::ModelError);
}

// Two bounds, both derived (tests/core/quantization_bounds.h): against the float model, the
// weights' own quantisation noise grown over the quantised layers (on the golden checkpoint
// about 0.0039 per int8 weight and 0.07 per int4 weight, outputs measured at 0.015 and 0.25);
// against the float model running on the dequantised weights, float32 rounding only.
TEST_CASE("a weight-quantised UNet stays close to float and its weights shrink", "[unet][quantization]") {
    const auto level = GENERATE(WeightQuantization::Int8, WeightQuantization::Int4);
    INFO(grym::audioldm::toString(level));
    auto unet = UNet::load(kCaseDir);
    const auto reference = goldenForward(unet);
    const uint64_t parameters = unet.parameterCount();
    const uint64_t bytes = unet.parameterBytes();

    const QuantizationReport report = unet.quantizeWeights(level);
    CHECK(report.level == level);
    CHECK(report.layers > 50);
    CHECK(report.bytesBefore == bytes);
    CHECK(report.bytesAfter == unet.parameterBytes());
    CHECK(report.bytesSaved() == bytes - unet.parameterBytes());
    CHECK(unet.parameterCount() == parameters);  // counted as before, stored smaller
    CHECK(unet.dtype() == torch::kFloat32);
    // The golden layers are narrow (16-32 inputs per int4 group), so scales weigh more here
    // than at full size, where they approach 4x and 7x (docs/PERFORMANCE.md).
    const double layerRatio = static_cast<double>(report.layerBytesBefore) / static_cast<double>(report.layerBytesAfter);
    if (level == WeightQuantization::Int8) {
        CHECK(layerRatio > 3.7);
        CHECK(layerRatio < 4.0);
    } else {
        CHECK(layerRatio > 5.0);
        CHECK(layerRatio < 8.0);
    }
    CHECK(unet.parameterBytes() == bytes - report.layerBytesBefore + report.layerBytesAfter);

    const auto quantised = goldenForward(unet);
    const auto weights = grym::loadCheckpoint(kCaseDir, "diffusion_pytorch_model");
    const double noise = grym::test::largestWeightNoise(weights, level);
    const double rounding = grym::test::roundingBound(torch::kFloat32, grym::test::networkSize(weights));
    const double error = relativeError(quantised, reference);
    INFO("relative L2 " << error << ", weight noise " << noise);
    CHECK(error < grym::test::quantisedOutputBound(noise, report.layers) + rounding);
    CHECK(error > 0.0);  // the weights really changed

    const auto twin = UNet::load(grym::test::writeDequantisedTwin(kCaseDir, "diffusion_pytorch_model", "unet",
                                                                  level, torch::kFloat32));
    CHECK(relativeError(quantised, goldenForward(twin)) < rounding);
}

TEST_CASE("a full-width layer shrinks about 4x in int8 and 7x in int4", "[unet][quantization]") {
    // 320 channels as in the full-size UNet: 3x3 convs have 2880 inputs, 45 int4 groups each.
    auto json = nlohmann::json::parse(std::ifstream(kCaseDir + "/config.json"));
    json["block_out_channels"] = {320, 320, 320};
    json["down_block_types"] = {"DownBlock2D", "DownBlock2D", "DownBlock2D"};
    json["up_block_types"] = {"UpBlock2D", "UpBlock2D", "UpBlock2D"};
    json["layers_per_block"] = 1;
    json["mid_block_type"] = nullptr;
    json["cross_attention_dim"] = 320;
    const auto config = UNetConfig::fromJson(json, "wide");
    for (auto level : {WeightQuantization::Int8, WeightQuantization::Int4}) {
        auto unet = UNet::randomlyInitialised(config);
        const auto report = unet.quantizeWeights(level);
        const double ratio = static_cast<double>(report.layerBytesBefore) / static_cast<double>(report.layerBytesAfter);
        INFO(grym::audioldm::toString(level) << " ratio " << ratio);
        // int8: 4 bytes per weight become 1, plus one 4-byte scale per output row of K inputs:
        // 4K / (K + 4), within 1% of 4 for the K >= 640 here. int4: 64 weights (256 bytes) become
        // 32 bytes plus a 4-byte scale, 64/9 = 7.1; K = 640 and 2880 fill whole groups.
        if (level == WeightQuantization::Int8)
            CHECK(ratio == Approx(4.0).epsilon(0.01));
        else
            CHECK(ratio == Approx(64.0 / 9.0).epsilon(0.01));
    }
}

TEST_CASE("quantising again is refused unless it is to the same level", "[unet][quantization]") {
    auto unet = UNet::load(kCaseDir);
    CHECK(unet.quantizeWeights(WeightQuantization::None).layers == 0);
    CHECK_THROWS_AS(unet.quantizeWeights(static_cast<WeightQuantization>(42)), grym::ModelError);
    CHECK(unet.quantizeWeights(WeightQuantization::Int8).layers > 0);
    const auto before = goldenForward(unet);
    const uint64_t bytes = unet.parameterBytes();
    CHECK(unet.quantizeWeights(WeightQuantization::Int8).layers == 0);
    CHECK_THROWS_WITH(unet.quantizeWeights(WeightQuantization::Int4), Catch::Contains("already quantised to int8"));
    CHECK_THROWS_AS(unet.quantizeWeights(WeightQuantization::None), grym::ModelError);
    CHECK(unet.parameterBytes() == bytes);
    CHECK(torch::equal(goldenForward(unet), before));
}


TEST_CASE("a half-precision UNet keeps its dtype: scales in bfloat16, dequantised to bfloat16", "[unet][quantization]") {
    auto unet = UNet::load(kCaseDir, {torch::kCPU, torch::kBFloat16});
    torch::manual_seed(9);
    const auto sample = torch::randn({1, 8, 8, 8}).to(torch::kBFloat16);
    const auto labels = torch::randn({1, 16}).to(torch::kBFloat16);
    unet.quantizeWeights(WeightQuantization::Int8);
    CHECK(unet.dtype() == torch::kBFloat16);
    const auto quantised = unet.forward(sample, 100.0, labels);
    CHECK(quantised.scalar_type() == torch::kBFloat16);
    // The reference is computed the same way: a bfloat16 UNet whose weights are the bfloat16
    // values the quantised layers decode (scales in bfloat16, as they are kept). Same weights,
    // same inputs, same kernels in the same process: the outputs are identical. (Against the
    // unquantised bfloat16 model no tight bound exists: int8's step, 1/254 of a weight, is the
    // size of bfloat16's own rounding, 2^-8, so the two differ by rounding noise of the model's
    // depth, which is what failed on another CPU.)
    const auto twin = UNet::load(grym::test::writeDequantisedTwin(kCaseDir, "diffusion_pytorch_model", "unet_bf16",
                                                                  WeightQuantization::Int8, torch::kBFloat16),
                                 {torch::kCPU, torch::kBFloat16});
    CHECK(torch::equal(quantised, twin.forward(sample, 100.0, labels)));
}

TEST_CASE("bench quantization reports the bytes a level saves", "[unet][quantization][cli]") {
    const auto out = std::filesystem::temp_directory_path() / ("grym_bench_quantization_" + std::to_string(::getpid()) + ".json");
    const std::string command = std::string("'") + GRYM_CLI_PATH + "' bench quantization '" + kCaseDir +
                                "' --level int4 --frames 8 --json >'" + out.string() + "' 2>/dev/null";
    REQUIRE(std::system(command.c_str()) == 0);
    const auto report = nlohmann::json::parse(std::ifstream(out));
    std::filesystem::remove(out);
    CHECK(report["level"] == "int4");
    CHECK(report["parameter_bytes"].get<uint64_t>() < report["parameter_bytes_before"].get<uint64_t>() / 4);
    CHECK(report["forward_seconds"].size() == 1);
    CHECK(report.contains("relative_l2_vs_float"));

    const std::string bad = std::string("'") + GRYM_CLI_PATH + "' bench quantization '" + kCaseDir +
                            "' --level int3 >/dev/null 2>&1";
    CHECK(WEXITSTATUS(std::system(bad.c_str())) == 2);
}

TEST_CASE("a quantised embedding decodes only the rows it looks up", "[unet][quantization]") {
    torch::manual_seed(10);
    const auto table = torch::randn({50, 70});  // 70 inputs per row: int4 groups of 64 and 6
    for (auto level : {WeightQuantization::Int8, WeightQuantization::Int4}) {
        const auto q = QuantizedWeight::quantize(table, level);
        const auto ids = torch::tensor({{3, 49, 3}, {0, 7, 12}}, torch::kInt64);
        const auto rows = q.dequantizeRows(ids, torch::kFloat32);
        REQUIRE(rows.sizes() == torch::IntArrayRef({2, 3, 70}));
        CHECK(torch::equal(rows, q.dequantize(torch::kFloat32).index_select(0, ids.flatten()).view({2, 3, 70})));
    }
}
