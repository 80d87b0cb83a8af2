#include "models/audioldm/blocks.h"
#include "models/cpu_features.h"

#include <catch2/catch.hpp>
#include <torch/torch.h>

using grym::audioldm::QuantConv2d;
using grym::audioldm::WeightQuantization;

namespace {

QuantConv2d makeConv(int64_t seed) {
    torch::manual_seed(seed);
    return QuantConv2d(torch::nn::Conv2dOptions(24, 40, 3).padding(1));
}

double relativeError(const torch::Tensor& a, const torch::Tensor& b) {
    return ((a.to(torch::kFloat64) - b.to(torch::kFloat64)).norm() / b.to(torch::kFloat64).norm()).item<double>();
}

}  // namespace

TEST_CASE("an int8 convolution with int8 arithmetic computes in bfloat16 where the CPU has it, within its rounding",
          "[perf][quantization]") {
    torch::NoGradGuard noGrad;
    auto weightOnly = makeConv(21), arithmetic = makeConv(21);
    grym::audioldm::quantizeModuleWeights(*weightOnly, WeightQuantization::Int8, /*int8Arithmetic=*/false);
    grym::audioldm::quantizeModuleWeights(*arithmetic, WeightQuantization::Int8, /*int8Arithmetic=*/true);
    CHECK_FALSE(weightOnly->bfloat16Arithmetic);
    CHECK(arithmetic->bfloat16Arithmetic);

    const auto x = torch::randn({2, 24, 16, 8});
    const auto expected = weightOnly(x);
    const auto y = arithmetic(x);
    CHECK(y.scalar_type() == torch::kFloat32);
    CHECK(y.sizes() == expected.sizes());
    if (!grym::cpuConvolvesInBFloat16()) {
        CHECK(torch::equal(y, expected));  // weight-only, as before
        return;
    }
    // bfloat16 keeps 8 significant bits: inputs and decoded weights each round by up to 2^-9;
    // with sums over 216 products the relative L2 error stays near 2^-9, far below 2^-6.
    const double error = relativeError(y, expected);
    INFO("relative L2 against the weight-only float32 result: " << error);
    CHECK(error > 0.0);  // it really ran in bfloat16
    CHECK(error < 1.0 / 64);
}

TEST_CASE("an int8 convolution in bfloat16 keeps float32 results for float64 and other inputs", "[perf][quantization]") {
    torch::NoGradGuard noGrad;
    auto weightOnly = makeConv(4), arithmetic = makeConv(4);
    grym::audioldm::quantizeModuleWeights(*weightOnly, WeightQuantization::Int8, false);
    grym::audioldm::quantizeModuleWeights(*arithmetic, WeightQuantization::Int8, true);
    weightOnly->to(torch::kFloat64);
    arithmetic->to(torch::kFloat64);
    const auto x = torch::randn({1, 24, 9, 5}, torch::kFloat64);
    CHECK(torch::equal(arithmetic(x), weightOnly(x)));  // only float32 on the CPU goes through bfloat16
}
