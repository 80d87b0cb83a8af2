#include "models/dense_linear.h"

#include <ATen/Context.h>
#include <catch2/catch.hpp>
#include <torch/torch.h>

namespace {

// Relative L2 distance of `y` from the float64 product.
double relativeError(const torch::Tensor& y, const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
    auto exact = torch::matmul(x.to(torch::kFloat64), w.to(torch::kFloat64).t());
    if (b.defined()) exact = exact + b.to(torch::kFloat64);
    return ((y.to(torch::kFloat64) - exact).norm() / exact.norm()).item<double>();
}

// oneDNN switched off for the test's scope, as the other-CPU test run does for the whole process.
struct OneDnnOff {
    bool before = at::globalContext().userEnabledMkldnn();
    OneDnnOff() { at::globalContext().setUserEnabledMkldnn(false); }
    ~OneDnnOff() { at::globalContext().setUserEnabledMkldnn(before); }
};

}  // namespace

TEST_CASE("a dense linear layer computes x·Wᵀ + b for rows, batches of tokens, strided inputs and no bias",
          "[perf][linear]") {
    torch::NoGradGuard noGrad;
    torch::manual_seed(7);
    const auto w = torch::randn({96, 40}), b = torch::randn({96});
    struct Case {
        const char* what;
        torch::Tensor x;
    };
    const std::vector<Case> cases = {
        {"one row", torch::randn({40})},
        {"rows", torch::randn({33, 40})},
        {"tokens of a batch", torch::randn({2, 17, 40})},
        {"four dimensions", torch::randn({2, 3, 5, 40})},
        {"a transposed view", torch::randn({40, 2, 9}).permute({1, 2, 0})},
        {"every other column", torch::randn({12, 80}).slice(1, 0, 80, 2)},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        for (const bool withBias : {true, false}) {
            INFO("bias: " << withBias);
            const auto bias = withBias ? b : torch::Tensor();
            const auto y = grym::denseLinear(c.x, w, bias);
            auto expectedSizes = c.x.sizes().vec();
            expectedSizes.back() = 96;
            CHECK(y.sizes().vec() == expectedSizes);
            CHECK(y.is_contiguous());
            CHECK(relativeError(y, c.x, w, bias) < 1e-6);
        }
    }
}

TEST_CASE("a dense linear layer refuses an input of the wrong width as libtorch's linear does", "[perf][linear]") {
    torch::NoGradGuard noGrad;
    const auto w = torch::randn({8, 6});
    CHECK_THROWS(grym::denseLinear(torch::randn({4, 5}), w, {}));
    CHECK_THROWS(torch::nn::functional::linear(torch::randn({4, 5}), w, {}));
}

TEST_CASE("with oneDNN switched off, and in float64, a dense linear layer is libtorch's linear", "[perf][linear]") {
    torch::NoGradGuard noGrad;
    torch::manual_seed(3);
    const auto x = torch::randn({5, 7, 24}), w = torch::randn({10, 24}), b = torch::randn({10});
    {
        const OneDnnOff off;
        CHECK(torch::equal(grym::denseLinear(x, w, b), torch::nn::functional::linear(x, w, b)));
    }
    const auto x64 = x.to(torch::kFloat64), w64 = w.to(torch::kFloat64), b64 = b.to(torch::kFloat64);
    CHECK(torch::equal(grym::denseLinear(x64, w64, b64), torch::nn::functional::linear(x64, w64, b64)));
}
