#include "models/conv_transpose.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace grym {

torch::Tensor convTranspose1d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              int64_t stride, int64_t padding) {
    const bool oneDnn = x.device().is_cpu() && x.scalar_type() == torch::kFloat32 &&
                        weight.scalar_type() == torch::kFloat32 && x.dim() == 3 && weight.dim() == 3 &&
                        x.size(1) == weight.size(0) && x.size(2) > 0 && at::hasMKLDNN() &&
                        at::globalContext().userEnabledMkldnn();
    const int64_t outFrames = oneDnn ? (x.size(2) - 1) * stride - 2 * padding + weight.size(2) : 0;
    // libtorch's own call also for arguments it would refuse, so the error is its.
    if (!oneDnn || stride <= 0 || padding < 0 || outFrames <= 0)
        return torch::conv_transpose1d(x, weight, bias, stride, padding);
    const int64_t batch = x.size(0), inChannels = weight.size(0), outChannels = weight.size(1),
                  kernel = weight.size(2), frames = x.size(2);
    // [Cin, Cout, K] -> [Cout·K, Cin, 1, 1]: one output channel per (co, k).
    const auto columnWeight = weight.permute({1, 2, 0}).reshape({outChannels * kernel, inChannels, 1, 1});
    const auto columns = at::mkldnn_convolution(x.unsqueeze(2).contiguous(), columnWeight,
                                                c10::optional<at::Tensor>(), {0, 0}, {1, 1}, {1, 1}, 1)
                             .view({batch, outChannels * kernel, frames});
    // col2im adds the columns up serially; output channels are independent, so they are split
    // over libtorch's threads.
    auto out = torch::empty({batch, outChannels, 1, outFrames}, x.options());
    at::parallel_for(0, outChannels, 1, [&](int64_t first, int64_t last) {
        for (int64_t b = 0; b < batch; ++b) {
            auto target = out[b].narrow(0, first, last - first).unsqueeze(0);  // [1, n, 1, outFrames]
            at::col2im_out(target, columns[b].narrow(0, first * kernel, (last - first) * kernel).unsqueeze(0),
                           {1, outFrames}, {1, kernel}, {1, 1}, {0, padding}, {1, stride});
        }
    });
    auto result = out.squeeze(2);
    if (bias.defined()) result.add_(bias.view({1, outChannels, 1}));
    return result;
}

}  // namespace grym
