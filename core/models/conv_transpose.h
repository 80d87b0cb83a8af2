#pragma once
// A 1-D transposed convolution (torch::nn::ConvTranspose1d's arithmetic: groups 1, dilation 1, no
// output padding), for the vocoder's up-sampling layers.
//
// libtorch 1.13 has no oneDNN path for transposed convolutions: they took its slow im2col kernel
// on one BLAS thread, 250 ms of a 1.6 s vocoder call for 7 % of its arithmetic. Here every input
// frame's contribution comes from one product in oneDNN, a 1×1 convolution from Cin to Cout·K
// channels (columns[co·K + k, t] = Σ_ci W[ci, co, k] · x[ci, t]), and col2im adds each column's K
// taps into the output at t·stride + k - padding. Elsewhere (CUDA, half precision, no oneDNN)
// it is libtorch's own.
#include <torch/types.h>

namespace grym {

// x [B, Cin, T], weight [Cin, Cout, K], bias [Cout] or undefined -> [B, Cout, (T-1)·stride - 2·padding + K]
torch::Tensor convTranspose1d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              int64_t stride, int64_t padding);

}  // namespace grym
