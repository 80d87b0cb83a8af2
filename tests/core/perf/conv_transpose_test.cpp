#include "models/conv_transpose.h"

#include <ATen/Context.h>
#include <catch2/catch.hpp>
#include <torch/torch.h>

namespace {

double relativeError(const torch::Tensor& y, const torch::Tensor& expected) {
    return ((y.to(torch::kFloat64) - expected.to(torch::kFloat64)).norm() / expected.to(torch::kFloat64).norm())
        .item<double>();
}

}  // namespace

TEST_CASE("a transposed 1-D convolution through oneDNN gives libtorch's result for the vocoder's strides and paddings",
          "[perf][conv]") {
    torch::NoGradGuard noGrad;
    torch::manual_seed(11);
    struct Case {
        int64_t batch, inChannels, outChannels, kernel, stride, padding, frames;
    };
    // The vocoder's up-sampling shapes (kernel, rate, (kernel - rate) / 2), smaller channels,
    // and edge cases: one frame, a kernel shorter than the stride, odd lengths, a batch.
    const std::vector<Case> cases = {
        {1, 32, 16, 16, 5, 5, 21}, {1, 16, 8, 16, 4, 6, 40}, {1, 8, 4, 8, 2, 3, 77}, {1, 8, 4, 4, 2, 1, 64},
        {2, 6, 5, 4, 2, 1, 9},     {1, 4, 3, 3, 1, 1, 1},    {1, 5, 7, 2, 3, 0, 13}, {3, 4, 4, 7, 3, 2, 5},
    };
    for (const auto& c : cases) {
        INFO("in " << c.inChannels << " out " << c.outChannels << " kernel " << c.kernel << " stride " << c.stride
                   << " padding " << c.padding << " frames " << c.frames << " batch " << c.batch);
        const auto x = torch::randn({c.batch, c.inChannels, c.frames});
        const auto w = torch::randn({c.inChannels, c.outChannels, c.kernel});
        const auto b = torch::randn({c.outChannels});
        for (const bool withBias : {true, false}) {
            const auto bias = withBias ? b : torch::Tensor();
            const auto expected = torch::conv_transpose1d(x.to(torch::kFloat64), w.to(torch::kFloat64),
                                                          withBias ? b.to(torch::kFloat64) : torch::Tensor(),
                                                          c.stride, c.padding);
            const auto y = grym::convTranspose1d(x, w, bias, c.stride, c.padding);
            CHECK(y.sizes() == expected.sizes());
            CHECK(relativeError(y, expected) < 1e-6);
        }
    }
}

TEST_CASE("with oneDNN switched off, a transposed 1-D convolution is libtorch's", "[perf][conv]") {
    torch::NoGradGuard noGrad;
    torch::manual_seed(5);
    const auto x = torch::randn({1, 8, 30}), w = torch::randn({8, 4, 16}), b = torch::randn({4});
    const bool before = at::globalContext().userEnabledMkldnn();
    at::globalContext().setUserEnabledMkldnn(false);
    const auto y = grym::convTranspose1d(x, w, b, 5, 5);
    at::globalContext().setUserEnabledMkldnn(before);
    CHECK(torch::equal(y, torch::conv_transpose1d(x, w, b, 5, 5)));
}
