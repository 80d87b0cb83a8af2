#include "common/error.h"
#include "golden/golden_case.h"
#include "models/audioldm/vocoder.h"
#include "models/cpu_features.h"
#include "models/flop_count.h"
#include "core/numeric_bounds.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>

using namespace grym;
using namespace grym::audioldm;

namespace {

nlohmann::json smallConfig() {
    return nlohmann::json{{"model_in_dim", 8},
                          {"upsample_initial_channel", 8},
                          {"upsample_rates", {2, 3}},
                          {"upsample_kernel_sizes", {4, 7}},
                          {"resblock_kernel_sizes", {3, 5}},
                          {"resblock_dilation_sizes", {{1, 3}, {1, 2}}},
                          {"leaky_relu_slope", 0.2},
                          {"normalize_before", false}};
}

}  // namespace

TEST_CASE("vocoder matches the reference HiFi-GAN on the golden cases", "[vocoder]") {
    for (const char* name : {"vocoder_a", "vocoder_normalize_before"}) {
        auto report = runGoldenCase(std::string(GRYM_TEST_DATA_DIR) + "/golden/" + name);
        INFO(name << ": " << report.error);
        for (const auto& cmp : report.comparisons) INFO(cmp.output << " rel " << cmp.relativeL2 << " abs " << cmp.maxAbs);
        CHECK(report.passed());
        CHECK(report.comparisons.size() == 2);
    }
}

TEST_CASE("vocoder output has hop-length samples per frame when kernel minus rate is even, batched or not", "[vocoder]") {
    torch::NoGradGuard noGrad;
    Vocoder vocoder(VocoderConfig::fromJson(smallConfig(), "test"));
    REQUIRE(vocoder->config().hopLength() == 6);
    auto mel = torch::randn({3, 11, 8});
    auto batched = vocoder->forward(mel);
    CHECK(batched.sizes() == torch::IntArrayRef({3, 66}));
    auto single = vocoder->forward(mel[1]);
    CHECK(single.sizes() == torch::IntArrayRef({66}));
    CHECK(grym::test::relativeError(single, batched[1]) < grym::test::roundingBound(*vocoder));
}

TEST_CASE("vocoder rejects inconsistent configs and wrong mel sizes by name", "[vocoder]") {
    auto bad = smallConfig();
    bad["upsample_kernel_sizes"] = {4};
    CHECK_THROWS_WITH(VocoderConfig::fromJson(bad, "cfg.json"), Catch::Contains("upsample_rates"));
    bad = smallConfig();
    bad["resblock_dilation_sizes"] = {{1, 3}};
    CHECK_THROWS_WITH(VocoderConfig::fromJson(bad, "cfg.json"), Catch::Contains("resblock_dilation_sizes"));
    bad = smallConfig();
    bad["upsample_rates"] = "fast";
    CHECK_THROWS_AS(VocoderConfig::fromJson(bad, "cfg.json"), ModelError);

    Vocoder vocoder(VocoderConfig::fromJson(smallConfig(), "test"));
    CHECK_THROWS_WITH(vocoder->forward(torch::randn({2, 5, 7})), Catch::Contains("mel bands"));
    CHECK_THROWS_AS(vocoder->forward(torch::randn({5})), ModelError);
}

TEST_CASE("vocoder applies mean and scale only with normalize_before", "[vocoder]") {
    torch::NoGradGuard noGrad;
    auto config = smallConfig();
    config["normalize_before"] = true;
    Vocoder normalizing(VocoderConfig::fromJson(config, "test"));
    config["normalize_before"] = false;
    Vocoder plain(VocoderConfig::fromJson(config, "test"));
    // same weights, then a non-trivial normalisation
    auto params = plain->named_parameters();
    for (auto& p : normalizing->named_parameters()) p.value().copy_(params[p.key()]);
    auto mean = torch::randn({8}), scale = torch::rand({8}) + 0.5;
    normalizing->named_buffers()["mean"].copy_(mean);
    normalizing->named_buffers()["scale"].copy_(scale);
    plain->named_buffers()["mean"].copy_(mean);
    plain->named_buffers()["scale"].copy_(scale);
    auto mel = torch::randn({1, 9, 8});
    CHECK(grym::test::relativeError(normalizing->forward(mel), plain->forward((mel - mean) / scale)) <
          grym::test::roundingBound(*plain));
}

TEST_CASE("the vocoder's FLOPs on a tiny config match a hand count", "[flops][vocoder]") {
    torch::NoGradGuard noGrad;
    Vocoder vocoder(VocoderConfig::fromJson(smallConfig(), "test"));
    grym::FlopCount count;
    vocoder->forward(torch::randn({1, 5, 8}));
    // conv_pre: 8 -> 8 channels, kernel 7, 5 frames: 40 outputs x 56 products.
    // Stage 1 (x2, 8 -> 4 channels, kernel 4): the transposed conv meets each of 40 inputs with
    // 4·4 weights; then 10 steps x 4 channels = 40 outputs through 4 convs of kernel 3 (12
    // products) and 4 of kernel 5 (20).
    // Stage 2 (x3, 4 -> 2 channels, kernel 7): 40 inputs x 2·7 weights; then 30 x 2 = 60 outputs
    // through 4 convs of kernel 3 (6 products) and 4 of kernel 5 (10).
    // conv_post: 2 -> 1 channel, kernel 7: 30 outputs x 14.
    const uint64_t multiplyAdds = 40 * 56 + (40 * 16 + 4 * 40 * 12 + 4 * 40 * 20) + (40 * 14 + 4 * 60 * 6 + 4 * 60 * 10) + 30 * 14;
    CHECK(count.flops() == 2 * multiplyAdds);
}

TEST_CASE("with bfloat16 convolutions the vocoder stays within bfloat16's rounding of float32, where the CPU has it",
          "[vocoder]") {
    torch::NoGradGuard noGrad;
    const std::string folder = std::string(GRYM_TEST_DATA_DIR) + "/golden/vocoder_a";
    auto exact = Vocoder::load(folder), fast = Vocoder::load(folder);
    torch::manual_seed(9);
    const auto mel = torch::randn({2, 24, exact->config().modelInDim});
    const auto expected = exact->forward(mel);
    const bool bfloat16 = fast->computeConvolutionsInBFloat16();
    CHECK(bfloat16 == cpuConvolvesInBFloat16());
    const auto waveform = fast->forward(mel);
    CHECK(waveform.scalar_type() == torch::kFloat32);
    CHECK(waveform.sizes() == expected.sizes());
    if (!bfloat16) {
        CHECK(torch::equal(waveform, expected));
        return;
    }
    // Each block convolution reads bfloat16 inputs and weights (8 significant bits, rounding by
    // up to 2^-9 each: under 2^-7 relative per convolution, bias included); independent
    // roundings add up like a random walk over the convolutions, the residual stream being float32.
    const auto& config = exact->config();
    int64_t convolutions = 0;
    for (const auto& dilations : config.resblockDilationSizes) convolutions += 2 * static_cast<int64_t>(dilations.size());
    convolutions *= static_cast<int64_t>(config.upsampleRates.size());
    const double bound = std::sqrt(static_cast<double>(convolutions)) * std::ldexp(1.0, -7);
    const double error = ((waveform - expected).norm() / expected.norm()).item<double>();
    INFO("relative L2 against float32: " << error << " over " << convolutions << " convolutions, bound " << bound);
    CHECK(error > 0.0);
    CHECK(error < bound);
    // A float64 vocoder is left as it is.
    auto wide = Vocoder::load(folder);
    wide->to(torch::kFloat64);
    CHECK_FALSE(wide->computeConvolutionsInBFloat16());
}
