#pragma once
// y = x·Wᵀ + b (torch::nn::functional::linear) for every float linear layer of the models.
//
// On the CPU in float32 it runs as a 1×1 convolution in oneDNN: x's rows [M, K] are, unchanged
// in memory, a channels-last image of K channels and M pixels, and the convolution's output
// [M, N] is again rows. oneDNN's kernels use libtorch's threads and this CPU's widest vector
// units; the BLAS behind torch::mm (Debian's OpenBLAS) reached 115-240 GFLOP/s where oneDNN
// reached 360-460 on the same shapes (2-core AVX-512 machine, docs/PERFORMANCE.md).
// Elsewhere (CUDA, half precision, a libtorch without oneDNN or with it switched off) it is
// F::linear.
#include <torch/types.h>

namespace grym {

torch::Tensor denseLinear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

}  // namespace grym
