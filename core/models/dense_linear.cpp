#include "models/dense_linear.h"

#include <ATen/Context.h>
#include <torch/torch.h>

namespace grym {

torch::Tensor denseLinear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
    const bool oneDnn = x.device().is_cpu() && x.scalar_type() == torch::kFloat32 &&
                        weight.scalar_type() == torch::kFloat32 && x.dim() >= 1 && x.numel() > 0 &&
                        weight.dim() == 2 && x.size(-1) == weight.size(1) && at::hasMKLDNN() &&
                        at::globalContext().userEnabledMkldnn();
    if (!oneDnn) return torch::nn::functional::linear(x, weight, bias);
    const int64_t inFeatures = weight.size(1), outFeatures = weight.size(0);
    const int64_t rows = x.numel() / inFeatures;
    // [.., K] -> [1, K, M, 1] channels-last: the same memory, no copy when x is contiguous.
    const auto image = x.contiguous().view({1, rows, 1, inFeatures}).permute({0, 3, 1, 2});
    const auto kernel = weight.contiguous().view({outFeatures, inFeatures, 1, 1});
    auto y = at::mkldnn_convolution(image, kernel, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::optional<at::Tensor>(),
                                    {0, 0}, {1, 1}, {1, 1}, 1);
    // [1, N, M, 1] back to rows [M, N] (contiguous already when oneDNN kept channels-last).
    auto rowsOut = y.permute({0, 2, 3, 1}).contiguous();
    auto sizes = x.sizes().vec();
    sizes.back() = outFeatures;
    return rowsOut.view(sizes);
}

}  // namespace grym
