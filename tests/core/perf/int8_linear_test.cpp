// Linear layers that compute in int8 (dynamic quantisation through libtorch's quantized engine).
#include "common/error.h"
#include "core/numeric_bounds.h"
#include "core/quantization_bounds.h"
#include "models/audioldm/blocks.h"
#include "models/int8_linear.h"

#include <catch2/catch.hpp>
#include <torch/torch.h>

using grym::Int8Linear;
using grym::audioldm::QuantizedWeight;
using grym::audioldm::WeightQuantization;

TEST_CASE("an int8 linear layer computes the float product within its quantisation noise", "[int8]") {
    if (!Int8Linear::engine()) {
        WARN("this libtorch has no quantized engine: nothing to check");
        return;
    }
    torch::NoGradGuard noGrad;
    torch::manual_seed(3);
    const auto weight = torch::randn({96, 256});
    const auto bias = torch::randn({96});
    const auto x = torch::randn({4, 50, 256});
    const auto q = QuantizedWeight::quantize(weight, WeightQuantization::Int8);
    const auto layer = Int8Linear::pack(q.values(), q.scales(), bias);
    CHECK(layer.inFeatures() == 256);
    CHECK(layer.outFeatures() == 96);
    // The engine multiplies by exactly the weight the int8 values and scales stand for.
    CHECK(grym::test::relativeError(layer.weight(), q.dequantize(torch::kFloat32)) < 1e-6);

    const auto y = layer.forward(x);
    CHECK(y.sizes() == torch::IntArrayRef({4, 50, 96}));
    const auto reference = torch::nn::functional::linear(x, weight, bias);
    const double weightNoise = grym::test::relativeError(q.dequantize(torch::kFloat32), weight);
    const double activationNoise = grym::test::activationNoise(x);
    const double error = grym::test::relativeError(y, reference);
    INFO("relative L2 " << error << ", weight noise " << weightNoise << ", activation noise " << activationNoise);
    CHECK(error > 0.0);
    CHECK(error < grym::test::int8LayerBound(weightNoise, activationNoise));
}

TEST_CASE("an int8 linear layer refuses what it cannot run", "[int8]") {
    if (!Int8Linear::engine()) {
        CHECK_THROWS_AS(Int8Linear::pack(torch::zeros({2, 2}, torch::kInt8), torch::ones({2}), {}), grym::ModelError);
        return;
    }
    CHECK_THROWS_AS(Int8Linear::pack(torch::zeros({2, 2}), torch::ones({2}), {}), grym::ModelError);
    const auto layer = Int8Linear::pack(torch::ones({2, 3}, torch::kInt8), torch::ones({2}), {});
    CHECK_THROWS_AS(layer.forward(torch::ones({1, 4})), grym::ModelError);
    CHECK_THROWS_AS(layer.forward(torch::ones({1, 3}, torch::kFloat64)), grym::ModelError);
    CHECK_THROWS_AS(Int8Linear().forward(torch::ones({1, 3})), grym::ModelError);
}

TEST_CASE("int8 arithmetic moves linear weights into the engine; weight-only int8 keeps them in buffers", "[int8]") {
    if (!Int8Linear::engine()) {
        WARN("this libtorch has no quantized engine: nothing to check");
        return;
    }
    torch::NoGradGuard noGrad;
    torch::manual_seed(4);
    grym::audioldm::AttentionOptions o;
    o.queryDim = 64;
    o.heads = 4;
    o.qkvBias = true;
    grym::audioldm::Attention weightOnly(o), arithmetic(o);
    grym::audioldm::initialiseLinearLayers(*weightOnly);
    grym::audioldm::initialiseLinearLayers(*arithmetic);  // gives its weights memory; values copied next
    for (auto& p : arithmetic->named_parameters()) p.value().copy_(weightOnly->named_parameters()[p.key()]);
    const auto x = torch::randn({2, 40, 64});
    const auto reference = weightOnly->forward(x);

    const auto stored = grym::audioldm::quantizeModuleWeights(*weightOnly, WeightQuantization::Int8);
    const auto computed = grym::audioldm::quantizeModuleWeights(*arithmetic, WeightQuantization::Int8, true);
    CHECK(stored.int8ComputeLayers == 0);
    CHECK(computed.int8ComputeLayers == 4);
    CHECK(computed.layers == 4);
    CHECK(arithmetic->named_buffers().size() == 0);  // the integers live in the engine
    // Per layer: the engine's packed int8 copy and the int8 original it keeps (2 bytes a weight,
    // half the float's 4), a float64 scale per output channel and the float32 bias.
    CHECK(computed.layerBytesBefore == 4 * 64 * 64 * 4);
    CHECK(computed.layerBytesAfter == 4 * (2 * 64 * 64 + 64 * 8 + 64 * 4));
    CHECK(grym::audioldm::modelBytes(*arithmetic) == computed.bytesAfter);

    // Same weights either way; int8 arithmetic adds the activations' rounding.
    const auto stepsOnly = weightOnly->forward(x);
    const auto int8 = arithmetic->forward(x);
    const double weightNoise = grym::test::relativeError(stepsOnly, reference);
    const double error = grym::test::relativeError(int8, reference);
    INFO("weight-only " << weightNoise << ", int8 arithmetic " << error);
    CHECK(error < grym::test::quantisedOutputBound(grym::test::int8LayerBound(weightNoise, grym::test::activationNoise(x)), 4));
}

TEST_CASE("decoding into a workspace gives the dequantised weight and reuses the buffer", "[int8][quantization]") {
    torch::NoGradGuard noGrad;
    torch::manual_seed(5);
    const auto big = QuantizedWeight::quantize(torch::randn({16, 8, 3, 3}), WeightQuantization::Int8);
    const auto small = QuantizedWeight::quantize(torch::randn({4, 6}), WeightQuantization::Int8);
    torch::Tensor workspace;
    const auto decoded = big.dequantizeInto(workspace, torch::kFloat32);
    CHECK(torch::equal(decoded, big.dequantize(torch::kFloat32)));
    const void* buffer = workspace.data_ptr();
    CHECK(torch::equal(small.dequantizeInto(workspace, torch::kFloat32), small.dequantize(torch::kFloat32)));
    CHECK(workspace.data_ptr() == buffer);  // smaller weights reuse it
    // Another dtype or level: a fresh decode, still the same values.
    CHECK(torch::equal(small.dequantizeInto(workspace, torch::kFloat64), small.dequantize(torch::kFloat64)));
    const auto int4 = QuantizedWeight::quantize(torch::randn({4, 64}), WeightQuantization::Int4);
    CHECK(torch::equal(int4.dequantizeInto(workspace, torch::kFloat32), int4.dequantize(torch::kFloat32)));
}
