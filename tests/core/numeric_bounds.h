#pragma once
// Error bounds for the numeric tests, derived from the arithmetic rather than tuned to the
// kernels of one machine. libtorch picks oneDNN / ATen / BLAS kernels by CPU (and by the
// ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA / OPENBLAS_CORETYPE settings CI runs a second time
// with), so two evaluations of the same network may sum in different orders and round
// differently. A bound that holds there has to come from the dtype's precision and the depth of
// the computation, or from a reference computed the same way in the same dtype.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace grym::test {

// ‖a − b‖ / ‖b‖, accumulated in float64 so the measurement adds no error of its own.
inline double relativeError(const torch::Tensor& a, const torch::Tensor& b) {
    const auto a64 = a.to(torch::kFloat64);
    const auto b64 = b.to(torch::kFloat64);
    return ((a64 - b64).norm() / b64.norm()).item<double>();
}

inline double maxAbsDifference(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// Unit roundoff u = 2^-p of a floating dtype (p: significand bits including the hidden one):
// the largest relative error of rounding one result to that dtype.
inline double unitRoundoff(torch::ScalarType dtype) {
    switch (dtype) {
        case torch::kFloat64: return std::ldexp(1.0, -53);
        case torch::kFloat32: return std::ldexp(1.0, -24);
        case torch::kFloat16: return std::ldexp(1.0, -11);
        case torch::kBFloat16: return std::ldexp(1.0, -8);
        default: return 0.0;  // integer results are exact
    }
}

// How many standard deviations of the rounding noise a bound allows. Rounding errors of many
// independent operations behave like a random walk (Higham, "Accuracy and Stability of
// Numerical Algorithms", ch. 2/3): a deviation beyond 10 sigma does not happen by chance, so a
// failure means a real difference in what was computed, not the kernel's summation order.
constexpr double kRoundingSigmas = 10.0;

// float16 / bfloat16 kernels (CPU and CUDA) accumulate their sums in float32 and round only the
// stored result to the narrow type.
inline torch::ScalarType accumulationType(torch::ScalarType dtype) {
    return dtype == torch::kFloat16 || dtype == torch::kBFloat16 ? torch::kFloat32 : dtype;
}

// Results a layer stores (and so rounds) along the path: its product, bias, normalisation and
// activation or residual sum.
constexpr int64_t kRoundingsPerLayer = 4;

// Relative L2 difference allowed between two evaluations of the same computation in `dtype` that
// may round differently: batched vs one at a time, tiled vs whole, or another CPU's kernels.
// Each output is a sum of `terms` products; summing n random-signed terms in some order leaves a
// relative error of about u·sqrt(n) in the accumulation type, and every stored result adds u of
// the dtype. `depth` such layers in sequence (normalised, so they neither amplify nor damp much)
// add independent errors: u_acc·sqrt(n·depth) + u·sqrt(kRoundingsPerLayer·depth) per
// evaluation, and two evaluations differ by sqrt(2) times that.
inline double roundingBound(torch::ScalarType dtype, int64_t terms, int64_t depth) {
    const double n = static_cast<double>(terms);
    const double d = static_cast<double>(depth);
    const double accumulated = unitRoundoff(accumulationType(dtype)) * std::sqrt(n * d);
    const double stored = unitRoundoff(dtype) * std::sqrt(static_cast<double>(kRoundingsPerLayer) * d);
    return kRoundingSigmas * std::sqrt(2.0) * (accumulated + stored);
}

// The terms and depth of a network, read off its layer weights (two or more dimensions): the
// widest sum is the largest fan-in (all but the first dimension; all but the second for a
// transposed convolution, so take the larger), and every such layer is one step of depth (an
// upper bound on the path from input to output).
struct NetworkSize {
    int64_t terms = 1;
    int64_t depth = 0;
};

inline NetworkSize networkSize(const std::vector<torch::Tensor>& weights) {
    NetworkSize size;
    for (const auto& w : weights) {
        if (w.dim() < 2 || w.numel() == 0) continue;
        size.terms = std::max({size.terms, w.numel() / w.size(0), w.numel() / w.size(1)});
        ++size.depth;
    }
    return size;
}

inline double roundingBound(torch::ScalarType dtype, const NetworkSize& size) {
    return roundingBound(dtype, size.terms, std::max<int64_t>(size.depth, 1));
}

// The bound for two float32 evaluations of `module` (its parameters give its size).
inline double roundingBound(const torch::nn::Module& module, torch::ScalarType dtype = torch::kFloat32) {
    return roundingBound(dtype, networkSize(module.parameters()));
}

// The same bound as an absolute difference for values of magnitude `scale`.
inline double roundingBoundAbs(torch::ScalarType dtype, int64_t terms, int64_t depth, double scale) {
    return roundingBound(dtype, terms, depth) * scale;
}

}  // namespace grym::test
