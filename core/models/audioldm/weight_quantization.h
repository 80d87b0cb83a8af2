#pragma once
// Weight-only quantisation for the AudioLDM models: a weight is stored as small integers plus
// float scales and turned back into the compute dtype when a layer runs, so memory shrinks while
// activations (and the arithmetic) stay in float32 / float16 / bfloat16.
//   int8: one scale per output channel, max|w| / 127, values in [-127, 127].
//   int4: one scale per group of kInt4GroupSize consecutive inputs of an output channel (the
//         flattened in x kh x kw of a conv), max|w| / 7, values in [-7, 7], two to a byte.
// Quantise after loading (checkpoint names are unchanged until then): UNet::quantizeWeights,
// Vae::quantizeWeights.
#include "models/load_options.h"

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace grym::audioldm {

using grym::WeightQuantization;  // declared beside LoadOptions (models/load_options.h)

// "none" | "int8" | "int4" (the performance suite's "8bit" / "4bit" too); anything else throws
// ModelError naming the value.
WeightQuantization parseWeightQuantization(const std::string& name);
const char* toString(WeightQuantization level);

// Inputs per int4 scale (smaller layers use one group per output channel).
constexpr int64_t kInt4GroupSize = 64;

// What quantising a model did. Bytes count every parameter and buffer (what parameterBytes()
// reports); the "layer" figures count only the weights that were quantised (float before,
// integers plus scales after).
struct QuantizationReport {
    WeightQuantization level = WeightQuantization::None;
    uint64_t layers = 0;
    uint64_t bytesBefore = 0;
    uint64_t bytesAfter = 0;
    uint64_t layerBytesBefore = 0;
    uint64_t layerBytesAfter = 0;
    uint64_t int8ComputeLayers = 0;  // of `layers`, those that compute in int8 (Int8Linear)
    uint64_t bytesSaved() const { return bytesBefore > bytesAfter ? bytesBefore - bytesAfter : 0; }
};

// Signed 4-bit values (int8 tensor, entries in [-8, 7], last dimension even) -> uint8 with half
// the last dimension: entry 2i in the low nibble, entry 2i+1 in the high nibble, each stored
// offset by 8. unpackInt4 inverts it exactly. Throws ModelError on values out of range.
torch::Tensor packInt4(const torch::Tensor& values);
torch::Tensor unpackInt4(const torch::Tensor& packed);

// One layer's weight in quantised form. Its tensors are the ones a layer registers as buffers,
// so moving the layer to another device moves them.
class QuantizedWeight {
public:
    QuantizedWeight() = default;
    // weight [out, ...] (any float dtype) -> quantised; scales keep the weight's dtype.
    static QuantizedWeight quantize(const torch::Tensor& weight, WeightQuantization level);

    bool defined() const { return level_ != WeightQuantization::None; }
    WeightQuantization level() const { return level_; }
    // The weight again, [out, ...] in `dtype` (integers times their scales).
    torch::Tensor dequantize(torch::ScalarType dtype) const;
    // The same, decoded into `workspace` (re-made when too small or of another dtype, else
    // reused) and returned as a view of it, valid until the workspace's next use. For int8 on the
    // CPU this is one pass into memory already mapped, about ten times faster than dequantize(),
    // whose fresh allocation of a large weight faults in every page on every call; other levels
    // and devices fall back to dequantize().
    torch::Tensor dequantizeInto(torch::Tensor& workspace, torch::ScalarType dtype) const;
    // Only the output rows `rows` (any integer shape S): [S..., rest of the weight's shape], as
    // an embedding lookup needs (the other rows are never decoded).
    torch::Tensor dequantizeRows(const torch::Tensor& rows, torch::ScalarType dtype) const;
    int64_t numel() const;     // of the original weight
    uint64_t bytes() const;    // integers plus scales (0 once released)
    // Drops the integers and scales once a kernel holds its own copy (Int8Linear); the level
    // and shape stay, dequantize() then throws.
    void releaseValues() { values_ = torch::Tensor(); scales_ = torch::Tensor(); }
    bool hasValues() const { return values_.defined(); }

    // int8 [out, K] or packed uint8 [out, Kp/2], Kp: K padded to whole groups.
    const torch::Tensor& values() const { return values_; }
    // [out, 1] (int8) or [out, Kp/group] (int4).
    const torch::Tensor& scales() const { return scales_; }

private:
    // values/scales of n rows -> [n, inputs] in dtype.
    torch::Tensor decode(const torch::Tensor& values, const torch::Tensor& scales, torch::ScalarType dtype) const;

    WeightQuantization level_ = WeightQuantization::None;
    std::vector<int64_t> shape_;
    int64_t groupSize_ = 0;  // int4 only
    torch::Tensor values_, scales_;
};

}  // namespace grym::audioldm
