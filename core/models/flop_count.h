#pragma once
// Counts the floating-point operations of the matrix products and convolutions a model runs
// (2 per multiply-add), from the shapes of each layer's weight and output as it runs: the
// "FLOPs of one call" of a benchmark's roofline table. Normalisation, activations and other
// elementwise work are not counted (a few percent of the total, and bound by memory, not by
// arithmetic).
//
// A FlopCount counts what runs on its own thread while it is alive; the layers report to the
// innermost one through a thread-local pointer, so forward() signatures stay as they are and a
// layer that runs with no FlopCount alive pays one branch.
#include <torch/types.h>

#include <cstdint>

namespace grym {

class FlopCount {
public:
    FlopCount();
    ~FlopCount();
    FlopCount(const FlopCount&) = delete;
    FlopCount& operator=(const FlopCount&) = delete;

    uint64_t flops() const { return flops_; }

    // Each entry of `output` is a sum of `sumLength` products (a linear layer: its in_features;
    // a convolution: in_channels / groups × kernel size; a matmul: the shared dimension).
    static void addProducts(const torch::Tensor& output, int64_t sumLength);
    // A transposed convolution: each entry of `input` is multiplied into `fanOut` outputs
    // (out_channels / groups × kernel size).
    static void addScatter(const torch::Tensor& input, int64_t fanOut) { addProducts(input, fanOut); }
    // addProducts for a layer with a [out, ...] weight (Linear, Conv1d, Conv2d), returning its output.
    static torch::Tensor layer(torch::Tensor output, const torch::Tensor& weight) {
        addProducts(output, weight.size(0) > 0 ? weight.numel() / weight.size(0) : 0);
        return output;
    }

private:
    uint64_t flops_ = 0;
    FlopCount* outer_ = nullptr;
};

}  // namespace grym
